/**
 * The LevelDB half of the blob store: one sealed record per blob and its hash list (docs/STORAGE.md).
 *
 *   blob/r/<blobId>   sealed JSON BlobRecord: conversation, sizes, which chunks are on disk (a bitmap), progress
 *   blob/h/<blobId>   the hash list (chunkCount × 32 bytes), raw: it is public (relays hold it too), and it is checked
 *                     against the id whenever it is read, so a damaged one is noticed and fetched again
 *
 * The hash list has a key of its own so that recording a window of chunks rewrites only the small record (≤ 2.2 KB
 * of bitmap for the largest blob), not up to 545 KB of hashes. A record holds no key: a file's key lives only in the
 * message that names the blob.
 */
import { z } from 'zod'
import { BLOB_ID_PATTERN, chunkCount } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import type { BatchOp } from '../../../common/storage/database.js'
import { decodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange } from '../../../common/storage/keyspace.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import type { CoreStore } from '../../store/core-store.js'

export const BlobKeys = {
  record: (id: string) => key('blob', 'r', id),
  hashList: (id: string) => key('blob', 'h', id),
  records: () => prefixRange('blob', 'r'),
}

/** What the store knows of one blob. `have` is a bitmap: bit (i & 7) of byte (i >> 3) is set when chunk i is held. */
export interface BlobRecord {
  id: string
  conversation: string
  padded: number
  chunks: number
  have: Uint8Array
  haveCount: number
  complete: boolean
  /** Whether the hash list is stored (under its own key; `BlobStore.hashList` reads it). */
  hashListKnown: boolean
  createdAt: number
  /** When a chunk was last stored (or the record created). */
  progressAt: number
  /** Fetches that gave up so far (the core's retry backoff reads it). */
  failures: number
}

const storedSchema = z.object({
  id: z.string().regex(BLOB_ID_PATTERN),
  conversation: z.string().regex(/^[0-9a-f]{32}$/),
  padded: z.number().int().min(1),
  chunks: z.number().int().min(1),
  have: z.string().max(4096),
  haveCount: z.number().int().min(0),
  complete: z.boolean(),
  hashListKnown: z.boolean(),
  createdAt: z.number(),
  progressAt: z.number(),
  failures: z.number().int().min(0),
})

export function bitmapBytes(chunks: number): number {
  return Math.ceil(chunks / 8)
}

export function hasChunk(have: Uint8Array, i: number): boolean {
  return ((have[i >> 3] ?? 0) & (1 << (i & 7))) !== 0
}

export function setChunk(have: Uint8Array, i: number, held: boolean): void {
  if (held) have[i >> 3]! |= 1 << (i & 7)
  else have[i >> 3]! &= ~(1 << (i & 7))
}

function countBits(have: Uint8Array, chunks: number): number {
  let n = 0
  for (let i = 0; i < chunks; i++) if (hasChunk(have, i)) n++
  return n
}

/** A new record: nothing held yet, or (for a blob made here) everything. */
export function newRecord(id: string, conversation: string, padded: number, now: number, complete: boolean): BlobRecord {
  const chunks = chunkCount(padded)
  const have = new Uint8Array(bitmapBytes(chunks))
  if (complete) for (let i = 0; i < chunks; i++) setChunk(have, i, true)
  return {
    id,
    conversation,
    padded,
    chunks,
    have,
    haveCount: complete ? chunks : 0,
    complete,
    hashListKnown: complete,
    createdAt: now,
    progressAt: now,
    failures: 0,
  }
}

/** Checks a stored record's internal consistency, so a damaged one is CORRUPT_DATA here and not a wrong answer later. */
function parseRecord(value: unknown): BlobRecord {
  const r = storedSchema.parse(value)
  let have: Uint8Array
  try {
    have = fromBase64Url(r.have)
  } catch (err) {
    throw new HearthError('CORRUPT_DATA', 'stored blob bitmap is not base64url', { cause: err })
  }
  if (r.chunks !== chunkCount(r.padded) || have.length !== bitmapBytes(r.chunks)) {
    throw new HearthError('CORRUPT_DATA', 'stored blob record has inconsistent sizes')
  }
  const haveCount = countBits(have, r.chunks)
  if (haveCount !== r.haveCount || r.complete !== (haveCount === r.chunks)) {
    throw new HearthError('CORRUPT_DATA', 'stored blob record has an inconsistent bitmap')
  }
  return { ...r, have }
}

export async function readRecord(store: CoreStore, id: string): Promise<BlobRecord | undefined> {
  const plain = await store.getSealed(BlobKeys.record(id))
  if (plain === undefined) return undefined
  const record = decodeJson(plain, parseRecord, 'blob record')
  if (record.id !== id) throw new HearthError('CORRUPT_DATA', 'stored blob record names another blob')
  return record
}

export function putRecord(store: CoreStore, record: BlobRecord): BatchOp {
  return store.sealJson(BlobKeys.record(record.id), { ...record, have: toBase64Url(record.have) })
}

/** Every record, in id order, opened one at a time. */
export async function* allRecords(store: CoreStore): AsyncIterable<BlobRecord> {
  for await (const [k, stored] of store.db.iterate(BlobKeys.records())) {
    const record = decodeJson(store.openSealed(k, stored), parseRecord, 'blob record')
    yield record
  }
}
