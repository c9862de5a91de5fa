import { describe, expect, it } from 'vitest'
import { isHearthError } from '../../../node/common/errors.js'
import { reconnectingTransport } from './reconnecting.js'
import type { Transport } from './transport.js'

/** A carrier the test can drop, as a socket closes when Hearth stops. */
function carrier(name: string) {
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  const closers = new Set<(r: string) => void>()
  let closed = false
  const t: Transport & { fire(event: string, payload: unknown): void; drop(): void; closed(): boolean } = {
    call: async (method) => `${name}:${method}`,
    on(event, l) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(l)
      return () => set.delete(l)
    },
    onClose(l) {
      closers.add(l)
      return () => closers.delete(l)
    },
    close: () => void (closed = true),
    fire: (event, payload) => listeners.get(event)?.forEach((l) => l(payload)),
    drop: () => closers.forEach((l) => l('code 1006')),
    closed: () => closed,
  }
  return t
}

describe('the reconnecting transport', () => {
  it('after a drop, tries again with growing pauses until Hearth is back, then carries calls and events again', async () => {
    const first = carrier('first')
    const second = carrier('second')
    const opens: Array<() => Promise<Transport>> = [async () => first, async () => Promise.reject(new Error('refused')), async () => Promise.reject(new Error('refused')), async () => second]
    const slept: number[] = []
    let wake: () => void = () => {}
    const transport = await reconnectingTransport(() => opens.shift()!(), {
      delaysMs: [10, 20, 40],
      sleep: (ms) => {
        slept.push(ms)
        return Promise.resolve()
      },
    })
    const events: unknown[] = []
    transport.on('peer.changed', (p) => events.push(p))
    const drops: string[] = []
    transport.onClose((r) => drops.push(r))
    const back = new Promise<void>((resolve) => (wake = resolve))
    transport.onReconnect(() => wake())

    expect(await transport.call('app.status', {})).toBe('first:app.status')
    first.fire('peer.changed', 1)
    first.drop()
    expect(drops).toEqual(['code 1006'])
    await expect(transport.call('app.status', {})).rejects.toSatisfy((err) => isHearthError(err, 'NOT_RUNNING'))
    await back
    expect(slept).toEqual([10, 20, 40])
    expect(await transport.call('app.status', {})).toBe('second:app.status')
    // Listeners registered before the drop hear the new carrier, not the old one.
    first.fire('peer.changed', 'stale')
    second.fire('peer.changed', 2)
    expect(events).toEqual([1, 2])
    transport.close()
    expect(second.closed()).toBe(true)
  })

  it('stops trying once closed', async () => {
    const first = carrier('first')
    let attempts = 0
    let release: () => void = () => {}
    const transport = await reconnectingTransport(
      async () => {
        attempts++
        if (attempts === 1) return first
        throw new Error('refused')
      },
      { delaysMs: [5], sleep: () => new Promise<void>((resolve) => (release = resolve)) },
    )
    first.drop()
    transport.close()
    release()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(attempts).toBe(1)
  })

  it('fails at once when the first connection cannot be made (the page says so)', async () => {
    await expect(reconnectingTransport(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused')
  })
})
