import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.js'

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

describe('RateLimiter', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    const c = clock()
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: c.now })
    expect([1, 2, 3, 4].map(() => limiter.tryTake('alice'))).toEqual([true, true, true, false])
    expect(limiter.retryAfterMs('alice')).toBe(500)
    c.advance(499)
    expect(limiter.tryTake('alice')).toBe(false)
    c.advance(1)
    expect(limiter.tryTake('alice')).toBe(true)
    expect(limiter.tryTake('alice')).toBe(false)
    // A long quiet period refills only up to the burst, never beyond.
    c.advance(60_000)
    expect([1, 2, 3, 4].map(() => limiter.tryTake('alice'))).toEqual([true, true, true, false])
  })

  it('keeps one bucket per key', () => {
    const c = clock()
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, now: c.now })
    expect(limiter.tryTake('alice')).toBe(true)
    expect(limiter.tryTake('alice')).toBe(false)
    expect(limiter.tryTake('bob')).toBe(true)
  })

  it('does not take tokens on a refused request and charges costs', () => {
    const c = clock()
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 5, now: c.now })
    expect(limiter.tryTake('alice', 4)).toBe(true)
    expect(limiter.tryTake('alice', 2)).toBe(false)
    expect(limiter.tryTake('alice', 1)).toBe(true)
  })

  it('gives no free tokens when the clock steps backwards', () => {
    const c = clock()
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, now: c.now })
    expect(limiter.tryTake('alice')).toBe(true)
    c.advance(-10_000)
    expect(limiter.tryTake('alice')).toBe(false)
    c.advance(10_000)
    expect(limiter.tryTake('alice')).toBe(false)
    c.advance(1_000)
    expect(limiter.tryTake('alice')).toBe(true)
  })

  it('bounds memory under a flood of fresh keys', () => {
    const c = clock()
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, now: c.now, maxKeys: 100 })
    for (let i = 0; i < 10_000; i++) limiter.tryTake(`peer-${i}`)
    expect(limiter.size).toBeLessThanOrEqual(100)
  })

  it('rejects nonsense options', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError)
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError)
  })
})
