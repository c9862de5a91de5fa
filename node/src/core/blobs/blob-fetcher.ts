/**
 * Fetches a blob from several sources at once (docs/PROTOCOL.md, "Blob transfer"): the hash list first (verified
 * against the blob id), then windows of at most 16 missing chunks, each window from one source, at most three windows
 * in flight. What the store already holds is never asked for again, so a fetch after a restart (even `kill -9`)
 * resumes from the store's bitmap.
 *
 * Sources fail in every way a network allows, and some lie:
 *  - a request that takes over 30 s, or a source silent for 15 s, is abandoned and the source dropped for a while
 *    (`retryAfterMs`); what it delivered before that is kept;
 *  - a chunk that fails its hash (the store checks it) is counted ('blob-corrupt'), the source is excluded from the job
 *    and reported (`onBadSource`, which scores the peer down), and the chunk is fetched from another source;
 *  - a response that breaks the protocol's rules is treated the same way ('blob-protocol').
 * When no source can help, the job waits for new ones until the caller's deadline, then gives up with a reason.
 *
 * Memory is bounded by the windows in flight (3 × 16 chunks of 64 KiB) and the received windows waiting for the disk
 * (at most 3 more): a received window hands its chunks to the write queue (blob-write-queue.ts) and frees its place,
 * so the next request goes out while the disk works; past that backlog a window keeps its place until its chunks are
 * staged (verified and written, not yet synced). Staged chunks are synced and claimed by commits running beside the
 * staging, at most MAX_UNSYNCED_CHUNKS of them waiting. A chunk stays "in flight" (never asked for again) until it is
 * claimed or refused.
 */
import { verifyHashList } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import { MAX_WINDOW_CHUNKS, type BlobChunk } from './blob-frames.js'
import type { BlobSource, BlobTarget } from './blob-sources.js'
import { RequestGuard, Stop, failureOf, sleep, type Failure } from './blob-request-guard.js'
import { BlobWriteQueue, type WritingStore } from './blob-write-queue.js'

/** What the fetcher reads of a blob's record (BlobStore's record satisfies it). */
export interface FetchedBlobRecord {
  chunks: number
  complete: boolean
}

/** The part of BlobStore the fetcher uses (writes: blob-write-queue.ts). */
export interface ChunkStore extends WritingStore {
  /** Registers a blob a message names; idempotent. */
  expect(conversation: string, id: string, padded: number): Promise<unknown>
  get(id: string): Promise<FetchedBlobRecord | undefined>
  hashList(id: string): Promise<Uint8Array | undefined>
  /** Stores a hash list the caller verified against the id. */
  setHashList(id: string, hashList: Uint8Array): Promise<void>
  /** Chunk indices not held yet, ascending. */
  missing(id: string, limit?: number): Promise<number[]>
}

export interface FetchTiming {
  /** Longest one request may take, start to end. */
  requestTimeoutMs: number
  /** Longest a source may stay silent during a request. */
  stallMs: number
  /** How long a dropped source (stalled, unreachable, without the blob) rests before this job asks it again. */
  retryAfterMs: number
  /** How long a source that asked us to slow down rests. */
  rateLimitedMs: number
  /** While waiting for a source before the deadline: how often `sources()` is asked again. */
  pollMs: number
}

export const DEFAULT_FETCH_TIMING: FetchTiming = {
  requestTimeoutMs: 30_000,
  stallMs: 15_000,
  retryAfterMs: 60_000,
  rateLimitedMs: 1_000,
  pollMs: 5_000,
}

/** Windows in flight per blob; each from its own source while there are enough sources. */
export const MAX_WINDOWS_IN_FLIGHT = 3

/**
 * Received windows that may wait for the disk while further windows are fetched. A sync can take tens of
 * milliseconds on a busy disk; with each window holding its place through it, the link sat idle that long.
 */
export const MAX_WRITE_BACKLOG = 3

export interface FetchProgress {
  id: string
  /** Chunks held. */
  have: number
  total: number
  /** Sources with a request in flight. */
  sources: number
}

