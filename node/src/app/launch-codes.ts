/**
 * One-time launch codes for the browser mode. The address the launcher prints and hands to the browser opener carries
 * a launch code, never the API token: process arguments are readable by other local users and a browser started cold
 * keeps its arguments for as long as it runs. The page trades the code for the token over the loopback connection
 * (POST /launch, web-server.ts), so what leaked through a command line is worth nothing a minute later, or at once if
 * the page already used it.
 *
 * A code is 256 random bits, lives LAUNCH_CODE_TTL_MS, and is burned by the first attempt that names it. Only digests
 * are kept, so even this process's memory holds no live code to replay. Every attempt, right or wrong, spends from one
 * small budget: guessing is hopeless anyway, and the budget keeps a flood from costing more than a hash per request.
 */
import { createHash, randomBytes } from 'node:crypto'

export const LAUNCH_CODE_TTL_MS = 60_000
/** Codes alive at once; issuing more forgets the oldest (someone running `npm start` in a loop). */
export const MAX_LIVE_LAUNCH_CODES = 32
/** Exchange attempts allowed in a burst, and how fast the allowance comes back. */
export const LAUNCH_ATTEMPT_BURST = 10
export const LAUNCH_ATTEMPT_REFILL_MS = 1_000

const CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/

export type RedeemResult = { ok: true } | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'rate-limited'; retryAfterMs?: number }

export interface LaunchCodes {
  /** A fresh code, valid once for LAUNCH_CODE_TTL_MS. */
  issue(): string
  /** Burns the code whatever the outcome; says why it was refused. */
  redeem(code: string): RedeemResult
}

export interface LaunchCodeOptions {
  ttlMs?: number
  now?: () => number
}

export function createLaunchCodes(options: LaunchCodeOptions = {}): LaunchCodes {
  const ttlMs = options.ttlMs ?? LAUNCH_CODE_TTL_MS
  const now = options.now ?? Date.now
  // digest → expiry. Map order is issue order, so the first entry is the oldest.
  const live = new Map<string, number>()
  // Burned codes are remembered for one more lifetime, to say "used" rather than "invalid".
  const burned = new Map<string, number>()
  let allowance = LAUNCH_ATTEMPT_BURST
  let refilledAt = now()

  function sweep(at: number): void {
    for (const [digest, expires] of live) if (expires <= at) live.delete(digest)
    for (const [digest, expires] of burned) if (expires <= at) burned.delete(digest)
  }

  /** Undefined when an attempt may go ahead, else how long until one may. */
  function spendAttempt(at: number): number | undefined {
    allowance = Math.min(LAUNCH_ATTEMPT_BURST, allowance + Math.max(0, at - refilledAt) / LAUNCH_ATTEMPT_REFILL_MS)
    refilledAt = at
    if (allowance < 1) return Math.ceil((1 - allowance) * LAUNCH_ATTEMPT_REFILL_MS)
    allowance -= 1
    return undefined
  }

  return {
    issue() {
      const at = now()
      sweep(at)
      while (live.size >= MAX_LIVE_LAUNCH_CODES) live.delete(live.keys().next().value!)
      const code = randomBytes(32).toString('base64url')
      live.set(digest(code), at + ttlMs)
      return code
    },
    redeem(code) {
      const at = now()
      const wait = spendAttempt(at)
      if (wait !== undefined) return { ok: false, reason: 'rate-limited', retryAfterMs: wait }
      if (!CODE_PATTERN.test(code)) return { ok: false, reason: 'invalid' }
      const key = digest(code)
      const expires = live.get(key)
      if (expires === undefined) {
        sweep(at)
        return { ok: false, reason: burned.has(key) ? 'used' : 'invalid' }
      }
      live.delete(key)
      burned.set(key, at + ttlMs)
      return expires > at ? { ok: true } : { ok: false, reason: 'expired' }
    },
  }
}

function digest(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('base64url')
}
