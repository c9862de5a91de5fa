import { drop } from '../../common/errors.js'
import type { HearthNode } from '../../common/net/create-node.js'
import { handleProtocol } from '../../common/net/request-response.js'
import type { ConversationSummary, InviteView, MemberView, MessageView, Page, PeerView, RemovedMemberView, SystemLineView, WhoAmI } from '../api/types.js'
import type { Identity } from '../identity/identity.js'
import type { ConversationId, MessageId } from '../ids.js'
import type { CoreStore } from '../store/core-store.js'
import { JOIN_PROTOCOL, SYNC_PROTOCOL } from '../sync/sync-frames.js'
import { loadRuntime } from './conversation-loader.js'
import type { ConversationRuntime } from './conversation-runtime.js'
import { Withdrawals } from './equivocation.js'
import { CoreEventBus } from './events.js'
import { gapSyncOf, type GapSync } from './gap-sync.js'
import { GossipRateLimit } from './gossip-rate-limit.js'
import type { ReadModel } from './history/read-model.js'
import { Kernel } from './kernel.js'
import type { LinkProbe } from './link-probe.js'
import { Logger } from './logger.js'
import { memberLinks } from './member-links.js'
import type { MemberReconnect, ReconnectSchedule } from './member-reconnect.js'
import { ConversationCommands } from './membership/commands.js'
import { GroupLife } from './membership/group-life.js'
import { JoinClient } from './membership/join-client.js'
import { JoinServer } from './membership/join-server.js'
import { JoinRelayAdmin } from './membership/join-relay-admin.js'
import { JoinRelayJoiner } from './membership/join-relay-joiner.js'
import { RelayMailboxResolver } from './membership/join-relay-resolver.js'
import { INVITE_LOOKUP_LIMITS, INVITE_LOOKUP_PROTOCOL, JoinLookupServer, OwnShortInvites } from './membership/join-lookup.js'
import { OnlinePeerResolver } from './membership/invite-resolver.js'
import { MembershipEngine } from './membership/membership-engine.js'
import { dialableAddresses, peers, waitForPeer } from './network/peers.js'
import { ChatRequests } from './network/chat-requests.js'
import { Receipts } from './receipts/receipts.js'
import { Typing } from './receipts/typing.js'
import { MessageDetails } from './history/message-details.js'
import { signalRouter } from './receive/signals.js'
import { Admission } from './receive/admission.js'
import { gossipValidator } from './receive/gossip-validator.js'
import { Inbox } from './receive/inbox.js'
import { Ingest } from './receive/ingest.js'
import { StreamProcessor } from './receive/stream-processor.js'
import { refreshSubscriptions } from './receive/subscriptions.js'
import type { MailboxPort, RelayStatus } from './relays/relay-mailboxes.js'
import { RelayService } from './relays/relay-service.js'
import { SecurityCounters } from './security-counters.js'
import { Outbox } from './send/outbox.js'
import { followPrefs } from './settings/follow-prefs.js'
import type { BlobStore } from './blobs/blob-store.js'
import { FileService } from './blobs/file-service.js'
import { RelayFiles } from './blobs/relay-files.js'
import type { RelayBlobClient } from '../../common/net/relay-blob-client.js'
import { SerialQueue } from './serial-queue.js'
import { Devices } from './devices/devices.js'
import { OwnDrafts } from './devices/own-sync-drafts.js'
import { Settings, type CoreSettings } from './settings/settings.js'
import { ConversationPrefsStore, type PrefsPatch } from './settings/conversation-prefs.js'
import { ReadModelWithPrefs } from './settings/read-model-with-prefs.js'
import { People } from './people/people.js'
import { VerifiedPeople } from './people/verified-people.js'
import { SYNC_LIMITS, JOIN_LIMITS } from './sync/protocol-limits.js'
import { SyncClient } from './sync/sync-client.js'
import { SyncServer } from './sync/sync-server.js'

export type { CoreSettings } from './settings/settings.js'

