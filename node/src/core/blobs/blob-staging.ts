/**
 * The receive path's two steps between a verified chunk and its claim in the bitmap (blob-store.ts, docs/STORAGE.md):
 *
 *  - stage: the chunk is checked against the hash list and written at its offset through a write handle kept open
 *    between calls, with no sync;
 *  - commit: one fdatasync of the file (and of its directories when the file is new), after which the store claims
 *    every chunk staged before the commit began.
 *
 * A claim therefore always follows a sync that started after its chunk's write had completed: after `kill -9` or a
 * power loss every claimed chunk is on disk, and a staged chunk that was never committed is only missing (fetched
 * again). Splitting the steps lets a fetcher write the next windows while the previous ones sync; each await on the
 * disk costs a turn of a busy event loop, and the open, write, sync, close and put of one call ran one after another.
 *
 * The store calls `write`, `begin` and `end` holding the blob's lock; the sync between them runs without it, so a
 * stage can proceed meanwhile. A handle being synced is never closed under the sync (a removal retires it, and the
 * last user closes it).
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { chunkHashAt, cipherChunkLength, hashChunk } from '../../../common/blob/format.js'
import { equalBytes } from '../../../common/util/bytes.js'
import { diskError, errnoOf, syncDirectory, writeRuns } from './blob-disk.js'
import { hasChunk, type BlobRecord } from './blob-records.js'

export interface StagedChunk {
  index: number
  cipher: Uint8Array
}

interface Entry {
  handle: FileHandle
  /** Written, not yet handed to a commit. */
  staged: Set<number>
  /** Directories to sync before anything in this file is claimed (the file, or its shard, is new). */
  dirs: string[]
  /** Commits syncing through the handle right now. */
  users: number
  retired: boolean
}

/** What one commit syncs and then claims. */
export interface Commit {
  entry: Entry
  indices: number[]
}

/**
 * Splits chunks into those to write (right length and hash, not held, not seen twice) and those refused (`corrupt`:
 * outside the blob, wrong length or hash). One held is skipped, neither written nor refused. One staged already is
 * written again (the same verified bytes): after a failed commit the caller may not know it is there.
 */
export function verifyChunks(record: BlobRecord, hashList: Uint8Array, chunks: ReadonlyArray<StagedChunk>): { accepted: StagedChunk[]; corrupt: number[] } {
  const corrupt: number[] = []
  const accepted: StagedChunk[] = []
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
  return { accepted, corrupt }
}

export class StagedWrites {
  readonly #entries = new Map<string, Entry>()

  /** `root` is the blobs directory (a new shard directory is synced into it). */
  constructor(private readonly root: string) {}

  /** Writes verified chunks at their offsets, no sync (caller holds the blob's lock). */
  async write(id: string, path: { dir: string; file: string }, chunks: ReadonlyArray<StagedChunk>): Promise<void> {
    let entry = this.#entries.get(id)
    try {
      if (entry === undefined) {
        entry = await this.#open(path)
        this.#entries.set(id, entry)
      }
      await writeRuns(entry.handle, chunks)
    } catch (err) {
      throw diskError(err, 'writing blob chunks')
    }
    for (const c of chunks) entry.staged.add(c.index)
  }

  /** Takes what is staged for one commit, or undefined when nothing is (caller holds the blob's lock). */
  begin(id: string): Commit | undefined {
    const entry = this.#entries.get(id)
    if (entry === undefined || entry.staged.size === 0) return undefined
    const indices = [...entry.staged].sort((a, b) => a - b)
    entry.staged = new Set()
    entry.users++
    return { entry, indices }
  }

  /** Makes a commit's chunks durable: one datasync, then the new directories. Runs without the blob's lock. */
  async sync(commit: Commit): Promise<void> {
    const { entry } = commit
    try {
      await entry.handle.datasync()
      // Forgotten only once synced: a commit running beside this one must not claim before they are.
      const dirs = [...entry.dirs]
      for (const dir of dirs) await syncDirectory(dir)
      entry.dirs = entry.dirs.filter((d) => !dirs.includes(d))
    } catch (err) {
      throw diskError(err, 'syncing blob chunks')
    }
  }

  /**
   * Ends a commit (caller holds the blob's lock): whether its chunks may be claimed (false when the blob was removed
   * meanwhile). The write handle is closed when nothing was staged since, so an idle blob holds no descriptor.
   */
  async end(id: string, commit: Commit): Promise<boolean> {
    const { entry } = commit
    entry.users--
    const current = this.#entries.get(id) === entry
    if (current && entry.staged.size === 0 && entry.users === 0) {
      this.#entries.delete(id)
      entry.retired = true
    }
    if (entry.retired && entry.users === 0) await entry.handle.close().catch(() => {})
    return current
  }

  /** Forgets a blob's staged chunks and closes its handle (a removal; caller holds the blob's lock). */
  async drop(id: string): Promise<void> {
    const entry = this.#entries.get(id)
    if (entry === undefined) return
    this.#entries.delete(id)
    entry.retired = true
    if (entry.users === 0) await entry.handle.close().catch(() => {})
  }

  async close(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((id) => this.drop(id)))
  }

  async #open(path: { dir: string; file: string }): Promise<Entry> {
    const dirs: string[] = []
    let handle: FileHandle
    try {
      handle = await open(path.file, 'r+')
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err
      if ((await mkdir(path.dir, { recursive: true, mode: 0o700 })) !== undefined) dirs.push(this.root)
      // Exclusive create: writes go to their positions and leave holes, never truncate (the blob's lock makes this
      // the only writer, so the file cannot appear in between).
      handle = await open(path.file, 'wx', 0o600)
      dirs.unshift(path.dir)
    }
    return { handle, staged: new Set(), dirs, users: 0, retired: false }
  }
}
