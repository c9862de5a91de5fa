import { EventEmitter } from 'node:events'
import type { AttachmentState, ChatRequestView, DeviceView, LinkProgressView, FileReceiptView, ConversationSummary, MemberView, MessageView, PeerView } from '../api/types.js'
import type { AccountId, ConversationId, DeviceId, EpochId } from '../ids.js'
import type { RelayStatus } from './relays/relay-mailboxes.js'

/** Events the core emits; the API carries them to the UI and the CLI's `follow`. */
export interface CoreEvents {
  'message.added': { conversation: ConversationId; message: MessageView }
  'message.updated': { conversation: ConversationId; message: MessageView }
  'conversation.updated': { conversation: ConversationSummary }
  /** The membership log changed (joins, removals, roles, names): the conversation's members as they are now. */
  'members.changed': { conversation: ConversationId; members: MemberView[] }
  'peer.changed': { peers: PeerView[] }
  'security.rejected': { reason: string; peer: string | null }
  /**
   * A member device signed two different envelopes for one position of its stream (equivocation): the evidence is
   * kept and passed on, and what it wrote there is withdrawn on every member.
   */
  'security.equivocation': { conversation: ConversationId; device: DeviceId; account: AccountId; epoch: EpochId; seq: number }
  /** A member is typing in a conversation; shown until `until` (ms) unless refreshed or they send. Never stored. */
  typing: { conversation: ConversationId; account: AccountId; displayName: string; until: number }
  /** A relay's state changed (reachable, refusing with a reason, unreachable). */
  'relay.changed': { relays: RelayStatus[] }
  /** Requests to start a direct chat with a device nearby, both ways, as they are now (network/chat-requests.ts). */
  'chat-requests.changed': { requests: ChatRequestView[] }
  /** This account's devices changed (one linked or revoked, one came online or went away). */
  'devices.changed': { devices: DeviceView[] }
  /** Another device of this account set a conversation's draft ('' = cleared) after this one did (own-sync-drafts.ts). */
  'draft.changed': { conversation: ConversationId; text: string }
  /** Linking another device from this one moved on a step (`devices.link`). */
  'devices.linking': LinkProgressView
  /** Another device of this account revoked this one: its keys are being wiped and the core stops. */
  'device.revoked': Record<string, never>
  /** A file of a message moved on (bytes received, state changed): often, while it downloads; the UI shows progress. */
  'file.progress': {
    conversation: ConversationId
    message: string
    index: number
    state: AttachmentState
    received: number
    size: number
    error?: string
    /** Ours only: who fetched it from this device, as `AttachmentView.receivedBy` / `recipients`. */
    receivedBy?: FileReceiptView[]
    recipients?: number
  }
}

export type CoreEventName = keyof CoreEvents

export class CoreEventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false })

  constructor() {
    this.emitter.setMaxListeners(100)
  }

  /** A listener that throws must not break the core path that emitted the event: its error is reported, not raised. */
  emit<E extends CoreEventName>(event: E, payload: CoreEvents[E]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        ;(listener as (p: CoreEvents[E]) => void)(payload)
      } catch (err) {
        this.onListenerError(err, event)
      }
    }
  }

  onListenerError: (err: unknown, event: string) => void = () => {}

  on<E extends CoreEventName>(event: E, listener: (payload: CoreEvents[E]) => void): () => void {
    this.emitter.on(event, listener)
    return () => this.emitter.off(event, listener)
  }
}
