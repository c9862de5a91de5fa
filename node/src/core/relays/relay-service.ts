import { drop } from '../../../common/errors.js'
import { findRelays } from '../../../common/net/mailbox-client.js'
import type { ConversationId, EpochId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { nextState } from '../history/message-state.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { Arrival } from '../receive/ingest.js'
import { RelayMailboxes, relayPeerOf, type MailboxHost, type MailboxPort, type RelayStatus } from './relay-mailboxes.js'

/** Mailbox copies per conversation: two survive one relay being down; a third covers a slow or full one. */
const MAX_CONVERSATION_RELAYS = 3
const MIN_CONVERSATION_RELAYS = 2
/** How often to look for relays on the DHT. */
const RELAY_DISCOVERY_INTERVAL_MS = 10 * 60_000

export interface RelayServiceOptions {
  /** The relay mailbox client; without it the core uses no relays (LAN only). */
  mailbox?: MailboxPort | undefined
  /** Relay pass interval and long-poll wait (tests shorten them). */
  timing?: { intervalMs?: number; waitMs?: number } | undefined
  /** Envelopes fetched from a mailbox enter the receive path here. */
  ingest(rt: ConversationRuntime, items: Arrival[]): Promise<void>
  /** The next page fetched while one is ingested: its signatures can be verified meanwhile. */
  verifyAhead(rt: ConversationRuntime, envelopes: readonly Uint8Array[]): void
}

/**
 * Which relays each conversation uses (the person's own, those its invite named, topped up from the DHT) and the
 * mailbox client that deposits our envelopes there and fetches members'.
 */
export class RelayService {
  /** The person's relays (settings), kept in memory: the relay client asks for them on every pass. */
  private configured: string[] = []
  private discovered: string[] = []
  private discoveryTimer: NodeJS.Timeout | undefined
  private readonly mailboxes: RelayMailboxes | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly readModel: ReadModel,
    private readonly options: RelayServiceOptions,
  ) {
    if (options.mailbox !== undefined) {
      this.mailboxes = new RelayMailboxes({
        host: this.mailboxHost(),
        port: options.mailbox,
        logger: kernel.log,
        now: kernel.now,
        ...options.timing,
      })
      this.mailboxes.onStatus((relays) => kernel.events.emit('relay.changed', { relays }))
    }
  }

  /** The mailbox client, if relays are in use (tests reach it to play a modified client). */
  get client(): RelayMailboxes | undefined {
    return this.mailboxes
  }

  get configuredRelays(): string[] {
    return this.configured
  }

  setConfigured(relays: string[]): void {
    this.configured = relays
    this.kick()
  }

  /** The person's relays as stored, before anything else reads them. */
  restore(configured: string[]): void {
    this.configured = configured
  }

  start(): void {
    this.mailboxes?.start()
    if (this.mailboxes !== undefined && this.kernel.node.libp2p.services.dht !== undefined) {
      const discover = () => drop(this.discover(), (err) => this.kernel.log.debug({ err }, 'relay discovery failed'))
      this.discoveryTimer = setInterval(discover, RELAY_DISCOVERY_INTERVAL_MS)
      this.discoveryTimer.unref()
      discover()
    }
  }

  async stop(): Promise<void> {
    if (this.discoveryTimer) clearInterval(this.discoveryTimer)
    await this.mailboxes?.stop()
  }

  /** Our stream has new envelopes: deposit them soon. */
  kick(): void {
    this.mailboxes?.kick()
  }

  peerConnected(peer: string): void {
    if (this.mailboxes !== undefined && this.isRelay(peer)) this.mailboxes.relayConnected(peer)
  }

  /** Relays for a conversation: the user's own first, then those its invite named; at most MAX_CONVERSATION_RELAYS. */
  relaysFor(rt: ConversationRuntime): string[] {
    const chosen = [...new Set([...this.configured, ...(rt.record.relays ?? [])])]
    // Two relays survive one being down: top up from the DHT when settings and the invite name fewer.
    for (const found of this.discovered) {
      if (chosen.length >= MIN_CONVERSATION_RELAYS) break
      if (!chosen.some((a) => relayPeerOf(a) === relayPeerOf(found))) chosen.push(found)
    }
    return chosen.slice(0, MAX_CONVERSATION_RELAYS)
  }

  /** How each relay in use answered last: the UI shows refusals (quota, disk) instead of failing silently. */
  status(): RelayStatus[] {
    const known = new Map((this.mailboxes?.statuses() ?? []).map((r) => [r.address, r]))
    const all = new Set([...this.configured, ...[...this.kernel.conversations.values()].flatMap((rt) => this.relaysFor(rt))])
    return [...all].map((address) => known.get(address) ?? { address, peerId: relayPeerOf(address), state: 'unknown', detail: null, at: 0 })
  }

  /** Relays found on the DHT (relays provide a well-known key); only used to top a conversation up to two. */
  async discover(): Promise<void> {
    if (this.kernel.node.libp2p.services.dht === undefined || this.kernel.stopped) return
    const found = await findRelays(this.kernel.node, { max: 8 })
    this.discovered = found.flatMap((r) => r.addresses.slice(0, 1))
    if (found.length > 0) this.kick()
  }

  private isRelay(peer: string): boolean {
    for (const rt of this.kernel.conversations.values()) if (this.relaysFor(rt).some((a) => relayPeerOf(a) === peer)) return true
    return false
  }

  /** What the relay client sees of the core: conversations with their mailboxes, our streams, the receive path. */
  private mailboxHost(): MailboxHost {
    const kernel = this.kernel
    const { store, queue } = kernel
    return {
      targets: () =>
        [...kernel.conversations.values()]
          .filter((rt) => !rt.record.removed)
          .map((rt) => ({
            conversation: rt.id,
            relays: this.relaysFor(rt),
            epochs: [...rt.epochs.values()].map((k) => ({ epoch: k.id, mailboxSecret: k.mailboxSecret, current: k.id === rt.log.currentEpoch })),
          }))
          .filter((t) => t.relays.length > 0),
      ownHave: (c, e) => {
        const rt = kernel.conversations.get(c)
        return rt ? kernel.ownHave(rt, e) : 0
      },
      ownEnvelopes: async (c, e, after, max) => {
        const list = await store.envelopesAfter(c, e, kernel.identity.deviceId, after, max)
        return list.map((bytes, i) => ({ seq: after + 1 + i, bytes }))
      },
      receive: (c, envelopes) =>
        queue.run(async () => {
          const rt = kernel.conversations.get(c)
          // `from` is null: a relay only passes on what members deposited, so it is not blamed for their garbage.
          if (rt) await this.options.ingest(rt, envelopes.map((bytes) => ({ bytes, from: null })))
        }),
      verifyAhead: (c, envelopes) => {
        const rt = kernel.conversations.get(c)
        if (rt) this.options.verifyAhead(rt, envelopes)
      },
      deposited: (c, e, after, upTo) => queue.run(() => this.deposited(c, e, after, upTo)),
      loadCursor: async (c, e, relay) => (await store.getRelayCursor(c, e, relay)) ?? { deposited: 0, cursor: null },
      saveCursor: (c, e, relay, cursor) => store.commit([store.putRelayCursor(c, e, relay, cursor)], true),
      isConnected: (peer) => kernel.node.connectedPeers().includes(peer),
    }
  }

  /** A relay holds our envelopes after `after` up to `upTo`: the messages they carry are sent. */
  private async deposited(c: ConversationId, e: EpochId, after: number, upTo: number): Promise<void> {
    const { store } = this.kernel
    const rows: MessageRow[] = []
    for (const id of await store.mineBetween(c, e, after, upTo)) {
      const row = await store.getMessage(c, id)
      const sent = row && nextState(row, { type: 'deposited' })
      if (sent) rows.push(sent)
    }
    if (rows.length > 0) await this.readModel.updateRows(c, rows)
  }
}
