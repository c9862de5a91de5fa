/**
 * The relay's blob store (ADR 0030; keyspace and files in blob-layout.ts): encrypted attachment chunks kept for members
 * who are offline, per mailbox, verified without the key, within quotas, a per-blob cap, retention and a disk budget.
 *
 * - A blob starts with its hash list (`putList`): checked against the blob id (`verifyHashList`), then its whole size
 *   is reserved against the mailbox quota, the uploading peer's daily quota and the relay's budget (the oldest blobs
 *   of the relay are evicted to make room, as mailboxes do with envelopes). Nothing else is accepted for it before.
 * - Chunks (`putChunks`) are checked one by one against the hash list (index, length, SHA-256) and the bad ones refused
 *   as `corrupt`; good ones are written to the blob's file, synced once, and only then marked held in its record.
 * - Serving (`readRange`) reads one chunk at a time from the file and hashes it again before it leaves, so a chunk the
 *   disk damaged is never sent: it is left out of the answer and unmarked (a later upload can bring it back).
 *
 * One writer: every change to LevelDB goes through one serial queue, so the in-memory totals and mailbox usage are
 * authoritative and applied only after their batch is synced. Chunk bytes are written outside that queue, under a
 * per-blob lock, so slow disks delay one upload, not every record change of the relay.
 */
import { cipherChunkLength, chunkCount, chunkHashAt, hashChunk, verifyHashList } from '../../../node/common/blob/format.js'
import { HearthError } from '../../../node/common/errors.js'
import type { BatchOp, Database } from '../../../node/common/storage/database.js'
import { equalBytes, toBase64Url, toHex } from '../../../node/common/util/bytes.js'
import { bitAt, bitRange, clearBit, setBit, type BlobChunk, type BlobRefusal, type ChunkOutcome } from '../../../node/common/wire/relay-blob.js'
import { openBlobReader, removeBlobFile, writeChunks } from './blob-files.js'
import {
  BLOB_OVERHEAD_BYTES,
  BLOB_STATE_KEY,
  ageKey,
  ageRange,
  blobFilePath,
  decodeAge,
  decodeBlobState,
  decodeRecord,
  decodeUsage,
  encodeAge,
  encodeBlobState,
  encodeRecord,
  encodeUsage,
  incompleteKey,
  incompleteRange,
  listKey,
  mailboxUsageKey,
  recordKey,
  type BlobRecord,
  type BlobState,
  type Usage,
} from './blob-layout.js'

export interface BlobLimits {
  /** Largest blob accepted, in stored (ciphertext) bytes. */
  maxBlobBytes: number
  /** Counted bytes one mailbox may hold. */
  mailboxMaxBytes: number
  /** Counted bytes one uploading peer may reserve per UTC day. */
  peerMaxBytesPerDay: number
  /** The budget for all blobs; the oldest are evicted beyond it. */
  maxStoredBytes: number
  retentionMs: number
  /** A blob whose upload has not completed this long after its hash list is dropped. */
  incompleteTtlMs: number
}

export interface BlobStoreEvents {
  onEvicted?(blobs: number, bytes: number): void
  onExpired?(why: 'retention' | 'incomplete', blobs: number, bytes: number): void
  /** Chunks held on disk failed their hash when read back, or their file was gone. */
  onDamaged?(chunks: number): void
}

export interface RelayBlobStoreOptions {
  limits: BlobLimits
  events?: BlobStoreEvents
  now?: () => number
  /** Mailbox usage records kept in memory. Default 20,000. */
  usageCacheSize?: number
  /** Uploading peers remembered for the daily quota. Default 100,000; beyond it new peers are refused `busy`. */
  maxPeersPerDay?: number
}

export type PutListResult = { status: 'stored' | 'present'; have: Uint8Array } | { refused: BlobRefusal }
export type PutChunksResult = { results: ChunkOutcome[] } | { refused: BlobRefusal }

export interface ChunkRange {
  /** Bits of `[first, first + count)` (bit 0 = `first`). */
  have: Uint8Array
  /** The held chunks of the range in order, read and re-hashed one at a time. */
  chunks: AsyncGenerator<BlobChunk, void, undefined>
}

