import { describe, expect, it } from 'vitest'
import { createLaunchCodes, LAUNCH_ATTEMPT_BURST, LAUNCH_ATTEMPT_REFILL_MS, LAUNCH_CODE_TTL_MS, MAX_LIVE_LAUNCH_CODES } from './launch-codes.js'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('launch codes', () => {
  it('a code works once: the second use is refused as used', () => {
    const codes = createLaunchCodes()
    const code = codes.issue()
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(codes.redeem(code)).toEqual({ ok: true })
    expect(codes.redeem(code)).toEqual({ ok: false, reason: 'used' })
  })

  it('a code expires after a minute, and an expired attempt burns it', () => {
    const c = clock()
    const codes = createLaunchCodes({ now: c.now })
    const late = codes.issue()
    const inTime = codes.issue()
    c.advance(LAUNCH_CODE_TTL_MS - 1)
    expect(codes.redeem(inTime)).toEqual({ ok: true })
    c.advance(1)
    expect(codes.redeem(late)).toEqual({ ok: false, reason: 'expired' })
    expect(codes.redeem(late)).toEqual({ ok: false, reason: 'used' })
  })

  it('a wrong or malformed code is invalid and does not burn the real one', () => {
    const codes = createLaunchCodes()
    const code = codes.issue()
    expect(codes.redeem('A'.repeat(43))).toEqual({ ok: false, reason: 'invalid' })
    expect(codes.redeem('')).toEqual({ ok: false, reason: 'invalid' })
    expect(codes.redeem(code + 'x')).toEqual({ ok: false, reason: 'invalid' })
    expect(codes.redeem('<script>')).toEqual({ ok: false, reason: 'invalid' })
    expect(codes.redeem(code)).toEqual({ ok: true })
  })

  it('attempts, right or wrong, are rate-limited, and the allowance comes back', () => {
    const c = clock()
    const codes = createLaunchCodes({ now: c.now })
    const code = codes.issue()
    for (let i = 0; i < LAUNCH_ATTEMPT_BURST; i++) expect(codes.redeem('B'.repeat(43)).ok).toBe(false)
    const limited = codes.redeem(code)
    expect(limited).toMatchObject({ ok: false, reason: 'rate-limited' })
    expect(limited.ok === false && limited.retryAfterMs).toBeGreaterThan(0)
    c.advance(LAUNCH_ATTEMPT_REFILL_MS)
    // The limited attempt did not burn the code.
    expect(codes.redeem(code)).toEqual({ ok: true })
    expect(codes.redeem('B'.repeat(43))).toMatchObject({ reason: 'rate-limited' })
  })

  it('keeps a bounded number of live codes, forgetting the oldest', () => {
    const codes = createLaunchCodes()
    const first = codes.issue()
    const rest = Array.from({ length: MAX_LIVE_LAUNCH_CODES }, () => codes.issue())
    expect(codes.redeem(first)).toEqual({ ok: false, reason: 'invalid' })
    expect(codes.redeem(rest.at(-1)!)).toEqual({ ok: true })
    expect(new Set(rest).size).toBe(rest.length)
  })
})
