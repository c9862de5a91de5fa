/**
 * The relay's LevelDB keyspace (schema version 1). Everything the relay keeps is here; docs/RELAY.md ("What the relay
 * stores") describes it for operators. Ids in keys are base64url; numbers are `encodeNumber` hex so byte order is
 * numeric order.
 *
 *   meta/schema-version          migrations (node/common/storage/migrations.ts)
 *   meta/relay                   CBOR {g: generation (8 random bytes), s: peer salt (32 random bytes)}, written once
 *   meta/state                   CBOR {q: last sequence number, b: stored bytes, n: stored envelopes}, every batch
 *   m/<mailbox>/<seq>            an envelope: arrival ms (8) ‖ SHA-256 of the bytes (32) ‖ the bytes
 *   t/<seq>                      arrival index, oldest first: arrival ms (8) ‖ mailbox id (32) ‖ hash (32) ‖ size (4)
 *   d/<mailbox>/<hash>           idempotency index: seq (8)
 *   s/<mailbox>                  mailbox usage: CBOR {b: bytes, n: envelopes, r: reader positions}
 *   a/<mailbox>/<reader tag>     a reader's acknowledged position: seq (8)
 *   p/<day>/<peer pseudonym>     a depositing peer's usage that UTC day: CBOR {b, n}
 *
 * The sequence number is global and only grows, so `t/` is both the retention index (arrival order) and the eviction
 * order (oldest first), and a mailbox's items are in deposit order under `m/<mailbox>/`. Peers are stored only as
 * `HMAC-SHA-256(salt, PeerId)` truncated to 16 bytes, and only for the current day's quota: the relay does not keep a
 * record of who deposited which envelope.
 */
import { decodeCbor, encodeCbor } from '../../../node/common/wire/cbor.js'
import { HearthError } from '../../../node/common/errors.js'
import { key, prefixRange } from '../../../node/common/storage/keyspace.js'
import { fromBase64Url, toBase64Url } from '../../../node/common/util/bytes.js'

export const RELAY_META_KEY = key('meta', 'relay')
export const STATE_KEY = key('meta', 'state')

/** What one stored envelope costs beyond its bytes: its three keys and the fixed parts of their values. */
export const ITEM_OVERHEAD_BYTES = 320

export const itemKey = (mailbox: string, seq: number): string => key('m', mailbox, seq)
export const itemRange = (mailbox: string): { gte: string; lt: string } => prefixRange('m', mailbox)
export const arrivalKey = (seq: number): string => key('t', seq)
export const arrivalRange = (): { gte: string; lt: string } => prefixRange('t')
export const dedupKey = (mailbox: string, hash: string): string => key('d', mailbox, hash)
export const statsKey = (mailbox: string): string => key('s', mailbox)
export const readerKey = (mailbox: string, reader: string): string => key('a', mailbox, reader)
export const readerRange = (mailbox: string): { gte: string; lt: string } => prefixRange('a', mailbox)
export const usageKey = (day: number, peer: string): string => key('p', day, peer)
export const usageRange = (): { gte: string; lt: string } => prefixRange('p')
export const usageDayStart = (day: number): string => key('p', day)

export const idText = (bytes: Uint8Array): string => toBase64Url(bytes)
export const idBytes = (text: string): Uint8Array => fromBase64Url(text)