export type GiveUpReason = 'no-source' | 'corrupt-everywhere' | 'stalled' | 'aborted'

export type FetchResult =
  | { complete: true; id: string; total: number }
  | { complete: false; id: string; reason: GiveUpReason; message: string; have: number; total: number }

const GIVE_UP_MESSAGES: Record<GiveUpReason, string> = {
  'no-source': 'no source has it',
  'corrupt-everywhere': 'every source that had it sent corrupt data',
  stalled: 'the sources that have it stopped responding',
  aborted: 'paused or cancelled',
}

export interface FetchOptions {
  signal?: AbortSignal
  /**
   * Until when (the fetcher's clock, ms) to keep waiting for a source when none can help now. Absent: give up as soon
   * as no source can help.
   */
  deadline?: number
  onProgress?: (progress: FetchProgress) => void
}

export type BadSourceReason = 'corrupt' | 'protocol'

export interface BlobFetcherDeps {
  store: ChunkStore
  /** Counts 'blob-corrupt' (chunks or hash lists that failed verification) and 'blob-protocol'. */
  counters?: { count(reason: string, by?: number): void }
  /** A source was excluded for bad data: the core scores the peer down (PeerPenalties) or notes the relay. */
  onBadSource?: (source: BlobSource, reason: BadSourceReason) => void
  timing?: Partial<FetchTiming>
  now?: () => number
}

interface SourceState {
  source: BlobSource
  windows: number
  /** Excluded from this job for bad data. */
  bad: boolean
  /** Resting until then (fetcher clock). */
  restUntil: number
  /** Chunks it said it does not hold; forgotten when the job waits, since it may have them by then. */
  lacks: Set<number>
}

interface Job {
  promise: Promise<FetchResult>
  wake: () => void
}

export class BlobFetcher {
  private readonly jobs = new Map<string, Job>()
  private readonly timing: FetchTiming
  private readonly now: () => number

  constructor(private readonly deps: BlobFetcherDeps) {
    this.timing = { ...DEFAULT_FETCH_TIMING, ...deps.timing }
    this.now = deps.now ?? Date.now
  }

  /**
   * Fetches blob `id` of `conversation` (padded size `padded`, from the message) until the store holds all of it.
   * `sources` is asked again whenever the job looks for a source, so peers that connect meanwhile are used. A second
   * call for a blob already being fetched joins the running job (its options are not used).
   *
   * Resolves with the outcome; rejects only when the store fails (disk errors), never for anything a source does.
   */
  fetch(conversation: string, id: string, padded: number, sources: () => BlobSource[], opts: FetchOptions = {}): Promise<FetchResult> {
    const running = this.jobs.get(id)
    if (running !== undefined) return running.promise
    const job = new FetchJob(this.deps, this.timing, this.now, { conversation, id }, padded, sources, opts)
    const promise = job.run().finally(() => this.jobs.delete(id))
    this.jobs.set(id, { promise, wake: () => job.wake() })
    return promise
  }

  /** Whether a job for this blob is running. */
  isFetching(id: string): boolean {
    return this.jobs.has(id)
  }

  /** Tells waiting jobs to look for sources now (a member's device connected). */
  wake(id?: string): void {
    if (id !== undefined) this.jobs.get(id)?.wake()
    else for (const job of this.jobs.values()) job.wake()
  }

  /** Waits for every running job to end. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.jobs.values()].map((j) => j.promise))
  }
}

class FetchJob {
  private readonly states = new Map<string, SourceState>()
  private readonly signal: AbortSignal
  /** Aborted when the job fails (the store failed): its windows stop too. */
  private readonly ending = new AbortController()
  private readonly target: BlobTarget
  /** Chunks not held, ascending; `missingSet` mirrors it for lookups. */
  private missing: number[] = []
  private missingSet = new Set<number>()
  private readonly inFlight = new Set<number>()
  private readonly windows = new Set<Promise<void>>()
  /** Received windows handed to the write queue, until their chunks are written or refused. */
  private readonly writes = new Set<Promise<void>>()
  private total = 0
  /** Whether `missing` was read from the store (after the hash list). */
  private listed = false
  private wakeSleeper: (() => void) | undefined
  private woken = false
  /** Received windows on their way to the disk (blob-write-queue.ts). */
  private readonly queue: BlobWriteQueue<SourceState>
  private fatal: unknown
  /** What went wrong with sources, for the give-up reason. */
  private stalled = false
  private corrupt = false

