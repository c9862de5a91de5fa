/**
 * Attachment blobs on disk (docs/STORAGE.md "Blob files").
 *
 * Each blob is one file `<dataDir>/blobs/<id[0..2]>/<id>.blob` holding its ciphertext chunks at offset
 * `i * CHUNK_CIPHER_BYTES` (sparse until every chunk arrived); LevelDB holds which chunks are there (blob-records.ts).
 * Uploads in progress are files under `<dataDir>/blobs/tmp/`, emptied at open.
 *
 * Durability: the bitmap is written only after the chunk bytes it claims were fdatasync'ed (a window of chunks, one
 * datasync, one put), so after `kill -9` or a power loss every claimed chunk is on disk and verified, and nothing
 * verified is fetched again. A claim the disk does not honour (a truncated or damaged file) is noticed when the
 * chunk is read (every read is re-hashed), dropped, and the chunk becomes missing again.
 *
 * Every id is checked to be 64 lowercase hex before it becomes part of a path. All changes to one blob (chunks,
 * hash list, claims, removal) run one at a time; different blobs run concurrently.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BLOB_ID_PATTERN,
  BLOB_KEY_BYTES,
  BlobEncryptor,
  CHUNK_BYTES,
  CHUNK_CIPHER_BYTES,
  MAX_BLOB_PLAIN,
  chunkHashAt,
  cipherChunkLength,
  hashChunk,
  openChunk,
  verifyHashList,
  type SealedBlob,
  type SealedChunk,
} from '../../../common/blob/format.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { equalBytes, toHex } from '../../../common/util/bytes.js'
import type { CoreStore } from '../../store/core-store.js'
import type { Logger } from '../logger.js'
import { BlobFileHandles } from './blob-file-handles.js'
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

const CONVERSATION_PATTERN = /^[0-9a-f]{32}$/
const UPLOAD_ID_PATTERN = /^[0-9a-f]{32}$/
const SHARD_PATTERN = /^[0-9a-f]{2}$/
const BLOB_FILE_PATTERN = /^([0-9a-f]{64})\.blob$/
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

interface Upload {
  id: string
  conversation: string
  declaredSize: number
  encryptor: BlobEncryptor
  file: FileHandle
  path: string
  /** Ciphertext bytes written to the temp file. */
  written: number
  lastActivity: number
  /** Operations on one upload run in order. */
  tail: Promise<unknown>
  busy: number
  closed: boolean
}

function checkBlobId(id: unknown): string {
  if (typeof id !== 'string' || !BLOB_ID_PATTERN.test(id)) throw new HearthError('INVALID_INPUT', 'a blob id is 64 lowercase hex digits')
  return id
}

function checkConversation(conversation: unknown): string {
  if (typeof conversation !== 'string' || !CONVERSATION_PATTERN.test(conversation)) {
    throw new HearthError('INVALID_INPUT', 'conversation id must be 32 lowercase hex characters')
  }
  return conversation
}

function checkRange(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new HearthError('INVALID_INPUT', `${what} must be an integer in 0..${max}`)
  }
  return value
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined
}

/** Disk errors as the API's codes: a full disk is STORAGE_FULL (the UI says so), anything else INTERNAL. */
function diskError(err: unknown, what: string): unknown {
  if (isHearthError(err)) return err
  const code = errnoOf(err)
  if (code === 'ENOSPC' || code === 'EDQUOT') return new HearthError('STORAGE_FULL', `the disk is full (${what})`, { cause: err })
  return new HearthError('INTERNAL', `${what} failed: ${code ?? String(err)}`, { cause: err })
}

async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done)
    done += bytesWritten
  }
}

/** Most chunks one writev call carries (an iovec list far below every platform's IOV_MAX). */
const WRITEV_CHUNKS = 64

