import { describe, expect, it } from 'vitest'
import { WaitingFetches } from './waiting-fetches.js'

describe('WaitingFetches', () => {
  it('bounds waiters overall and per peer, and frees slots on release', () => {
    const w = new WaitingFetches(3, 2)
    const a1 = w.register('m1', 'a')!
    w.register('m1', 'a')!
    expect(w.register('m2', 'a')).toBeUndefined()
    const b = w.register('m2', 'b')!
    expect(w.register('m3', 'c')).toBeUndefined()
    expect(w.size).toBe(3)
    a1.release()
    a1.release()
    expect(w.size).toBe(2)
    expect(w.register('m3', 'c')).toBeDefined()
    b.release()
  })

  it('wakes the waiters of one mailbox, or all of them', async () => {
    const w = new WaitingFetches(10, 10)
    const woken: string[] = []
    const one = w.register('m1', 'a')!
    const two = w.register('m2', 'a')!
    void one.woken.then(() => woken.push('m1'))
    void two.woken.then(() => woken.push('m2'))
    w.wake('m1')
    w.wake('nobody-waits-here')
    await new Promise((resolve) => setImmediate(resolve))
    expect(woken).toEqual(['m1'])
    w.wakeAll()
    await new Promise((resolve) => setImmediate(resolve))
    expect(woken).toEqual(['m1', 'm2'])
  })
})
