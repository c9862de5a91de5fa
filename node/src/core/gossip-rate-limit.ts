/**
 * How much gossip one member device may send into one conversation: a token bucket per (conversation, device),
 * applied by the gossip validator after the envelope's signature has verified, before it is forwarded or processed.
 *
 * Why here: gossipsub forwards whatever its validator accepts, and every member's core then verifies, decrypts and
 * applies it. A member (or a stolen device) that sends as fast as it can would otherwise have every member forward
 * and process all of it, and honest messages would queue behind the flood. Excess is answered 'ignore': not forwarded,
 * not processed now, and no forwarder is blamed (an honest member relaying a flooder's messages did nothing wrong).
 * Nothing is lost: the catch-up sync fetches the skipped positions by sequence number, at its own pace (sync requests
 * are rate-limited per peer and each response is bounded).
 *
 * Why after the signature check and after the duplicate check: the device is only known once the signature verifies
 * (an unverified header could name someone else's device and spend their budget), and replaying a device's old
 * envelopes must not spend its budget either.
 *
 * The numbers (docs/LIMITS.md):
 *  - burst 60: what a person produces in a flurry (a pasted list sent line by line, a run of reactions, receipts and
 *    typing signals alongside) and what an outbox of messages written offline flushes at once; past the burst the
 *    rest still arrives, by sync;
 *  - 10 per second sustained: people send well under one message a second even in a lively chat; ten leaves room
 *    for bots and scripts on the command line and for the signals (receipts, typing) that share the bucket, while a
 *    flooder's cost to each member is capped at ten envelopes a second per conversation.
 */
import { RateLimiter } from '../../common/net/rate-limiter.js'

export const GOSSIP_BURST = 60
export const GOSSIP_PER_SECOND = 10
/** Buckets kept: devices of members only reach the limiter (the signature has verified), so this is generous. */
const MAX_BUCKETS = 50_000

export interface GossipRateLimitOptions {
  burst?: number
  perSecond?: number
  now?: () => number
}

export class GossipRateLimit {
  readonly #buckets: RateLimiter
  readonly #now: () => number
  /** When each (conversation, device) was last refused, while it is paced. */
  readonly #limitedAt = new Map<string, number>()

  constructor(options: GossipRateLimitOptions = {}) {
    this.#buckets = new RateLimiter({
      burst: options.burst ?? GOSSIP_BURST,
      ratePerSecond: options.perSecond ?? GOSSIP_PER_SECOND,
      maxKeys: MAX_BUCKETS,
      ...(options.now === undefined ? {} : { now: options.now }),
    })
    this.#now = options.now ?? Date.now
  }

  /** Spends one envelope of `device`'s allowance in `conversation`; false when it has none left right now. */
  take(conversation: string, device: string): boolean {
    // Ids are fixed-alphabet strings without '/', so the key is unambiguous.
    const key = `${conversation}/${device}`
    if (this.#buckets.tryTake(key)) return true
    this.#limitedAt.set(key, this.#now())
    if (this.#limitedAt.size > MAX_BUCKETS) this.#limitedAt.delete(this.#limitedAt.keys().next().value!)
    return false
  }

  /**
   * For a device this limiter refused within the last minute: how many of its envelopes a catch-up sync may ask for
   * now (its allowance left). Undefined for a device that is not being paced: its catch-up is not limited. What the
   * sync brings is then spent with `spent`, so gossip and sync together stay within the allowance.
   *
   * Without this the excess a flooder sends arrives anyway, by sync, and every member still processes all of it.
   */
  catchUpAllowance(conversation: string, device: string): number | undefined {
    const key = `${conversation}/${device}`
    const at = this.#limitedAt.get(key)
    if (at === undefined) return undefined
    if (this.#now() - at > PACED_FOR_MS) {
      this.#limitedAt.delete(key)
      return undefined
    }
    return Math.max(0, this.#buckets.available(key))
  }

  /** Envelopes of a paced device that a catch-up brought in. */
  spent(conversation: string, device: string, count: number): void {
    if (count > 0) this.#buckets.spend(`${conversation}/${device}`, count)
  }
}

/** How long a device that went past its allowance stays paced in catch-up after its last refusal. */
const PACED_FOR_MS = 60_000