export interface CoreOptions {
  identity: Identity
  store: CoreStore
  node: HearthNode
  now?: () => number
  logger?: Logger
  /** Anti-entropy: how often to sync with connected members even when nothing seems missing. */
  syncIntervalMs?: number
  /** When lost connections to members' devices are retried (tests shorten it). */
  reconnectSchedule?: Partial<ReconnectSchedule>
  /** The relay mailbox client; without it the core uses no relays (LAN only). */
  mailbox?: MailboxPort
  /** Relay pass interval and long-poll wait (tests shorten them). */
  relayTiming?: { intervalMs?: number; waitMs?: number }
  /** Writes the identity (wrapped with the key provider) durably: the display name lives in it. */
  saveIdentity: (identity: Identity) => Promise<void>
  /** Each member device's gossip allowance per conversation (default: gossip-rate-limit.ts). */
  gossipAllowance?: { burst: number; perSecond: number }
  /** How long a join waits for the inviting device before asking through the relay (join-relay-joiner.ts). */
  joinDirectWaitMs?: number
  /** Another device of the account revoked this one: wipe its keys and stop (default: only stop). */
  onRevoked?: () => void
  /** Encrypted files of photos and attachments, on disk beside the database (blobs/blob-store.ts). */
  blobs: BlobStore
  /** The relay blob client: files for members who are away; without it, files move only between members' devices. */
  relayBlobs?: RelayBlobClient
}

/**
 * The Hearth core: identity, conversations, history, sync. One instance is the single writer of its database.
 *
 * This class is the facade: the API's methods and the start/stop wiring. The work is done by parts that each own one
 * job (docs/adr/0019):
 *
 *   send       send/outbox.ts → send/own-stream.ts (the one place that seals into our stream) → one synced batch →
 *              events → gossip; relays/ deposits it in the mailboxes.
 *   receive    receive/gossip-validator.ts (or a sync page, or a mailbox) → receive/inbox.ts → receive/admission.ts →
 *              receive/ingest.ts (store, dedupe, equivocation, gaps, control envelopes) → receive/stream-processor.ts
 *              (decrypt, apply per shard, rows, one synced batch) → events → receipts/.
 *   membership membership/membership-engine.ts (the log and what follows from it), commands.ts, join-client.ts,
 *              join-server.ts.
 *   sync       sync/sync-client.ts, sync/sync-server.ts, gap-sync.ts, member-reconnect.ts, link-probe.ts.
 *   reading    history/read-model.ts, history/views.ts, history/message-state.ts (the one state transition).
 */
export class Core {
  readonly store: CoreStore
  readonly node: HearthNode
  readonly events = new CoreEventBus()
  readonly counters = new SecurityCounters()
  private readonly kernel: Kernel
  private readonly syncIntervalMs: number
  private syncTimer: NodeJS.Timeout | undefined
  private readonly unsubscribers: Array<() => void> = []
  private readonly withdrawals: Withdrawals
  private readonly gaps: GapSync
  private readonly reconnect: MemberReconnect
  private readonly linkProbe: LinkProbe
  private readonly readModel: ReadModel
  private readonly receipts: Receipts
  private readonly membership: MembershipEngine
  private readonly commands: ConversationCommands
  private readonly groupLife: GroupLife
  private readonly joinClient: JoinClient
  private readonly joinServer: JoinServer
  private readonly joinLookup: JoinLookupServer
  private readonly joinRelayAdmin: JoinRelayAdmin | undefined
  private readonly joinRelayJoiner: JoinRelayJoiner
  private readonly outbox: Outbox
  private readonly ingest: Ingest
  private readonly inbox: Inbox
  private readonly processor: StreamProcessor
  private readonly syncClient: SyncClient
  private readonly syncServer: SyncServer
  private readonly relays: RelayService
  private readonly settingsPart: Settings
  private readonly validate: ReturnType<typeof gossipValidator>
  private readonly typingPart: Typing
  /** A message's versions and who has read it (history/message-details.ts). */
  readonly details: MessageDetails
  private readonly prefs: ConversationPrefsStore
  /** Requests to start a direct chat with a device nearby, both ways (network/chat-requests.ts; docs/adr/0024). */
  readonly chatRequests: ChatRequests
  /** Photos and files: the API's files.* methods and messages.send with attachments (blobs/file-service.ts). */
  readonly files: FileService
  private readonly verified: VerifiedPeople
  /** Verifying a person: safety numbers and the verified mark (people/people.ts; docs/adr/0031). */
  readonly people: People
  /** This account's devices: link, revoke, list (devices/devices.ts; docs/adr/0032). */
  readonly devices: Devices
  /** Unsent text per conversation, in step across this account's devices (devices/own-sync-drafts.ts). */
  readonly drafts = new OwnDrafts()