  constructor(
    private readonly deps: BlobFetcherDeps,
    private readonly timing: FetchTiming,
    private readonly now: () => number,
    target: BlobTarget,
    private readonly padded: number,
    private readonly sources: () => BlobSource[],
    private readonly opts: FetchOptions,
  ) {
    this.target = target
    this.queue = new BlobWriteQueue<SourceState>(deps.store, target.id, {
      refused: (state, indices) => this.exclude(state, 'corrupt', indices.length),
      settled: (held, settled) => this.settle(held, settled),
      failed: (err) => {
        this.fatal ??= err
      },
    })
    this.signal = opts.signal === undefined ? this.ending.signal : AbortSignal.any([opts.signal, this.ending.signal])
  }

  /** Ends a wait for sources now, or skips the next one (a peer connected while the job was busy). */
  wake(): void {
    if (this.wakeSleeper !== undefined) this.wakeSleeper()
    else this.woken = true
  }

  async run(): Promise<FetchResult> {
    const { store } = this.deps
    const { id, conversation } = this.target
    await store.expect(conversation, id, this.padded)
    const record = await store.get(id)
    if (record === undefined) throw new HearthError('INTERNAL', `blob ${id} is not in the store after expect()`)
    this.total = record.chunks
    if (record.complete) return { complete: true, id, total: this.total }
    try {
      while ((await store.hashList(id)) === undefined) {
        const state = this.usable()[0]
        if (state === undefined) {
          const why = await this.waitOrGiveUp()
          if (why !== undefined) return this.gaveUp(why)
          continue
        }
        await this.fetchHashList(state)
      }
      this.setMissing(await store.missing(id))
      this.listed = true
      this.report()
      while (this.missing.length > 0 || this.windows.size > 0) {
        if (this.fatal !== undefined) throw this.fatal
        if (this.signal.aborted) throw new Stop()
        // The caller's source list is asked once per pass (it walks the conversation's members), not once per window.
        const usable = this.windows.size < MAX_WINDOWS_IN_FLIGHT ? this.usable() : []
        while (this.windows.size < MAX_WINDOWS_IN_FLIGHT && this.startWindow(usable)) {
          // started one more
        }
        if (this.windows.size > 0 || this.writes.size > 0 || this.queue.busy) {
          // A window ending frees a place; the disk settling chunks makes them held, or to be asked for again.
          await Promise.race([...this.windows, ...this.writes, this.queue.next()])
          continue
        }
        if (this.missing.length === 0) break
        const why = await this.waitOrGiveUp()
        if (why !== undefined) return this.gaveUp(why)
      }
      await this.queue.idle()
      if (this.fatal !== undefined) throw this.fatal
      return { complete: true, id, total: this.total }
    } catch (err) {
      // Whatever ends the job, no window outlives it.
      if (!(err instanceof Stop)) this.ending.abort()
      await Promise.allSettled([...this.windows, ...this.writes])
      // What was received is still made durable: a paused fetch does not fetch it again.
      await this.queue.idle()
      if (!(err instanceof Stop)) throw err
      if (this.fatal !== undefined) throw this.fatal
      return this.gaveUp('aborted')
    }
  }

  // ------------------------------------------------------------------------------------------------ sources

