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

  constructor(options: GossipRateLimitOptions = {}) {
    this.#buckets = new RateLimiter({
      burst: options.burst ?? GOSSIP_BURST,
      ratePerSecond: options.perSecond ?? GOSSIP_PER_SECOND,
      maxKeys: MAX_BUCKETS,
      ...(options.now === undefined ? {} : { now: options.now }),
    })
  }

  /** Spends one envelope of `device`'s allowance in `conversation`; false when it has none left right now. */
  take(conversation: string, device: string): boolean {
    // Ids are fixed-alphabet strings without '/', so the key is unambiguous.
    return this.#buckets.tryTake(`${conversation}/${device}`)
  }
}
