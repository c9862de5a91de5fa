/**
 * The relay's blob files: one sparse file per blob, chunk i at offset `i × CHUNK_CIPHER_BYTES`. Writes are positional
 * and end with one fdatasync, so once `writeChunks` resolves every chunk it was given is on disk; the caller records
 * them in LevelDB only after that (a crash in between costs a re-upload, never a chunk claimed but missing).
 */
import { constants } from 'node:fs'
import { mkdir, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CHUNK_CIPHER_BYTES } from '../../../node/common/blob/format.js'
import type { BlobChunk } from '../../../node/common/wire/relay-blob.js'

/** Writes chunks at their offsets and syncs the file's data once. Creates the file (and its folder) if needed. */
export async function writeChunks(path: string, chunks: readonly BlobChunk[]): Promise<void> {
  if (chunks.length === 0) return
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  // O_RDWR | O_CREAT, not 'a': Linux ignores the position of writes to a file opened for appending.
  const file = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600)
  try {
    for (const c of chunks) {
      let done = 0
      while (done < c.cipher.length) {
        const { bytesWritten } = await file.write(c.cipher, done, c.cipher.length - done, c.index * CHUNK_CIPHER_BYTES + done)
        done += bytesWritten
      }
    }
    await file.datasync()
  } finally {
    await file.close()
  }
}

/** An open blob file for serving: reads one chunk at a time (bounded memory whatever the blob's size). */
export interface BlobReader {
  /** The chunk's bytes, or fewer when the file is shorter than it should be (truncated on disk). */
  read(index: number, length: number): Promise<Uint8Array>
  close(): Promise<void>
}

/** Opens a blob file for reading; undefined when it does not exist. */
export async function openBlobReader(path: string): Promise<BlobReader | undefined> {
  let file
  try {
    file = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const handle = file
  return {
    async read(index, length) {
      const out = new Uint8Array(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, index * CHUNK_CIPHER_BYTES + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return done === length ? out : out.subarray(0, done)
    },
    close: () => handle.close(),
  }
}

/** Removes a blob file; a file already gone is fine. */
export async function removeBlobFile(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
