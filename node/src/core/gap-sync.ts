/**
 * Asks for what is missing as soon as there is evidence of it, instead of waiting for the next anti-entropy round.
 *
 * Evidence is a stream position beyond what we hold: an envelope that arrived out of order (its predecessors were
 * lost while a partition lasted, or dropped by a peer's backlog), or a member's receipt saying it holds more of some
 * stream than we do. A short delay lets envelopes that are merely reordered in flight arrive first; each claimed
 * position is asked of each peer once (a peer repeating a claim it cannot serve does not make us ask again and again),
 * and what one sync does not bring, the periodic round still fetches.
 */
import { drop } from '../../common/errors.js'
import type { ConversationId } from '../ids.js'
import type { StreamKey } from './conversation-runtime.js'
import { historyProgressOf } from './history/history-progress.js'
import type { Kernel } from './kernel.js'

export interface GapSyncOptions {
  /** Pull what `peer` has of the conversation (null: every connected member). */
  sync(conversation: ConversationId, peer: string | null): void
  /** What we hold of a stream now, to skip gaps that closed during the delay. */
  have(conversation: ConversationId, stream: StreamKey): number
  /** Wait before asking, ms. Default 150: envelopes reordered in flight usually arrive within it. */
  delayMs?: number
  /** Most remembered claims; past it the memory is cleared (worst case: a claim is asked for twice). */
  maxRemembered?: number
  /** Told of every claim beyond what we hold (the history progress counts what exists). */
  claimed?: (conversation: ConversationId, stream: StreamKey, claimed: number) => void
}

interface Wanted {
  stream: StreamKey
  claimed: number
  peer: string | null
}

export class GapSync {
  private readonly options: GapSyncOptions
  private readonly delayMs: number
  private readonly maxRemembered: number
  /**
   * Highest position asked for, by `${conversation}/${stream}/${peer}`: per peer, because a member that could not serve
   * a claim may be followed by one that can (it just fetched what the first one lacked).
   */
  private readonly asked = new Map<string, number>()
  private readonly wanted = new Map<ConversationId, Wanted[]>()
  private readonly timers = new Map<ConversationId, NodeJS.Timeout>()
  private stopped = false

  constructor(options: GapSyncOptions) {
    this.options = options
    this.delayMs = options.delayMs ?? 150
    this.maxRemembered = options.maxRemembered ?? 50_000
  }

  /** `stream` is known to reach `claimed` (seen from `peer`, null when unknown) while we hold up to `have`. */
  notice(conversation: ConversationId, stream: StreamKey, have: number, claimed: number, peer: string | null): void {
    if (this.stopped || claimed <= have) return
    this.options.claimed?.(conversation, stream, claimed)
    const key = `${conversation}/${stream}/${peer ?? ''}`
    if ((this.asked.get(key) ?? 0) >= claimed) return
    if (this.asked.size >= this.maxRemembered) this.asked.clear()
    this.asked.set(key, claimed)
    const list = this.wanted.get(conversation) ?? []
    list.push({ stream, claimed, peer })
    this.wanted.set(conversation, list)
    if (this.timers.has(conversation)) return
    const timer = setTimeout(() => this.flush(conversation), this.delayMs)
    timer.unref()
    this.timers.set(conversation, timer)
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    this.wanted.clear()
  }

  private flush(conversation: ConversationId): void {
    this.timers.delete(conversation)
    const list = this.wanted.get(conversation) ?? []
    this.wanted.delete(conversation)
    if (this.stopped) return
    const peers = new Set<string | null>()
    for (const w of list) if (this.options.have(conversation, w.stream) < w.claimed) peers.add(w.peer)
    // Asking every member covers whichever one named the gap.
    if (peers.has(null)) this.options.sync(conversation, null)
    else for (const peer of peers) this.options.sync(conversation, peer)
  }
}

/** The core's gap sync: a gap in a stream asks the member device that showed it (or every member) for what is missing. */
export function gapSyncOf(kernel: Kernel, syncWith: (peer: string, id: ConversationId) => Promise<void>): GapSync {
  return new GapSync({
    sync: (id, peer) => {
      const rt = kernel.conversations.get(id)
      if (!rt || kernel.stopped) return
      const members = kernel.memberPeers(rt)
      for (const p of peer !== null && members.includes(peer) ? [peer] : members) {
        kernel.counters.count('gap-sync')
        drop(syncWith(p, id), (err) => kernel.log.debug({ err, peer: p }, 'gap sync failed'))
      }
    },
    have: (id, stream) => kernel.conversations.get(id)?.streams.get(stream)?.have ?? 0,
    claimed: (id, stream, seq) => historyProgressOf(kernel).claim(id, stream, seq),
  })
}
