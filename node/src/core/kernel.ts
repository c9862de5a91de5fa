import { HLC_ZERO, decodeHlc, hlcNow, hlcReceive, type Hlc } from '../../../crdt/src/index.js'
import { HearthError } from '../../common/errors.js'
import type { HearthNode } from '../../common/net/create-node.js'
import { memberDevices, type MemberState } from '../conversation/membership-log.js'
import type { Identity } from '../identity/identity.js'
import type { AccountId, ConversationId, EpochId } from '../ids.js'
import { asConversationId } from '../ids.js'
import type { CoreStore, MessageRow } from '../store/core-store.js'
import type { ConversationRuntime } from './conversation-runtime.js'
import type { CoreEventBus } from './events.js'
import type { Logger } from './logger.js'
import type { SecurityCounters } from './security-counters.js'
import type { SerialQueue } from './serial-queue.js'

/**
 * What every part of the core shares: who we are, the store, the node, the clock, the serial queue every write goes
 * through, events and counters, and the conversations held in memory. The parts (send/, receive/, membership/, sync/,
 * receipts/, relays/, settings/, history/) each own one job and reach each other only through the facade's wiring
 * (core.ts); this is the one object they all hold.
 */
export class Kernel {
  readonly conversations = new Map<ConversationId, ConversationRuntime>()
  /** Told, after the fact, of messages deleted for everyone (history/forget.ts): their files leave the disk too. */
  readonly forgotten: Array<(rows: readonly MessageRow[]) => void> = []
  private hlc: Hlc = HLC_ZERO
  stopped = false

  constructor(
    private currentIdentity: Identity,
    readonly store: CoreStore,
    readonly node: HearthNode,
    readonly now: () => number,
    readonly log: Logger,
    readonly queue: SerialQueue,
    readonly events: CoreEventBus,
    readonly counters: SecurityCounters,
  ) {}

  /** Who this device is; replaced (never mutated) when the display name changes. */
  get identity(): Identity {
    return this.currentIdentity
  }

  set identity(next: Identity) {
    this.currentIdentity = next
  }

  /** The next timestamp of ours: after everything we have sent or seen. */
  tick(): Hlc {
    this.hlc = hlcNow(this.hlc, this.now())
    return this.hlc
  }

  /** Moves our clock past a timestamp we received. */
  observe(remote: string): void {
    try {
      this.hlc = hlcReceive(this.hlc, decodeHlc(remote), this.now())
    } catch {
      // A remote clock far in the future does not move ours; the message keeps its own timestamp.
    }
  }

  runtime(id: ConversationId): ConversationRuntime {
    const rt = this.conversations.get(asConversationId(id))
    if (rt === undefined) throw new HearthError('NOT_FOUND', 'no such conversation')
    return rt
  }

  memberOf(rt: ConversationRuntime, account: AccountId): MemberState {
    const member = rt.log.members.get(account)
    if (member === undefined) throw new HearthError('NOT_FOUND', 'that account is not a member')
    return member
  }

  requireAdmin(rt: ConversationRuntime): void {
    const me = rt.log.members.get(this.identity.account)
    if (me === undefined) throw new HearthError('NOT_A_MEMBER', 'you are not a member of this conversation')
    if (me.role !== 'admin') throw new HearthError('NOT_AN_ADMIN', 'only admins can do that')
  }

  /** The highest position of our own stream in an epoch (0 before we wrote anything there). */
  ownHave(rt: ConversationRuntime, epoch: EpochId): number {
    return (rt.own.get(epoch)?.next ?? 1) - 1
  }

  /** Who we can sync this conversation with: connected peers that are devices of current members. */
  memberPeers(rt: ConversationRuntime): string[] {
    const connected = new Set(this.node.connectedPeers())
    const peers = new Set<string>()
    for (const cert of memberDevices(rt.log).values()) {
      if (cert.device !== this.identity.deviceId && connected.has(cert.peerId)) peers.add(cert.peerId)
    }
    return [...peers]
  }

  /** A device of a member of any conversation we are still in. */
  isMemberPeer(peer: string): boolean {
    if (peer === this.identity.peerId) return false
    for (const rt of this.conversations.values()) {
      if (rt.record.removed) continue
      for (const cert of memberDevices(rt.log).values()) if (cert.peerId === peer) return true
    }
    return false
  }
}
