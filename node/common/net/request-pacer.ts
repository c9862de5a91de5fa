import { RateLimiter } from './rate-limiter.js'

/**
 * The asking side's half of a responder's rate limit: requests to one peer wait for a token instead of going out and
 * being refused (and scored down for it). A device sharing a few hundred conversations with another asks about each
 * in every anti-entropy round; unpaced, a round is a burst the peer's limit refuses, and enough refusals ban us.
 */
export class RequestPacer {
  readonly #limiter: RateLimiter
  readonly #waitMs: number
  readonly #sleep: (ms: number) => Promise<void>

  /** `ratePerSecond`/`burst` below the responder's own, so other requests to the same peer still fit beside ours. */
  constructor(options: { ratePerSecond: number; burst: number; now?: () => number; sleep?: (ms: number) => Promise<void> }) {
    this.#limiter = new RateLimiter({ ratePerSecond: options.ratePerSecond, burst: options.burst, ...(options.now ? { now: options.now } : {}) })
    this.#waitMs = Math.max(1, Math.ceil(1000 / options.ratePerSecond))
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()))
  }

  /** Resolves once a request to `peer` may go out; `stopped` ends the wait early (the caller then does not ask). */
  async turn(peer: string, stopped: () => boolean = () => false): Promise<boolean> {
    while (!this.#limiter.tryTake(peer)) {
      if (stopped()) return false
      await this.#sleep(this.#waitMs)
    }
    return !stopped()
  }
}
