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

/**
 * Records of recently used blobs, in memory, so that serving or receiving a window does not read and unseal the same
 * record for every chunk. Every write of a record goes through `commit` (under the blob's lock), which replaces the
 * cached copy, so the cache never holds less than LevelDB does.
 *
 * A read that raced a write must not put back what it read before the write: reads remember the write count when they
 * start and cache only when no write happened meanwhile (the writer caches its own record). Cached records are
 * shared: callers treat them as read-only and copy before changing (the store's writes build new records).
 */
export class RecordCache {
  readonly #records = new Map<string, BlobRecord>()
  #writes = 0

  constructor(
    private readonly store: CoreStore,
    private readonly max: number,
  ) {}

  async read(id: string): Promise<BlobRecord | undefined> {
    const hit = this.#records.get(id)
    if (hit !== undefined) {
      // Most recently used last: eviction takes the first.
      this.#records.delete(id)
      this.#records.set(id, hit)
      return hit
    }
    const writes = this.#writes
    const record = await readRecord(this.store, id)
    if (record !== undefined && writes === this.#writes) this.#set(id, record)
    return record
  }

  /**
   * Writes `ops` (which put `record`, or delete the blob's record when it is undefined) and caches the outcome. The
   * write count moves before and after, so no read that overlapped the write caches what it found.
   */
  async commit(id: string, record: BlobRecord | undefined, ops: BatchOp[], sync: boolean): Promise<void> {
    this.#writes++
    this.#records.delete(id)
    try {
      await this.store.commit(ops, sync)
    } finally {
      this.#writes++
    }
    if (record !== undefined) this.#set(id, record)
  }

  /** Writes `record` (and any further ops) and caches it. */
  put(record: BlobRecord, extra: BatchOp[] = [], sync = false): Promise<void> {
    return this.commit(record.id, record, [putRecord(this.store, record), ...extra], sync)
  }

  #set(id: string, record: BlobRecord): void {
    this.#records.delete(id)
    this.#records.set(id, record)
    if (this.#records.size > this.max) this.#records.delete(this.#records.keys().next().value!)
  }
}
