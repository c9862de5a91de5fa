/**
 * Attachment blobs on disk (docs/STORAGE.md "Blob files").
 *
 * Each blob is one file `<dataDir>/blobs/<id[0..2]>/<id>.blob` holding its ciphertext chunks at offset
 * `i * CHUNK_CIPHER_BYTES` (sparse until every chunk arrived); LevelDB holds which chunks are there (blob-records.ts).
 * Uploads in progress are files under `<dataDir>/blobs/tmp/`, emptied at open.
 *
 * Durability: the bitmap is written only after the chunk bytes it claims were fdatasync'ed (chunks are staged, then
 * one commit syncs and claims all staged so far: blob-staging.ts), so after `kill -9` or a power loss every claimed
 * chunk is on disk and verified. A claim the disk does not honour (a truncated or damaged file) is noticed when the
 * chunk is read (every read is re-hashed), dropped, and the chunk becomes missing again.
 *
 * Every id is checked to be 64 lowercase hex before it becomes part of a path. All changes to one blob (chunks,
 * hash list, claims, removal) run one at a time; different blobs run concurrently.
 */
import { mkdir, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BLOB_KEY_BYTES,
  CHUNK_BYTES,
  CHUNK_CIPHER_BYTES,
  MAX_BLOB_PLAIN,
  chunkHashAt,
  cipherChunkLength,
  hashChunk,
  openChunk,
  verifyHashList,
  type SealedBlob,
} from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import { equalBytes, toHex } from '../../../common/util/bytes.js'
import type { CoreStore } from '../../store/core-store.js'
import type { Logger } from '../logger.js'
import { BlobFileHandles } from './blob-file-handles.js'
import { StagedWrites, verifyChunks, type Commit, type StagedChunk } from './blob-staging.js'
import { BlobUploads } from './blob-uploads.js'
import { KeyedQueue, checkBlobId, removeOrphanFiles, checkConversation, checkRange, copyRecord, diskError, errnoOf, heldBytes, readFully, syncDirectory } from './blob-disk.js'
import { BlobKeys, RecordCache, allRecords, hasChunk, newRecord, setChunk, type BlobRecord } from './blob-records.js'

export type { BlobRecord } from './blob-records.js'

/** What a blob made here is known by: everything a message needs to name it and open it. */
export interface BlobRef {
  /** 64 lowercase hex. */
  id: string
  /** The file key: goes into the message, nowhere else. */
  key: Uint8Array
  size: number
  padded: number
  chunks: number
}

export interface BlobStoreOptions {
  now?: () => number
  /** An upload with no append for this long is dropped (10 minutes). */
  uploadIdleMs?: number
  /** Uploads open at once (32): each holds a file handle and a chunk of memory. */
  maxUploads?: number
  /** Test seam: runs after a window of chunks is synced and before its bitmap is written (a crash there). */
  afterChunksSynced?: (id: string, indices: readonly number[]) => void | Promise<void>
}

/** Largest plaintext range one readPlain returns (the API asks for ≤ 1 MiB at a time). */
export const MAX_READ_BYTES = 16 * 1024 * 1024
/** Most chunks one readChunks returns (a window of the blob protocol). */
export const MAX_READ_CHUNKS = 16
const HASH_LIST_CACHE = 8
/** Records kept in memory (each ≤ 2.2 KB of bitmap): the blobs being served or fetched at once, with room to spare. */
const RECORD_CACHE = 64
/** Blob files kept open for reading while idle. */
const OPEN_FILES = 16
const SWEEP_EVERY_MS = 60_000

export class BlobStore {
  readonly #root: string
  readonly #store: CoreStore
  readonly #log: Logger
  readonly #now: () => number
  readonly #afterChunksSynced: BlobStoreOptions['afterChunksSynced']
  readonly #blobs = new KeyedQueue()
  readonly #uploads: BlobUploads
  readonly #tmp: string
  /** Verified hash lists of recently used blobs (they never change): serving a window reads one many times. */
  readonly #hashLists = new Map<string, Uint8Array>()
  readonly #records: RecordCache
  readonly #files: BlobFileHandles
  readonly #staging: StagedWrites
  #sweeper: NodeJS.Timeout | undefined
  #closed = false