function corrupt(what: string): HearthError {
  return new HearthError('CORRUPT_DATA', `relay store: ${what} is corrupt`)
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

export function encodeSeq(seq: number): Uint8Array {
  const out = new Uint8Array(8)
  view(out).setFloat64(0, seq)
  return out
}

export function decodeSeq(bytes: Uint8Array): number {
  if (bytes.length !== 8) throw corrupt('a sequence value')
  const seq = view(bytes).getFloat64(0)
  if (!Number.isSafeInteger(seq) || seq < 0) throw corrupt('a sequence value')
  return seq
}

export interface StoredItem {
  arrival: number
  hash: Uint8Array
  bytes: Uint8Array
}

export function encodeItem(arrival: number, hash: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(40 + bytes.length)
  view(out).setFloat64(0, arrival)
  out.set(hash, 8)
  out.set(bytes, 40)
  return out
}

export function decodeItem(value: Uint8Array): StoredItem {
  if (value.length < 40) throw corrupt('an envelope record')
  return { arrival: view(value).getFloat64(0), hash: value.subarray(8, 40), bytes: value.subarray(40) }
}

export interface ArrivalEntry {
  arrival: number
  mailbox: Uint8Array
  hash: Uint8Array
  size: number
}

export function encodeArrival(e: ArrivalEntry): Uint8Array {
  const out = new Uint8Array(76)
  const v = view(out)
  v.setFloat64(0, e.arrival)
  out.set(e.mailbox, 8)
  out.set(e.hash, 40)
  v.setUint32(72, e.size)
  return out
}

export function decodeArrival(value: Uint8Array): ArrivalEntry {
  if (value.length !== 76) throw corrupt('an arrival record')
  const v = view(value)
  return { arrival: v.getFloat64(0), mailbox: value.subarray(8, 40), hash: value.subarray(40, 72), size: v.getUint32(72) }
}

export interface Counters {
  /** Bytes, counted with ITEM_OVERHEAD_BYTES per envelope. */
  b: number
  /** Envelopes. */
  n: number
}

export interface MailboxStats extends Counters {
  /** Reader positions stored for the mailbox. */
  r: number
}

function decodeCounters(value: Uint8Array, what: string, fields: readonly string[]): Record<string, number> {
  let parsed: unknown
  try {
    parsed = decodeCbor(value, 1024, what)
  } catch {
    throw corrupt(what)
  }
  const out: Record<string, number> = {}
  for (const f of fields) {
    const v = (parsed as Record<string, unknown> | null)?.[f]
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw corrupt(what)
    out[f] = v
  }
  return out
}

export const encodeStats = (s: MailboxStats): Uint8Array => encodeCbor({ b: s.b, n: s.n, r: s.r })
export const decodeStats = (v: Uint8Array): MailboxStats => decodeCounters(v, 'mailbox usage', ['b', 'n', 'r']) as unknown as MailboxStats
export const encodeUsage = (c: Counters): Uint8Array => encodeCbor({ b: c.b, n: c.n })
export const decodeUsage = (v: Uint8Array): Counters => decodeCounters(v, 'peer usage', ['b', 'n']) as unknown as Counters

export interface RelayMeta {
  generation: Uint8Array
  peerSalt: Uint8Array
}

export const encodeMeta = (m: RelayMeta): Uint8Array => encodeCbor({ g: m.generation, s: m.peerSalt })

export function decodeMeta(value: Uint8Array): RelayMeta {
  let parsed: unknown
  try {
    parsed = decodeCbor(value, 1024, 'relay meta')
  } catch {
    throw corrupt('the relay record')
  }
  const { g, s } = (parsed ?? {}) as { g?: unknown; s?: unknown }
  if (!(g instanceof Uint8Array) || g.length !== 8 || !(s instanceof Uint8Array) || s.length !== 32) throw corrupt('the relay record')
  return { generation: g, peerSalt: s }
}

export interface StoreState {
  /** Last sequence number handed out. */
  q: number
  b: number
  n: number
}

export const encodeState = (s: StoreState): Uint8Array => encodeCbor({ q: s.q, b: s.b, n: s.n })
export const decodeState = (v: Uint8Array): StoreState => decodeCounters(v, 'store state', ['q', 'b', 'n']) as unknown as StoreState

/** The sequence number a mailbox item or arrival key ends with (hex, after the last separator). */
export function seqFromKey(k: string): number {
  return Number.parseInt(k.slice(k.lastIndexOf('\x00') + 1), 16)
}
