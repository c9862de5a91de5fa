/**
 * Gets a lost connection to a member's device back soon after the network heals.
 *
 * Discovery alone is slow to notice a heal: mDNS asks every 10 s, and libp2p's own reconnect gives up for good after
 * five tries. A family's devices on one LAN should find each other again within a second or two of a Wi-Fi drop or a
 * cable put back, so when a connection to a member's device ends, its direct addresses are tried again half a second
 * after each failed attempt (of at most 2 s) for a minute, then every 15 s for a quarter of an hour; then discovery
 * takes over. A device known only through a relay's circuit (both behind NAT) is dialled through it again, more
 * gently (every 5 s, then every 15 s: each try costs the relay): relays cut every relayed connection after their data
 * and time limits (128 KiB, 2 minutes by default), and without this two members would fall back to relay passes until
 * something else connected them. Attempts never overlap.
 */
import type { Logger } from './logger.js'

export interface MemberReconnectOptions {
  /** A device of a member of one of our conversations: worth a connection. */
  wanted(peer: string): boolean
  isConnected(peer: string): boolean
  /** The peer's known direct addresses; where it has none, its relay circuits (`relayed`). */
  addresses(peer: string): Promise<{ addresses: string[]; relayed: boolean }>
  /** Dials the addresses; rejects on failure or when `signal` aborts. */
  dial(peer: string, addresses: string[], signal: AbortSignal): Promise<void>
  logger: Logger
  schedule?: Partial<ReconnectSchedule>
}

export interface ReconnectSchedule {
  /** First try this long after the loss (a closed laptop lid drops connections in bursts). */
  firstMs: number
  fastMs: number
  fastForMs: number
  slowMs: number
  giveUpAfterMs: number
  attemptTimeoutMs: number
  /** Between tries through a relay's circuit, for the first `fastForMs` (then `slowMs`). */
  relayedMs: number
  /** A try through a circuit (the relay's hop, then the other side's answer). */
  relayedAttemptTimeoutMs: number
  /** Most peers being retried at once. */
  maxPeers: number
}

const DEFAULT_SCHEDULE: ReconnectSchedule = {
  firstMs: 250,
  // With a 2 s attempt and 0.5 s between attempts, a dial's packets go out at least every 1.5 s while the network is
  // cut (the kernel resends a connection request after 1 s, then after 3), so a heal is noticed within that.
  fastMs: 500,
  fastForMs: 60_000,
  slowMs: 15_000,
  giveUpAfterMs: 15 * 60_000,
  attemptTimeoutMs: 2_000,
  relayedMs: 5_000,
  relayedAttemptTimeoutMs: 10_000,
  maxPeers: 64,
}

export class MemberReconnect {
  private readonly options: MemberReconnectOptions
  private readonly schedule: ReconnectSchedule
  private readonly retrying = new Map<string, AbortController>()
  private stopped = false

  constructor(options: MemberReconnectOptions) {
    this.options = options
    this.schedule = { ...DEFAULT_SCHEDULE, ...options.schedule }
  }

  /** The connection to `peer` ended. */
  lost(peer: string): void {
    if (this.stopped || this.retrying.has(peer) || this.retrying.size >= this.schedule.maxPeers || !this.options.wanted(peer)) return
    const controller = new AbortController()
    this.retrying.set(peer, controller)
    void this.retry(peer, controller.signal)
      .catch((err: unknown) => this.options.logger.debug({ err, peer }, 'reconnect loop failed'))
      .finally(() => this.retrying.delete(peer))
  }

  /** How many peers are being retried now (for tests and metrics). */
  get active(): number {
    return this.retrying.size
  }

  stop(): void {
    this.stopped = true
    for (const controller of this.retrying.values()) controller.abort()
    this.retrying.clear()
  }

  private async retry(peer: string, signal: AbortSignal): Promise<void> {
    const { firstMs, fastMs, fastForMs, slowMs, giveUpAfterMs, attemptTimeoutMs, relayedMs, relayedAttemptTimeoutMs } = this.schedule
    const started = Date.now()
    let wait = firstMs
    for (;;) {
      await sleep(wait, signal)
      if (Date.now() - started > giveUpAfterMs) return
      if (signal.aborted || this.options.isConnected(peer) || !this.options.wanted(peer)) return
      const { addresses, relayed } = await this.options.addresses(peer)
      if (addresses.length === 0) return
      try {
        await this.options.dial(peer, addresses, AbortSignal.any([signal, AbortSignal.timeout(relayed ? relayedAttemptTimeoutMs : attemptTimeoutMs)]))
        return
      } catch {
        // Still apart; try again on the schedule.
      }
      wait = Date.now() - started < fastForMs ? (relayed ? relayedMs : fastMs) : slowMs
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    timer.unref()
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
