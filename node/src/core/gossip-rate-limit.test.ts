import { describe, expect, it } from 'vitest'
import { GOSSIP_BURST, GOSSIP_PER_SECOND, GossipRateLimit } from './gossip-rate-limit.js'

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000
  return { now: () => t, advance: (ms) => (t += ms) }
}

function takeMany(limit: GossipRateLimit, n: number, conversation = 'c1', device = 'd1'): number {
  let taken = 0
  for (let i = 0; i < n; i++) if (limit.take(conversation, device)) taken++
  return taken
}

describe('GossipRateLimit', () => {
  it('paces the catch-up of a device it refused, from the same allowance, for a minute after its last refusal', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now })
    expect(limit.catchUpAllowance('c1', 'd1')).toBeUndefined() // never refused: catch-up is not limited
    takeMany(limit, GOSSIP_BURST + 1)
    expect(limit.catchUpAllowance('c1', 'd1')).toBe(0) // the allowance went to gossip
    c.advance(2_000)
    expect(limit.catchUpAllowance('c1', 'd1')).toBe(2 * GOSSIP_PER_SECOND)
    expect(limit.catchUpAllowance('c1', 'd1')).toBe(2 * GOSSIP_PER_SECOND) // asking spends nothing
    limit.spent('c1', 'd1', 2 * GOSSIP_PER_SECOND + 5) // a catch-up brought a little more than asked of one peer
    expect(limit.take('c1', 'd1')).toBe(false) // gossip and sync together stay within the allowance
    c.advance(1_000)
    expect(limit.catchUpAllowance('c1', 'd1')).toBe(GOSSIP_PER_SECOND - 5)
    expect(limit.catchUpAllowance('c1', 'd2')).toBeUndefined() // another device is not paced
    c.advance(61_000)
    expect(limit.catchUpAllowance('c1', 'd1')).toBeUndefined()
  })

  it('lets a burst through, then refuses until time refills it', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now })
    expect(takeMany(limit, 1_000)).toBe(GOSSIP_BURST)
    expect(limit.take('c1', 'd1')).toBe(false)
    c.advance(1_000)
    expect(takeMany(limit, 1_000)).toBe(GOSSIP_PER_SECOND)
  })

  it('holds a flooder to the sustained rate', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now })
    let taken = 0
    // Ten minutes at 1,000 attempts a second.
    for (let ms = 0; ms < 600_000; ms++) {
      if (limit.take('c1', 'd1')) taken++
      c.advance(1)
    }
    expect(taken).toBeGreaterThanOrEqual(GOSSIP_BURST + 600 * GOSSIP_PER_SECOND - 1)
    expect(taken).toBeLessThanOrEqual(GOSSIP_BURST + 600 * GOSSIP_PER_SECOND + 1)
  })

  it('never limits a device sending at a person’s pace', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now })
    // Two messages a second, each with a receipt and a typing signal, for an hour.
    for (let s = 0; s < 3_600; s++) {
      expect(takeMany(limit, 6)).toBe(6)
      c.advance(1_000)
    }
  })

  it('keeps one budget per conversation and per device', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now })
    expect(takeMany(limit, 100, 'c1', 'mallory')).toBe(GOSSIP_BURST)
    // The flooder's exhausted budget is nobody else's problem: not another device's, not another conversation's.
    expect(takeMany(limit, 10, 'c1', 'alice')).toBe(10)
    expect(takeMany(limit, 10, 'c2', 'mallory')).toBe(10)
  })

  it('takes its numbers from the options', () => {
    const c = clock()
    const limit = new GossipRateLimit({ now: c.now, burst: 3, perSecond: 1 })
    expect(takeMany(limit, 10)).toBe(3)
    c.advance(2_000)
    expect(takeMany(limit, 10)).toBe(2)
  })
})
