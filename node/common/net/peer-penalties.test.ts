import { describe, expect, it } from 'vitest'
import { PeerPenalties } from './peer-penalties.js'

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start
  return { now: () => t, advance: (ms) => void (t += ms) }
}

describe('PeerPenalties', () => {
  it('bans at the threshold, disconnects once, and lifts the ban after banMs', () => {
    const c = clock()
    const disconnected: string[] = []
    const penalties = new PeerPenalties({
      threshold: 10,
      banMs: 60_000,
      now: c.now,
      disconnect: (peer) => void disconnected.push(peer),
    })
    expect(penalties.penalise('mallory', 'malformed', 6)).toBe(false)
    expect(penalties.isBanned('mallory')).toBe(false)
    expect(penalties.penalise('mallory', 'malformed', 6)).toBe(true)
    expect(penalties.isBanned('mallory')).toBe(true)
    expect(disconnected).toEqual(['mallory'])
    // Further offences while banned neither extend the ban nor disconnect again.
    expect(penalties.penalise('mallory', 'malformed', 100)).toBe(false)
    expect(disconnected).toEqual(['mallory'])
    expect(penalties.isBanned('alice')).toBe(false)
    c.advance(59_999)
    expect(penalties.banRemainingMs('mallory')).toBe(1)
    c.advance(1)
    expect(penalties.isBanned('mallory')).toBe(false)
  })

  it('counts offences per reason for metrics', () => {
    const penalties = new PeerPenalties()
    penalties.penalise('a', 'too-large', 1)
    penalties.penalise('b', 'too-large', 1)
    penalties.penalise('a', 'timeout', 1)
    expect(penalties.counts()).toEqual({ 'too-large': 2, timeout: 1 })
  })

  it('decays old penalties so rare faults never add up to a ban', () => {
    const c = clock()
    const penalties = new PeerPenalties({ threshold: 10, halfLifeMs: 1_000, now: c.now })
    for (let i = 0; i < 100; i++) {
      expect(penalties.penalise('bob', 'malformed', 5)).toBe(false)
      c.advance(2_000)
    }
    expect(penalties.weight('bob')).toBeLessThan(2)
  })

  it('keeps banning when a disconnect callback throws, and onBan listeners can be removed', () => {
    const heard: string[] = []
    const penalties = new PeerPenalties({
      threshold: 1,
      disconnect: () => {
        throw new Error('boom')
      },
    })
    const off = penalties.onBan((peer) => void heard.push(peer))
    expect(penalties.penalise('x', 'r', 1)).toBe(true)
    expect(penalties.isBanned('x')).toBe(true)
    off()
    penalties.penalise('y', 'r', 1)
    expect(heard).toEqual(['x'])
    expect(penalties.bans).toBe(2)
  })
})
