/**
 * A fetch job's way to the disk (blob-fetcher.ts): received windows go in, verified chunks come out durable.
 *
 * Two loops, one call at a time each. The stage loop hands every window waiting to the store at once
 * (`stageChunks`: each chunk checked against the hash list and written, no sync); a window's memory is free as soon as
 * its chunks are staged. The commit loop syncs and claims what was staged (`commitChunks`: one fdatasync, one bitmap
 * put), and runs beside the stage loop: while one commit syncs, the next windows are written, and every window staged
 * during a sync shares the next one. A chunk counts as in flight (never asked for again) from its request until it
 * is claimed or refused.
 *
 * At most MAX_UNSYNCED_CHUNKS staged chunks wait for their commit; past that the stage loop waits for it, the
 * windows back up in the job and stop new requests. That bounds what a `kill -9` makes the next run fetch again, and
 * the dirty pages a transfer leaves to the kernel; the job's memory is bounded by the windows in flight and waiting.
 *
 * A store without the two steps (the test kit's) is written with `writeChunks`, whose chunks are claimed at once.
 */
import type { BlobChunk } from './blob-frames.js'

/** The part of BlobStore the queue uses. Calls for one blob are issued one at a time per loop. */
export interface WritingStore {
  /** Checks each chunk against the hash list, writes the good ones durably, and says which were which. */
  writeChunks(id: string, chunks: BlobChunk[]): Promise<{ stored: number[]; corrupt: number[] }>
  /** Checks and writes without a sync or a claim; commitChunks claims them. */
  stageChunks?(id: string, chunks: BlobChunk[]): Promise<{ staged: number[]; corrupt: number[] }>
  /** Syncs and claims every chunk staged before the call; returns those it claimed. */
  commitChunks?(id: string): Promise<number[]>
}

/** Staged chunks that may wait for a commit (8 MiB of chunks: eight windows) before staging waits for it. */
export const MAX_UNSYNCED_CHUNKS = 128

/** What the job learns from the queue; the `source` is whatever the job passed with the window. */
export interface WriteOutcome<S> {
  /** Chunks of a window the store refused (wrong length or hash): the source sent bad data. */
  refused(source: S, indices: number[]): void
  /**
   * Chunks now held (`held`) and chunks no longer in flight (`settled`: held, refused, or lost to a removal, to be asked
   * for again if still missing).
   */
  settled(held: readonly number[], settled: readonly number[]): void
  /** The store failed (a disk error): the job ends with it. */
  failed(err: unknown): void
}

interface Pending<S> {
  source: S
  chunks: BlobChunk[]
  done: () => void
}

export class BlobWriteQueue<S> {
  #pending: Array<Pending<S>> = []
  #staging: Promise<void> | undefined
  #committing: Promise<void> | undefined
  /** Staged, not yet handed to a commit. */
  #staged: number[] = []
  /** Staged and not yet claimed (waiting or in a commit). */
  #unsynced = 0
  #failed = false
  /** Waiting in `next`. */
  #wakers: Array<() => void> = []

  constructor(
    private readonly store: WritingStore,
    private readonly id: string,
    private readonly outcome: WriteOutcome<S>,
  ) {}

  /** Queues a window's chunks; resolves once they are staged (their memory free) or refused. */
  write(source: S, chunks: BlobChunk[]): Promise<void> {
    return new Promise<void>((done) => {
      this.#pending.push({ source, chunks, done })
      this.#staging ??= this.#stageLoop()
    })
  }

  /** Whether anything is queued, being staged, or waiting for a commit. */
  get busy(): boolean {
    return this.#staging !== undefined || this.#committing !== undefined
  }

  /** Resolves when chunks are settled, the store fails, or the queue goes idle (the job looks again then). */
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.#wakers.push(resolve))
  }

  #wake(): void {
    const wakers = this.#wakers
    this.#wakers = []
    for (const w of wakers) w()
  }

  /** Resolves once everything queued is claimed or refused (or the store failed). */
  async idle(): Promise<void> {
    while (this.busy) await Promise.allSettled([this.#staging, this.#committing])
  }

  async #stageLoop(): Promise<void> {
    // Never ends synchronously: its `finally` must run after the caller stored the promise it clears.
    await Promise.resolve()
    try {
      while (this.#pending.length > 0 && !this.#failed) {
        while (this.#unsynced >= MAX_UNSYNCED_CHUNKS && this.#committing !== undefined) await this.#committing
        const batch = this.#pending
        this.#pending = []
        try {
          await this.#stage(batch)
        } catch (err) {
          this.#fail(err)
        } finally {
          for (const w of batch) w.done()
        }
      }
    } finally {
      this.#staging = undefined
      // Stopped by a failure: what is still queued is dropped, its writers released.
      for (const w of this.#pending.splice(0)) w.done()
      this.#wake()
    }
  }

  async #stage(batch: Array<Pending<S>>): Promise<void> {
    const all = batch.flatMap((w) => w.chunks)
    const { stageChunks } = this.store
    if (stageChunks === undefined) {
      const { corrupt } = await this.store.writeChunks(this.id, all)
      this.#refuse(batch, corrupt)
      this.#settled(held(all, corrupt), all.map((c) => c.index))
      return
    }
    const { staged, corrupt } = await stageChunks.call(this.store, this.id, all)
    this.#refuse(batch, corrupt)
    // Neither staged nor refused: held already (nothing to claim).
    const stagedSet = new Set(staged)
    const refused = new Set(corrupt)
    const skipped = all.map((c) => c.index).filter((i) => !stagedSet.has(i))
    this.#settled(skipped.filter((i) => !refused.has(i)), skipped)
    if (staged.length === 0) return
    this.#staged.push(...staged)
    this.#unsynced += staged.length
    this.#committing ??= this.#commitLoop()
  }

  #refuse(batch: Array<Pending<S>>, corrupt: number[]): void {
    if (corrupt.length === 0) return
    const bad = new Set(corrupt)
    // Windows never overlap, so each refused index belongs to the one source that sent it.
    for (const w of batch) {
      const mine = w.chunks.filter((c) => bad.has(c.index)).map((c) => c.index)
      if (mine.length > 0) this.outcome.refused(w.source, mine)
    }
  }

  async #commitLoop(): Promise<void> {
    await Promise.resolve() // as in #stageLoop
    try {
      while (this.#staged.length > 0 && !this.#failed) {
        const indices = this.#staged
        this.#staged = []
        try {
          const claimed = await this.store.commitChunks!(this.id)
          this.#settled(claimed, indices)
        } catch (err) {
          this.#fail(err)
        } finally {
          this.#unsynced -= indices.length
        }
      }
    } finally {
      this.#committing = undefined
      this.#wake()
    }
  }

  #settled(held: readonly number[], settled: readonly number[]): void {
    try {
      if (settled.length > 0) this.outcome.settled(held, settled)
    } finally {
      this.#wake()
    }
  }

  #fail(err: unknown): void {
    if (!this.#failed) {
      this.#failed = true
      this.outcome.failed(err)
    }
    this.#wake()
  }
}

/** The chunks of `all` not refused (what writeChunks holds afterwards: stored now, or held before). */
function held(all: BlobChunk[], corrupt: number[]): number[] {
  const bad = new Set(corrupt)
  return all.map((c) => c.index).filter((i) => !bad.has(i))
}