const DAY_MS = 24 * 60 * 60 * 1000
/** When over budget, evict down to this fraction of it, so a full relay does not evict on every upload. */
const EVICTION_TARGET = 0.98
/** Blobs one sweep step deletes before yielding the queue to uploads. */
const SWEEP_STEP = 200

/** Stored (ciphertext) bytes of a blob: every chunk carries a 16-byte tag. */
export function cipherBytesOf(padded: number): number {
  return padded + 16 * chunkCount(padded)
}

export class RelayBlobStore {
  readonly #db: Database
  readonly #dir: string
  readonly #limits: BlobLimits
  readonly #events: BlobStoreEvents
  readonly #now: () => number
  readonly #usageCacheSize: number
  readonly #maxPeers: number
  #state: BlobState
  #incomplete = 0
  /** Mailbox usage, LRU by insertion order; authoritative when present (the queue is the only writer). */
  readonly #usage = new Map<string, Usage>()
  /** Bytes reserved per uploading peer on `#day` (memory only: a restart forgives the day). */
  readonly #peers = new Map<string, number>()
  #day = -1
  #tail: Promise<unknown> = Promise.resolve()
  readonly #locks = new Map<string, Promise<unknown>>()
  #closed = false

  private constructor(db: Database, dir: string, state: BlobState, options: RelayBlobStoreOptions) {
    this.#db = db
    this.#dir = dir
    this.#state = state
    this.#limits = options.limits
    this.#events = options.events ?? {}
    this.#now = options.now ?? Date.now
    this.#usageCacheSize = options.usageCacheSize ?? 20_000
    this.#maxPeers = options.maxPeersPerDay ?? 100_000
  }

  /** Opens the store on the relay's database; `dir` is where blob files go (`<dataDir>/blobs`). */
  static async open(db: Database, dir: string, options: RelayBlobStoreOptions): Promise<RelayBlobStore> {
    const stored = await db.get(BLOB_STATE_KEY)
    const state = stored === undefined ? { q: 0, b: 0, n: 0 } : decodeBlobState(stored)
    const store = new RelayBlobStore(db, dir, state, options)
    store.#incomplete = await db.count(incompleteRange())
    return store
  }