  constructor(options: CoreOptions) {
    this.store = options.store
    this.node = options.node
    const kernel = new Kernel(
      options.identity,
      options.store,
      options.node,
      options.now ?? Date.now,
      options.logger ?? Logger.silent(),
      new SerialQueue(),
      this.events,
      this.counters,
    )
    this.kernel = kernel
    this.syncIntervalMs = options.syncIntervalMs ?? 15_000
    const gossipRate = new GossipRateLimit(options.gossipAllowance ?? {})
    this.withdrawals = new Withdrawals({ store: this.store, counters: this.counters, events: this.events, now: kernel.now })
    this.gaps = gapSyncOf(kernel, (peer, id) => this.syncClient.syncWith(peer, id))
    const links = memberLinks({
      node: this.node,
      isMember: (peer) => kernel.isMemberPeer(peer),
      counters: this.counters,
      logger: kernel.log,
      ...(options.reconnectSchedule === undefined ? {} : { schedule: options.reconnectSchedule }),
    })
    this.reconnect = links.reconnect
    this.linkProbe = links.probe

    this.prefs = new ConversationPrefsStore(options.store, kernel.now)
    this.verified = new VerifiedPeople(options.store, kernel.now)
    this.people = new People(kernel, this.verified, (id) => this.events.emit('members.changed', { conversation: id, members: this.members(id) }))
    this.readModel = new ReadModelWithPrefs(kernel, this.withdrawals, (id) => this.receipts.schedule(id, 0), this.prefs)
    this.receipts = new Receipts(kernel, this.readModel, this.gaps)
    this.relays = new RelayService(kernel, this.readModel, {
      mailbox: options.mailbox,
      timing: options.relayTiming,
      ingest: (rt, items) => this.ingest.ingest(rt, items),
      verifyAhead: (rt, envelopes) => this.ingest.verifyAhead(rt, envelopes),
    })
    this.membership = new MembershipEngine(kernel, this.readModel, {
      announce: (rt) => {
        this.readModel.emitConversation(rt.id)
        this.events.emit('members.changed', { conversation: rt.id, members: this.people.decorate(this.commands.members(rt.id)) })
        this.emitPeers()
      },
      followUp: async (rt) => {
        this.subscribe(rt)
        for (const key of rt.streams.keys()) await this.processor.process(rt, key)
        await this.readModel.withdrawBeyondCutoffs(rt)
      },
      kickRelays: () => this.relays.kick(),
      revoked: () => this.devices.onRevoked(),
    })
    this.devices = new Devices(kernel, this.membership, this.readModel, {
      syncWith: (peer, id) => this.syncClient.syncWith(peer, id),
      wipe: options.onRevoked ?? (() => drop(this.stop())),
      port: options.mailbox,
      ownRelays: () => this.relays.status().map((r) => r.address),
      relaysFor: (rt) => this.relays.relaysFor(rt),
    }, options.relayTiming?.intervalMs)
    this.groupLife = new GroupLife(kernel, this.membership)
    const ownShortInvites = new OwnShortInvites(kernel)
    this.commands = new ConversationCommands(kernel, this.membership, this.readModel, {
      relaysFor: (rt) => this.relays.relaysFor(rt),
      dialableAddresses: () => dialableAddresses(kernel),
      ownShortInvites,
    })
    this.joinLookup = new JoinLookupServer(kernel, ownShortInvites, {
      addresses: () => dialableAddresses(kernel),
      relaysFor: (rt) => this.relays.relaysFor(rt),
    })
    this.syncClient = new SyncClient(kernel, gossipRate, {
      ingest: (rt, items) => this.ingest.ingest(rt, items),
      verifyAhead: (rt, envelopes) => this.ingest.verifyAhead(rt, envelopes),
      addOps: (rt, ops) => this.membership.addOps(rt, ops),
    })
    this.syncServer = new SyncServer(kernel, this.withdrawals, this.gaps)
    // A short link is looked up at its locator; when that device is away and the locator is a relay circuit, in the
    // relay mailbox where the inviting device left the full invite (docs/adr/0027).
    const resolvers = options.mailbox === undefined ? [new OnlinePeerResolver(this.node)] : [new OnlinePeerResolver(this.node), new RelayMailboxResolver(options.mailbox)]
    this.joinClient = new JoinClient(kernel, this.membership, this.readModel, {
      waitForPeer: (peer, ms) => waitForPeer(kernel, peer, ms),
      syncWith: (peer, id) => this.syncClient.syncWith(peer, id),
    }, resolvers)
    this.joinServer = new JoinServer(kernel, this.membership)
    // Joining through a relay while every admin sleeps (docs/adr/0027): admins answer requests left in invite
    // mailboxes; a joiner whose inviter does not answer leaves one and waits.
    const relayJoinInterval = options.relayTiming?.intervalMs === undefined ? undefined : Math.max(500, options.relayTiming.intervalMs)
    this.joinRelayAdmin =
      options.mailbox === undefined
        ? undefined
        : new JoinRelayAdmin(kernel, this.membership, {
            port: options.mailbox,
            relaysFor: (rt) => this.relays.relaysFor(rt),
            ownInvite: (rt, inviteId) => ownShortInvites.secretOf(rt, inviteId)?.keys ?? null,
            addresses: () => dialableAddresses(kernel),
            kickRelays: () => this.relays.kick(),
          }, relayJoinInterval)
    this.joinRelayJoiner = new JoinRelayJoiner(kernel, this.membership, this.readModel, {
      port: options.mailbox,
      resolvers,
      kickRelays: () => this.relays.kick(),
    }, relayJoinInterval, options.joinDirectWaitMs, options.relayTiming?.waitMs)
    this.outbox = new Outbox(kernel, this.readModel, this.withdrawals, {
      kickRelays: () => this.relays.kick(),
      syncMembers: (rt) => this.syncClient.syncMembers(rt, 'retry'),
    })
    const admission = new Admission(() => kernel.identity.deviceId)
    this.validate = gossipValidator(kernel, admission, gossipRate, this.withdrawals)
    this.processor = new StreamProcessor(kernel, this.withdrawals, {
      emitConversation: (rt) => this.readModel.emitConversation(rt.id),
      views: (rt, rows, pending) => this.readModel.views(rt, rows, pending),
    })
    this.typingPart = new Typing(kernel)
    this.details = new MessageDetails(kernel, this.readModel)
    const onSignal = signalRouter(kernel, this.receipts, this.typingPart)
    this.ingest = new Ingest(kernel, admission, this.withdrawals, this.gaps, this.readModel, {
      onSignal,
      afterLogChange: (rt) => this.membership.afterLogChange(rt),
      processStream: (rt, key, fresh) => this.processor.process(rt, key, fresh),
      scheduleReceipt: (rt, delayMs) => this.receipts.schedule(rt.id, delayMs),
    })
    this.inbox = new Inbox(kernel, (rt, items) => this.ingest.ingest(rt, items))
    this.settingsPart = new Settings(kernel, this.membership, this.relays, options.saveIdentity)
    this.files = new FileService(kernel, options.blobs, {
      send: (id, intent) => this.outbox.send(id, intent),
      settings: () => this.settingsPart.files(),
      emitConversation: (id) => this.readModel.emitConversation(id),
      relays: new RelayFiles(kernel, options.blobs, options.relayBlobs, (id) => {
        const rt = kernel.conversations.get(id)
        return rt === undefined ? [] : this.relays.relaysFor(rt)
      }),
    })
    this.readModel.fileViews = (row) => this.files.views(row)
    kernel.forgotten.push((rows) => drop(this.files.forget(rows), (err) => kernel.log.warn({ err }, 'removing the files of a deleted message failed')))
    this.chatRequests = new ChatRequests(kernel, {
      createDirect: (name) => this.commands.create({ kind: 'direct', name }),
      createInvite: (id, o) => this.commands.createInvite(id, o),
      revokeInvite: (id, inviteId) => this.commands.revokeInvite(id, inviteId),
      join: (code) => this.joinClient.join(code),
      summary: (id) => {
        const rt = kernel.conversations.get(id)
        return rt === undefined ? undefined : this.readModel.summary(rt)
      },
      knownName: (peer) => this.peers().find((p) => p.peerId === peer)?.displayName ?? null,
    })
  }

