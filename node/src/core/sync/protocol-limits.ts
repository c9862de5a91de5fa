import { Limits } from '../../../common/wire/limits.js'

/** The sync protocol's limits, the same for the side that asks and the side that answers. */
export const SYNC_LIMITS = {
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: Limits.maxFrameBytes,
  timeoutMs: 30_000,
  // Honest peers sync on connect, on gaps and every few seconds per conversation; far fewer than this.
  ratePerSecond: 20,
  burst: 60,
  // Two peers behind NAT talk over a relay circuit until hole punching upgrades it; sync must work there too (the
  // relay's data limit cuts a long one short, and the next sync resumes from the vector).
  runOnLimitedConnection: true,
}

/**
 * How fast this device asks one peer (request-pacer.ts): three quarters of what the peer accepts, so the syncs of
 * every conversation shared with it fit in its limit with room for anything else.
 */
export const SYNC_CLIENT_PACE = { ratePerSecond: (SYNC_LIMITS.ratePerSecond * 3) / 4, burst: (SYNC_LIMITS.burst * 3) / 4 }

/** The join protocol's limits. */
export const JOIN_LIMITS = {
  maxRequestBytes: 16 * 1024,
  maxResponseBytes: Limits.maxFrameBytes,
  timeoutMs: 20_000,
  ratePerSecond: 2,
  burst: 20,
  runOnLimitedConnection: true,
}

/** Membership operations in one sync or join response: pages that fit a frame, and a bound on the whole response. */
export const OP_PAGES = { maxBytes: 1024 * 1024, maxCount: 4096, totalBytes: 3 * 1024 * 1024 }
