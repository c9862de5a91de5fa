import { describe, expect, it } from 'vitest'
import { RateLimiter } from './rate-limiter.js'
import { RequestPacer } from './request-pacer.js'

/** A clock that only moves when the pacer sleeps: the test runs instantly and counts the time asked for. */
function clock() {
  let t = 0
  return { now: () => t, sleep: async (ms: number) => void (t += ms), elapsed: () => t }
}

describe('RequestPacer', () => {
  it('lets a burst through at once, then spaces requests at the rate, and never goes past what the responder allows', async () => {
    const c = clock()
    const pacer = new RequestPacer({ ratePerSecond: 15, burst: 45, now: c.now, sleep: c.sleep })
    // The responder's own bucket (sync: 20/s, burst 60), fed every request the pacer lets out.
    const responder = new RateLimiter({ ratePerSecond: 20, burst: 60, now: c.now })
    let refused = 0
    for (let i = 0; i < 300; i++) {
      expect(await pacer.turn('bob')).toBe(true)
      if (!responder.tryTake('alice')) refused++
    }
    expect(refused).toBe(0)
    // 45 at once, the other 255 at 15 a second.
    expect(c.elapsed()).toBeGreaterThanOrEqual((255 / 15) * 1000 - 100)
    expect(c.elapsed()).toBeLessThanOrEqual((255 / 15) * 1000 + 2000)
  })

  it('paces each peer on its own, and stops waiting when told', async () => {
    const c = clock()
    const pacer = new RequestPacer({ ratePerSecond: 10, burst: 2, now: c.now, sleep: c.sleep })
    expect(await pacer.turn('bob')).toBe(true)
    expect(await pacer.turn('bob')).toBe(true)
    expect(await pacer.turn('carol')).toBe(true)
    expect(c.elapsed()).toBe(0)
    expect(await pacer.turn('bob', () => true)).toBe(false)
  })
})