  private constructor(dataDir: string, store: CoreStore, logger: Logger, options: BlobStoreOptions) {
    this.#root = join(dataDir, 'blobs')
    this.#tmp = join(this.#root, 'tmp')
    this.#staging = new StagedWrites(this.#root)
    this.#store = store
    this.#log = logger
    this.#now = options.now ?? Date.now
    this.#files = new BlobFileHandles(OPEN_FILES, { now: this.#now })
    this.#uploads = new BlobUploads({
      tmp: this.#tmp,
      now: this.#now,
      idleMs: options.uploadIdleMs ?? 10 * 60_000,
      max: options.maxUploads ?? 32,
      log: logger,
      commit: (upload, sealed) => this.#commitUpload(upload, sealed),
    })
    this.#afterChunksSynced = options.afterChunksSynced
    this.#records = new RecordCache(store, RECORD_CACHE)
  }

  /** Opens the store under `dataDir`: empties the temp dir and deletes blob files no record names. */
  static async open(dataDir: string, store: CoreStore, logger: Logger, options: BlobStoreOptions = {}): Promise<BlobStore> {
    const blobs = new BlobStore(dataDir, store, logger, options)
    await mkdir(blobs.#root, { recursive: true, mode: 0o700 })
    // Uploads do not survive a restart: the API's caller starts again.
    await rm(blobs.#tmp, { recursive: true, force: true })
    await mkdir(blobs.#tmp, { mode: 0o700 })
    await removeOrphanFiles(blobs.#root, async (id) => (await store.db.get(BlobKeys.record(id))) !== undefined, logger)
    blobs.#sweeper = setInterval(() => blobs.#uploads.dropIdle(), SWEEP_EVERY_MS)
    blobs.#sweeper.unref()
    return blobs
  }

  /** Aborts every upload. Blobs are all durable already. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweeper)
    await this.#uploads.abortAll()
    await this.#files.close()
    await this.#staging.close()
  }

  #pathOf(id: string): { dir: string; file: string } {
    const dir = join(this.#root, id.slice(0, 2))
    return { dir, file: join(dir, `${id}.blob`) }
  }

  #checkOpen(): void {
    if (this.#closed) throw new HearthError('NOT_RUNNING', 'the blob store is closed')
  }

  // ---- making blobs: uploads and imports (blob-uploads.ts) ----

  /** Starts an upload of `declaredSize` bytes of a file for `conversation`. */
  beginUpload(conversation: string, declaredSize: number): Promise<string> {
    this.#checkOpen()
    return this.#uploads.begin(conversation, declaredSize)
  }

  /** Encrypts and writes the next bytes of an upload. Returns the file bytes received so far. */
  appendUpload(uploadId: string, bytes: Uint8Array): Promise<number> {
    return this.#uploads.append(uploadId, bytes)
  }

  /** Seals the rest, makes the file durable under its id and records it complete. */
  finishUpload(uploadId: string): Promise<BlobRef> {
    return this.#uploads.finish(uploadId)
  }

  /** Drops an upload and its temp file; unknown ids are ignored (it may have expired). */
  abortUpload(uploadId: string): Promise<void> {
    return this.#uploads.abort(uploadId)
  }

  /** Streams a file into a new blob: the upload path in one call. Refuses if the bytes are not `declaredSize`. */
  async importFile(
    conversation: string,
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    declaredSize: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<BlobRef> {
    opts.signal?.throwIfAborted()
    const uploadId = await this.beginUpload(conversation, declaredSize)
    try {
      for await (const bytes of source) {
        opts.signal?.throwIfAborted()
        await this.appendUpload(uploadId, bytes)
      }
      opts.signal?.throwIfAborted()
      return await this.finishUpload(uploadId)
    } catch (err) {
      await this.abortUpload(uploadId)
      throw err
    }
  }

  /** An upload's sealed file becomes the blob `sealed.id`: renamed into place, synced, recorded complete. */
  async #commitUpload(upload: { path: string; conversation: string }, sealed: SealedBlob): Promise<BlobRef> {
    const id = toHex(sealed.id)
    const { dir, file } = this.#pathOf(id)
    try {
      // mkdir says whether it made the shard directory: only then does the root's entry need syncing too.
      const madeShard = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined
      await rename(upload.path, file)
      await syncDirectory(dir)
      if (madeShard) await syncDirectory(this.#root)
    } catch (err) {
      await unlink(upload.path).catch(() => {})
      throw diskError(err, 'storing a blob file')
    }
    const record = newRecord(id, upload.conversation, sealed.padded, this.#now(), true)
    await this.#blobs.run(id, () => this.#records.put(record, [{ type: 'put', key: BlobKeys.hashList(id), value: sealed.hashList }], true))
    this.#remember(id, sealed.hashList)
    return { id, key: sealed.key, size: sealed.size, padded: sealed.padded, chunks: record.chunks }
  }

  // ---- receiving blobs ----

  /** Registers a blob a received message names (idempotent). Refuses a second, different size for the same id. */
  async expect(conversation: string, id: string, padded: number): Promise<BlobRecord> {
    this.#checkOpen()
    checkConversation(conversation)
    checkBlobId(id)
    return this.#blobs.run(id, async () => {
      const existing = await this.#records.read(id)
      if (existing !== undefined) {
        if (existing.padded !== padded) throw new HearthError('INVALID_INPUT', 'this blob is already known with another size')
        return copyRecord(existing)
      }
      const record = newRecord(id, conversation, padded, this.#now(), false)
      await this.#records.put(record)
      return copyRecord(record)
    })
  }

  /** The blob's record: a copy, the caller may keep or change it. */
  async get(id: string): Promise<BlobRecord | undefined> {
    const record = await this.#records.read(checkBlobId(id))
    return record === undefined ? undefined : copyRecord(record)
  }

  /** The blob's hash list, verified against its id; undefined until known (or when the stored one is damaged). */
  async hashList(id: string): Promise<Uint8Array | undefined> {
    checkBlobId(id)
    const record = await this.#records.read(id)
    return record === undefined ? undefined : this.#hashListOf(record)
  }

  /**
   * The verified hash list of a record. A stored one that does not match the id (damaged on disk) is forgotten so it
   * is fetched again (the chunks were checked against the right one). `locked`: the caller already runs on the blob.
   */
  async #hashListOf(record: BlobRecord, locked = false): Promise<Uint8Array | undefined> {
    const cached = this.#hashLists.get(record.id)
    if (cached !== undefined) return cached
    if (!record.hashListKnown) return undefined
    const stored = await this.#store.db.get(BlobKeys.hashList(record.id))
    if (stored !== undefined && verifyHashList(record.id, stored, record.padded)) {
      this.#remember(record.id, stored)
      return stored
    }
    this.#log.warn({ blob: record.id.slice(0, 8) }, 'stored hash list does not match its blob id; dropping it')
    const forget = async (): Promise<void> => {
      const current = await this.#records.read(record.id)
      if (current === undefined || !current.hashListKnown) return
      await this.#records.put({ ...current, hashListKnown: false }, [{ type: 'del', key: BlobKeys.hashList(record.id) }])
    }
    await (locked ? forget() : this.#blobs.run(record.id, forget))
    return undefined
  }

  #remember(id: string, hashList: Uint8Array): void {
    this.#hashLists.delete(id)
    this.#hashLists.set(id, hashList)
    if (this.#hashLists.size > HASH_LIST_CACHE) this.#hashLists.delete(this.#hashLists.keys().next().value!)
  }

  /** Stores a blob's hash list; refuses (CORRUPT_DATA) one that does not match the id and size. */
  async setHashList(id: string, hashList: Uint8Array): Promise<void> {
    checkBlobId(id)
    await this.#blobs.run(id, async () => {
      const record = await this.#records.read(id)
      if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
      if (!(hashList instanceof Uint8Array) || !verifyHashList(id, hashList, record.padded)) {
        throw new HearthError('CORRUPT_DATA', 'the hash list does not match the blob id')
      }
      if (record.hashListKnown) return
      const copy = new Uint8Array(hashList)
      await this.#records.put({ ...record, hashListKnown: true }, [{ type: 'put', key: BlobKeys.hashList(id), value: copy }])
      this.#remember(id, copy)
    })
  }

  /** Chunk indices not held yet, ascending, at most `limit`. */
  async missing(id: string, limit = Number.POSITIVE_INFINITY): Promise<number[]> {
    const record = await this.#records.read(checkBlobId(id))
    if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
    const out: number[] = []
    for (let i = 0; i < record.chunks && out.length < limit; i++) if (!hasChunk(record.have, i)) out.push(i)
    return out
  }

  /** stageChunks and commitChunks under the blob's lock: verified, written, synced, claimed; refused ones in `corrupt`. */
  async writeChunks(id: string, chunks: ReadonlyArray<StagedChunk>): Promise<{ stored: number[]; corrupt: number[] }> {
    this.#checkOpen()
    checkBlobId(id)
    return this.#blobs.run(id, async () => {
      const { accepted, corrupt } = await this.#stage(id, chunks)
      const commit = this.#staging.begin(id)
      if (commit === undefined) return { stored: [], corrupt }
      const claimed = new Set(await this.#commit(id, commit, true))
      return { stored: accepted.filter((i) => claimed.has(i)), corrupt }
    })
  }

  /** Checks chunks (length, hash) and writes the good ones unsynced and unclaimed (blob-staging.ts); refused in `corrupt`. */
  async stageChunks(id: string, chunks: ReadonlyArray<StagedChunk>): Promise<{ staged: number[]; corrupt: number[] }> {
    this.#checkOpen()
    checkBlobId(id)
    const { accepted, corrupt } = await this.#blobs.run(id, () => this.#stage(id, chunks))
    return { staged: accepted, corrupt }
  }

  /**
   * Syncs the blob's file once and claims every chunk staged before the call (one put of the bitmap); returns them.
   * The sync runs outside the blob's lock, so chunks can be staged meanwhile (they wait for the next commit).
   */
  async commitChunks(id: string): Promise<number[]> {
    this.#checkOpen()
    checkBlobId(id)
    const commit = await this.#blobs.run(id, () => Promise.resolve(this.#staging.begin(id)))
    return commit === undefined ? [] : this.#commit(id, commit, false)
  }

  async #stage(id: string, chunks: ReadonlyArray<StagedChunk>): Promise<{ accepted: number[]; corrupt: number[] }> {
    const record = await this.#records.read(id)
    if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
    const hashList = await this.#hashListOf(record, true)
    if (hashList === undefined) throw new HearthError('INVALID_INPUT', 'the blob hash list is not known yet')
    const { accepted, corrupt } = verifyChunks(record, hashList, chunks)
    if (accepted.length > 0) await this.#staging.write(id, this.#pathOf(id), accepted)
    return { accepted: accepted.map((c) => c.index), corrupt }
  }

  /** Syncs a commit's chunks, then claims them; `locked` when the caller holds the blob's lock. */
  async #commit(id: string, commit: Commit, locked: boolean): Promise<number[]> {
    const run = <T>(fn: () => Promise<T>): Promise<T> => (locked ? fn() : this.#blobs.run(id, fn))
    try {
      await this.#staging.sync(commit)
      await this.#afterChunksSynced?.(id, commit.indices)
    } catch (err) {
      // Nothing is claimed and the handle is let go; the error is the caller's (a disk error ends a fetch).
      await run(() => this.#staging.end(id, commit))
      throw err
    }
    return run(async () => {
      if (!(await this.#staging.end(id, commit))) return []
      const record = await this.#records.read(id)
      if (record === undefined) return []
      const indices = commit.indices.filter((i) => i < record.chunks && !hasChunk(record.have, i))
      if (indices.length === 0) return []
      const have = new Uint8Array(record.have)
      for (const i of indices) setChunk(have, i, true)
      const haveCount = record.haveCount + indices.length
      await this.#records.put({ ...record, have, haveCount, complete: haveCount === record.chunks, progressAt: this.#now() })
      return indices
    })
  }

  /** Counts a fetch that gave up (the core's retry backoff); returns the new count. */
  async recordFailure(id: string): Promise<number> {
    checkBlobId(id)
    return this.#blobs.run(id, async () => {
      const record = await this.#records.read(id)
      if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
      const failures = record.failures + 1
      await this.#records.put({ ...record, failures })
      return failures
    })
  }

  // ---- reading ----

  /** A held chunk's ciphertext for serving, re-hashed; undefined when not held (or found damaged, then dropped). */
  async readChunk(id: string, index: number): Promise<Uint8Array | undefined> {
    checkBlobId(id)
    const record = await this.#records.read(id)
    if (record === undefined || !Number.isSafeInteger(index) || index < 0 || index >= record.chunks) return undefined
    if (!hasChunk(record.have, index)) return undefined
    const hashList = await this.#hashListOf(record)
    if (hashList === undefined) return undefined
    return this.#withFile(record, (file) => this.#readVerified(record, hashList, file, index))
  }

  /**
   * Chunks [first, first + count) for serving, each as readChunk gives it (undefined when not held or found damaged),
   * with one record lookup, one file lease and one read per run of held chunks. At most MAX_READ_CHUNKS at once: the
   * caller holds them all in memory.
   */
  async readChunks(id: string, first: number, count: number): Promise<Array<Uint8Array | undefined>> {
    checkBlobId(id)
    checkRange(count, 'chunk count', MAX_READ_CHUNKS)
    const out: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(count).fill(undefined)
    const record = await this.#records.read(id)
    if (record === undefined || !Number.isSafeInteger(first) || first < 0 || first + count > record.chunks) return out
    const held = (k: number): boolean => hasChunk(record.have, first + k)
    if (!out.some((_, k) => held(k))) return out
    const hashList = await this.#hashListOf(record)
    if (hashList === undefined) return out
    await this.#withFile(record, async (file) => {
      for (let k = 0; k < count; ) {
        if (!held(k)) {
          k++
          continue
        }
        let end = k + 1
        while (end < count && held(end)) end++
        const run = await this.#readRun(record, hashList, file, first + k, end - k)
        for (let j = 0; j < run.length; j++) out[k + j] = run[j]
        k = end
      }
    })
    return out
  }

  /** Consecutive held chunks with one read, each verified as #readVerified does (a bad one's claim dropped). */
  async #readRun(record: BlobRecord, hashList: Uint8Array, file: FileHandle | undefined, first: number, count: number): Promise<Array<Uint8Array | undefined>> {
    const lengths = Array.from({ length: count }, (_, j) => cipherChunkLength(record.padded, first + j))
    let bytes: Uint8Array | undefined
    if (file !== undefined) {
      try {
        bytes = await readFully(file, lengths.reduce((n, l) => n + l, 0), first * CHUNK_CIPHER_BYTES)
      } catch (err) {
        throw diskError(err, 'reading blob chunks')
      }
    }
    const out: Array<Uint8Array | undefined> = []
    for (let j = 0; j < count; j++) {
      const index = first + j
      const start = j * CHUNK_CIPHER_BYTES
      const cipher = bytes?.subarray(start, Math.min(bytes.length, start + lengths[j]!))
      if (cipher !== undefined && cipher.length === lengths[j] && equalBytes(hashChunk(cipher), chunkHashAt(hashList, index))) {
        out.push(cipher)
        continue
      }
      out.push(undefined)
      await this.#dropClaim(record.id, index, cipher === undefined ? 'file missing' : cipher.length < lengths[j]! ? 'file truncated' : 'hash mismatch')
    }
    return out
  }

  /** Lends the blob's file for reading (kept open between reads); a missing file means every claim is false (dropped). */
  async #withFile<T>(record: BlobRecord, read: (file: FileHandle | undefined) => Promise<T>): Promise<T> {
    let lease
    try {
      lease = await this.#files.acquire(record.id, this.#pathOf(record.id).file)
    } catch (err) {
      throw diskError(err, 'opening a blob file')
    }
    try {
      return await read(lease.handle)
    } finally {
      await lease.release()
    }
  }

  async #readVerified(record: BlobRecord, hashList: Uint8Array, file: FileHandle | undefined, index: number): Promise<Uint8Array | undefined> {
    const length = cipherChunkLength(record.padded, index)
    let cipher: Uint8Array | undefined
    if (file !== undefined) {
      try {
        cipher = await readFully(file, length, index * CHUNK_CIPHER_BYTES)
      } catch (err) {
        throw diskError(err, 'reading a blob chunk')
      }
    }
    if (cipher !== undefined && cipher.length === length && equalBytes(hashChunk(cipher), chunkHashAt(hashList, index))) return cipher
    await this.#dropClaim(record.id, index, cipher === undefined ? 'file missing' : cipher.length < length ? 'file truncated' : 'hash mismatch')
    return undefined
  }

  /** The disk does not hold what the bitmap claims: forget the claim so the chunk is fetched again. */
  async #dropClaim(id: string, index: number, why: string): Promise<void> {
    this.#log.warn({ blob: id.slice(0, 8), chunk: index, why }, 'a stored blob chunk is damaged; it will be fetched again')
    await this.#blobs.run(id, async () => {
      const record = await this.#records.read(id)
      if (record === undefined || !hasChunk(record.have, index)) return
      const have = new Uint8Array(record.have)
      setChunk(have, index, false)
      await this.#records.put({ ...record, have, haveCount: record.haveCount - 1, complete: false })
    })
  }

  /**
   * Plaintext bytes [offset, offset + length) of the file (of `size` bytes) the blob holds, decrypting only the
   * chunks that cover the range. Refuses (NOT_FOUND) when one of them is not held or is damaged on disk.
   */
  async readPlain(id: string, key: Uint8Array, size: number, offset: number, length: number): Promise<Uint8Array> {
    checkBlobId(id)
    const record = await this.#readable(id, key, size)
    checkRange(offset, 'offset', size)
    checkRange(length, 'length', Math.min(MAX_READ_BYTES, size - offset))
    const out = new Uint8Array(length)
    if (length === 0) return out
    const hashList = await this.#hashListOf(record)
    if (hashList === undefined) throw new HearthError('NOT_FOUND', 'the blob is not held yet')
    const first = Math.floor(offset / CHUNK_BYTES)
    const last = Math.floor((offset + length - 1) / CHUNK_BYTES)
    await this.#withFile(record, async (file) => {
      for (let i = first; i <= last; i++) {
        const plain = await this.#plainChunk(record, hashList, file, key, i)
        const start = Math.max(offset, i * CHUNK_BYTES)
        const end = Math.min(offset + length, (i + 1) * CHUNK_BYTES)
        out.set(plain.subarray(start - i * CHUNK_BYTES, end - i * CHUNK_BYTES), start - offset)
      }
    })
    return out
  }

  /** The whole file, a chunk at a time (for saving it to a path). Fails part way if a chunk turns out damaged. */
  async *plainStream(id: string, key: Uint8Array, size: number): AsyncIterable<Uint8Array> {
    checkBlobId(id)
    const record = await this.#readable(id, key, size)
    if (size === 0) return
    const hashList = await this.#hashListOf(record)
    if (hashList === undefined) throw new HearthError('NOT_FOUND', 'the blob is not held yet')
    const lastNeeded = Math.floor((size - 1) / CHUNK_BYTES)
    for (let i = 0; i <= lastNeeded; i++) {
      if (!hasChunk(record.have, i)) throw new HearthError('NOT_FOUND', `chunk ${i} of the blob is not held`)
    }
    let file: FileHandle | undefined
    try {
      file = await open(this.#pathOf(id).file, 'r')
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw diskError(err, 'opening a blob file')
    }
    try {
      for (let i = 0; i <= lastNeeded; i++) {
        const plain = await this.#plainChunk(record, hashList, file, key, i)
        yield i === lastNeeded ? plain.subarray(0, size - i * CHUNK_BYTES) : plain
      }
    } finally {
      await file?.close()
    }
  }

  async #readable(id: string, key: Uint8Array, size: number): Promise<BlobRecord> {
    if (!(key instanceof Uint8Array) || key.length !== BLOB_KEY_BYTES) throw new HearthError('INVALID_INPUT', 'a blob key is 32 bytes')
    const record = await this.#records.read(id)
    if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
    checkRange(size, 'size', Math.min(record.padded, MAX_BLOB_PLAIN))
    return record
  }

  async #plainChunk(record: BlobRecord, hashList: Uint8Array, file: FileHandle | undefined, key: Uint8Array, i: number): Promise<Uint8Array> {
    const cipher = hasChunk(record.have, i) ? await this.#readVerified(record, hashList, file, i) : undefined
    if (cipher === undefined) throw new HearthError('NOT_FOUND', `chunk ${i} of the blob is not held`)
    return openChunk(key, i, i === record.chunks - 1, cipher)
  }

  // ---- removal and accounting ----

  /** Deletes the blob's record and file (the record first: a crash in between leaves an orphan, removed at open). */
  async remove(id: string): Promise<void> {
    checkBlobId(id)
    await this.#blobs.run(id, async () => {
      await this.#records.commit(id, undefined, [{ type: 'del', key: BlobKeys.record(id) }, { type: 'del', key: BlobKeys.hashList(id) }], true)
      this.#hashLists.delete(id)
      await this.#staging.drop(id)
      // Before the unlink: a blob fetched again later gets a new file, never a handle to this one.
      await this.#files.forget(id)
      try {
        await unlink(this.#pathOf(id).file)
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw diskError(err, 'removing a blob file')
      }
    })
  }

  /** Removes every blob of a conversation and aborts its uploads. Returns how many blobs were removed. */
  async removeConversation(conversation: string): Promise<number> {
    checkConversation(conversation)
    const ids: string[] = []
    for await (const record of allRecords(this.#store)) if (record.conversation === conversation) ids.push(record.id)
    for (const id of ids) await this.remove(id)
    for (const upload of [...this.#uploads.values()]) if (upload.conversation === conversation) await this.abortUpload(upload.id)
    return ids.length
  }

  /** Bytes on disk per conversation: held chunks of its blobs and its uploads in progress. */
  async usage(): Promise<Map<string, number>> {
    const out = new Map<string, number>()
    const add = (conversation: string, bytes: number): void => {
      if (bytes > 0) out.set(conversation, (out.get(conversation) ?? 0) + bytes)
    }
    for await (const record of allRecords(this.#store)) add(record.conversation, heldBytes(record))
    for (const upload of this.#uploads.values()) add(upload.conversation, upload.written)
    return out
  }

  /** Bytes on disk for all blobs and uploads (the disk budget). */
  async totalBytes(): Promise<number> {
    let total = 0
    for (const bytes of (await this.usage()).values()) total += bytes
    return total
  }
}