/** Writes chunks at their offsets, each run of consecutive indices with one writev (a window is usually one run). */
async function writeRuns(file: FileHandle, chunks: ReadonlyArray<{ index: number; cipher: Uint8Array }>): Promise<void> {
  const sorted = [...chunks].sort((x, y) => x.index - y.index)
  let start = 0
  while (start < sorted.length) {
    // Only full chunks are contiguous on disk: the last chunk of a blob is shorter, but nothing follows it.
    let end = start + 1
    while (end < sorted.length && end - start < WRITEV_CHUNKS && sorted[end]!.index === sorted[end - 1]!.index + 1) end++
    const run = sorted.slice(start, end)
    const position = run[0]!.index * CHUNK_CIPHER_BYTES
    const total = run.reduce((n, c) => n + c.cipher.length, 0)
    const { bytesWritten } = await file.writev(run.map((c) => c.cipher), position)
    if (bytesWritten < total) {
      // A short writev (rare: a signal, a full pipe of a network filesystem): the rest chunk by chunk.
      let offset = 0
      for (const c of run) {
        const from = Math.max(0, bytesWritten - offset)
        if (from < c.cipher.length) await writeFully(file, c.cipher.subarray(from), position + offset + from)
        offset += c.cipher.length
      }
    }
    start = end
  }
}

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
async function readFully(file: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const out = new Uint8Array(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await file.read(out, done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done === length ? out : out.subarray(0, done)
}

/** Makes a new or renamed directory entry durable (the file's own fsync does not cover its name). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch (err) {
    // Windows cannot fsync a directory; some filesystems refuse it. The rename is as durable as they make it.
    const code = errnoOf(err)
    if (code !== 'EPERM' && code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EACCES') throw err
  } finally {
    await handle?.close()
  }
}

/** Runs tasks for the same key one at a time, in arrival order; keys are independent. */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>()

  run<T>(k: string, task: () => Promise<T>): Promise<T> {
    const tail = this.#tails.get(k) ?? Promise.resolve()
    const result = tail.then(task, task)
    const settled = result.catch(() => {})
    this.#tails.set(k, settled)
    void settled.then(() => {
      if (this.#tails.get(k) === settled) this.#tails.delete(k)
    })
    return result
  }
}

/** A record the caller may change: the cached one is shared. */
function copyRecord(record: BlobRecord): BlobRecord {
  return { ...record, have: new Uint8Array(record.have) }
}

/** Bytes the held chunks of a record take on disk. */
function heldBytes(record: BlobRecord): number {
  const lastLength = cipherChunkLength(record.padded, record.chunks - 1)
  const lastHeld = hasChunk(record.have, record.chunks - 1)
  return (record.haveCount - (lastHeld ? 1 : 0)) * CHUNK_CIPHER_BYTES + (lastHeld ? lastLength : 0)
}

export class BlobStore {
  readonly #root: string
  readonly #tmp: string
  readonly #store: CoreStore
  readonly #log: Logger
  readonly #now: () => number
  readonly #uploadIdleMs: number
  readonly #maxUploads: number
  readonly #afterChunksSynced: BlobStoreOptions['afterChunksSynced']
  readonly #blobs = new KeyedQueue()
  readonly #uploads = new Map<string, Upload>()
  /** Verified hash lists of recently used blobs (they never change): serving a window reads one many times. */
  readonly #hashLists = new Map<string, Uint8Array>()
  readonly #records: RecordCache
  readonly #files = new BlobFileHandles(OPEN_FILES)
  #sweeper: NodeJS.Timeout | undefined
  #closed = false

  private constructor(dataDir: string, store: CoreStore, logger: Logger, options: BlobStoreOptions) {
    this.#root = join(dataDir, 'blobs')
    this.#tmp = join(this.#root, 'tmp')
    this.#store = store
    this.#log = logger
    this.#now = options.now ?? Date.now
    this.#uploadIdleMs = options.uploadIdleMs ?? 10 * 60_000
    this.#maxUploads = options.maxUploads ?? 32
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
    await blobs.#removeOrphans()
    blobs.#sweeper = setInterval(() => blobs.#dropIdleUploads(), SWEEP_EVERY_MS)
    blobs.#sweeper.unref()
    return blobs
  }

  /** Aborts every upload. Blobs are all durable already. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweeper)
    await Promise.all([...this.#uploads.keys()].map((id) => this.abortUpload(id)))
    await this.#files.close()
  }

  #pathOf(id: string): { dir: string; file: string } {
    const dir = join(this.#root, id.slice(0, 2))
    return { dir, file: join(dir, `${id}.blob`) }
  }

  /**
   * A blob file with no record: left by a crash after an import's rename and before its record, or after a removal's
   * record delete and before its unlink. Nothing can ever read it.
   */
  async #removeOrphans(): Promise<void> {
    for (const shard of await readdir(this.#root)) {
      if (!SHARD_PATTERN.test(shard)) continue
      let names: string[]
      try {
        names = await readdir(join(this.#root, shard))
      } catch {
        continue
      }
      for (const name of names) {
        const id = BLOB_FILE_PATTERN.exec(name)?.[1]
        if (id === undefined || id.slice(0, 2) !== shard) continue
        if ((await this.#store.db.get(BlobKeys.record(id))) !== undefined) continue
        this.#log.info({ blob: id.slice(0, 8) }, 'removing a blob file no record names')
        await unlink(join(this.#root, shard, name)).catch(() => {})
      }
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new HearthError('NOT_RUNNING', 'the blob store is closed')
  }

  // ---- making blobs: uploads and imports ----

  /** Starts an upload of `declaredSize` bytes of a file for `conversation`. */
  async beginUpload(conversation: string, declaredSize: number): Promise<string> {
    this.#checkOpen()
    checkConversation(conversation)
    checkRange(declaredSize, 'declared size', MAX_BLOB_PLAIN)
    this.#dropIdleUploads()
    if (this.#uploads.size >= this.#maxUploads) {
      throw new HearthError('RATE_LIMITED', `at most ${this.#maxUploads} files can be uploading at once`)
    }
    const id = randomBytes(16).toString('hex')
    const path = join(this.#tmp, `${id}.part`)
    let file: FileHandle
    try {
      file = await open(path, 'wx', 0o600)
    } catch (err) {
      throw diskError(err, 'creating an upload file')
    }
    this.#uploads.set(id, {
      id,
      conversation,
      declaredSize,
      encryptor: new BlobEncryptor(),
      file,
      path,
      written: 0,
      lastActivity: this.#now(),
      tail: Promise.resolve(),
      busy: 0,
      closed: false,
    })
    return id
  }

  /** Encrypts and writes the next bytes of an upload. Returns the file bytes received so far. */
  appendUpload(uploadId: string, bytes: Uint8Array): Promise<number> {
    if (!(bytes instanceof Uint8Array)) return Promise.reject(new HearthError('INVALID_INPUT', 'upload bytes must be a Uint8Array'))
    return this.#onUpload(uploadId, async (upload) => {
      if (upload.encryptor.size + bytes.length > upload.declaredSize) {
        throw new HearthError('INVALID_INPUT', `the file has more bytes than the ${upload.declaredSize} declared`)
      }
      for (const chunk of upload.encryptor.push(bytes)) await this.#writeUploadChunk(upload, chunk)
      return upload.encryptor.size
    })
  }

  /** Seals the rest, makes the file durable under its id and records it complete. */
  finishUpload(uploadId: string): Promise<BlobRef> {
    return this.#onUpload(uploadId, async (upload) => {
      if (upload.encryptor.size !== upload.declaredSize) {
        throw new HearthError('INVALID_INPUT', `the file has ${upload.encryptor.size} bytes, not the ${upload.declaredSize} declared`)
      }
      const steps = upload.encryptor.finish()
      let sealed: SealedBlob | undefined
      while (sealed === undefined) {
        const step = steps.next()
        if (step.done === true) sealed = step.value
        else await this.#writeUploadChunk(upload, step.value)
      }
      try {
        await upload.file.datasync()
      } catch (err) {
        throw diskError(err, 'syncing an upload')
      }
      await this.#closeUpload(upload, false)
      return this.#commitUpload(upload, sealed)
    }, true)
  }

  /** Drops an upload and its temp file; unknown ids are ignored (it may have expired). */
  async abortUpload(uploadId: string): Promise<void> {
    const upload = typeof uploadId === 'string' ? this.#uploads.get(uploadId) : undefined
    if (upload === undefined) return
    this.#uploads.delete(uploadId)
    // After whatever is running on it.
    await upload.tail.then(
      () => this.#closeUpload(upload, true),
      () => this.#closeUpload(upload, true),
    )
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

  #onUpload<T>(uploadId: string, task: (upload: Upload) => Promise<T>, last = false): Promise<T> {
    if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
      return Promise.reject(new HearthError('INVALID_INPUT', 'an upload id is 32 lowercase hex digits'))
    }
    const upload = this.#uploads.get(uploadId)
    if (upload === undefined) return Promise.reject(new HearthError('NOT_FOUND', 'no such upload (finished, aborted, or idle too long)'))
    if (last) this.#uploads.delete(uploadId)
    upload.busy++
    const run = async (): Promise<T> => {
      if (upload.closed) throw new HearthError('NOT_FOUND', 'the upload was aborted')
      try {
        return await task(upload)
      } catch (err) {
        // A failed step leaves the encryptor mid-stream: the upload cannot continue.
        this.#uploads.delete(upload.id)
        await this.#closeUpload(upload, true)
        throw diskError(err, 'writing an upload')
      } finally {
        upload.busy--
        upload.lastActivity = this.#now()
      }
    }
    const result = upload.tail.then(run, run)
    upload.tail = result.catch(() => {})
    return result
  }

  async #writeUploadChunk(upload: Upload, chunk: SealedChunk): Promise<void> {
    await writeFully(upload.file, chunk.cipher, chunk.index * CHUNK_CIPHER_BYTES)
    upload.written += chunk.cipher.length
  }

  async #closeUpload(upload: Upload, unlinkFile: boolean): Promise<void> {
    if (!upload.closed) {
      upload.closed = true
      await upload.file.close().catch(() => {})
    }
    if (unlinkFile) await unlink(upload.path).catch(() => {})
  }

  async #commitUpload(upload: Upload, sealed: SealedBlob): Promise<BlobRef> {
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

  #dropIdleUploads(): void {
    const cutoff = this.#now() - this.#uploadIdleMs
    for (const upload of this.#uploads.values()) {
      if (upload.busy === 0 && upload.lastActivity < cutoff) {
        this.#log.info({ upload: upload.id.slice(0, 8) }, 'dropping an idle upload')
        void this.abortUpload(upload.id)
      }
    }
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

  /**
   * Stores chunks that match the hash list: each checked (length and hash; one already held is skipped), written,
   * one datasync, then one put of the bitmap. Refused chunks come back in `corrupt`.
   */
  async writeChunks(id: string, chunks: ReadonlyArray<{ index: number; cipher: Uint8Array }>): Promise<{ stored: number[]; corrupt: number[] }> {
    this.#checkOpen()
    checkBlobId(id)
    return this.#blobs.run(id, async () => {
      const record = await this.#records.read(id)
      if (record === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
      const hashList = await this.#hashListOf(record, true)
      if (hashList === undefined) throw new HearthError('INVALID_INPUT', 'the blob hash list is not known yet')
      const corrupt: number[] = []
      const accepted: Array<{ index: number; cipher: Uint8Array }> = []
      const seen = new Set<number>()
      for (const chunk of chunks) {
        const { index, cipher } = chunk
        if (!Number.isSafeInteger(index) || index < 0 || index >= record.chunks) {
          if (typeof index === 'number') corrupt.push(index)
          continue
        }
        if (hasChunk(record.have, index) || seen.has(index)) continue
        if (
          !(cipher instanceof Uint8Array) ||
          cipher.length !== cipherChunkLength(record.padded, index) ||
          !equalBytes(hashChunk(cipher), chunkHashAt(hashList, index))
        ) {
          corrupt.push(index)
          continue
        }
        seen.add(index)
        accepted.push({ index, cipher })
      }
      if (accepted.length === 0) return { stored: [], corrupt }

      await this.#writeDurably(id, accepted)
      const indices = accepted.map((c) => c.index)
      await this.#afterChunksSynced?.(id, indices)
      const have = new Uint8Array(record.have)
      for (const i of indices) setChunk(have, i, true)
      const haveCount = record.haveCount + indices.length
      const updated: BlobRecord = { ...record, have, haveCount, complete: haveCount === record.chunks, progressAt: this.#now() }
      await this.#records.put(updated)
      return { stored: indices, corrupt }
    })
  }

  async #writeDurably(id: string, chunks: ReadonlyArray<{ index: number; cipher: Uint8Array }>): Promise<void> {
    const { dir, file: path } = this.#pathOf(id)
    let file: FileHandle | undefined
    let created = false
    let madeShard = false
    try {
      try {
        file = await open(path, 'r+')
      } catch (err) {
        if (errnoOf(err) !== 'ENOENT') throw err
        madeShard = (await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined
        // Exclusive create: writes go to their positions and leave holes, never truncate (the blob's lock makes this
        // the only writer, so the file cannot appear in between).
        file = await open(path, 'wx', 0o600)
        created = true
      }
      await writeRuns(file, chunks)
      await file.datasync()
    } catch (err) {
      throw diskError(err, 'writing blob chunks')
    } finally {
      await file?.close()
    }
    if (created) await syncDirectory(dir)
    if (madeShard) await syncDirectory(this.#root)
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