  /** Sources that may be asked now, those with the fewest requests in flight first. */
  private usable(): SourceState[] {
    const now = this.now()
    const out: SourceState[] = []
    let offered: BlobSource[]
    try {
      offered = this.sources()
    } catch {
      // The caller's list failed (a conversation closing): no source this time; the job waits or gives up.
      offered = []
    }
    for (const source of offered) {
      let state = this.states.get(source.key)
      if (state === undefined) {
        state = { source, windows: 0, bad: false, restUntil: 0, lacks: new Set() }
        this.states.set(source.key, state)
      } else {
        // The caller may hand a fresh object for the same source (a reconnected peer): use the newest.
        state.source = source
      }
      if (state.bad || state.restUntil > now || state.windows >= MAX_WINDOWS_IN_FLIGHT || out.includes(state)) continue
      out.push(state)
    }
    // Stable: among equals, the caller's order (it lists its preferred sources first).
    return out.sort((a, b) => a.windows - b.windows)
  }

  private rest(state: SourceState, failure: Failure): void {
    switch (failure) {
      case 'aborted':
        return
      case 'bad':
        this.exclude(state, 'protocol')
        return
      case 'rate-limited':
        state.restUntil = this.now() + this.timing.rateLimitedMs
        return
      case 'stall':
      case 'unreachable':
        this.stalled = true
        state.restUntil = this.now() + this.timing.retryAfterMs
        return
      case 'not-found':
        state.restUntil = this.now() + this.timing.retryAfterMs
        return
    }
  }

  private exclude(state: SourceState, reason: BadSourceReason, pieces = 1): void {
    this.deps.counters?.count(reason === 'corrupt' ? 'blob-corrupt' : 'blob-protocol', pieces)
    if (reason === 'corrupt') this.corrupt = true
    if (state.bad) return
    state.bad = true
    this.deps.onBadSource?.(state.source, reason)
  }

  /**
   * Nothing can be asked now. Before the deadline, waits (for a resting source, a poll of `sources()`, or `wake`);
   * after it, says why the job gives up.
   */
  private async waitOrGiveUp(): Promise<GiveUpReason | undefined> {
    const now = this.now()
    const deadline = this.opts.deadline
    if (deadline === undefined || now >= deadline) return this.reason()
    let until = Math.min(deadline, now + this.timing.pollMs)
    for (const s of this.states.values()) if (!s.bad && s.restUntil > now) until = Math.min(until, s.restUntil)
    if (this.woken) this.woken = false
    else {
      await sleep(until - now, this.signal, (wake) => {
        this.wakeSleeper = wake
      })
      this.wakeSleeper = undefined
    }
    // A source that lacked chunks may have fetched them meanwhile.
    for (const s of this.states.values()) s.lacks.clear()
    return undefined
  }

  private reason(): GiveUpReason {
    if (this.stalled) return 'stalled'
    if (this.corrupt) return 'corrupt-everywhere'
    return 'no-source'
  }

  private gaveUp(reason: GiveUpReason): FetchResult {
    const have = this.listed ? this.total - this.missing.length : 0
    return { complete: false, id: this.target.id, reason, message: GIVE_UP_MESSAGES[reason], have, total: this.total }
  }

  // ------------------------------------------------------------------------------------------------ hash list

  private async fetchHashList(state: SourceState): Promise<void> {
    const guard = new RequestGuard(this.signal, this.timing)
    state.windows++
    let hashList: Uint8Array
    try {
      hashList = await guard.wait(state.source.hashList(this.target, guard.signal))
    } catch (err) {
      const failure = failureOf(err, guard)
      if (failure === 'aborted') throw new Stop()
      this.rest(state, failure)
      return
    } finally {
      state.windows--
      guard.dispose()
    }
    if (!(hashList instanceof Uint8Array) || !verifyHashList(this.target.id, hashList, this.padded)) {
      this.exclude(state, 'corrupt')
      return
    }
    // Verified here, so a failure to store it is the store's (disk), not the source's: it ends the job.
    await this.deps.store.setHashList(this.target.id, hashList)
  }

  // ------------------------------------------------------------------------------------------------ chunks

  private setMissing(missing: number[]): void {
    this.missing = missing
    this.missingSet = new Set(missing)
  }

