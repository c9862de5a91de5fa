import type { Libp2p, PeerInfo } from '@libp2p/interface'
import { CODE_P2P, type Multiaddr } from '@multiformats/multiaddr'
import { drop } from '../errors.js'

/** How long a peer that failed to dial is left alone before discovery may trigger another dial. */
export const REDIAL_BACKOFF_MS = 30_000

/**
 * Dials peers that discovery reports. Discovery modules only emit events; without this, two desktops on one LAN
 * would see each other's mDNS announcements and never connect.
 */
export class AutoDialer {
  readonly #queue: PeerInfo[] = []
  readonly #pending = new Set<string>()
  readonly #failedAt = new Map<string, number>()
  #running = 0
  #stopped = false

  constructor(
    private readonly node: () => Libp2p | undefined,
    private readonly isBanned: (peer: string) => boolean,
    private readonly concurrency = 4,
    private readonly maxQueue = 256,
  ) {}

  enqueue(info: PeerInfo): void {
    const id = info.id.toString()
    const node = this.node()
    if (this.#stopped || node === undefined || id === node.peerId.toString()) return
    if (this.#pending.has(id) || node.getConnections(info.id).length > 0 || this.isBanned(id)) return
    const failedAt = this.#failedAt.get(id)
    if (failedAt !== undefined && Date.now() - failedAt < REDIAL_BACKOFF_MS) return
    // A LAN full of announcers (or a hostile one) must not grow the queue without bound; dropped peers are
    // announced again on the next discovery round.
    if (this.#queue.length >= this.maxQueue) return
    this.#pending.add(id)
    this.#queue.push(info)
    this.#pump()
  }

  stop(): void {
    this.#stopped = true
    this.#queue.length = 0
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.concurrency && this.#queue.length > 0) {
      const info = this.#queue.shift()!
      this.#running++
      drop(
        this.#dial(info).finally(() => {
          this.#running--
          this.#pending.delete(info.id.toString())
          this.#pump()
        }),
      )
    }
  }

  async #dial(info: PeerInfo): Promise<void> {
    const node = this.node()
    if (node === undefined || this.#stopped) return
    const id = info.id.toString()
    if (node.getConnections(info.id).length > 0) return
    // Our listener runs before libp2p merges the addresses into the peer store, so dial the reported addresses
    // themselves (with /p2p/ so the remote identity is checked) rather than the bare PeerId.
    const targets: Multiaddr[] = info.multiaddrs.map((ma) =>
      ma.getComponents().some((c) => c.code === CODE_P2P) ? ma : ma.encapsulate(`/p2p/${id}`),
    )
    try {
      await node.dial(targets.length > 0 ? targets : info.id, { signal: AbortSignal.timeout(10_000) })
      this.#failedAt.delete(id)
    } catch {
      // Expected often (stale mDNS answers, peers behind NAT). Remember it so the next announcement within the
      // backoff does not trigger another futile dial.
      this.#failedAt.set(id, Date.now())
      if (this.#failedAt.size > 4096) {
        const now = Date.now()
        for (const [peer, at] of this.#failedAt) if (now - at >= REDIAL_BACKOFF_MS) this.#failedAt.delete(peer)
      }
    }
  }
}
