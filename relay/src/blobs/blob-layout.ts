/**
 * Where the relay keeps blobs (ADR 0030): chunk bytes in files, everything else in the relay's LevelDB beside the
 * mailboxes (store/layout.ts), under prefixes of its own. Mailbox ids in keys are base64url, blob ids 64 lowercase hex,
 * numbers `encodeNumber` hex so byte order is numeric order.
 *
 *   meta/blobs                 CBOR {q: last sequence number, b: counted bytes, n: blobs}
 *   bb/<mailbox>/<blob>        the blob record: CBOR {p: padded, c: chunks, h: have bitmap, k: chunks held,
 *                              t: created ms, u: last progress ms, r: counted bytes, q: sequence number}
 *   bl/<mailbox>/<blob>        its hash list (32 bytes per chunk), written once with the record
 *   bt/<seq>                   age index, oldest first (retention and eviction): created ms (8) ‖ mailbox (32) ‖ blob (32)
 *   bi/<seq>                   the same for blobs not complete yet (dropped after `blobIncompleteTtl`)
 *   bs/<mailbox>               the mailbox's blob usage: CBOR {b: counted bytes, n: blobs}
 *
 * Files: `<dataDir>/blobs/<blob[0..2]>/<blob>.<mailbox>.blob`, chunk i at offset `i × CHUNK_CIPHER_BYTES` (sparse
 * until filled). A blob is stored per mailbox: the same id under another mailbox is another blob, so nobody can squat
 * or overwrite another conversation's blob by naming its id.
 *
 * A blob counts as its ciphertext bytes plus its hash list plus BLOB_OVERHEAD_BYTES (the records and the file's
 * metadata), reserved in full when its hash list is accepted: quotas refuse an upload before its first chunk, never
 * half-way through.
 */
import { join } from 'node:path'
import { HearthError } from '../../../node/common/errors.js'
import { key, prefixRange } from '../../../node/common/storage/keyspace.js'
import { decodeCbor, encodeCbor } from '../../../node/common/wire/cbor.js'

export const BLOB_STATE_KEY = key('meta', 'blobs')
export const BLOB_OVERHEAD_BYTES = 1024

export const recordKey = (mbx: string, blob: string): string => key('bb', mbx, blob)
export const listKey = (mbx: string, blob: string): string => key('bl', mbx, blob)
export const ageKey = (seq: number): string => key('bt', seq)
export const ageRange = (): { gte: string; lt: string } => prefixRange('bt')
export const incompleteKey = (seq: number): string => key('bi', seq)
export const incompleteRange = (): { gte: string; lt: string } => prefixRange('bi')
export const mailboxUsageKey = (mbx: string): string => key('bs', mbx)

export function blobFilePath(dir: string, blob: string, mbx: string): string {
  return join(dir, blob.slice(0, 2), `${blob}.${mbx}.blob`)
}

function corrupt(what: string): HearthError {
  return new HearthError('CORRUPT_DATA', `relay blob store: ${what} is corrupt`)
}

export interface BlobRecord {
  padded: number
  chunks: number
  /** Bit i set: chunk i is on disk, synced and verified. */
  have: Uint8Array
  haveCount: number
  created: number
  progress: number
  /** Bytes counted against the quotas and the budget. */
  counted: number
  seq: number
}

export function encodeRecord(r: BlobRecord): Uint8Array {
  return encodeCbor({ p: r.padded, c: r.chunks, h: r.have, k: r.haveCount, t: r.created, u: r.progress, r: r.counted, q: r.seq })
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

export function decodeRecord(value: Uint8Array): BlobRecord {
  let m: Record<string, unknown>
  try {
    m = decodeCbor(value, 8 * 1024, 'blob record') as Record<string, unknown>
  } catch {
    throw corrupt('a blob record')
  }
  const { p, c, h, k, t, u, r, q } = m ?? {}
  if (![p, c, k, t, u, r, q].every(isCount) || !(h instanceof Uint8Array) || h.length !== Math.ceil((c as number) / 8)) {
    throw corrupt('a blob record')
  }
  return { padded: p as number, chunks: c as number, have: h, haveCount: k as number, created: t as number, progress: u as number, counted: r as number, seq: q as number }
}

/** An age or incomplete index entry: which blob, and when it was first listed. */
export interface AgeEntry {
  created: number
  mailbox: Uint8Array
  blob: Uint8Array
}

export function encodeAge(e: AgeEntry): Uint8Array {
  const out = new Uint8Array(72)
  new DataView(out.buffer).setFloat64(0, e.created)
  out.set(e.mailbox, 8)
  out.set(e.blob, 40)
  return out
}

export function decodeAge(value: Uint8Array): AgeEntry {
  if (value.length !== 72) throw corrupt('a blob age entry')
  return { created: new DataView(value.buffer, value.byteOffset, 8).getFloat64(0), mailbox: value.slice(8, 40), blob: value.slice(40, 72) }
}

export interface Usage {
  b: number
  n: number
}

export interface BlobState extends Usage {
  q: number
}

function decodeNumbers(value: Uint8Array, what: string, fields: readonly string[]): Record<string, number> {
  let parsed: unknown
  try {
    parsed = decodeCbor(value, 1024, what)
  } catch {
    throw corrupt(what)
  }
  const out: Record<string, number> = {}
  for (const f of fields) {
    const v = (parsed as Record<string, unknown> | null)?.[f]
    if (!isCount(v)) throw corrupt(what)
    out[f] = v
  }
  return out
}

export const encodeUsage = (u: Usage): Uint8Array => encodeCbor({ b: u.b, n: u.n })
export const decodeUsage = (v: Uint8Array): Usage => decodeNumbers(v, 'mailbox blob usage', ['b', 'n']) as unknown as Usage
export const encodeBlobState = (s: BlobState): Uint8Array => encodeCbor({ q: s.q, b: s.b, n: s.n })
export const decodeBlobState = (v: Uint8Array): BlobState => decodeNumbers(v, 'blob state', ['q', 'b', 'n']) as unknown as BlobState
