import { afterEach, describe, expect, it, vi } from 'vitest'
import { Logger } from './logger.js'
import { MemberReconnect, type MemberReconnectOptions } from './member-reconnect.js'

describe('MemberReconnect', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function setup(overrides: Partial<MemberReconnectOptions> = {}) {
    vi.useFakeTimers()
    const attempts: number[] = []
    let connected = false
    let failUntil = Number.POSITIVE_INFINITY
    const start = Date.now()
    const reconnect = new MemberReconnect({
      wanted: () => true,
      isConnected: () => connected,
      addresses: async () => ({ addresses: ['/ip4/192.168.1.7/tcp/4001/p2p/peerB'], relayed: false }),
      dial: async () => {
        attempts.push(Date.now() - start)
        if (Date.now() - start < failUntil) throw new Error('unreachable')
        connected = true
      },
      logger: Logger.silent(),
      schedule: { firstMs: 250, fastMs: 1_000, fastForMs: 5_000, slowMs: 10_000, giveUpAfterMs: 40_000 },
      ...overrides,
    })
    return { reconnect, attempts, healAt: (ms: number) => (failUntil = ms) }
  }

  it('tries soon, then every second, and stops once connected', async () => {
    const { reconnect, attempts, healAt } = setup()
    healAt(3_000)
    reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(attempts).toEqual([250, 1_250, 2_250, 3_250])
    expect(reconnect.active).toBe(0)
  })

  it('slows down after the fast period and gives up in the end', async () => {
    const { reconnect, attempts } = setup()
    reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(attempts.filter((t) => t < 5_000)).toEqual([250, 1_250, 2_250, 3_250, 4_250])
    // then every 10 s until 40 s
    expect(attempts.filter((t) => t >= 5_000)).toEqual([5_250, 15_250, 25_250, 35_250])
    expect(reconnect.active).toBe(0)
  })

  it('through a relay circuit (no direct address) tries more gently: every relayed interval, then slowly', async () => {
    const { reconnect, attempts } = setup({
      addresses: async () => ({ addresses: ['/ip4/203.0.113.5/tcp/4001/p2p/relay/p2p-circuit/p2p/peerB'], relayed: true }),
      schedule: { firstMs: 250, fastMs: 1_000, relayedMs: 2_000, fastForMs: 5_000, slowMs: 10_000, giveUpAfterMs: 30_000 },
    })
    reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(40_000)
    expect(attempts).toEqual([250, 2_250, 4_250, 6_250, 16_250, 26_250])
  })

  it('leaves alone peers that are not members, have no address at all, or are already retried', async () => {
    const notWanted = setup({ wanted: () => false })
    notWanted.reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(notWanted.attempts).toEqual([])
    vi.useRealTimers()

    const noAddress = setup({ addresses: async () => ({ addresses: [], relayed: false }) })
    noAddress.reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(noAddress.attempts).toEqual([])
    vi.useRealTimers()

    const twice = setup()
    twice.reconnect.lost('peerB')
    twice.reconnect.lost('peerB')
    await vi.advanceTimersByTimeAsync(1_300)
    expect(twice.attempts).toEqual([250, 1_250])
    twice.reconnect.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(twice.attempts).toEqual([250, 1_250])
  })
})
