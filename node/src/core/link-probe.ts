/**
 * Notices a direct connection to a member's device that has gone silent, and drops it so a fresh one can be made.
 *
 * When a network is cut for a few seconds (a Wi-Fi hiccup, a cable moved), TCP keeps the connection and retries on
 * its own schedule, doubling the wait each time: after a five-second cut the next retry can be six seconds after the
 * heal, and everything queued (gossip, sync requests) waits for it. libp2p's own monitor pings every 10 s with at
 * least 5 s to answer, so it notices only long cuts. Here each member's device that we reach directly is pinged every
 * 2 s; a ping unanswered for 3 s drops that device's direct connections, and MemberReconnect dials a new one (whose
 * first packets go out at once when the network is back). Relayed connections are left alone: pinging through a
 * relay every 2 s would cost the relay, and its circuit has limits of its own.
 */
import type { Logger } from './logger.js'

export interface LinkProbeOptions {
  /** Members' devices we hold a direct (not relayed) connection to now. */
  peers(): string[]
  /** Round trip over the existing connection; rejects when `signal` aborts first. */
  ping(peer: string, signal: AbortSignal): Promise<void>
  /** Closes the peer's direct connections (the disconnect starts a redial). */
  drop(peer: string): Promise<void>
  logger: Logger
  intervalMs?: number
  timeoutMs?: number
}

export class LinkProbe {
  private readonly options: LinkProbeOptions
  private readonly intervalMs: number
  private readonly timeoutMs: number
  private readonly inFlight = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private dropped = 0

  constructor(options: LinkProbeOptions) {
    this.options = options
    this.intervalMs = options.intervalMs ?? 2_000
    this.timeoutMs = options.timeoutMs ?? 3_000
  }

  start(): void {
    this.timer = setInterval(() => this.round(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Connections dropped as silent so far (for counters and tests). */
  get silentDropped(): number {
    return this.dropped
  }

  private round(): void {
    for (const peer of this.options.peers()) {
      if (this.inFlight.has(peer)) continue
      this.inFlight.add(peer)
      void this.probe(peer).finally(() => this.inFlight.delete(peer))
    }
  }

  private async probe(peer: string): Promise<void> {
    const deadline = new AbortController()
    const timer = setTimeout(() => deadline.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs)
    try {
      await this.options.ping(peer, deadline.signal)
      return
    } catch (err) {
      // A refusal that came back quickly is an answer (the link works); only silence until the deadline counts.
      if (!deadline.signal.aborted || this.timer === undefined) return
      this.options.logger.debug({ err, peer }, 'member link silent: dropping it for a fresh connection')
    } finally {
      clearTimeout(timer)
    }
    this.dropped++
    await this.options.drop(peer).catch((err: unknown) => this.options.logger.debug({ err, peer }, 'dropping a silent link failed'))
  }
}
