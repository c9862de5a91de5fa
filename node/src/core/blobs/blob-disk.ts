/**
 * The file-system side of the blob store: id and range checks before an id becomes part of a path, positioned reads
 * and writes that finish what they start, directory syncs, disk errors as the API's codes, and a per-key queue.
 */
import { open, readdir, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BLOB_ID_PATTERN, CHUNK_CIPHER_BYTES, cipherChunkLength } from '../../../common/blob/format.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { Logger } from '../logger.js'
import { hasChunk, type BlobRecord } from './blob-records.js'

const CONVERSATION_PATTERN = /^[0-9a-f]{32}$/
const SHARD_PATTERN = /^[0-9a-f]{2}$/
const BLOB_FILE_PATTERN = /^([0-9a-f]{64})\.blob$/

export function checkBlobId(id: unknown): string {
  if (typeof id !== 'string' || !BLOB_ID_PATTERN.test(id)) throw new HearthError('INVALID_INPUT', 'a blob id is 64 lowercase hex digits')
  return id
}

export function checkConversation(conversation: unknown): string {
  if (typeof conversation !== 'string' || !CONVERSATION_PATTERN.test(conversation)) {
    throw new HearthError('INVALID_INPUT', 'conversation id must be 32 lowercase hex characters')
  }
  return conversation
}

export function checkRange(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new HearthError('INVALID_INPUT', `${what} must be an integer in 0..${max}`)
  }
  return value
}

export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined
}

/** Disk errors as the API's codes: a full disk is STORAGE_FULL (the UI says so), anything else INTERNAL. */
export function diskError(err: unknown, what: string): unknown {
  if (isHearthError(err)) return err
  const code = errnoOf(err)
  if (code === 'ENOSPC' || code === 'EDQUOT') return new HearthError('STORAGE_FULL', `the disk is full (${what})`, { cause: err })
  return new HearthError('INTERNAL', `${what} failed: ${code ?? String(err)}`, { cause: err })
}

export async function writeFully(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.length) {
    const { bytesWritten } = await file.write(bytes, done, bytes.length - done, position + done)
    done += bytesWritten
  }
}

/** Most chunks one writev call carries (an iovec list far below every platform's IOV_MAX). */
const WRITEV_CHUNKS = 64

/** Writes chunks at their offsets, each run of consecutive indices with one writev (a window is usually one run). */
export async function writeRuns(file: FileHandle, chunks: ReadonlyArray<{ index: number; cipher: Uint8Array }>): Promise<void> {
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
export async function readFully(file: FileHandle, length: number, position: number): Promise<Uint8Array> {
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
export async function syncDirectory(dir: string): Promise<void> {
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
export class KeyedQueue {
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
export function copyRecord(record: BlobRecord): BlobRecord {
  return { ...record, have: new Uint8Array(record.have) }
}

/** Bytes the held chunks of a record take on disk. */
export function heldBytes(record: BlobRecord): number {
  const lastLength = cipherChunkLength(record.padded, record.chunks - 1)
  const lastHeld = hasChunk(record.have, record.chunks - 1)
  return (record.haveCount - (lastHeld ? 1 : 0)) * CHUNK_CIPHER_BYTES + (lastHeld ? lastLength : 0)
}


/**
 * Deletes blob files under `root` that no record names (`known`): left by a crash after an import's rename and before
 * its record, or after a removal's record delete and before its unlink. Nothing can ever read them.
 */
export async function removeOrphanFiles(root: string, known: (id: string) => Promise<boolean>, log: Logger): Promise<void> {
  for (const shard of await readdir(root)) {
    if (!SHARD_PATTERN.test(shard)) continue
    let names: string[]
    try {
      names = await readdir(join(root, shard))
    } catch {
      continue
    }
    for (const name of names) {
      const id = BLOB_FILE_PATTERN.exec(name)?.[1]
      if (id === undefined || id.slice(0, 2) !== shard) continue
      if (await known(id)) continue
      log.info({ blob: id.slice(0, 8) }, 'removing a blob file no record names')
      await unlink(join(root, shard, name)).catch(() => {})
    }
  }
}