  /**
   * Starts one window: the lowest missing chunk nobody is fetching that some usable source may hold, and the missing
   * chunks after it (up to 16, stopping at one in flight or held). False when nothing can be started.
   */
  private startWindow(sources: SourceState[]): boolean {
    // Those still below their share, fewest windows first (starting one changes the order); stable among equals.
    const usable = sources.filter((s) => s.windows < MAX_WINDOWS_IN_FLIGHT).sort((a, b) => a.windows - b.windows)
    if (usable.length === 0) return false
    for (const first of this.missing) {
      if (this.inFlight.has(first)) continue
      const state = usable.find((s) => !s.lacks.has(first))
      if (state === undefined) continue
      let count = 1
      while (
        count < MAX_WINDOW_CHUNKS &&
        first + count < this.total &&
        this.missingSet.has(first + count) &&
        !this.inFlight.has(first + count) &&
        !state.lacks.has(first + count)
      ) {
        count++
      }
      for (let i = first; i < first + count; i++) this.inFlight.add(i)
      state.windows++
      const window: Promise<void> = this.runWindow(state, first, count).finally(() => {
        this.windows.delete(window)
        state.windows--
      })
      this.windows.add(window)
      return true
    }
    return false
  }

  private async runWindow(state: SourceState, first: number, count: number): Promise<void> {
    const guard = new RequestGuard(this.signal, this.timing)
    const received: BlobChunk[] = []
    let iterator: AsyncIterator<BlobChunk> | undefined
    try {
      const reply = await guard.wait(state.source.chunks(this.target, first, count, guard.signal))
      guard.alive()
      if (!Array.isArray(reply.held) || reply.held.length !== count) throw new HearthError('PROTOCOL_ERROR', 'have bitmap of the wrong length')
      reply.held.forEach((held, k) => {
        if (held !== true) state.lacks.add(first + k)
      })
      iterator = reply.chunks[Symbol.asyncIterator]()
      let next = first
      for (;;) {
        const r = await guard.wait(iterator.next())
        if (r.done === true) break
        guard.alive()
        const { index, cipher } = r.value
        // Checked here too, whatever the source's own decoder did: a relay client is another engineer's code.
        if (!Number.isSafeInteger(index) || index < next || index >= first + count || !(cipher instanceof Uint8Array)) {
          throw new HearthError('PROTOCOL_ERROR', `chunk ${String(index)} outside the window or out of order`)
        }
        next = index + 1
        received.push({ index, cipher })
      }
      iterator = undefined
    } catch (err) {
      const failure = failureOf(err, guard)
      this.rest(state, failure)
    } finally {
      guard.dispose()
      if (iterator !== undefined) void Promise.resolve(iterator.return?.()).catch(() => {})
    }
    // Whatever arrived before a failure is kept: each chunk is verified on its own. What did not arrive may be asked
    // for again now; what did stays in flight until the store has written or refused it.
    const handed = new Set(received.map((c) => c.index))
    for (let i = first; i < first + count; i++) if (!handed.has(i)) this.inFlight.delete(i)
    if (received.length === 0) return
    // In flight until claimed or refused (the queue settles them); the window's place is free once they are staged.
    const written: Promise<void> = this.queue.write(state, received).finally(() => this.writes.delete(written))
    this.writes.add(written)
    // Past the backlog this window keeps its place until written: no further window starts, memory stays bounded.
    if (this.writes.size > MAX_WRITE_BACKLOG) await written
  }

  /** The disk settled chunks: `held` are held now; `settled` are no longer in flight. */
  private settle(held: readonly number[], settled: readonly number[]): void {
    let changed = false
    for (const index of held) changed = this.missingSet.delete(index) || changed
    for (const index of settled) this.inFlight.delete(index)
    if (changed) this.missing = this.missing.filter((i) => this.missingSet.has(i))
    this.report()
  }

  private report(): void {
    if (this.opts.onProgress === undefined) return
    let sources = 0
    for (const s of this.states.values()) if (s.windows > 0) sources++
    try {
      this.opts.onProgress({ id: this.target.id, have: this.total - this.missing.length, total: this.total, sources })
    } catch {
      // A listener's bug must not end the transfer.
    }
  }
}
