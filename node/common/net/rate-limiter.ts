/**
 * Token bucket per key (a remote PeerId, usually). Pure: time comes from an injected clock so tests need no sleeps.
 *
 * A bucket holds up to `burst` tokens and refills at `ratePerSecond`. A full bucket is indistinguishable from an
 * absent one, which is what keeps memory bounded: full buckets are forgotten when the map grows past `maxKeys`.
 */

export interface RateLimiterOptions {
  /** Sustained rate: tokens added per second. */
  ratePerSecond: number
  /** Bucket capacity: how many requests may arrive back to back after a quiet period. */
  burst: number
  /** Milliseconds clock; injected for tests. Default `Date.now`. */
  now?: () => number
  /**
   * Upper bound on tracked keys. A peer flood with fresh PeerIds (they are free to mint) must not grow memory without
   * limit; past this bound refilled buckets are dropped first, then the oldest. Default 10,000.
   */
  maxKeys?: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

export class RateLimiter {
  readonly #rate: number
  readonly #burst: number
  readonly #now: () => number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: RateLimiterOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError('ratePerSecond must be a positive finite number')
    }
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) throw new RangeError('burst must be >= 1')
    this.#rate = options.ratePerSecond
    this.#burst = options.burst
    this.#now = options.now ?? Date.now
    this.#maxKeys = options.maxKeys ?? 10_000
  }

  /** Takes `cost` tokens for `key` if it has them. Returns false (and takes nothing) when it would go below zero. */
  tryTake(key: string, cost = 1): boolean {
    const bucket = this.#refill(key)
    if (bucket.tokens < cost) return false
    bucket.tokens -= cost
    return true
  }

  /** Whole tokens `key` has now (a new key has the full burst). Takes nothing. */
  available(key: string): number {
    const bucket = this.#buckets.get(key)
    return Math.floor(bucket === undefined ? this.#burst : this.#tokensAt(bucket, this.#now()))
  }

  /** Takes `cost` tokens for `key` whether or not it has them: the bucket may go below zero and refills from there. */
  spend(key: string, cost: number): void {
    this.#refill(key).tokens -= cost
  }

  /** How long until `key` has `cost` tokens again (0 when it already has). Useful for a retry hint. */
  retryAfterMs(key: string, cost = 1): number {
    const bucket = this.#buckets.get(key)
    if (bucket === undefined) return 0
    const tokens = this.#tokensAt(bucket, this.#now())
    return tokens >= cost ? 0 : Math.ceil(((cost - tokens) / this.#rate) * 1000)
  }

  /** Number of keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#buckets.size
  }

  reset(key?: string): void {
    if (key === undefined) this.#buckets.clear()
    else this.#buckets.delete(key)
  }

  #tokensAt(bucket: Bucket, now: number): number {
    // A clock that goes backwards (NTP step) must not mint negative refills or free tokens.
    const elapsed = Math.max(0, now - bucket.updatedAt)
    return Math.min(this.#burst, bucket.tokens + (elapsed / 1000) * this.#rate)
  }

  #refill(key: string): Bucket {
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now)
      bucket = { tokens: this.#burst, updatedAt: now }
      this.#buckets.set(key, bucket)
      return bucket
    }
    bucket.tokens = this.#tokensAt(bucket, now)
    bucket.updatedAt = Math.max(bucket.updatedAt, now)
    return bucket
  }

  #evict(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#tokensAt(bucket, now) >= this.#burst) this.#buckets.delete(key)
    }
    // Still full of busy keys: drop the oldest inserted. Forgetting a busy key only hands it a fresh burst, which is
    // the lesser harm next to unbounded memory.
    while (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next()
      if (oldest.done === true) break
      this.#buckets.delete(oldest.value)
    }
  }
}
