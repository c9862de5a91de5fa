/**
 * Tracks misbehaviour per remote peer and bans a peer whose penalty crosses a threshold.
 *
 * Gossipsub has its own peer score, but it only sees gossip. Hearth's direct protocols (sync, mailbox, attachments)
 * also see garbage, oversize frames and rate-limit hits; this tracker puts all of it in one place so one ban covers
 * every protocol. A ban is enforced by the connection gater in create-node (inbound connections from the peer are
 * refused and we do not dial it) and by disconnecting it at the moment of the ban.
 *
 * Penalties decay (half-life) so a long-lived, mostly honest peer that occasionally sends a bad frame (a version
 * skew, a bug) is not banned after weeks of uptime; a burst of garbage still crosses the threshold quickly.
 */

export interface PeerPenaltiesOptions {
  /** Accumulated weight at which a peer is banned. Default 100. */
  threshold?: number
  /** How long a ban lasts. Default 10 minutes. */
  banMs?: number
  /** Half-life of accumulated penalty weight. Default 10 minutes. */
  halfLifeMs?: number
  /** Called once when a peer is banned, to drop its connections. Errors are swallowed (the ban still stands). */
  disconnect?: (peer: string) => void | Promise<void>
  /** Milliseconds clock; injected for tests. Default `Date.now`. */
  now?: () => number
  /** Bound on tracked peers; PeerIds are free to mint, so memory must not follow them. Default 10,000. */
  maxPeers?: number
}

interface PeerRecord {
  weight: number
  updatedAt: number
  bannedUntil: number
}

export class PeerPenalties {
  readonly threshold: number
  readonly #banMs: number
  readonly #halfLifeMs: number
  readonly #now: () => number
  readonly #maxPeers: number
  readonly #peers = new Map<string, PeerRecord>()
  readonly #counts = new Map<string, number>()
  readonly #banListeners = new Set<(peer: string) => void | Promise<void>>()
  #bans = 0

  constructor(options: PeerPenaltiesOptions = {}) {
    this.threshold = options.threshold ?? 100
    this.#banMs = options.banMs ?? 10 * 60_000
    this.#halfLifeMs = options.halfLifeMs ?? 10 * 60_000
    this.#now = options.now ?? Date.now
    this.#maxPeers = options.maxPeers ?? 10_000
    if (options.disconnect !== undefined) this.#banListeners.add(options.disconnect)
  }

  /**
   * Records one offence. `reason` is a short stable label (it becomes a metrics label: keep the set small and never
   * put peer-controlled text in it). Returns true when this offence caused a ban.
   */
  penalise(peer: string, reason: string, weight = 1): boolean {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1)
    if (!(weight > 0)) return false
    const now = this.#now()
    const record = this.#record(peer, now)
    if (record.bannedUntil > now) return false
    record.weight += weight
    if (record.weight < this.threshold) return false
    record.bannedUntil = now + this.#banMs
    record.weight = 0
    this.#bans++
    for (const listener of this.#banListeners) {
      try {
        const result = listener(peer)
        if (result instanceof Promise) result.catch(() => {})
      } catch {
        // A failing disconnect must not undo the ban: the gater still refuses the peer.
      }
    }
    return true
  }

  isBanned(peer: string): boolean {
    const record = this.#peers.get(peer)
    return record !== undefined && record.bannedUntil > this.#now()
  }

  /** Milliseconds left on a ban, 0 when not banned. */
  banRemainingMs(peer: string): number {
    const record = this.#peers.get(peer)
    return record === undefined ? 0 : Math.max(0, record.bannedUntil - this.#now())
  }

  /** Current (decayed) penalty weight of a peer. */
  weight(peer: string): number {
    const record = this.#peers.get(peer)
    return record === undefined ? 0 : this.#decayed(record, this.#now())
  }

  unban(peer: string): void {
    this.#peers.delete(peer)
  }

  /** Offences seen per reason since start, for metrics. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts)
  }

  /** Total bans issued since start, for metrics. */
  get bans(): number {
    return this.#bans
  }

  /** Adds a listener called when a peer gets banned. Returns a function that removes it. */
  onBan(listener: (peer: string) => void | Promise<void>): () => void {
    this.#banListeners.add(listener)
    return () => this.#banListeners.delete(listener)
  }

  #decayed(record: PeerRecord, now: number): number {
    const elapsed = Math.max(0, now - record.updatedAt)
    return record.weight * Math.pow(0.5, elapsed / this.#halfLifeMs)
  }

  #record(peer: string, now: number): PeerRecord {
    let record = this.#peers.get(peer)
    if (record === undefined) {
      if (this.#peers.size >= this.#maxPeers) this.#evict(now)
      record = { weight: 0, updatedAt: now, bannedUntil: 0 }
      this.#peers.set(peer, record)
      return record
    }
    record.weight = this.#decayed(record, now)
    record.updatedAt = now
    return record
  }

  #evict(now: number): void {
    // Forget peers that are neither banned nor carrying meaningful weight first; keep bans as long as possible.
    for (const [peer, record] of this.#peers) {
      if (record.bannedUntil <= now && this.#decayed(record, now) < 1) this.#peers.delete(peer)
    }
    while (this.#peers.size >= this.#maxPeers) {
      const oldest = this.#peers.keys().next()
      if (oldest.done === true) break
      this.#peers.delete(oldest.value)
    }
  }
}