  /** Counted bytes and blobs held (what `maxStoredBytes` limits), and how many are still incomplete. */
  get totals(): { bytes: number; blobs: number; incomplete: number } {
    return { bytes: this.#state.b, blobs: this.#state.n, incomplete: this.#incomplete }
  }

  /**
   * Accepts a blob's hash list and reserves its size, or says it is already there (with what is held, so an upload
   * resumes). `peer` is the uploading PeerId (kept in memory for the day's quota only).
   */
  async putList(mailbox: Uint8Array, peer: string, blob: Uint8Array, padded: number, hashList: Uint8Array): Promise<PutListResult> {
    if (!verifyHashList(blob, hashList, padded)) return { refused: 'bad-hash-list' }
    const cipherBytes = cipherBytesOf(padded)
    if (cipherBytes > this.#limits.maxBlobBytes) return { refused: 'blob-too-large' }
    const counted = cipherBytes + hashList.length + BLOB_OVERHEAD_BYTES
    const mbx = toBase64Url(mailbox)
    const id = toHex(blob)
    return this.#serial(async (): Promise<PutListResult> => {
      const now = this.#now()
      const existing = await this.#record(mbx, id)
      if (existing !== undefined && !this.#expired(existing, now)) {
        return existing.padded === padded ? { status: 'present', have: existing.have } : { refused: 'bad-hash-list' }
      }
      const ops: BatchOp[] = []
      const deltas = new Map<string, Usage>()
      let freed = { blobs: 0, bytes: 0, incomplete: 0 }
      // An expired copy not swept yet is replaced: dropped here, as the sweep would.
      if (existing !== undefined) freed = add(freed, await this.#drop(mbx, id, existing, ops, deltas))

      const usage = await this.#mailboxUsage(mbx)
      if (usage.b - (deltas.get(mbx)?.b ?? 0) + counted > this.#limits.mailboxMaxBytes) return { refused: 'mailbox-quota' }
      const day = Math.floor(now / DAY_MS)
      if (day !== this.#day) {
        this.#day = day
        this.#peers.clear()
      }
      const peerUsed = this.#peers.get(peer)
      if (peerUsed === undefined && this.#peers.size >= this.#maxPeers) return { refused: 'busy' }
      if ((peerUsed ?? 0) + counted > this.#limits.peerMaxBytesPerDay) return { refused: 'peer-quota' }
      if (counted > this.#limits.maxStoredBytes) return { refused: 'disk-full' }

      let evicted = { blobs: 0, bytes: 0, incomplete: 0 }
      if (this.#state.b - freed.bytes + counted > this.#limits.maxStoredBytes) {
        const target = Math.floor(this.#limits.maxStoredBytes * EVICTION_TARGET) - counted
        evicted = await this.#evict(this.#state.b - freed.bytes - Math.max(0, target), ops, deltas, mbx, id)
        if (this.#state.b - freed.bytes - evicted.bytes + counted > this.#limits.maxStoredBytes) {
          // Cannot happen unless the records disagree with the totals; refuse rather than go over budget.
          return { refused: 'disk-full' }
        }
      }

      const seq = this.#state.q + 1
      const chunks = hashList.length / 32
      const record: BlobRecord = { padded, chunks, have: new Uint8Array(Math.ceil(chunks / 8)), haveCount: 0, created: now, progress: now, counted, seq }
      const age = encodeAge({ created: now, mailbox, blob })
      const removed = add(freed, evicted)
      const state: BlobState = { q: seq, b: this.#state.b - removed.bytes + counted, n: this.#state.n - removed.blobs + 1 }
      const mine = deltas.get(mbx) ?? { b: 0, n: 0 }
      deltas.set(mbx, { b: mine.b - counted, n: mine.n - 1 })
      ops.push(
        { type: 'put', key: recordKey(mbx, id), value: encodeRecord(record) },
        { type: 'put', key: listKey(mbx, id), value: hashList },
        { type: 'put', key: ageKey(seq), value: age },
        { type: 'put', key: incompleteKey(seq), value: age },
      )
      const usages = await this.#stageUsage(deltas, ops)
      ops.push({ type: 'put', key: BLOB_STATE_KEY, value: encodeBlobState(state) })
      await this.#db.batch(ops, { sync: true })

      this.#state = state
      this.#incomplete += 1 - removed.incomplete
      for (const [m, u] of usages) this.#cacheUsage(m, u)
      this.#peers.set(peer, (peerUsed ?? 0) + counted)
      if (evicted.blobs > 0) this.#events.onEvicted?.(evicted.blobs, evicted.bytes)
      return { status: 'stored', have: record.have }
    })
  }

  /** Checks chunks against the blob's hash list, writes the good ones, and answers one outcome per chunk. */
  async putChunks(mailbox: Uint8Array, blob: Uint8Array, chunks: readonly BlobChunk[]): Promise<PutChunksResult> {
    const mbx = toBase64Url(mailbox)
    const id = toHex(blob)
    const record = await this.#record(mbx, id)
    if (record === undefined || this.#expired(record, this.#now())) return { refused: 'no-hash-list' }
    const hashList = await this.#db.get(listKey(mbx, id))
    if (hashList === undefined) return { refused: 'no-hash-list' }
    const results: ChunkOutcome[] = []
    const fresh: BlobChunk[] = []
    for (const c of chunks) {
      const ok =
        c.index < record.chunks &&
        c.cipher.length === cipherChunkLength(record.padded, c.index) &&
        equalBytes(hashChunk(c.cipher), chunkHashAt(hashList, c.index))
      if (!ok) results.push('corrupt')
      else if (bitAt(record.have, c.index)) results.push('duplicate')
      else {
        results.push('stored')
        fresh.push(c)
      }
    }
    if (fresh.length === 0) return { results }
    const path = blobFilePath(this.#dir, id, mbx)
    return this.#locked(`${mbx}/${id}`, async (): Promise<PutChunksResult> => {
      // Bytes first, synced; the record claims them only afterwards.
      await writeChunks(path, fresh)
      const outcome = await this.#serial(async (): Promise<'gone' | 'ok'> => {
        const current = await this.#record(mbx, id)
        if (current === undefined || current.seq !== record.seq) return 'gone'
        let added = 0
        for (const c of fresh) {
          if (bitAt(current.have, c.index)) continue
          setBit(current.have, c.index)
          added++
        }
        if (added === 0) return 'ok'
        const wasComplete = current.haveCount === current.chunks
        current.haveCount += added
        current.progress = this.#now()
        const ops: BatchOp[] = [{ type: 'put', key: recordKey(mbx, id), value: encodeRecord(current) }]
        const completed = !wasComplete && current.haveCount === current.chunks
        if (completed) ops.push({ type: 'del', key: incompleteKey(current.seq) })
        await this.#db.batch(ops, { sync: true })
        if (completed) this.#incomplete--
        return 'ok'
      })
      if (outcome === 'gone') {
        // Evicted or expired while we wrote: what we wrote belongs to nobody.
        await removeBlobFile(path)
        return { refused: 'not-found' }
      }
      return { results }
    })
  }

  /** The blob's padded size and hash list, if this mailbox holds it. */
  async getList(mailbox: Uint8Array, blob: Uint8Array): Promise<{ padded: number; hashList: Uint8Array } | undefined> {
    const mbx = toBase64Url(mailbox)
    const id = toHex(blob)
    const record = await this.#record(mbx, id)
    if (record === undefined || this.#expired(record, this.#now())) return undefined
    const hashList = await this.#db.get(listKey(mbx, id))
    return hashList === undefined ? undefined : { padded: record.padded, hashList }
  }

  /**
   * What this mailbox holds of chunks `[first, first + count)`: the bitmap, and the chunks to stream. A chunk that
   * fails its hash on the way out (or whose file is gone) is left out of the stream and unmarked.
   */
  async readRange(mailbox: Uint8Array, blob: Uint8Array, first: number, count: number): Promise<ChunkRange | undefined> {
    const mbx = toBase64Url(mailbox)
    const id = toHex(blob)
    const record = await this.#record(mbx, id)
    if (record === undefined || this.#expired(record, this.#now())) return undefined
    const hashList = await this.#db.get(listKey(mbx, id))
    if (hashList === undefined) return undefined
    const have = bitRange(record.have, first, Math.max(0, Math.min(count, record.chunks - first)))
    const padded = new Uint8Array(Math.ceil(count / 8))
    padded.set(have)
    const path = blobFilePath(this.#dir, id, mbx)
    const indices: number[] = []
    for (let k = 0; k < count; k++) if (bitAt(padded, k)) indices.push(first + k)
    return { have: padded, chunks: this.#stream(mbx, id, record, hashList, path, indices) }
  }

  async *#stream(mbx: string, id: string, record: BlobRecord, hashList: Uint8Array, path: string, indices: number[]): AsyncGenerator<BlobChunk, void, undefined> {
    if (indices.length === 0) return
    const reader = await openBlobReader(path)
    if (reader === undefined) {
      // The file is gone (removed by hand, or a crash between removing it and its records): claim nothing of it.
      this.#events.onDamaged?.(indices.length)
      await this.#unmark(mbx, id, record.seq, indices)
      return
    }
    try {
      for (const index of indices) {
        const length = cipherChunkLength(record.padded, index)
        const cipher = await reader.read(index, length)
        if (cipher.length !== length || !equalBytes(hashChunk(cipher), chunkHashAt(hashList, index))) {
          // Left out, as a member's device leaves out a chunk its disk damaged (the fetcher takes it elsewhere), and
          // no longer claimed, so a later upload can bring it back.
          this.#events.onDamaged?.(1)
          await this.#unmark(mbx, id, record.seq, [index])
          continue
        }
        yield { index, cipher }
      }
    } finally {
      await reader.close()
    }
  }

  /**
   * Deletes blobs past retention and uploads left incomplete past `incompleteTtlMs`, in steps on the writer queue.
   */
  async sweep(): Promise<{ expired: number; expiredBytes: number; incomplete: number; incompleteBytes: number }> {
    const out = { expired: 0, expiredBytes: 0, incomplete: 0, incompleteBytes: 0 }
    for (const [why, range, ttl] of [
      ['retention', ageRange(), this.#limits.retentionMs],
      ['incomplete', incompleteRange(), this.#limits.incompleteTtlMs],
    ] as const) {
      for (;;) {
        if (this.#closed) return out
        const step = await this.#serial(() => this.#sweepStep(range, this.#now() - ttl))
        if (why === 'retention') {
          out.expired += step.blobs
          out.expiredBytes += step.bytes
        } else {
          out.incomplete += step.blobs
          out.incompleteBytes += step.bytes
        }
        if (step.blobs > 0) this.#events.onExpired?.(why, step.blobs, step.bytes)
        if (step.done) break
      }
    }
    return out
  }

  /** Stops taking work and waits for what is queued. Does not close the database. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#tail.catch(() => {})
  }

  // ------------------------------------------------------------------------------------------------- internals

  async #sweepStep(range: { gte: string; lt: string }, cutoff: number): Promise<{ blobs: number; bytes: number; done: boolean }> {
    const ops: BatchOp[] = []
    const deltas = new Map<string, Usage>()
    let removed = { blobs: 0, bytes: 0, incomplete: 0 }
    let done = true
    for await (const [, value] of this.#db.iterate({ ...range, limit: SWEEP_STEP + 1 })) {
      const entry = decodeAge(value)
      if (entry.created >= cutoff) break
      if (removed.blobs >= SWEEP_STEP) {
        done = false
        break
      }
      const mbx = toBase64Url(entry.mailbox)
      const id = toHex(entry.blob)
      const record = await this.#record(mbx, id)
      if (record === undefined) continue
      removed = add(removed, await this.#drop(mbx, id, record, ops, deltas))
    }
    if (ops.length === 0) return { blobs: 0, bytes: 0, done }
    await this.#commitRemoval(ops, deltas, removed)
    return { blobs: removed.blobs, bytes: removed.bytes, done }
  }

  /** Picks the oldest blobs (never `keep`) until `need` bytes are freed; stages their removal into `ops`. */
  async #evict(need: number, ops: BatchOp[], deltas: Map<string, Usage>, keepMbx: string, keepId: string): Promise<{ blobs: number; bytes: number; incomplete: number }> {
    let freed = { blobs: 0, bytes: 0, incomplete: 0 }
    for await (const [, value] of this.#db.iterate(ageRange())) {
      if (freed.bytes >= need) break
      const entry = decodeAge(value)
      const mbx = toBase64Url(entry.mailbox)
      const id = toHex(entry.blob)
      if (mbx === keepMbx && id === keepId) continue
      const record = await this.#record(mbx, id)
      if (record === undefined) continue
      freed = add(freed, await this.#drop(mbx, id, record, ops, deltas))
    }
    return freed
  }

  /**
   * Stages a blob's removal: its file goes first (a crash afterwards leaves a record whose file is missing, which
   * serving detects and unmarks; the reverse would leave disk space nobody accounts for), its records into `ops`.
   */
  async #drop(mbx: string, id: string, record: BlobRecord, ops: BatchOp[], deltas: Map<string, Usage>): Promise<{ blobs: number; bytes: number; incomplete: number }> {
    await removeBlobFile(blobFilePath(this.#dir, id, mbx))
    ops.push(
      { type: 'del', key: recordKey(mbx, id) },
      { type: 'del', key: listKey(mbx, id) },
      { type: 'del', key: ageKey(record.seq) },
      { type: 'del', key: incompleteKey(record.seq) },
    )
    const d = deltas.get(mbx) ?? { b: 0, n: 0 }
    deltas.set(mbx, { b: d.b + record.counted, n: d.n + 1 })
    return { blobs: 1, bytes: record.counted, incomplete: record.haveCount < record.chunks ? 1 : 0 }
  }

  async #commitRemoval(ops: BatchOp[], deltas: Map<string, Usage>, removed: { blobs: number; bytes: number; incomplete: number }): Promise<void> {
    const usages = await this.#stageUsage(deltas, ops)
    const state: BlobState = { q: this.#state.q, b: this.#state.b - removed.bytes, n: this.#state.n - removed.blobs }
    ops.push({ type: 'put', key: BLOB_STATE_KEY, value: encodeBlobState(state) })
    await this.#db.batch(ops, { sync: true })
    this.#state = state
    this.#incomplete -= removed.incomplete
    for (const [m, u] of usages) this.#cacheUsage(m, u)
  }

  /** Applies usage decrements (`deltas`: what each mailbox frees; negative to add) into `ops`; returns the new values. */
  async #stageUsage(deltas: Map<string, Usage>, ops: BatchOp[]): Promise<Map<string, Usage>> {
    const out = new Map<string, Usage>()
    for (const [mbx, d] of deltas) {
      const current = await this.#mailboxUsage(mbx)
      const next = { b: Math.max(0, current.b - d.b), n: Math.max(0, current.n - d.n) }
      out.set(mbx, next)
      ops.push(next.n === 0 ? { type: 'del', key: mailboxUsageKey(mbx) } : { type: 'put', key: mailboxUsageKey(mbx), value: encodeUsage(next) })
    }
    return out
  }

  /** Clears chunks that turned out missing or damaged on disk, so they are neither served nor claimed. */
  async #unmark(mbx: string, id: string, seq: number, indices: readonly number[]): Promise<void> {
    await this.#serial(async () => {
      const current = await this.#record(mbx, id)
      if (current === undefined || current.seq !== seq) return
      const wasComplete = current.haveCount === current.chunks
      for (const i of indices) {
        if (!bitAt(current.have, i)) continue
        clearBit(current.have, i)
        current.haveCount--
      }
      const ops: BatchOp[] = [{ type: 'put', key: recordKey(mbx, id), value: encodeRecord(current) }]
      // Back among the incomplete, so the incomplete TTL applies from its creation as for any other.
      if (wasComplete && current.haveCount < current.chunks) ops.push({ type: 'put', key: incompleteKey(seq), value: encodeAge({ created: current.created, mailbox: fromB64(mbx), blob: fromHexId(id) }) })
      await this.#db.batch(ops, { sync: true })
      if (wasComplete && current.haveCount < current.chunks) this.#incomplete++
    })
  }

  #expired(record: BlobRecord, now: number): boolean {
    return record.created < now - this.#limits.retentionMs
  }

  async #record(mbx: string, id: string): Promise<BlobRecord | undefined> {
    const value = await this.#db.get(recordKey(mbx, id))
    return value === undefined ? undefined : decodeRecord(value)
  }

  async #mailboxUsage(mbx: string): Promise<Usage> {
    const cached = this.#usage.get(mbx)
    if (cached !== undefined) return cached
    const value = await this.#db.get(mailboxUsageKey(mbx))
    const usage = value === undefined ? { b: 0, n: 0 } : decodeUsage(value)
    this.#cacheUsage(mbx, usage)
    return usage
  }

  #cacheUsage(mbx: string, usage: Usage): void {
    this.#usage.delete(mbx)
    this.#usage.set(mbx, usage)
    if (this.#usage.size > this.#usageCacheSize) this.#usage.delete(this.#usage.keys().next().value!)
  }

  /** Runs `job` after every job queued before it: the single writer. */
  #serial<T>(job: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new HearthError('NOT_RUNNING', 'relay blob store is closing'))
    const run = this.#tail.then(job, job)
    this.#tail = run.catch(() => {})
    return run
  }

  /** Runs `job` after every job holding the same lock. */
  async #locked<T>(name: string, job: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(name) ?? Promise.resolve()
    const run = before.then(job, job)
    const settled = run.catch(() => {})
    this.#locks.set(name, settled)
    try {
      return await run
    } finally {
      if (this.#locks.get(name) === settled) this.#locks.delete(name)
    }
  }
}

function add(a: { blobs: number; bytes: number; incomplete: number }, b: { blobs: number; bytes: number; incomplete: number }) {
  return { blobs: a.blobs + b.blobs, bytes: a.bytes + b.bytes, incomplete: a.incomplete + b.incomplete }
}

function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64url'))
}

function fromHexId(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'))
}
