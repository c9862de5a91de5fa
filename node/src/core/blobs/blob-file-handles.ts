/**
 * Open read handles to blob files, kept for reuse: serving a window reads the same file sixteen times, and opening and
 * closing it for each chunk cost more than the read itself. At most `max` handles stay open when idle (least recently
 * used closed first); a handle in use is never closed under its reader.
 *
 * A blob's handle is dropped (`forget`) before its file is unlinked, so a blob removed and later fetched again never
 * reads through a handle to the old file. An open that completes after a `forget` of its blob is used once and closed,
 * not kept. A kept handle whose file was unlinked by someone else is noticed by its link count, looked at when the
 * handle is lent and at most once per `relinkCheckMs` (one fstat per window served cost the sender about 4 % of a
 * transfer's main-thread time), and dropped. Reads through any handle are re-hashed by the store, so even a stale one
 * could not serve wrong bytes.
 */
import { open, type FileHandle } from 'node:fs/promises'

interface Entry {
  id: string
  handle: FileHandle
  users: number
  /** Closed once its last user is done (forgotten, evicted while in use, or the cache closed). */
  retired: boolean
  /** When its link count was last seen above zero (the `now` clock). */
  linkedAt: number
}

export interface FileHandlesOptions {
  /** How long a handle is lent again without looking at its link count. */
  relinkCheckMs?: number
  now?: () => number
}

/** A handle lent by `acquire`; `release` when done. Undefined handle: the file does not exist. */
export interface Lease {
  handle: FileHandle | undefined
  release(): Promise<void>
}

const NO_FILE: Lease = { handle: undefined, release: async () => {} }

export class BlobFileHandles {
  readonly #entries = new Map<string, Entry>()
  /** Moves on every forget: an open that started before one is used once and not kept (forgets are rare). */
  #generation = 0
  #closed = false

  readonly #relinkCheckMs: number
  readonly #now: () => number

  constructor(
    private readonly max: number,
    options: FileHandlesOptions = {},
  ) {
    this.#relinkCheckMs = options.relinkCheckMs ?? 1_000
    this.#now = options.now ?? Date.now
  }

  /** A read handle to `path` (the file of blob `id`); ENOENT gives a lease without a handle, other errors throw. */
  async acquire(id: string, path: string): Promise<Lease> {
    const cached = this.#entries.get(id)
    if (cached !== undefined) {
      this.#entries.delete(id)
      this.#entries.set(id, cached)
      const lease = this.#lend(cached)
      // A file deleted behind our back (not by the store) must read as missing, as an open would find it, not be
      // served from the unlinked inode until the handle happens to close: one fstat is still cheaper than an open.
      const now = this.#now()
      if (now - cached.linkedAt < this.#relinkCheckMs) return lease
      let linked: boolean
      try {
        linked = (await cached.handle.stat()).nlink > 0
      } catch {
        linked = false
      }
      if (linked) {
        cached.linkedAt = now
        return lease
      }
      await lease.release()
      if (this.#entries.get(id) === cached) this.#entries.delete(id)
      await this.#retire(cached)
    }
    const generation = this.#generation
    let handle: FileHandle
    try {
      handle = await open(path, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return NO_FILE
      throw err
    }
    const entry: Entry = { id, handle, users: 0, retired: false, linkedAt: this.#now() }
    const raced = this.#entries.get(id)
    const lease = this.#lend(entry)
    if (this.#closed || this.#generation !== generation || raced !== undefined) {
      // A blob forgotten meanwhile, or another reader opened it first: this one is used once.
      entry.retired = true
    } else {
      this.#entries.set(id, entry)
      this.#evict()
    }
    return lease
  }

  /** Drops blob `id`'s handle (its file is about to be removed): closed now, or when its last reader is done. */
  async forget(id: string): Promise<void> {
    this.#generation++
    const entry = this.#entries.get(id)
    if (entry === undefined) return
    this.#entries.delete(id)
    await this.#retire(entry)
  }

  /** Closes every idle handle; those in use close when their readers finish. */
  async close(): Promise<void> {
    this.#closed = true
    const entries = [...this.#entries.values()]
    this.#entries.clear()
    await Promise.all(entries.map((e) => this.#retire(e)))
  }

  #lend(entry: Entry): Lease {
    entry.users++
    let released = false
    return {
      handle: entry.handle,
      release: async () => {
        if (released) return
        released = true
        entry.users--
        if (entry.retired && entry.users === 0) await entry.handle.close().catch(() => {})
      },
    }
  }

  async #retire(entry: Entry): Promise<void> {
    entry.retired = true
    if (entry.users === 0) await entry.handle.close().catch(() => {})
  }

  #evict(): void {
    if (this.#entries.size <= this.max) return
    for (const entry of this.#entries.values()) {
      if (this.#entries.size <= this.max) break
      if (entry.users > 0) continue
      this.#entries.delete(entry.id)
      void this.#retire(entry)
    }
  }
}
