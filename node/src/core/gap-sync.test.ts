import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConversationId } from '../ids.js'
import type { StreamKey } from './conversation-runtime.js'
import { GapSync } from './gap-sync.js'

const c = 'conv' as ConversationId
const k = (key: string) => key as StreamKey

describe('GapSync', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup(held: Map<string, number>) {
    vi.useFakeTimers()
    const calls: Array<[ConversationId, string | null]> = []
    const gaps = new GapSync({ sync: (id, peer) => calls.push([id, peer]), have: (_id, stream) => held.get(stream) ?? 0, delayMs: 100 })
    return { gaps, calls }
  }

  it('asks the peer that showed the gap, once, after the delay', () => {
    const held = new Map([['e/d1', 3]])
    const { gaps, calls } = setup(held)
    gaps.notice(c, k('e/d1'), 3, 7, 'peerB')
    gaps.notice(c, k('e/d1'), 3, 7, 'peerB')
    expect(calls).toEqual([])
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([[c, 'peerB']])
    // The same claim again (a peer repeating what it cannot serve) is not asked for twice; a further one is.
    gaps.notice(c, k('e/d1'), 3, 7, 'peerB')
    vi.advanceTimersByTime(200)
    expect(calls).toHaveLength(1)
    gaps.notice(c, k('e/d1'), 3, 8, 'peerB')
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([
      [c, 'peerB'],
      [c, 'peerB'],
    ])
    // Another member claiming the same position is asked: it may hold what the first one could not serve.
    gaps.notice(c, k('e/d1'), 3, 8, 'peerC')
    vi.advanceTimersByTime(100)
    expect(calls.at(-1)).toEqual([c, 'peerC'])
  })

  it('does not ask when the gap closed during the delay (envelopes merely reordered in flight)', () => {
    const held = new Map([['e/d1', 3]])
    const { gaps, calls } = setup(held)
    gaps.notice(c, k('e/d1'), 3, 5, 'peerB')
    held.set('e/d1', 5)
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([])
  })

  it('ignores claims at or below what is held, and asks every member when the source is unknown', () => {
    const held = new Map([['e/d1', 3]])
    const { gaps, calls } = setup(held)
    gaps.notice(c, k('e/d1'), 3, 3, 'peerB')
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([])
    gaps.notice(c, k('e/d1'), 3, 9, 'peerB')
    gaps.notice(c, k('e/d2'), 0, 2, null)
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([[c, null]])
  })

  it('coalesces the gaps of one conversation into one ask per peer', () => {
    const { gaps, calls } = setup(new Map())
    gaps.notice(c, k('e/d1'), 0, 2, 'peerB')
    gaps.notice(c, k('e/d2'), 0, 4, 'peerB')
    gaps.notice(c, k('e/d3'), 0, 1, 'peerC')
    vi.advanceTimersByTime(100)
    expect(calls).toEqual([
      [c, 'peerB'],
      [c, 'peerC'],
    ])
  })

  it('asks nothing once stopped', () => {
    const { gaps, calls } = setup(new Map())
    gaps.notice(c, k('e/d1'), 0, 2, 'peerB')
    gaps.stop()
    vi.advanceTimersByTime(1_000)
    gaps.notice(c, k('e/d1'), 0, 5, 'peerB')
    vi.advanceTimersByTime(1_000)
    expect(calls).toEqual([])
  })
})
