/**
 * The deadlines of one blob request (the whole request, and silence between two things a source sends), how a failed
 * request is classified for its source, and the fetcher's interruptible sleep (blob-fetcher.ts).
 */
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { FetchTiming } from './blob-fetcher.js'

/** Why one request ended badly, and what that means for its source in this job. */
export type Failure = 'aborted' | 'stall' | 'not-found' | 'rate-limited' | 'unreachable' | 'bad'

/** Thrown into a job's awaits when its request or the job itself is over. */
export class Stop extends Error {}

/** Sleeps until `ms` passed, `wake` is called, or `signal` aborts (which rejects). */
export function sleep(ms: number, signal: AbortSignal, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Stop())
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', aborted)
      resolve()
    }
    const aborted = (): void => {
      clearTimeout(timer)
      reject(new Stop())
    }
    const timer = setTimeout(done, Math.max(0, ms))
    signal.addEventListener('abort', aborted, { once: true })
    onWake(done)
  })
}

/**
 * One request's deadlines: the whole request, and silence between two things the source sends. Wraps every await on
 * the source, so a source that ignores its signal cannot hold the job either.
 */
export class RequestGuard {
  private readonly controller = new AbortController()
  private stallTimer: ReturnType<typeof setTimeout> | undefined
  /** When the source last sent something (monotonic ms). */
  private lastAlive = performance.now()
  private readonly requestTimer: ReturnType<typeof setTimeout>
  private readonly onParentAbort = (): void => this.abort('aborted')
  /**
   * Rejects (with Stop) when the request ends. Every `wait` races against this one promise: an abort listener added
   * and removed per chunk cost more than the chunk's hash (Node's AbortSignal listeners are slow to remove).
   */
  private readonly stopped: Promise<never>
  private stop: (err: Stop) => void = () => {}
  why: 'timeout' | 'stall' | 'aborted' | undefined

  constructor(
    private readonly parent: AbortSignal,
    timing: FetchTiming,
    private readonly stallMs = timing.stallMs,
  ) {
    this.stopped = new Promise<never>((_, reject) => {
      this.stop = reject
    })
    this.stopped.catch(() => {})
    this.requestTimer = setTimeout(() => this.abort('timeout'), timing.requestTimeoutMs)
    this.armStall(this.stallMs)
    if (parent.aborted) this.abort('aborted')
    else parent.addEventListener('abort', this.onParentAbort, { once: true })
  }

  get signal(): AbortSignal {
    return this.controller.signal
  }

  /**
   * The source sent something: the silence deadline starts again. Called for every chunk, so it only notes the time;
   * the one stall timer, when it fires, checks the silence and waits out the rest if the source spoke meanwhile.
   */
  alive(): void {
    this.lastAlive = performance.now()
  }

  private armStall(delay: number): void {
    this.stallTimer = setTimeout(() => {
      const quiet = performance.now() - this.lastAlive
      if (quiet >= this.stallMs) this.abort('stall')
      else this.armStall(this.stallMs - quiet)
    }, delay)
  }

  async wait<T>(promise: Promise<T>): Promise<T> {
    // A source that ignored the abort may still settle later: that must not become an unhandled rejection.
    promise.catch(() => {})
    if (this.controller.signal.aborted) throw new Stop()
    return Promise.race([promise, this.stopped])
  }

  /** Ends the request for good: a source still holding a stream for it (an abandoned iterator) lets go. */
  dispose(): void {
    clearTimeout(this.stallTimer)
    clearTimeout(this.requestTimer)
    this.parent.removeEventListener('abort', this.onParentAbort)
    if (!this.controller.signal.aborted) this.controller.abort(new HearthError('TIMEOUT', 'blob request over'))
    this.stop(new Stop())
  }

  private abort(why: 'timeout' | 'stall' | 'aborted'): void {
    if (this.why !== undefined) return
    this.why = why
    this.stop(new Stop())
    this.controller.abort(new HearthError('TIMEOUT', `blob request ${why === 'aborted' ? 'cancelled' : why === 'stall' ? 'stalled' : 'timed out'}`))
  }
}

export function failureOf(err: unknown, guard: RequestGuard): Failure {
  if (guard.why === 'aborted') return 'aborted'
  if (guard.why !== undefined) return 'stall'
  if (!isHearthError(err)) return 'bad'
  switch (err.code) {
    case 'NOT_FOUND':
    case 'UNAUTHORIZED':
      return 'not-found'
    case 'RATE_LIMITED':
      return 'rate-limited'
    case 'TIMEOUT':
      return 'stall'
    case 'PROTOCOL_ERROR':
    case 'MALFORMED':
    case 'TOO_LARGE':
      return 'bad'
    default:
      // UNREACHABLE, UNSUPPORTED_VERSION, a relay's refusal: the link or the source, not the data.
      return 'unreachable'
  }
}