  /** Who this device is; replaced (never mutated) when the display name changes. */
  get identity(): Identity {
    return this.kernel.identity
  }

  // ---------------------------------------------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    const { kernel } = this
    this.relays.restore((await this.store.getSettings())?.relays ?? [])
    await this.settingsPart.load()
    await this.prefs.load()
    await this.verified.load()
    for (const record of await this.store.listConversations()) {
      const rt = await loadRuntime(this.store, kernel.identity.deviceId, record)
      await this.withdrawals.load(record.id)
      kernel.conversations.set(record.id, rt)
    }
    await handleProtocol(this.node, SYNC_PROTOCOL, SYNC_LIMITS, (req, ctx) => this.syncServer.serve(req, ctx.peer))
    await handleProtocol(this.node, JOIN_PROTOCOL, JOIN_LIMITS, (req, ctx) => this.joinServer.serve(req, ctx.peer))
    await handleProtocol(this.node, INVITE_LOOKUP_PROTOCOL, INVITE_LOOKUP_LIMITS, async (req) => this.joinLookup.serve(req))
    await this.chatRequests.start()
    this.unsubscribers.push(await this.devices.start())
    this.unsubscribers.push(await followPrefs(kernel, { prefs: this.prefs, settings: this.settingsPart, readModel: this.readModel, chatRequests: this.chatRequests, labels: this.devices.labels, drafts: this.drafts, verified: this.people, isOwnDevicePeer: (p) => this.devices.isOwnDevicePeer(p) }))
    this.unsubscribers.push(this.files.follow())
    // A new invite's mailbox goes into the directory at once, so any admin can answer it once its maker is away.
    this.unsubscribers.push(this.events.on('members.changed', () => this.joinRelayAdmin?.kick()))
    this.unsubscribers.push(this.node.onPeerConnected((peer) => this.onPeerConnected(peer)))
    this.unsubscribers.push(
      this.node.onPeerDisconnected((peer) => {
        this.emitPeers()
        this.reconnect.lost(peer)
      }),
    )
    for (const rt of kernel.conversations.values()) {
      this.subscribe(rt)
      await kernel.queue.run(() => this.membership.afterLogChange(rt))
    }
    // A rename that stopped half way (crash, power cut) is finished before anything else is written.
    await kernel.queue.run(() => this.settingsPart.announcePendingName())
    this.syncTimer = setInterval(() => this.syncClient.everyone(), this.syncIntervalMs)
    this.syncTimer.unref()
    for (const peer of this.node.connectedPeers()) this.onPeerConnected(peer)
    this.linkProbe.start()
    this.relays.start()
    await this.joinRelayJoiner.load()
    this.joinRelayJoiner.start()
    this.joinRelayAdmin?.start()
    await this.files.start()
  }

  async stop(): Promise<void> {
    const { kernel } = this
    if (kernel.stopped) return
    kernel.stopped = true
    this.gaps.stop()
    this.linkProbe.stop()
    this.reconnect.stop()
    if (this.syncTimer) clearInterval(this.syncTimer)
    this.receipts.stop()
    this.membership.stop()
    for (const u of this.unsubscribers) u()
    await this.chatRequests.stop()
    await this.files.stop()
    await this.joinRelayAdmin?.stop()
    await this.joinRelayJoiner.stop()
    await this.relays.stop()
    await kernel.queue.idle()
    await this.syncClient.idle()
  }

  whoami(): WhoAmI {
    const { identity } = this
    return { account: identity.account, device: identity.deviceId, displayName: identity.displayName, peerId: identity.peerId, addresses: this.node.addresses() }
  }

  // ------------------------------------------------------------------------------------------------- settings

  /** What the user configured: the relays to use besides those learnt from invites and the DHT. */
  settings(): CoreSettings {
    return this.settingsPart.current()
  }

  updateSettings(patch: Parameters<Settings['update']>[0]): Promise<CoreSettings> {
    return this.settingsPart.update(patch).finally(() => this.files.settingsChanged())
  }

  /** Relays found on the DHT (relays provide a well-known key); only used to top a conversation up to two. */
  discoverRelays(): Promise<void> {
    return this.relays.discover()
  }

  relayStatus(): RelayStatus[] {
    return this.relays.status()
  }

  // -------------------------------------------------------------------------------------------- conversations

  createConversation(input: { kind: 'direct' | 'group'; name: string }): Promise<ConversationSummary> {
    return this.commands.create(input)
  }

  listConversations(): ConversationSummary[] {
    const waiting = this.joinRelayJoiner.summaries()
    if (waiting.length === 0) return this.readModel.list()
    const pending = new Set(waiting.map((s) => s.id))
    return [...waiting, ...this.readModel.list().filter((s) => !pending.has(s.id))]
  }

  getConversation(id: ConversationId): ConversationSummary {
    return this.joinRelayJoiner.summaryOf(id) ?? this.readModel.summary(this.kernel.runtime(id))
  }

  members(id: ConversationId): MemberView[] {
    // A join still waiting on the relay is listed, and has nobody in it yet (nor messages, below).
    if (this.joinRelayJoiner.onlyPending(id)) return []
    return this.people.decorate(this.commands.members(id))
  }

  createInvite(
    id: ConversationId,
    options: { expiresInMs?: number; singleUse?: boolean } = {},
  ): Promise<{ code: string; inviteId: string; expiresAt: number; shortLink: string | null }> {
    return this.commands.createInvite(id, options)
  }

  /** The conversation's invites that can still admit someone, with their links where this device made them. */
  invites(id: ConversationId): InviteView[] {
    return this.commands.invites(id)
  }

  revokeInvite(id: ConversationId, inviteId: string): Promise<void> {
    return this.commands.revokeInvite(id, inviteId)
  }

  /**
   * Redeems an invite: asks the inviting device to admit us, then syncs. When it does not answer within a few seconds
   * and the invite names relays, asks through them instead: the summary then has `joinState: 'waiting'`, and
   * 'conversation.updated' tells when an admin let us in (or refused).
   */
  join(code: string): Promise<ConversationSummary> {
    return this.joinRelayJoiner.join(code, (full) => this.joinClient.join(full))
  }

  /** Forgets a waiting or refused join (the conversation list stops showing it). */
  dismissJoin(id: ConversationId): Promise<void> {
    return this.joinRelayJoiner.forget(id)
  }

  removeMember(id: ConversationId, account: string): Promise<void> {
    return this.commands.removeMember(id, account)
  }

  removedMembers(id: ConversationId): RemovedMemberView[] {
    return this.commands.removedMembers(id)
  }

  addBack(id: ConversationId, account: string): Promise<void> {
    return this.commands.addBack(id, account)
  }

  setRole(id: ConversationId, account: string, role: 'admin' | 'member'): Promise<void> {
    return this.commands.setRole(id, account, role)
  }

  /** A group's new name and/or description (admins); the summary as it is then. */
  async updateGroup(id: ConversationId, input: { name?: string; description?: string }): Promise<ConversationSummary> {
    await this.groupLife.update(id, input)
    return this.readModel.summary(this.kernel.runtime(id))
  }

  /** Leaves a group: read-only here from then on, marked as left. */
  async leaveGroup(id: ConversationId): Promise<ConversationSummary> {
    await this.groupLife.leave(id)
    return this.readModel.summary(this.kernel.runtime(id))
  }

  /** The timeline's lines of what happened (membership-events.ts), oldest first. */
  systemLines(id: ConversationId): SystemLineView[] {
    if (this.joinRelayJoiner.onlyPending(id)) return []
    return this.people.decorateLines(id, this.groupLife.systemLines(id))
  }

  /** This person's mute, archive and pin for one conversation; every window and every other device of theirs hears of it. */
  async setConversationPrefs(id: ConversationId, patch: PrefsPatch): Promise<ConversationSummary> {
    const rt = this.kernel.runtime(id)
    await this.prefs.set(rt.id, patch)
    this.readModel.emitConversation(rt.id)
    return this.readModel.summary(rt)
  }

  // ------------------------------------------------------------------------------------------------- messages

  /** A text message, perhaps answering another (`replyTo`) and mentioning members (`mentions`, accounts). */
  send(id: ConversationId, body: string, options: { replyTo?: string | undefined; mentions?: string[] | undefined } = {}): Promise<MessageView> {
    return this.outbox.send(id, { kind: 'text', body, replyTo: options.replyTo as MessageId | undefined, mentions: options.mentions })
  }

  /** A new text for one of our messages; everyone sees the latest and that it was edited. `mentions` replaces its mentions. */
  edit(id: ConversationId, messageId: string, body: string, options: { mentions?: string[] | undefined } = {}): Promise<MessageView> {
    return this.outbox.send(id, { kind: 'edit', target: messageId as MessageId, body, mentions: options.mentions })
  }

  /** Our one reaction to a message (a new one replaces the old; null takes it away). */
  react(id: ConversationId, messageId: string, emoji: string | null): Promise<MessageView> {
    return this.outbox.send(id, { kind: 'reaction', target: messageId as MessageId, emoji })
  }

  /** Delete for everyone (our own messages) or for me (this device only). */
  async deleteMessage(id: ConversationId, messageId: string, forEveryone: boolean): Promise<void> {
    if (forEveryone) {
      await this.outbox.send(id, { kind: 'delete', target: messageId as MessageId })
      return
    }
    const row = await this.store.getMessage(id, messageId as MessageId)
    await this.details.hide(id, messageId as MessageId)
    // Deleted for me: its files leave this device too, as WhatsApp and Signal do.
    if (row !== undefined) await this.files.forget([row])
  }

  /** The person is typing: members see it for a few seconds (a signal: never stored, never relayed). */
  typing(id: ConversationId): Promise<void> {
    return this.typingPart.typing(id)
  }

  retry(id: ConversationId, messageId: string): Promise<MessageView> {
    return this.outbox.retry(id, messageId)
  }

  page(id: ConversationId, options: { before?: string | undefined; limit?: number | undefined } = {}): Promise<Page> {
    if (this.joinRelayJoiner.onlyPending(id)) return Promise.resolve({ messages: [], nextBefore: null })
    return this.readModel.page(id, options)
  }

  markRead(id: ConversationId, upTo?: string): Promise<ConversationSummary> {
    return this.readModel.markRead(id, upTo)
  }

  // -------------------------------------------------------------------------------------------------- network

  peers(): PeerView[] {
    return peers(this.kernel)
  }

  /** Pulls what `peer` has and we lack for one conversation (or all we share). Concurrent calls coalesce. */
  syncWith(peer: string, conversation?: ConversationId): Promise<void> {
    return this.syncClient.syncWith(peer, conversation)
  }

  /** Waits until queued work (ingest, sends) has been applied. For tests and orderly shutdown. */
  async settle(): Promise<void> {
    await this.inbox.flush()
    await this.kernel.queue.idle()
  }

  // ------------------------------------------------------------------------------------ seams for attack tests

  /**
   * The conversations in memory and the gossip inbox: integration tests reach them (through a cast) to play a modified
   * client, with real keys, against real cores. Not part of the API.
   */
  private get conversations(): ReadonlyMap<ConversationId, ConversationRuntime> {
    return this.kernel.conversations
  }

  /** Waits for the passes of joining through a relay (tests and the benchmark). */
  private async relayJoinIdle(): Promise<void> {
    await this.joinRelayAdmin?.idle()
  }

  private enqueue(id: ConversationId, bytes: Uint8Array, from: string | null): void {
    this.inbox.enqueue(id, bytes, from)
  }

  // ---------------------------------------------------------------------------------------------- wiring

  private subscribe(rt: ConversationRuntime): void {
    refreshSubscriptions(this.kernel, rt, this.validate, (r, data, from) => this.inbox.enqueue(r.id, data, from))
  }

  private onPeerConnected(peer: string): void {
    this.emitPeers()
    if (this.kernel.stopped) return
    this.relays.peerConnected(peer)
    this.joinRelayAdmin?.kick()
    this.joinRelayJoiner.kick()
    drop(this.syncClient.syncWith(peer), (err) => this.kernel.log.debug({ err, peer }, 'sync on connect failed'))
    if (this.kernel.isMemberPeer(peer)) this.files.retryWaiting()
  }

  private emitPeers(): void {
    this.events.emit('peer.changed', { peers: this.peers() })
  }
}
