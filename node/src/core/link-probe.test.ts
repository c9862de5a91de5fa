import { afterEach, describe, expect, it, vi } from 'vitest'
import { LinkProbe } from './link-probe.js'
import { Logger } from './logger.js'

describe('LinkProbe', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup(answer: (peer: string, signal: AbortSignal) => Promise<void>) {
    vi.useFakeTimers()
    const dropped: string[] = []
    const probe = new LinkProbe({
      peers: () => ['quiet', 'lively'],
      ping: answer,
      drop: async (peer) => {
        dropped.push(peer)
      },
      logger: Logger.silent(),
      intervalMs: 2_000,
      timeoutMs: 3_000,
    })
    return { probe, dropped }
  }

  /** Never answers: resolves nothing, rejects only when the deadline aborts it. */
  const silent = (signal: AbortSignal) => new Promise<void>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))

  it('drops a link whose ping goes unanswered past the deadline, and only that one', async () => {
    const { probe, dropped } = setup(async (peer, signal) => (peer === 'quiet' ? silent(signal) : undefined))
    probe.start()
    await vi.advanceTimersByTimeAsync(2_000 + 2_999)
    expect(dropped).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(dropped).toEqual(['quiet'])
    expect(probe.silentDropped).toBe(1)
    probe.stop()
  })

  it('a quick refusal is an answer (the link carries bytes), so nothing is dropped', async () => {
    const { probe, dropped } = setup(async () => {
      throw new Error('protocol not supported')
    })
    probe.start()
    await vi.advanceTimersByTimeAsync(20_000)
    expect(dropped).toEqual([])
    probe.stop()
  })

  it('one ping per peer at a time, and nothing after stop', async () => {
    const pings: string[] = []
    const { probe, dropped } = setup(async (peer, signal) => {
      pings.push(peer)
      return silent(signal)
    })
    probe.start()
    await vi.advanceTimersByTimeAsync(2_000)
    expect(pings).toEqual(['quiet', 'lively'])
    await vi.advanceTimersByTimeAsync(2_000) // the first pings are still waiting: no second ones
    expect(pings).toEqual(['quiet', 'lively'])
    probe.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(dropped).toEqual([])
    expect(pings).toHaveLength(2)
  })
})
