/**
 * Files being made into blobs, a piece at a time (the API's files.append): each upload encrypts into a temp file under
 * `<dataDir>/blobs/tmp/` as its bytes arrive, so a large file never sits in memory, and on finish is handed to the
 * store to become a blob. Steps of one upload run in order; an upload left idle is dropped.
 */
import { randomBytes } from 'node:crypto'
import { open, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BlobEncryptor, CHUNK_CIPHER_BYTES, MAX_BLOB_PLAIN, type SealedBlob, type SealedChunk } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import type { Logger } from '../logger.js'
import { checkConversation, checkRange, diskError, writeFully } from './blob-disk.js'
import type { BlobRef } from './blob-store.js'

const UPLOAD_ID_PATTERN = /^[0-9a-f]{32}$/

export interface Upload {
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

export interface BlobUploadsOptions {
  tmp: string
  now: () => number
  idleMs: number
  max: number
  log: Logger
  /** Makes a finished upload's sealed file the blob it is (the store renames, syncs and records it). */
  commit(upload: Upload, sealed: SealedBlob): Promise<BlobRef>
}

export class BlobUploads {
  readonly #open = new Map<string, Upload>()
  readonly #tmp: string
  readonly #now: () => number
  readonly #uploadIdleMs: number
  readonly #maxUploads: number
  readonly #log: Logger
  readonly #commit: BlobUploadsOptions['commit']

  constructor(options: BlobUploadsOptions) {
    this.#tmp = options.tmp
    this.#now = options.now
    this.#uploadIdleMs = options.idleMs
    this.#maxUploads = options.max
    this.#log = options.log
    this.#commit = options.commit
  }

  /** Uploads in progress (for usage and for removing a conversation's). */
  values(): IterableIterator<Upload> {
    return this.#open.values()
  }

  async abortAll(): Promise<void> {
    await Promise.all([...this.#open.keys()].map((id) => this.abort(id)))
  }

  /** Starts an upload of `declaredSize` bytes of a file for `conversation`. */
  async begin(conversation: string, declaredSize: number): Promise<string> {
    checkConversation(conversation)
    checkRange(declaredSize, 'declared size', MAX_BLOB_PLAIN)
    this.dropIdle()
    if (this.#open.size >= this.#maxUploads) {
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
    this.#open.set(id, {
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
  append(uploadId: string, bytes: Uint8Array): Promise<number> {
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
  finish(uploadId: string): Promise<BlobRef> {
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
      return this.#commit(upload, sealed)
    }, true)
  }

  /** Drops an upload and its temp file; unknown ids are ignored (it may have expired). */
  async abort(uploadId: string): Promise<void> {
    const upload = typeof uploadId === 'string' ? this.#open.get(uploadId) : undefined
    if (upload === undefined) return
    this.#open.delete(uploadId)
    // After whatever is running on it.
    await upload.tail.then(
      () => this.#closeUpload(upload, true),
      () => this.#closeUpload(upload, true),
    )
  }

  #onUpload<T>(uploadId: string, task: (upload: Upload) => Promise<T>, last = false): Promise<T> {
    if (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId)) {
      return Promise.reject(new HearthError('INVALID_INPUT', 'an upload id is 32 lowercase hex digits'))
    }
    const upload = this.#open.get(uploadId)
    if (upload === undefined) return Promise.reject(new HearthError('NOT_FOUND', 'no such upload (finished, aborted, or idle too long)'))
    if (last) this.#open.delete(uploadId)
    upload.busy++
    const run = async (): Promise<T> => {
      if (upload.closed) throw new HearthError('NOT_FOUND', 'the upload was aborted')
      try {
        return await task(upload)
      } catch (err) {
        // A failed step leaves the encryptor mid-stream: the upload cannot continue.
        this.#open.delete(upload.id)
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

  dropIdle(): void {
    const cutoff = this.#now() - this.#uploadIdleMs
    for (const upload of this.#open.values()) {
      if (upload.busy === 0 && upload.lastActivity < cutoff) {
        this.#log.info({ upload: upload.id.slice(0, 8) }, 'dropping an idle upload')
        void this.abort(upload.id)
      }
    }
  }
}
