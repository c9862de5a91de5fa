import { multiaddr } from '@multiformats/multiaddr'
import { Logger } from './logger.js'
import {
  HLC_ZERO,
  MAX_BODY_CHARS,
  applyRemoteChanges,
  createShard,
  decodeHlc,
  encodeHlc,
  hlcNow,
  hlcReceive,
  readMessage,
  sendMessage,
  shardOf,
  validateRemoteChange,
  type Hlc,
  type MessageRef,
  type Shard,
} from '../../../crdt/src/index.js'
import { signingKeyPairFromSeed } from '../../common/crypto/ed25519.js'
import { randomBytes } from '../../common/crypto/random.js'
import { openSealed, sealTo } from '../../common/crypto/sealed-box.js'
import { advance, keyAt, newChain } from '../../common/crypto/sender-chain.js'
import { HearthError, drop, isHearthError } from '../../common/errors.js'
import type { HearthNode } from '../../common/net/create-node.js'
import { findRelays } from '../../common/net/mailbox-client.js'
import { handleProtocol, request } from '../../common/net/request-response.js'
import { equalBytes, fromBase64Url, toBase64Url, toHex, utf8 } from '../../common/util/bytes.js'
import {
  EnvelopeKind,
  openEnvelopeBody,
  openEnvelopeHeader,
  parseEnvelopeFrame,
  sealEnvelope,
  verifyEnvelopeSignature,
  verifyEnvelopeSignatureAsync,
  type EnvelopeFrame,
  type OpenedEnvelopeHeader,
} from '../../common/wire/envelope.js'
import { Limits } from '../../common/wire/limits.js'
import type { ConversationSummary, MemberView, MessageView, Page, PeerView, RemovedMemberView, WhoAmI } from '../api/types.js'
import { deriveEpochKeys, sealContext, type EpochKeys } from '../conversation/epoch-keys.js'
import { decodeInvite, encodeInvite } from '../conversation/invite-code.js'
import { MAX_CLOCK_SKEW_MS, MAX_PARENTS, computeLog, mayWrite, memberDevices, needsRotation, type MemberState } from '../conversation/membership-log.js'
import { decodeOp, signOp, type MembershipOp, type OpBody } from '../conversation/membership-op.js'
import {
  decodeChainGrant,
  decodeContent,
  decodeKeys,
  decodeMembership,
  decodeReceipt,
  encodeChainGrant,
  encodeContent,
  encodeKeys,
  encodeMembership,
  encodeReceipt,
} from '../history/payloads.js'
import { decodeDeviceCert } from '../identity/device-cert.js'
import { validateDisplayName, withDisplayName, type Identity } from '../identity/identity.js'
import type { AccountId, ConversationId, DeviceId, EpochId, MessageId, OpHash } from '../ids.js'
import { asAccountId, asConversationId } from '../ids.js'
import { CoreStore, type ConversationRecord, type MessageRow, type OwnChain, type Put } from '../store/core-store.js'
import {
  JOIN_PROTOCOL,
  SYNC_PROTOCOL,
  decodeJoinRequest,
  decodeJoinResponse,
  decodeSyncFrame,
  decodeSyncRequest,
  encodeJoinRequest,
  encodeJoinResponse,
  encodeSyncFrame,
  encodeSyncRequest,
  verifyJoinRequest,
  type StreamPosition,
} from '../sync/sync-frames.js'
import { hlcWall } from '../conversation/op-graph.js'
import { unanchoredExcess } from '../conversation/op-retention.js'
import { opPages, opsMissing } from '../sync/op-sync.js'
import { raceDials } from './race-dials.js'
import { actorOf } from './actor.js'
import { parseStreamKey, streamKey, type ConversationRuntime } from './conversation-runtime.js'
import { Withdrawals, conflictViews, createdMessages, envelopeIdHex, lastWritable, positionKey, withdrawRow } from './equivocation.js'
import { CoreEventBus } from './events.js'
import { GapSync } from './gap-sync.js'
import type { LinkProbe } from './link-probe.js'
import { memberLinks } from './member-links.js'
import type { MemberReconnect, ReconnectSchedule } from './member-reconnect.js'
import { GossipRateLimit } from './gossip-rate-limit.js'
import { SecurityCounters } from './security-counters.js'
import { RelayMailboxes, relayPeerOf, type MailboxHost, type MailboxPort, type RelayStatus } from './relay-mailboxes.js'
import { SerialQueue } from './serial-queue.js'

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
}

const SYNC_LIMITS = {
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: Limits.maxFrameBytes,
  timeoutMs: 30_000,
  // Honest peers sync on connect, on gaps and every few seconds per conversation; far fewer than this.
  ratePerSecond: 20,
  burst: 60,
  // Two peers behind NAT talk over a relay circuit until hole punching upgrades it; sync must work there too (the
  // relay's data limit cuts a long one short, and the next sync resumes from the vector).
  runOnLimitedConnection: true,
}
const JOIN_LIMITS = {
  maxRequestBytes: 16 * 1024,
  maxResponseBytes: Limits.maxFrameBytes,
  timeoutMs: 20_000,
  ratePerSecond: 2,
  burst: 20,
  runOnLimitedConnection: true,
}
/** Envelopes from a sync page ingested per turn on the core's queue, so live gossip is not stuck behind a backlog. */
const SYNC_INGEST_SLICE = 256
/** Envelopes one sync response carries at most; the requester asks again while the responder has more. */
const MAX_ENVELOPES_PER_SYNC = 20_000
/** Envelope bytes in one sync frame, leaving room for CBOR framing under the frame cap. */
const SYNC_PAGE_BYTES = Limits.maxFrameBytes - 256 * 1024
/**
 * Envelope bytes in one whole sync response. The requester ingests each frame before reading the next and libp2p does
 * not slow the sender down, so the response must fit the requester's read buffer (one frame cap plus slack); the
 * requester asks again while it is behind.
 */
const SYNC_RESPONSE_BYTES = 3 * 1024 * 1024
const RECEIPT_DELAY_MS = 150
/** Stored envelopes processStream reads per range read when they did not arrive in the same batch. */
const PROCESS_READ_AHEAD = 256
/** Streams one sync request may pace (sync-frames.ts bounds the list). */
const MAX_PACED_STREAMS = 256
/** Heads a sync request names (more are merged before any operation of ours; see appendOp). */
const MAX_SYNC_HEADS = 256
/** Membership operations in one sync or join response: pages that fit a frame, and a bound on the whole response. */
const OP_PAGES = { maxBytes: 1024 * 1024, maxCount: 4096, totalBytes: 3 * 1024 * 1024 }
/** Membership operations a joiner accepts in the log it is sent. */
const MAX_JOIN_OPS = 200_000
/** Membership operations kept while they wait for a parent; beyond this a member's junk is not stored. */
const MAX_PENDING_OPS = 1_000
/** How long a join waits for LAN discovery to find the inviter when its addresses do not answer. */
const JOIN_DISCOVERY_WAIT_MS = 15_000

interface OutgoingSend {
  id: ConversationId
  body: string
  resolve: (view: MessageView) => void
  reject: (err: unknown) => void
}

export interface CoreSettings {
  displayName: string
  /** Relay multiaddrs, each ending in /p2p/<relay PeerId>. */
  relays: string[]
}

const MAX_RELAYS = 32
/** Mailbox copies per conversation: two survive one relay being down; a third covers a slow or full one. */
const MAX_CONVERSATION_RELAYS = 3
const MIN_CONVERSATION_RELAYS = 2
/** How often to look for relays on the DHT. */
const RELAY_DISCOVERY_INTERVAL_MS = 10 * 60_000

/** Relay addresses must name the relay's PeerId, or the client could not tell a relay from an impostor. */
function validateRelayAddresses(input: string[]): string[] {
  if (input.length > MAX_RELAYS) throw new HearthError('INVALID_INPUT', `at most ${MAX_RELAYS} relays`)
  const out: string[] = []
  for (const raw of input) {
    const text = raw.trim()
    let addr
    try {
      addr = multiaddr(text)
    } catch (err) {
      throw new HearthError('INVALID_INPUT', `not a multiaddr: ${text.slice(0, 100)}`, { cause: err })
    }
    if (addr.getComponents().at(-1)?.name !== 'p2p') {
      throw new HearthError('INVALID_INPUT', `relay address must end with /p2p/<PeerId>: ${text.slice(0, 100)}`)
    }
    if (!out.includes(text)) out.push(text)
  }
  return out
}

/**
 * The Hearth core: identity, conversations, history, sync. One instance is the single writer of its database.
 *
 * Send path: compose → CRDT change → sender-chain key → envelope (encrypt, sign) → one synced batch (envelope, chain,
 * change, message row) → event → gossip. Receive path: gossip validator (header, membership, signature) → ingest
 * (store, in-order per device stream) → decrypt → validate authorship → apply to the shard → materialise rows → one
 * synced batch → events → receipt.
 */
export class Core {
  private currentIdentity: Identity
  readonly store: CoreStore
  readonly node: HearthNode
  readonly events = new CoreEventBus()
  readonly counters = new SecurityCounters()
  /** Per (conversation, device) gossip allowance: a flooding member is held to it (gossip-rate-limit.ts). */
  private readonly gossipRate: GossipRateLimit
  private readonly now: () => number
  private readonly log: Logger
  private readonly queue = new SerialQueue()
  private readonly conversations = new Map<ConversationId, ConversationRuntime>()
  private hlc: Hlc = HLC_ZERO
  private syncTimer: NodeJS.Timeout | undefined
  private readonly receiptTimers = new Map<ConversationId, NodeJS.Timeout>()
  /** Per conversation: when membership operations dated ahead of our clock become due. */
  private readonly futureOpTimers = new Map<ConversationId, NodeJS.Timeout>()
  private readonly inbox = new Map<ConversationId, Array<{ bytes: Uint8Array; from: string | null }>>()
  private inboxScheduled = false
  private readonly syncing = new Map<string, Promise<void>>()
  private stopped = false
  private readonly syncIntervalMs: number
  private readonly unsubscribers: Array<() => void> = []
  /** Verdicts of the gossip validator, so the handler that receives the same bytes does not verify them twice. */
  private readonly validated = new WeakMap<Uint8Array, CheckResult>()
  private readonly outgoing: OutgoingSend[] = []
  private readonly relays: RelayMailboxes | undefined
  /** The user's relays (settings), kept in memory: the relay client asks for them on every pass. */
  private configuredRelays: string[] = []
  private discoveredRelays: string[] = []
  private discoveryTimer: NodeJS.Timeout | undefined
  private readonly saveIdentity: (identity: Identity) => Promise<void>
  /** Equivocation evidence and withdrawn messages (equivocation.ts). */
  private readonly withdrawals: Withdrawals
  /** Syncs at once when a stream is seen to reach further than we hold (gap-sync.ts). */
  private readonly gaps: GapSync
  /** Redials members' devices soon after a connection is lost (member-reconnect.ts). */
  private readonly reconnect: MemberReconnect
  /** Drops direct connections to members' devices that went silent, so a fresh one is made (link-probe.ts). */
  private readonly linkProbe: LinkProbe

  constructor(options: CoreOptions) {
    this.currentIdentity = options.identity
    this.saveIdentity = options.saveIdentity
    this.store = options.store
    this.node = options.node
    this.now = options.now ?? Date.now
    this.log = options.logger ?? Logger.silent()
    this.syncIntervalMs = options.syncIntervalMs ?? 15_000
    this.gossipRate = new GossipRateLimit(options.gossipAllowance ?? {})
    this.withdrawals = new Withdrawals({ store: this.store, counters: this.counters, events: this.events, now: this.now })
    this.gaps = new GapSync({
      sync: (id, peer) => {
        const rt = this.conversations.get(id)
        if (!rt || this.stopped) return
        const members = this.memberPeers(rt)
        for (const p of peer !== null && members.includes(peer) ? [peer] : members) {
          this.counters.count('gap-sync')
          drop(this.syncWith(p, id), (err) => this.log.debug({ err, peer: p }, 'gap sync failed'))
        }
      },
      have: (id, stream) => this.conversations.get(id)?.streams.get(stream)?.have ?? 0,
    })
    const links = memberLinks({
      node: this.node,
      isMember: (peer) => this.isMemberPeer(peer),
      counters: this.counters,
      logger: this.log,
      ...(options.reconnectSchedule === undefined ? {} : { schedule: options.reconnectSchedule }),
    })
    this.reconnect = links.reconnect
    this.linkProbe = links.probe
    if (options.mailbox !== undefined) {
      this.relays = new RelayMailboxes({
        host: this.mailboxHost(),
        port: options.mailbox,
        logger: this.log,
        now: this.now,
        ...options.relayTiming,
      })
      this.relays.onStatus((relays) => this.events.emit('relay.changed', { relays }))
    }
  }

  /** Who this device is; replaced (never mutated) when the display name changes. */
  get identity(): Identity {
    return this.currentIdentity
  }

  // ---------------------------------------------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    this.configuredRelays = (await this.store.getSettings())?.relays ?? []
    for (const record of await this.store.listConversations()) {
      const rt = await this.loadRuntime(record)
      await this.withdrawals.load(record.id)
      this.conversations.set(record.id, rt)
    }
    await handleProtocol(this.node, SYNC_PROTOCOL, SYNC_LIMITS, (req, ctx) => this.serveSync(req, ctx.peer))
    await handleProtocol(this.node, JOIN_PROTOCOL, JOIN_LIMITS, (req, ctx) => this.serveJoin(req, ctx.peer))
    this.unsubscribers.push(this.node.onPeerConnected((peer) => this.onPeerConnected(peer)))
    this.unsubscribers.push(
      this.node.onPeerDisconnected((peer) => {
        this.emitPeers()
        this.reconnect.lost(peer)
      }),
    )
    for (const rt of this.conversations.values()) {
      this.refreshSubscriptions(rt)
      await this.queue.run(() => this.afterLogChange(rt))
    }
    // A rename that stopped half way (crash, power cut) is finished before anything else is written.
    await this.queue.run(() => this.announcePendingName())
    this.syncTimer = setInterval(() => this.antiEntropy(), this.syncIntervalMs)
    this.syncTimer.unref()
    for (const peer of this.node.connectedPeers()) this.onPeerConnected(peer)
    this.linkProbe.start()
    this.relays?.start()
    if (this.relays !== undefined && this.node.libp2p.services.dht !== undefined) {
      const discover = () => drop(this.discoverRelays(), (err) => this.log.debug({ err }, 'relay discovery failed'))
      this.discoveryTimer = setInterval(discover, RELAY_DISCOVERY_INTERVAL_MS)
      this.discoveryTimer.unref()
      discover()
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.gaps.stop()
    this.linkProbe.stop()
    this.reconnect.stop()
    if (this.syncTimer) clearInterval(this.syncTimer)
    if (this.discoveryTimer) clearInterval(this.discoveryTimer)
    for (const t of this.receiptTimers.values()) clearTimeout(t)
    for (const t of this.futureOpTimers.values()) clearTimeout(t)
    for (const u of this.unsubscribers) u()
    await this.relays?.stop()
    await this.queue.idle()
    await Promise.allSettled([...this.syncing.values()])
  }

  whoami(): WhoAmI {
    return {
      account: this.identity.account,
      device: this.identity.deviceId,
      displayName: this.identity.displayName,
      peerId: this.identity.peerId,
      addresses: this.node.addresses(),
    }
  }

  // ------------------------------------------------------------------------------------------------- settings

  /** What the user configured: the relays to use besides those learnt from invites and the DHT. */
  settings(): CoreSettings {
    return { displayName: this.identity.displayName, relays: this.configuredRelays }
  }

  /**
   * Changes what the person configured; everything is validated before anything is written. A new display name is
   * written as an intent first; then the identity file (so conversations created or joined from now on carry the name
   * in the device certificate) and a `profile` operation in every conversation we are a member of; then the intent is
   * cleared. `start` finishes one that was interrupted.
   */
  async updateSettings(patch: { displayName?: string | undefined; relays?: string[] | undefined }): Promise<CoreSettings> {
    const displayName = patch.displayName === undefined ? undefined : validateDisplayName(patch.displayName)
    const relays = patch.relays === undefined ? undefined : validateRelayAddresses(patch.relays)
    return this.queue.run(async () => {
      if (relays !== undefined) {
        await this.store.commit([this.store.putSettings({ relays })], true)
        this.configuredRelays = relays
        this.relays?.kick()
      }
      if (displayName !== undefined) {
        await this.store.commit([this.store.putPendingName(displayName)], true)
        await this.announcePendingName()
      }
      return this.settings()
    })
  }

  private async announcePendingName(): Promise<void> {
    const name = await this.store.getPendingName()
    if (name === undefined) return
    if (name !== this.identity.displayName) {
      const renamed = withDisplayName(this.identity, name)
      await this.saveIdentity(renamed)
      this.currentIdentity = renamed
    }
    for (const rt of this.conversations.values()) {
      // Only where we are a member with another name: a removed member cannot write, and a second device of the same
      // account that already announced this name needs no second operation.
      const me = rt.log.members.get(this.identity.account)
      if (me === undefined || me.displayName === name || !me.devices.has(this.identity.deviceId)) continue
      await this.appendOp(rt, { type: 'profile', name })
    }
    await this.store.commit([this.store.deletePendingName()], true)
  }

  /** Relays for a conversation: the user's own first, then those its invite named; at most MAX_CONVERSATION_RELAYS. */
  relaysFor(rt: ConversationRuntime): string[] {
    const chosen = [...new Set([...this.configuredRelays, ...(rt.record.relays ?? [])])]
    // Two relays survive one being down: top up from the DHT when settings and the invite name fewer.
    for (const found of this.discoveredRelays) {
      if (chosen.length >= MIN_CONVERSATION_RELAYS) break
      if (!chosen.some((a) => relayPeerOf(a) === relayPeerOf(found))) chosen.push(found)
    }
    return chosen.slice(0, MAX_CONVERSATION_RELAYS)
  }

  /** Relays found on the DHT (relays provide a well-known key); only used to top a conversation up to two. */
  async discoverRelays(): Promise<void> {
    if (this.node.libp2p.services.dht === undefined || this.stopped) return
    const found = await findRelays(this.node, { max: 8 })
    this.discoveredRelays = found.flatMap((r) => r.addresses.slice(0, 1))
    if (found.length > 0) this.relays?.kick()
  }

  /** How each relay in use answered last: the UI shows refusals (quota, disk) instead of failing silently. */
  relayStatus(): RelayStatus[] {
    const known = new Map((this.relays?.statuses() ?? []).map((r) => [r.address, r]))
    const all = new Set([...this.configuredRelays, ...[...this.conversations.values()].flatMap((rt) => this.relaysFor(rt))])
    return [...all].map((address) => known.get(address) ?? { address, peerId: relayPeerOf(address), state: 'unknown', detail: null, at: 0 })
  }

  // -------------------------------------------------------------------------------------------- conversations

  async createConversation(input: { kind: 'direct' | 'group'; name: string }): Promise<ConversationSummary> {
    const name = input.name.trim()
    if (name.length === 0 || [...name].length > 100) {
      throw new HearthError('INVALID_INPUT', 'conversation name must be 1 to 100 characters')
    }
    return this.queue.run(async () => {
      const id = toHex(randomBytes(16)) as ConversationId
      const secret = randomBytes(32)
      const keys = deriveEpochKeys(secret)
      const op = signOp({
        conversation: id,
        prev: [],
        hlc: encodeHlc(this.tick()),
        author: this.identity.cert,
        deviceSeed: this.identity.deviceKey.seed,
        body: {
          type: 'create',
          kind: input.kind,
          name,
          epoch: { id: keys.id, seals: [{ device: this.identity.deviceId, box: this.sealEpoch(id, keys.id, secret, this.identity.cert.dhPublic) }] },
        },
      })
      const record = this.newRecord({ id, root: op.hash, kind: input.kind, name })
      await this.store.commit([this.store.putConversation(record), this.store.putOp(id, op.hash, op.bytes)], true)
      const rt = await this.loadRuntime(record)
      this.conversations.set(id, rt)
      await this.afterLogChange(rt)
      const summary = this.summary(rt)
      this.events.emit('conversation.updated', { conversation: summary })
      return summary
    })
  }

  listConversations(): ConversationSummary[] {
    return [...this.conversations.values()].map((rt) => this.summary(rt)).sort((a, b) => b.lastActivity - a.lastActivity)
  }

  getConversation(id: ConversationId): ConversationSummary {
    return this.summary(this.runtime(id))
  }

  members(id: ConversationId): MemberView[] {
    const rt = this.runtime(id)
    const connected = new Set(this.node.connectedPeers())
    return [...rt.log.members.values()]
      .map((m) => ({
        account: m.account,
        displayName: m.displayName,
        role: m.role,
        devices: [...m.devices.values()].map((c) => ({
          device: c.device,
          peerId: c.peerId,
          online: c.device === this.identity.deviceId || connected.has(c.peerId),
        })),
        me: m.account === this.identity.account,
      }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.account.localeCompare(b.account))
  }

  async createInvite(
    id: ConversationId,
    options: { expiresInMs?: number; singleUse?: boolean } = {},
  ): Promise<{ code: string; inviteId: string; expiresAt: number }> {
    return this.queue.run(async () => {
      const rt = this.runtime(id)
      this.requireAdmin(rt)
      const seed = randomBytes(32)
      const inviteId = toHex(randomBytes(16))
      const expiresAt = options.expiresInMs === undefined ? this.now() + 7 * 24 * 3600_000 : options.expiresInMs === 0 ? 0 : this.now() + options.expiresInMs
      await this.appendOp(rt, {
        type: 'invite',
        invite: { id: inviteId, key: signingKeyPairFromSeed(seed).publicKey, expiresAt, singleUse: options.singleUse ?? true },
      })
      const code = encodeInvite({
        conversation: id,
        root: rt.record.root as OpHash,
        name: rt.record.name,
        inviteId,
        secret: seed,
        expiresAt,
        addresses: this.dialableAddresses(),
        peerId: this.identity.peerId,
        relays: this.relaysFor(rt),
      })
      return { code, inviteId, expiresAt }
    })
  }

  async revokeInvite(id: ConversationId, inviteId: string): Promise<void> {
    await this.queue.run(async () => {
      const rt = this.runtime(id)
      this.requireAdmin(rt)
      if (!rt.log.invites.has(inviteId)) throw new HearthError('NOT_FOUND', 'no such invite')
      await this.appendOp(rt, { type: 'revoke-invite', inviteId })
    })
  }

  /** Redeems an invite: asks the inviting device to admit us, then syncs. */
  async join(code: string): Promise<ConversationSummary> {
    const invite = decodeInvite(code)
    const existing = this.conversations.get(invite.conversation)
    if (existing && !existing.record.removed) return this.summary(existing)
    if (invite.expiresAt !== 0 && invite.expiresAt < this.now()) {
      throw new HearthError('INVITE_EXPIRED', 'this invite has expired: ask for a new one')
    }
    // A relay first: the inviter's circuit addresses (behind NAT) go through it, and it holds the mailbox.
    for (const relay of invite.relays) {
      try {
        await this.node.dial(relay)
        break
      } catch (err) {
        this.log.debug({ err, relay }, 'relay from the invite did not answer')
      }
    }
    let lastError: unknown = new HearthError('UNREACHABLE', 'the invite names no address')
    try {
      await raceDials(this.node, invite.addresses, invite.peerId)
      lastError = undefined
    } catch (err) {
      if (invite.addresses.length > 0) lastError = err
    }
    if (lastError !== undefined && !(await this.waitForPeer(invite.peerId, JOIN_DISCOVERY_WAIT_MS))) {
      throw new HearthError('UNREACHABLE', 'could not reach the member who made this invite; they need to be online', {
        cause: lastError,
      })
    }
    const requestBytes = encodeJoinRequest(
      { conversation: invite.conversation, inviteId: invite.inviteId, cert: this.identity.cert.bytes },
      invite.secret,
      invite.peerId,
    )
    // The log comes in pages; a long one (many members, renames) is never cut at one frame.
    const encoded: Uint8Array[] = []
    for await (const page of request(this.node, invite.peerId, JOIN_PROTOCOL, requestBytes, JOIN_LIMITS)) {
      encoded.push(...decodeJoinResponse(page))
      if (encoded.length > MAX_JOIN_OPS) throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent an oversized membership log')
    }
    const ops = encoded.map(decodeOp)
    const summary = await this.queue.run(async () => {
      const log = computeLog(ops, invite.root, this.now())
      if (log === undefined || log.conversation !== invite.conversation) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent a membership log that does not match the invite')
      }
      if (!log.members.has(this.identity.account)) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device did not admit us')
      }
      const record = this.newRecord({ id: invite.conversation, root: invite.root, kind: log.kind, name: log.name, relays: invite.relays })
      await this.store.commit([this.store.putConversation(record), ...ops.map((op) => this.store.putOp(record.id, op.hash, op.bytes))], true)
      const rt = await this.loadRuntime(record)
      this.conversations.set(record.id, rt)
      await this.afterLogChange(rt)
      return this.summary(rt)
    })
    this.events.emit('conversation.updated', { conversation: summary })
    drop(this.syncWith(invite.peerId, invite.conversation))
    return summary
  }

  async removeMember(id: ConversationId, account: string): Promise<void> {
    const target = asAccountId(account)
    await this.queue.run(async () => {
      const rt = this.runtime(id)
      this.requireAdmin(rt)
      const member = this.memberOf(rt, target)
      const cutoffs: Record<string, number> = {}
      for (const device of member.devices.keys()) {
        for (const epoch of rt.epochs.keys()) {
          const s = device === this.identity.deviceId ? this.ownHave(rt, epoch) : (rt.streams.get(streamKey(epoch, device))?.have ?? 0)
          cutoffs[`${epoch}/${device}`] = s
        }
      }
      await this.appendOp(rt, { type: 'remove', account: target, cutoffs, epoch: this.newEpochFor(rt, target) })
    })
  }

  /** Former members an admin may add back, under the name they last had. */
  removedMembers(id: ConversationId): RemovedMemberView[] {
    const rt = this.runtime(id)
    return [...rt.log.removed.keys()]
      .filter((account) => !rt.log.members.has(account))
      .map((account) => ({ account, displayName: rt.log.names.get(account) ?? account.slice(0, 8) }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.account.localeCompare(b.account))
  }

  /**
   * Adds a removed member back: the only way a removed account returns (an invite never readmits it). Their devices
   * are the ones the log last knew for the account; they get a new epoch, so nothing said while they were out.
   */
  async addBack(id: ConversationId, account: string): Promise<void> {
    const target = asAccountId(account)
    await this.queue.run(async () => {
      const rt = this.runtime(id)
      this.requireAdmin(rt)
      if (rt.log.members.has(target)) throw new HearthError('INVALID_INPUT', 'they are already a member')
      if (!rt.log.removed.has(target)) throw new HearthError('NOT_FOUND', 'they were never a member of this conversation')
      const certs = [...rt.log.knownDevices.values()].filter((c) => c.account === target).slice(-Limits.maxDevicesPerMember)
      if (certs.length === 0) throw new HearthError('NOT_FOUND', 'no device of theirs is known here')
      // A fresh epoch first: what was said while they were out stays in an epoch they never get.
      await this.appendOp(rt, { type: 'rotate', epoch: this.newEpochFor(rt) })
      const epochId = rt.log.currentEpoch
      const secret = await this.epochSecret(rt.id, epochId)
      await this.appendOp(rt, {
        type: 'add',
        certs,
        role: 'member',
        via: null,
        epoch: epochId,
        seals: certs.map((c) => ({ device: c.device, box: this.sealEpoch(rt.id, epochId, secret, c.dhPublic) })),
      })
    })
  }

  async setRole(id: ConversationId, account: string, role: 'admin' | 'member'): Promise<void> {
    const target = asAccountId(account)
    await this.queue.run(async () => {
      const rt = this.runtime(id)
      this.requireAdmin(rt)
      const member = this.memberOf(rt, target)
      if (member.role === role) return
      const admins = [...rt.log.members.values()].filter((m) => m.role === 'admin').length
      if (role === 'member' && admins === 1) {
        throw new HearthError('INVALID_INPUT', 'a conversation needs an admin: make someone else admin first')
      }
      await this.appendOp(rt, { type: 'role', account: target, role })
    })
  }

  // ------------------------------------------------------------------------------------------------- messages

  async send(id: ConversationId, body: string): Promise<MessageView> {
    if (typeof body !== 'string' || body.trim().length === 0) throw new HearthError('INVALID_INPUT', 'message is empty')
    const size = utf8(body).length
    if (body.length > MAX_BODY_CHARS) {
      throw new HearthError('TOO_LARGE', `message is ${body.length} characters; the limit is ${MAX_BODY_CHARS}`)
    }
    if (size > Limits.maxBodyBytes) {
      throw new HearthError('TOO_LARGE', `message is ${size} bytes; the limit is ${Limits.maxBodyBytes} bytes`)
    }
    return new Promise<MessageView>((resolve, reject) => {
      this.outgoing.push({ id, body, resolve, reject })
      // Group commit: the first send of a burst queues one flush; sends that arrive while it runs (it waits on fsync)
      // join the next flush. A lone send pays nothing extra; a burst shares one synced write.
      if (this.outgoing.length === 1) drop(this.queue.run(() => this.flushOutgoing()))
    })
  }

  private async flushOutgoing(): Promise<void> {
    const items = this.outgoing.splice(0)
    const composed: Array<{ item: OutgoingSend; view: MessageView; envelope: Uint8Array; topic: string }> = []
    const batch: Put[] = []
    const restore = new Map<ConversationRuntime, { own: Map<EpochId, OwnChain>; shards: ConversationRuntime['shards']; record: ConversationRecord }>()
    for (const item of items) {
      try {
        const rt = this.runtime(item.id)
        if (!restore.has(rt)) restore.set(rt, { own: new Map(rt.own), shards: new Map(rt.shards), record: rt.record })
        const out = await this.compose(rt, item.body)
        batch.push(...out.puts)
        composed.push({ item, view: out.view, envelope: out.envelope, topic: out.topic })
      } catch (err) {
        item.reject(err)
      }
    }
    if (composed.length === 0) return
    try {
      // The messages are durable before anyone is told they exist: this is what "pending" promises across kill -9.
      await this.store.commit(batch, true)
    } catch (err) {
      // Nothing was written: forget the chain steps and shard changes made in memory, or the next send would skip them.
      for (const [rt, saved] of restore) {
        rt.own = saved.own
        rt.shards = saved.shards
        rt.record = saved.record
      }
      for (const c of composed) c.item.reject(err)
      return
    }
    const conversations = new Set<ConversationId>()
    for (const { item, view, envelope, topic } of composed) {
      this.events.emit('message.added', { conversation: item.id, message: view })
      conversations.add(item.id)
      drop(this.publishOwn(topic, envelope), (err) => this.log.warn({ err }, 'publish failed'))
      item.resolve(view)
    }
    for (const id of conversations) this.emitConversation(id)
    this.relays?.kick()
  }

  /** One message: CRDT change, next chain key, sealed envelope, and the puts that make it durable (not yet written). */
  private async compose(rt: ConversationRuntime, body: string): Promise<{ puts: Put[]; view: MessageView; envelope: Uint8Array; topic: string }> {
    const id = rt.id
    if (rt.record.removed) throw new HearthError('REMOVED', 'you were removed from this conversation')
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)
    const own = rt.own.get(epoch)
    if (keys === undefined || own === undefined) {
      throw new HearthError('NOT_A_MEMBER', 'this device cannot write in this conversation yet')
    }
    const hlc = this.tick()
    const messageId = toHex(randomBytes(16)) as MessageId
    const shard = shardOf(own.messages)
    const loaded = await this.loadShard(rt, epoch, shard)
    const actor = actorOf(this.identity.deviceId)
    const result = sendMessage(loaded.doc, actor, { id: messageId, body, hlc, seq: own.messages })
    const seq = own.next
    const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: seq }, seq)
    const envelope = sealEnvelope({
      keys: keys.envelope,
      header: { device: this.identity.deviceKey.publicKey, seq, kind: EnvelopeKind.content },
      bodyKey: step.key,
      body: encodeContent({ shard, change: result.change }),
      signingSeed: this.identity.deviceKey.seed,
    })
    const msg = readMessage(result.doc, actor, messageId as never)!
    const row: MessageRow = {
      id: messageId,
      conversation: id,
      author: this.identity.account,
      authorName: this.identity.displayName,
      device: this.identity.deviceId,
      epoch,
      seq,
      hlc: encodeHlc(hlc),
      orderKey: msg.orderKey,
      body: msg.body,
      edited: false,
      deleted: false,
      reactions: {},
      mine: true,
      state: 'pending',
      failure: null,
    }
    const nextOwn: OwnChain = { ...own, next: seq + 1, messages: own.messages + 1, cursorKey: toBase64Url(step.next.chainKey) }
    const record = { ...rt.record, lastActivity: this.now(), lastMessage: { body: preview(body), authorName: row.authorName, author: row.author, at: hlc.wall } }
    const puts: Put[] = [
      this.store.putEnvelope(id, epoch, this.identity.deviceId, seq, envelope),
      this.store.putOwnChain(id, epoch, nextOwn),
      this.store.putChange(id, epoch, shard, loaded.stored, result.change),
      ...this.store.putMessage(row),
      this.store.putMine(id, epoch, seq, messageId),
      this.store.putConversation(record),
    ]
    // In memory at once, so the next message of the same flush builds on this one; flushOutgoing undoes it on failure.
    rt.record = record
    rt.own.set(epoch, nextOwn)
    rt.shards.set(`${epoch}/${shard}`, { doc: result.doc, stored: loaded.stored + 1 })
    return { puts, view: toView(row, rt.log.names), envelope, topic: keys.topic }
  }

  /** Re-publishes a message that is still pending or failed; sync will also deliver it when members reconnect. */
  async retry(id: ConversationId, messageId: string): Promise<MessageView> {
    const rt = this.runtime(id)
    if (rt.record.removed) throw new HearthError('REMOVED', 'you were removed from this conversation')
    const row = await this.store.getMessage(id, messageId as MessageId)
    if (row === undefined || !row.mine) throw new HearthError('NOT_FOUND', 'no such message of yours')
    const envelope = await this.store.getEnvelope(id, row.epoch, row.device, row.seq)
    const keys = rt.epochs.get(row.epoch)
    if (envelope === undefined || keys === undefined) throw new HearthError('NOT_FOUND', 'message envelope is missing')
    if (row.state === 'failed') await this.updateRows(id, [{ ...row, state: 'pending', failure: null }])
    await this.publishOwn(keys.topic, envelope)
    this.relays?.kick()
    for (const peer of this.memberPeers(rt)) drop(this.syncWith(peer, id))
    return toView((await this.store.getMessage(id, row.id))!, rt.log.names)
  }

  async page(id: ConversationId, options: { before?: string | undefined; limit?: number | undefined } = {}): Promise<Page> {
    const rt = this.runtime(id)
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500)
    const rows = await this.store.pageMessages(id, limit, options.before)
    // Withdrawn messages are shown nowhere (equivocation.ts); the cursor still moves past them.
    const nextBefore = rows.length === limit ? rows.at(-1)!.orderKey : null
    const messages = rows.reverse().filter((row) => !row.withdrawn).map((row) => toView(row, rt.log.names))
    return { messages, nextBefore }
  }

  async markRead(id: ConversationId, upTo?: string): Promise<ConversationSummary> {
    const summary = await this.queue.run(async () => {
      const rt = this.runtime(id)
      const newest = (await this.store.pageMessages(id, 1))[0]?.orderKey ?? ''
      const target = upTo === undefined || upTo > newest ? newest : upTo
      if (target <= rt.record.readUpTo) return this.summary(rt)
      let unread = 0
      for (const row of await this.store.messagesAfter(id, target, 10_000)) if (!row.mine && !row.withdrawn) unread++
      rt.record = { ...rt.record, readUpTo: target, unread }
      await this.store.commit([this.store.putConversation(rt.record)], false)
      return this.summary(rt)
    })
    this.events.emit('conversation.updated', { conversation: summary })
    this.scheduleReceipt(id, 0)
    return summary
  }

  // -------------------------------------------------------------------------------------------------- network

  peers(): PeerView[] {
    const names = new Map<string, string>()
    for (const rt of this.conversations.values()) {
      for (const cert of rt.log.knownDevices.values()) names.set(cert.peerId, rt.log.names.get(cert.account) ?? cert.displayName)
    }
    return this.node.connectedPeers().map((peerId) => ({ peerId, displayName: names.get(peerId) ?? null, addresses: [] }))
  }

  /** Pulls what `peer` has and we lack for one conversation (or all we share). Concurrent calls coalesce. */
  syncWith(peer: string, conversation?: ConversationId): Promise<void> {
    const ids = conversation ? [conversation] : [...this.conversations.values()].filter((rt) => this.memberPeers(rt).includes(peer)).map((rt) => rt.id)
    return Promise.all(
      ids.map((id) => {
        const key = `${peer}/${id}`
        const running = this.syncing.get(key)
        if (running) return running
        const task = this.pull(peer, id).finally(() => this.syncing.delete(key))
        this.syncing.set(key, task)
        return task
      }),
    ).then(() => {})
  }

  /** Waits until queued work (ingest, sends) has been applied. For tests and orderly shutdown. */
  async settle(): Promise<void> {
    await this.flushInbox()
    await this.queue.idle()
  }

  // ---------------------------------------------------------------------------------------------- internals

  /** True once `peer` is connected, e.g. found on the LAN by mDNS when the invite's addresses did not work. */
  private async waitForPeer(peer: string, timeoutMs: number): Promise<boolean> {
    if (this.node.connectedPeers().includes(peer)) return true
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        off()
        resolve(false)
      }, timeoutMs)
      const off = this.node.onPeerConnected((p) => {
        if (p !== peer) return
        clearTimeout(timer)
        off()
        resolve(true)
      })
    })
  }

  /** The record of a conversation this device just created or joined: nothing read, nothing said yet. */
  private newRecord(fields: Pick<ConversationRecord, 'id' | 'root' | 'kind' | 'name' | 'relays'>): ConversationRecord {
    const now = this.now()
    return { ...fields, createdAt: now, lastActivity: now, lastMessage: null, unread: 0, readUpTo: '', removed: false, theirReadUpTo: '' }
  }

  private runtime(id: ConversationId): ConversationRuntime {
    const rt = this.conversations.get(asConversationId(id))
    if (rt === undefined) throw new HearthError('NOT_FOUND', 'no such conversation')
    return rt
  }

  private memberOf(rt: ConversationRuntime, account: AccountId): MemberState {
    const member = rt.log.members.get(account)
    if (member === undefined) throw new HearthError('NOT_FOUND', 'that account is not a member')
    return member
  }

  private requireAdmin(rt: ConversationRuntime): void {
    const me = rt.log.members.get(this.identity.account)
    if (me === undefined) throw new HearthError('NOT_A_MEMBER', 'you are not a member of this conversation')
    if (me.role !== 'admin') throw new HearthError('NOT_AN_ADMIN', 'only admins can do that')
  }

  private tick(): Hlc {
    this.hlc = hlcNow(this.hlc, this.now())
    return this.hlc
  }

  private observe(remote: string): void {
    try {
      this.hlc = hlcReceive(this.hlc, decodeHlc(remote), this.now())
    } catch {
      // A remote clock far in the future does not move ours; the message keeps its own timestamp.
    }
  }

  private summary(rt: ConversationRuntime): ConversationSummary {
    return {
      id: rt.id,
      kind: rt.record.kind,
      name: rt.record.name,
      createdAt: rt.record.createdAt,
      lastActivity: rt.record.lastActivity,
      lastMessage: lastMessageView(rt.record.lastMessage, rt.log.names),
      unread: rt.record.unread,
      memberCount: rt.log.members.size,
      role: rt.log.members.get(this.identity.account)?.role ?? null,
      removed: rt.record.removed,
      conflicts: conflictViews(this.withdrawals.conflicts(rt.id), rt.log.names),
    }
  }

  private emitConversation(id: ConversationId): void {
    const rt = this.conversations.get(id)
    if (rt) this.events.emit('conversation.updated', { conversation: this.summary(rt) })
  }

  private emitPeers(): void {
    this.events.emit('peer.changed', { peers: this.peers() })
  }

  private dialableAddresses(): string[] {
    const all = this.node.addresses()
    // Loopback addresses only help on this machine; list LAN ones first so the invite stays short and useful.
    const rank = (a: string) => (a.includes('/127.0.0.1/') || a.includes('/::1/') ? 1 : 0)
    return [...all].sort((a, b) => rank(a) - rank(b)).slice(0, 6)
  }

  private async loadRuntime(record: ConversationRecord): Promise<ConversationRuntime> {
    const ops = new Map<OpHash, MembershipOp>()
    for (const bytes of await this.store.listOps(record.id)) {
      const op = decodeOp(bytes)
      ops.set(op.hash, op)
    }
    const log = computeLog(ops.values(), record.root as OpHash)
    if (log === undefined) throw new HearthError('CORRUPT_DATA', `conversation ${record.id} has no valid root`)
    const rt: ConversationRuntime = {
      id: record.id,
      record,
      ops,
      log,
      epochs: new Map(),
      streams: new Map(),
      own: new Map(),
      shards: new Map(),
      topics: new Set(),
    }
    for (const secret of await this.store.listEpochSecrets(record.id)) {
      const keys = deriveEpochKeys(secret)
      rt.epochs.set(keys.id, keys)
      const own = await this.store.getOwnChain(record.id, keys.id)
      if (own) rt.own.set(keys.id, own)
      const epoch = log.epochs.get(keys.id)
      for (const device of log.knownDevices.keys()) {
        if (device === this.identity.deviceId || (epoch && !epoch.devices.has(device))) continue
        const s = await this.store.getStream(record.id, keys.id, device)
        if (s) rt.streams.set(streamKey(keys.id, device), s)
      }
    }
    return rt
  }

  private sealEpoch(conversation: string, epoch: string, secret: Uint8Array, dhPublic: Uint8Array): Uint8Array {
    return sealTo(dhPublic, secret, sealContext('epoch', conversation, epoch))
  }

  private newEpochFor(rt: ConversationRuntime, excluding?: AccountId) {
    const secret = randomBytes(32)
    const keys = deriveEpochKeys(secret)
    const seals = [...memberDevices(rt.log).values()]
      .filter((cert) => cert.account !== excluding)
      .map((cert) => ({ device: cert.device, box: this.sealEpoch(rt.id, keys.id, secret, cert.dhPublic) }))
    return { id: keys.id, seals }
  }

  /**
   * Signs a membership operation naming every head, stores it, publishes it in the current epoch and applies it. When
   * there are more heads than one operation may name (members' concurrent operations), `merge` operations join them
   * first, so the log always stays usable.
   */
  private async appendOp(rt: ConversationRuntime, body: OpBody): Promise<MembershipOp> {
    let heads = rt.log.heads
    while (heads.length > MAX_PARENTS) {
      const merge = await this.writeOp(rt, { type: 'merge' }, heads.slice(0, MAX_PARENTS))
      heads = [merge.hash, ...heads.slice(MAX_PARENTS)]
    }
    const op = await this.writeOp(rt, body, heads)
    await this.afterLogChange(rt)
    return op
  }

  private async writeOp(rt: ConversationRuntime, body: OpBody, prev: OpHash[]): Promise<MembershipOp> {
    // The log refuses an operation whose clock is not after its parents': ours has seen them.
    for (const p of prev) {
      const parent = rt.ops.get(p)
      if (parent) this.observe(parent.hlc)
    }
    const op = signOp({ conversation: rt.id, prev, hlc: encodeHlc(this.tick()), author: this.identity.cert, deviceSeed: this.identity.deviceKey.seed, body })
    const envelope = await this.writeControl(rt, EnvelopeKind.membership, encodeMembership(op.bytes), [this.store.putOp(rt.id, op.hash, op.bytes)])
    rt.ops.set(op.hash, op)
    if (envelope) drop(this.node.publish(envelope.topic, envelope.bytes))
    return op
  }

  /** Writes a durable control envelope (membership op or keys) into our stream of the current epoch. */
  private async writeControl(
    rt: ConversationRuntime,
    kind: EnvelopeKind,
    body: Uint8Array,
    extra: Put[],
    epochId: EpochId = rt.log.currentEpoch,
  ): Promise<{ topic: string; bytes: Uint8Array } | undefined> {
    const keys = rt.epochs.get(epochId)
    const own = rt.own.get(epochId)
    if (keys === undefined || own === undefined) {
      await this.store.commit(extra, true)
      return undefined
    }
    const seq = own.next
    const bytes = sealEnvelope({
      keys: keys.envelope,
      header: { device: this.identity.deviceKey.publicKey, seq, kind },
      bodyKey: keys.controlKey,
      body,
      signingSeed: this.identity.deviceKey.seed,
    })
    // Keep the chain cursor in step with seq: content keys are indexed by seq, so skipped positions cost nothing later.
    const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: seq }, seq)
    const next = { ...own, next: seq + 1, cursorKey: toBase64Url(step.next.chainKey) }
    await this.store.commit(
      [...extra, this.store.putEnvelope(rt.id, epochId, this.identity.deviceId, seq, bytes), this.store.putOwnChain(rt.id, epochId, next)],
      true,
    )
    rt.own.set(epochId, next)
    this.relays?.kick()
    return { topic: keys.topic, bytes }
  }

  /**
   * Everything that follows a change of the membership log: pick up epoch secrets sealed to us, start our chain in
   * the current epoch and hand it to devices that lack it, notice our own removal, heal concurrent rotations.
   */
  private async afterLogChange(rt: ConversationRuntime): Promise<void> {
    const log = computeLog(rt.ops.values(), rt.record.root as OpHash, this.now())
    if (log === undefined) return
    rt.log = log
    await this.forgetRefusedOps(rt)
    const me = this.identity.deviceId

    for (const epoch of log.epochs.values()) {
      if (rt.epochs.has(epoch.id)) continue
      const box = epoch.seals.get(me)
      if (box === undefined) continue
      let secret: Uint8Array
      try {
        secret = openSealed(this.identity.dhKey, box, sealContext('epoch', rt.id, epoch.id))
      } catch {
        this.counters.count('bad-epoch-seal')
        continue
      }
      const keys = deriveEpochKeys(secret)
      if (keys.id !== epoch.id) {
        this.counters.count('bad-epoch-seal')
        continue
      }
      rt.epochs.set(keys.id, keys)
      await this.store.commit([this.store.putEpochSecret(rt.id, keys.id, secret)], true)
    }

    const removed = !log.members.has(this.identity.account)
    if (removed !== rt.record.removed) {
      rt.record = { ...rt.record, removed }
      await this.store.commit([this.store.putConversation(rt.record)], true)
      if (removed) await this.failUndelivered(rt, 'you were removed from this conversation before it was delivered')
    }
    // Members, roles and names may have changed: the UI's header, member list and nearby list follow without polling.
    this.emitConversation(rt.id)
    this.events.emit('members.changed', { conversation: rt.id, members: this.members(rt.id) })
    this.emitPeers()

    const current = log.epochs.get(log.currentEpoch)
    if (!removed && current && current.devices.has(me) && rt.epochs.has(current.id)) {
      let own = rt.own.get(current.id)
      if (own === undefined) {
        const chain = newChain()
        // Sequence numbers start at 1, so the cursor starts one step into the chain (index 1).
        own = { initialKey: toBase64Url(chain.chainKey), cursorKey: toBase64Url(advance(chain).chainKey), next: 1, messages: 0, sentTo: [], delivered: 0 }
        rt.own.set(current.id, own)
        await this.store.commit([this.store.putOwnChain(rt.id, current.id, own)], true)
      }
      const sent = new Set(own.sentTo)
      const recipients = [...current.devices].filter((d) => d !== me && !sent.has(d))
      if (recipients.length > 0) await this.distributeChain(rt, current.id, own, recipients)
    }

    if (!removed && needsRotation(log) && log.members.get(this.identity.account)?.role === 'admin') {
      await this.appendOp(rt, { type: 'rotate', epoch: this.newEpochFor(rt) })
      return
    }
    this.refreshSubscriptions(rt)
    for (const key of rt.streams.keys()) await this.processStream(rt, key)
    await this.withdrawBeyondCutoffs(rt)
  }

  /**
   * Operations whose author lacked the authority in their own causal past stay refused whatever arrives later, so they
   * are neither kept nor passed on; operations waiting for parents are bounded. Operations dated ahead of our clock
   * are looked at again when our clock gets there.
   */
  private async forgetRefusedOps(rt: ConversationRuntime): Promise<void> {
    if (rt.log.unauthorized.size > 0) this.counters.count('unauthorized-membership-op', rt.log.unauthorized.size)
    const forget = new Set([...rt.log.unauthorized, ...rt.log.pending.slice(MAX_PENDING_OPS)])
    for (const hash of forget) rt.ops.delete(hash)
    const admins = new Set([...rt.log.members.values()].filter((m) => m.role === 'admin').map((m) => m.account))
    const excess = unanchoredExcess(rt.ops, admins)
    if (excess.length > 0) this.counters.count('membership-op-flood', excess.length)
    for (const hash of excess) {
      rt.ops.delete(hash)
      forget.add(hash)
    }
    if (forget.size > 0) {
      await this.store.commit([...forget].map((hash) => this.store.deleteOp(rt.id, hash)), true)
      if (excess.length > 0) rt.log = computeLog(rt.ops.values(), rt.record.root as OpHash, this.now()) ?? rt.log
    }
    const now = this.now()
    const due = rt.log.pending.map((h) => rt.ops.get(h)).filter((op) => op !== undefined).map((op) => hlcWall(op.hlc) - MAX_CLOCK_SKEW_MS - now).filter((ms) => ms > 0)
    clearTimeout(this.futureOpTimers.get(rt.id))
    if (due.length > 0 && !this.stopped) {
      const timer = setTimeout(() => drop(this.queue.run(() => this.afterLogChange(rt))), Math.min(Math.min(...due) + 10, 2 ** 31 - 1))
      timer.unref()
      this.futureOpTimers.set(rt.id, timer)
    }
  }

  /** Our messages no member acknowledged yet: after removal nobody will accept them, so say so. */
  private async failUndelivered(rt: ConversationRuntime, reason: string): Promise<void> {
    const failed: MessageRow[] = []
    for (const [epoch, own] of rt.own) {
      const rows = await this.store.getMessages(rt.id, await this.store.mineBetween(rt.id, epoch, own.delivered, own.next))
      for (const row of rows.values()) {
        if (row.state === 'pending' || row.state === 'sent') failed.push({ ...row, state: 'failed', failure: reason })
      }
    }
    if (failed.length > 0) await this.updateRows(rt.id, failed)
  }

  private async distributeChain(rt: ConversationRuntime, epoch: EpochId, own: OwnChain, devices: DeviceId[]): Promise<void> {
    const chain = encodeChainGrant(fromBase64Url(own.initialKey))
    const recipients = []
    for (const device of devices) {
      const cert = rt.log.knownDevices.get(device)
      if (!cert) continue
      recipients.push({ device, box: sealTo(cert.dhPublic, chain, sealContext('chain', rt.id, `${epoch}/${this.identity.deviceId}`)) })
    }
    // writeControl persists rt.own's entry with its new position, so the recipients are saved in the same batch.
    rt.own.set(epoch, { ...own, sentTo: [...own.sentTo, ...devices] })
    const envelope = await this.writeControl(rt, EnvelopeKind.keys, encodeKeys({ recipients }), [], epoch)
    if (envelope) drop(this.node.publish(envelope.topic, envelope.bytes))
  }

  private refreshSubscriptions(rt: ConversationRuntime): void {
    const wanted = new Set<string>()
    if (!rt.record.removed) for (const keys of rt.epochs.values()) wanted.add(keys.topic)
    for (const topic of rt.topics) {
      if (!wanted.has(topic)) {
        this.node.unsubscribe(topic)
        rt.topics.delete(topic)
      }
    }
    for (const topic of wanted) {
      if (rt.topics.has(topic)) continue
      rt.topics.add(topic)
      this.node.setTopicValidator(topic, (data, from) => this.validateGossip(rt, data, from))
      this.node.subscribe(topic, (data, from) => this.enqueue(rt.id, data, from))
    }
  }

  private ownHave(rt: ConversationRuntime, epoch: EpochId): number {
    return (rt.own.get(epoch)?.next ?? 1) - 1
  }

  /** Who we can sync this conversation with: connected peers that are devices of current members. */
  private memberPeers(rt: ConversationRuntime): string[] {
    const connected = new Set(this.node.connectedPeers())
    const peers = new Set<string>()
    for (const cert of memberDevices(rt.log).values()) {
      if (cert.device !== this.identity.deviceId && connected.has(cert.peerId)) peers.add(cert.peerId)
    }
    return [...peers]
  }

  /** A device of a member of any conversation we are still in. */
  private isMemberPeer(peer: string): boolean {
    if (peer === this.identity.peerId) return false
    for (const rt of this.conversations.values()) {
      if (rt.record.removed) continue
      for (const cert of memberDevices(rt.log).values()) if (cert.peerId === peer) return true
    }
    return false
  }

  private onPeerConnected(peer: string): void {
    this.emitPeers()
    if (this.stopped) return
    if (this.relays !== undefined && this.isRelay(peer)) this.relays.relayConnected(peer)
    drop(this.syncWith(peer), (err) => this.log.debug({ err, peer }, 'sync on connect failed'))
  }

  private isRelay(peer: string): boolean {
    for (const rt of this.conversations.values()) if (this.relaysFor(rt).some((a) => relayPeerOf(a) === peer)) return true
    return false
  }

  /** What the relay client sees of the core: conversations with their mailboxes, our streams, the receive path. */
  private mailboxHost(): MailboxHost {
    return {
      targets: () =>
        [...this.conversations.values()]
          .filter((rt) => !rt.record.removed)
          .map((rt) => ({
            conversation: rt.id,
            relays: this.relaysFor(rt),
            epochs: [...rt.epochs.values()].map((k) => ({ epoch: k.id, mailboxSecret: k.mailboxSecret, current: k.id === rt.log.currentEpoch })),
          }))
          .filter((t) => t.relays.length > 0),
      ownHave: (c, e) => {
        const rt = this.conversations.get(c)
        return rt ? this.ownHave(rt, e) : 0
      },
      ownEnvelopes: async (c, e, after, max) => {
        const list = await this.store.envelopesAfter(c, e, this.identity.deviceId, after, max)
        return list.map((bytes, i) => ({ seq: after + 1 + i, bytes }))
      },
      receive: (c, envelopes) =>
        this.queue.run(async () => {
          const rt = this.conversations.get(c)
          // `from` is null: a relay only passes on what members deposited, so it is not blamed for their garbage.
          if (rt) await this.ingest(rt, envelopes.map((bytes) => ({ bytes, from: null })))
        }),
      deposited: (c, e, after, upTo) =>
        this.queue.run(async () => {
          const rows: MessageRow[] = []
          for (const id of await this.store.mineBetween(c, e, after, upTo)) {
            const row = await this.store.getMessage(c, id)
            if (row && row.state === 'pending') rows.push({ ...row, state: 'sent' })
          }
          if (rows.length > 0) await this.updateRows(c, rows)
        }),
      loadCursor: async (c, e, relay) => (await this.store.getRelayCursor(c, e, relay)) ?? { deposited: 0, cursor: null },
      saveCursor: (c, e, relay, cursor) => this.store.commit([this.store.putRelayCursor(c, e, relay, cursor)], true),
      isConnected: (peer) => this.node.connectedPeers().includes(peer),
    }
  }

  private antiEntropy(): void {
    if (this.stopped) return
    for (const rt of this.conversations.values()) {
      for (const peer of this.memberPeers(rt)) drop(this.syncWith(peer, rt.id))
    }
  }

  // ---------------------------------------------------------------------------------------------- receiving

  /**
   * Gossip validator: runs before a message is forwarded. Only what a member can check cheaply: the header decrypts
   * with this epoch's key, the device may write here, the signature verifies. Duplicates are ignored (not forwarded,
   * not penalised); anything else that fails is rejected, which scores the forwarding peer down.
   */
  private validateGossip(rt: ConversationRuntime, data: Uint8Array, from: string): 'accept' | 'reject' | 'ignore' {
    const verdict = this.check(rt, data)
    if (verdict.ok) {
      // New positions only spend the device's allowance (replayed old envelopes must not spend it); past it, neither
      // forwarded nor processed now, nobody blamed: sync fetches the rest later.
      const admit = (): 'accept' | 'ignore' => {
        if (this.gossipRate.take(rt.id, verdict.device)) return 'accept'
        this.counters.count('rate-limited')
        return 'ignore'
      }
      this.validated.set(data, verdict)
      const s = rt.streams.get(streamKey(verdict.epoch, verdict.device))
      if (verdict.header.seq !== 0 && s && verdict.header.seq <= s.have) {
        // A different version of a position we hold is equivocation evidence: forward it (gossipsub's seen cache makes
        // that once; not from the allowance, which replayed old envelopes must not drain) and let ingest compare it with
        // the stored one. Only a version seen before is a plain duplicate.
        // A position already known to be equivocated takes no more versions: a member cannot flood with them.
        const position = positionKey(verdict.epoch, verdict.device, verdict.header.seq)
        if (!this.withdrawals.isConflict(rt.id, position) && this.withdrawals.seen.lookup(rt.id, position, envelopeIdHex(data)) !== 'same') {
          return 'accept'
        }
        this.counters.count('duplicate')
        return 'ignore'
      }
      return admit()
    }
    if (verdict.reason === 'own') return 'ignore'
    this.counters.count(verdict.reason)
    // Possibly a member whose admission we have not seen yet: drop without blame; sync settles it.
    if (verdict.reason === 'unknown-device') return 'ignore'
    this.events.emit('security.rejected', { reason: verdict.reason, peer: from })
    return 'reject'
  }

  /** Verifies one envelope (the gossip validator's path, which must answer at once). */
  private check(rt: ConversationRuntime, data: Uint8Array): CheckResult {
    const opened = this.openHeader(rt, data)
    if (!opened.ok) return opened
    if (!verifyEnvelopeSignature(opened.frame, opened.header)) return { ok: false, reason: 'forged' }
    return this.admit(rt, opened)
  }

  /**
   * `check` for a batch (a sync page): the signatures are verified on the thread pool, all at once, so the main thread
   * only opens headers. Verdicts the gossip validator already reached are reused.
   */
  private checkAll(rt: ConversationRuntime, data: Uint8Array[]): Promise<CheckResult[]> {
    return Promise.all(
      data.map(async (bytes) => {
        const cached = this.validated.get(bytes)
        if (cached !== undefined) return cached
        const opened = this.openHeader(rt, bytes)
        if (!opened.ok) return opened
        if (!(await verifyEnvelopeSignatureAsync(opened.frame, opened.header))) return { ok: false, reason: 'forged' } as const
        return this.admit(rt, opened)
      }),
    )
  }

  /** Parses the frame and opens its header (not yet trusting it: the signature is checked next). */
  private openHeader(rt: ConversationRuntime, data: Uint8Array): OpenedHeader | { ok: false; reason: string } {
    let frame: EnvelopeFrame
    try {
      frame = parseEnvelopeFrame(data)
    } catch (err) {
      return { ok: false, reason: isHearthError(err, 'TOO_LARGE') ? 'oversized' : 'malformed' }
    }
    const keys = rt.epochs.get(toHex(frame.epochTag) as EpochId)
    if (keys === undefined) return { ok: false, reason: 'wrong-conversation' }
    try {
      return { ok: true, frame, keys, header: openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false }) }
    } catch {
      return { ok: false, reason: 'wrong-conversation' }
    }
  }

  /** After a good signature: is the signer a device that may write here at this position? */
  private admit(rt: ConversationRuntime, { frame, keys, header }: OpenedHeader): CheckResult {
    const device = toHex(header.device) as DeviceId
    if (device === this.identity.deviceId) return { ok: false, reason: 'own' }
    const cert = rt.log.knownDevices.get(device)
    if (cert === undefined) return { ok: false, reason: 'unknown-device' }
    if (header.seq !== 0 && !mayWrite(rt.log, keys.id, device, header.seq, cert.account)) {
      return { ok: false, reason: rt.log.removed.has(cert.account) ? 'removed-member' : 'not-a-member' }
    }
    if (header.seq === 0 && !rt.log.members.has(cert.account)) return { ok: false, reason: 'removed-member' }
    return { ok: true, frame, header, epoch: keys.id, device, keys, account: cert.account }
  }

  private enqueue(id: ConversationId, bytes: Uint8Array, from: string | null): void {
    let list = this.inbox.get(id)
    if (!list) this.inbox.set(id, (list = []))
    list.push({ bytes, from })
    if (this.inboxScheduled) return
    this.inboxScheduled = true
    // Batch what arrives together: one queue task, one Automerge apply per shard, one synced write.
    setImmediate(() => drop(this.flushInbox(), (err) => this.log.error({ err }, 'ingest failed')))
  }

  private async flushInbox(): Promise<void> {
    this.inboxScheduled = false
    const work = [...this.inbox.entries()]
    this.inbox.clear()
    for (const [id, items] of work) {
      await this.queue.run(async () => {
        const rt = this.conversations.get(id)
        if (rt) await this.ingest(rt, items)
      })
    }
  }

  /** Stores envelopes, handles control envelopes at once and processes content in order per stream. */
  private async ingest(rt: ConversationRuntime, items: Array<{ bytes: Uint8Array; from: string | null }>): Promise<void> {
    // First pass: verify (signals are handled at once); drop what is known to be held already.
    const candidates: Array<{ bytes: Uint8Array; verdict: Extract<CheckResult, { ok: true }>; envKey: string; from: string | null }> = []
    const inBatch = new Map<string, Uint8Array>()
    const conflicts: Array<{ verdict: Extract<CheckResult, { ok: true }>; versions: Uint8Array[] }> = []
    const verdicts = await this.checkAll(rt, items.map((item) => item.bytes))
    for (const [i, { bytes, from }] of items.entries()) {
      const verdict = verdicts[i]!
      if (!verdict.ok) {
        if (verdict.reason !== 'own') {
          this.counters.count(verdict.reason)
          this.events.emit('security.rejected', { reason: verdict.reason, peer: from })
          // Garbage over sync costs the sender as garbage over gossip does: enough of it and the peer is cut off.
          if (from !== null && verdict.reason !== 'unknown-device') this.node.penalties?.penalise(from, `core-${verdict.reason}`, 10)
        }
        continue
      }
      if (verdict.header.kind === EnvelopeKind.signal) {
        await this.onSignal(rt, verdict.frame, verdict.header, verdict.keys, verdict.device)
        continue
      }
      const key = streamKey(verdict.epoch, verdict.device)
      const envKey = `${key}/${verdict.header.seq}`
      const first = inBatch.get(envKey)
      if (first !== undefined) {
        if (equalBytes(first, bytes) || this.withdrawals.isConflict(rt.id, envKey)) this.counters.count('duplicate')
        else conflicts.push({ verdict, versions: [first, bytes] })
        continue
      }
      if (verdict.header.seq <= (rt.streams.get(key)?.have ?? 0) && this.withdrawals.seen.lookup(rt.id, envKey, envelopeIdHex(bytes)) === 'same') {
        this.counters.count('duplicate')
        continue
      }
      inBatch.set(envKey, bytes)
      candidates.push({ bytes, verdict, envKey, from })
    }
    // One batched read for the rest: what is stored at each position (at or below `have`, or beyond it out of order).
    // The same bytes are a duplicate; different bytes validly signed by the same device are equivocation.
    await this.withdrawals.load(rt.id)
    const storedBefore = await this.store.getEnvelopes(
      rt.id,
      candidates.map(({ verdict: v }) => ({ epoch: v.epoch, device: v.device, seq: v.header.seq })),
    )
    for (const [i, { bytes, verdict: v, envKey }] of candidates.entries()) {
      const stored = storedBefore[i]
      if (stored === undefined) continue
      this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(stored))
      // A known conflict keeps the evidence it has (two versions): more versions of it are dropped like duplicates.
      if (!equalBytes(stored, bytes) && !this.withdrawals.isConflict(rt.id, envKey)) {
        conflicts.push({ verdict: v, versions: [stored, bytes] })
      } else {
        this.counters.count('duplicate')
        this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(bytes))
      }
    }

    const touchedStreams = new Set<string>()
    const batch: Put[] = []
    let logChanged = false
    const fresh: FreshEnvelopes = new Map()
    /** Per stream, the furthest position this batch brought and who brought it: beyond `have`, that is a gap. */
    const furthest = new Map<string, { seq: number; from: string | null }>()
    candidates.forEach(({ bytes, verdict, envKey, from }, i) => {
      // Compared above: a duplicate, or a second version kept only as evidence.
      if (storedBefore[i]) return
      const { header, epoch, device, keys, frame } = verdict
      if (header.seq <= (rt.streams.get(streamKey(epoch, device))?.have ?? 0)) {
        this.counters.count('duplicate') // held once and no longer stored: nothing to compare with
        return
      }
      this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(bytes))
      const key = streamKey(epoch, device)
      const stream = rt.streams.get(key) ?? { have: 0, done: 0, chain: null }
      fresh.set(envKey, { frame, header })
      if (header.seq > (furthest.get(key)?.seq ?? 0)) furthest.set(key, { seq: header.seq, from })
      batch.push(this.store.putEnvelope(rt.id, epoch, device, header.seq, bytes))
      rt.streams.set(key, stream)
      touchedStreams.add(key)
      if (header.kind === EnvelopeKind.membership) {
        try {
          const op = decodeOp(decodeMembership(openEnvelopeBody(frame, header, keys.controlKey)))
          if (op.conversation !== rt.id || op.author.device !== device) throw new HearthError('MALFORMED', 'operation does not match its envelope')
          if (!rt.ops.has(op.hash)) {
            rt.ops.set(op.hash, op)
            batch.push(this.store.putOp(rt.id, op.hash, op.bytes))
            logChanged = true
          }
        } catch {
          this.counters.count('bad-membership-op')
        }
      } else if (header.kind === EnvelopeKind.keys) {
        this.onKeys(rt, frame, header, keys, epoch, device, stream)
      }
    })
    const withdrawnRows: MessageRow[] = []
    const announcements: Array<() => void> = []
    for (const { verdict: v, versions } of conflicts) {
      const out = await this.withdrawals.equivocation(rt, { epoch: v.epoch, device: v.device, seq: v.header.seq, account: v.account }, versions)
      batch.push(...out.puts)
      withdrawnRows.push(...out.rows)
      announcements.push(out.announce)
    }
    // Advance each stream's contiguous "have" over what is now stored.
    for (const key of touchedStreams) {
      const s = rt.streams.get(key)!
      const [epoch, device] = key.split('/') as [EpochId, DeviceId]
      while (fresh.has(`${key}/${s.have + 1}`) || (await this.store.getEnvelope(rt.id, epoch, device, s.have + 1))) s.have++
      batch.push(this.store.putStream(rt.id, epoch, device, s))
      const far = furthest.get(key)
      if (far) this.gaps.notice(rt.id, key, s.have, far.seq, far.from)
    }
    // Not synced: a crash here loses only what sync fetches again (our vector is what is on disk). The synced write
    // comes when the envelopes are processed, before any receipt says we hold them.
    await this.store.commit(batch, false)
    for (const announce of announcements) announce()
    if (withdrawnRows.length > 0 || conflicts.length > 0) await this.afterWithdrawal(rt, withdrawnRows)
    if (logChanged) await this.afterLogChange(rt)
    else for (const key of touchedStreams) await this.processStream(rt, key, fresh)
    if (touchedStreams.size > 0) this.scheduleReceipt(rt.id, RECEIPT_DELAY_MS)
  }

  private onKeys(
    rt: ConversationRuntime,
    frame: EnvelopeFrame,
    header: OpenedEnvelopeHeader,
    keys: EpochKeys,
    epoch: EpochId,
    device: DeviceId,
    stream: { chain: { key: string; index: number } | null },
  ) {
    try {
      const payload = decodeKeys(openEnvelopeBody(frame, header, keys.controlKey))
      const mine = payload.recipients.find((r) => r.device === this.identity.deviceId)
      if (!mine || stream.chain !== null) return
      const plain = openSealed(this.identity.dhKey, mine.box, sealContext('chain', rt.id, `${epoch}/${device}`))
      stream.chain = { key: toBase64Url(decodeChainGrant(plain)), index: 0 }
    } catch {
      this.counters.count('bad-keys')
    }
  }

  /**
   * Decrypts and applies content envelopes of one stream in order, as far as they are contiguous and keyed. Envelopes
   * the calling ingest just stored come in `fresh` (already parsed, kind known); older ones are read in ranges.
   */
  private async processStream(rt: ConversationRuntime, key: string, fresh?: FreshEnvelopes): Promise<void> {
    const s = rt.streams.get(key)
    if (!s || s.done >= s.have || s.chain === null) return
    const [epoch, device] = key.split('/') as [EpochId, DeviceId]
    const keys = rt.epochs.get(epoch)
    const cert = rt.log.knownDevices.get(device)
    if (!keys || !cert) return
    const actor = actorOf(device)
    const byShard = new Map<number, Array<{ change: Uint8Array; seq: number }>>()
    let chain = { chainKey: fromBase64Url(s.chain.key), index: s.chain.index }
    let done = s.done
    let readAhead: Uint8Array[] = []
    let readAheadFrom = 0
    const created: Array<{ seq: number; ids: MessageId[] }> = []
    while (done < s.have) {
      const seq = done + 1
      let envelope = fresh?.get(`${key}/${seq}`)
      if (envelope === undefined) {
        if (seq - readAheadFrom >= readAhead.length) {
          // Stored envelopes up to `have` are contiguous: a range read returns exactly seq, seq + 1, …
          readAhead = await this.store.envelopesAfter(rt.id, epoch, device, done, Math.min(PROCESS_READ_AHEAD, s.have - done))
          readAheadFrom = seq
        }
        const bytes = readAhead[seq - readAheadFrom]
        if (!bytes) break
        const frame = parseEnvelopeFrame(bytes)
        // Verified before it was stored; the store is ours. Decrypting the header is enough to read its kind.
        const header = openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false })
        if (header.seq !== seq) break
        envelope = { frame, header }
      }
      if (envelope.header.kind === EnvelopeKind.content && mayWrite(rt.log, epoch, device, seq, cert.account)) {
        try {
          const step = keyAt(chain, seq)
          chain = step.next
          const payload = decodeContent(openEnvelopeBody(envelope.frame, envelope.header, step.key))
          const valid = validateRemoteChange(payload.change, actor)
          if (!valid.ok) throw new HearthError('MALFORMED', valid.reason)
          const list = byShard.get(payload.shard) ?? []
          list.push({ change: payload.change, seq })
          byShard.set(payload.shard, list)
          created.push({ seq, ids: createdMessages(valid.decoded) })
        } catch (err) {
          // A body that does not match its signed commitment is a forgery, not a mistake.
          this.counters.count(isHearthError(err, 'BAD_SIGNATURE') ? 'forged' : 'bad-content')
        }
      }
      done = seq
    }
    const batch: Put[] = await this.withdrawals.recordSources(rt, epoch, device, cert.account, created)
    const added: MessageView[] = []
    const updated: MessageView[] = []
    for (const [shard, entries] of byShard) {
      const loaded = await this.loadShard(rt, epoch, shard)
      const result = applyRemoteChanges(loaded.doc, entries.map((e) => e.change))
      entries.forEach((e, i) => batch.push(this.store.putChange(rt.id, epoch, shard, loaded.stored + i, e.change)))
      rt.shards.set(`${epoch}/${shard}`, { doc: result.doc, stored: loaded.stored + entries.length })
      const refs = [...result.touched.messages, ...result.touched.reactionTargets]
      const existing = await this.store.getMessages(rt.id, [...new Set(refs.map((r) => r.id as unknown as MessageId))])
      const seen = new Set<string>()
      for (const ref of refs) {
        if (seen.has(ref.author + ref.id)) continue
        seen.add(ref.author + ref.id)
        const row = this.materialize(rt, result.doc, ref, epoch, existing.get(ref.id as unknown as MessageId))
        if (!row) continue
        batch.push(...this.store.putMessage(row.row))
        // A message withdrawn before anyone saw it is never announced: it is shown nowhere.
        if (row.isNew && row.row.withdrawn) continue
        ;(row.isNew ? added : updated).push(toView(row.row, rt.log.names))
      }
    }
    s.done = done
    s.chain = { key: toBase64Url(chain.chainKey), index: chain.index }
    const newestOthers = added.filter((m) => !m.mine)
    if (newestOthers.length > 0) {
      const last = newestOthers.reduce((a, b) => (a.orderKey > b.orderKey ? a : b))
      const unread = newestOthers.filter((m) => m.orderKey > rt.record.readUpTo).length
      rt.record = {
        ...rt.record,
        unread: rt.record.unread + unread,
        lastActivity: Math.max(rt.record.lastActivity, this.now()),
        lastMessage:
          rt.record.lastMessage === null || last.sentAt >= rt.record.lastMessage.at
            ? { body: preview(last.body), authorName: last.authorName, author: last.author, at: last.sentAt }
            : rt.record.lastMessage,
      }
      batch.push(this.store.putConversation(rt.record))
    }
    batch.push(this.store.putStream(rt.id, epoch, device, s))
    await this.store.commit(batch, true)
    for (const m of added) {
      this.observe(m.hlc)
      this.events.emit('message.added', { conversation: rt.id, message: m })
    }
    for (const m of updated) this.events.emit('message.updated', { conversation: rt.id, message: m })
    if (newestOthers.length > 0) this.emitConversation(rt.id)
  }

  /** The row for one touched message; `existing` is its stored row, if any. */
  private materialize(
    rt: ConversationRuntime,
    doc: Shard,
    ref: MessageRef,
    epoch: EpochId,
    existing: MessageRow | undefined,
  ): { row: MessageRow; isNew: boolean } | undefined {
    const view = readMessage(doc, ref.author, ref.id)
    if (!view) return undefined
    let cert
    for (const c of rt.log.knownDevices.values()) if (actorOf(c.device) === ref.author) cert = c
    if (!cert) return undefined
    if (existing && existing.device !== cert.device) return undefined // an id collision by another device: keep the first
    const reactions: Record<string, string[]> = {}
    for (const [emoji, actors] of Object.entries(view.reactions)) {
      reactions[emoji] = actors.map((a) => [...rt.log.knownDevices.values()].find((c) => actorOf(c.device) === a)?.account ?? a)
    }
    const id = ref.id as unknown as MessageId
    const row: MessageRow = {
      id,
      conversation: rt.id,
      author: cert.account,
      authorName: rt.log.names.get(cert.account) ?? cert.displayName,
      device: cert.device,
      epoch,
      // The envelope it came from (view.seq is the device's message count, which only orders).
      seq: existing?.seq ?? this.withdrawals.sourceSeq(rt.id, id),
      hlc: encodeHlc(view.hlc),
      orderKey: view.orderKey,
      body: view.body,
      edited: view.edited,
      deleted: view.deleted,
      reactions,
      mine: cert.device === this.identity.deviceId,
      state: existing?.state ?? 'delivered',
      failure: existing?.failure ?? null,
    }
    if (existing === undefined) this.withdrawals.forget(rt.id, id)
    const withdrawn = existing?.withdrawn ?? this.withdrawals.reasonFor(rt.id, id)
    return { row: withdrawn ? withdrawRow(row, withdrawn) : row, isNew: existing === undefined }
  }

  /** After a change of the membership log: withdraw what removed devices wrote beyond their cutoffs (equivocation.ts). */
  private async withdrawBeyondCutoffs(rt: ConversationRuntime): Promise<void> {
    const { puts, rows } = await this.withdrawals.withdrawBeyondCutoffs(rt)
    if (puts.length === 0) return
    await this.store.commit(puts, true)
    await this.afterWithdrawal(rt, rows)
  }

  /** Tells the UI which messages were withdrawn, and keeps the conversation's preview from quoting one. */
  private async afterWithdrawal(rt: ConversationRuntime, rows: MessageRow[]): Promise<void> {
    for (const r of rows) this.events.emit('message.updated', { conversation: rt.id, message: toView(r, rt.log.names) })
    const last = rt.record.lastMessage
    const quoted = last !== null && rows.some((r) => r.author === last.author && toView(r).sentAt === last.at)
    const unread = rows.filter((r) => !r.mine && r.orderKey > rt.record.readUpTo).length
    if (quoted || unread > 0) {
      const newest = quoted ? (await this.store.pageMessages(rt.id, 50)).find((r) => !r.withdrawn) : undefined
      const lastMessage = !quoted ? last : newest === undefined ? null : { body: preview(newest.body), authorName: newest.authorName, author: newest.author, at: toView(newest).sentAt }
      rt.record = { ...rt.record, lastMessage, unread: Math.max(0, rt.record.unread - unread) }
      await this.store.commit([this.store.putConversation(rt.record)], false)
    }
    this.emitConversation(rt.id)
  }

  private async loadShard(rt: ConversationRuntime, epoch: EpochId, shard: number): Promise<{ doc: Shard; stored: number }> {
    const key = `${epoch}/${shard}`
    const cached = rt.shards.get(key)
    if (cached) {
      // Least recently used goes first: re-inserting keeps the shard being written at the young end.
      rt.shards.delete(key)
      rt.shards.set(key, cached)
      return cached
    }
    const changes = await this.store.listChanges(rt.id, epoch, shard)
    let doc = createShard(actorOf(this.identity.deviceId))
    if (changes.length > 0) doc = applyRemoteChanges(doc, changes).doc
    const loaded = { doc, stored: changes.length }
    // Only a few shards stay in memory: the newest one is where writing happens; older ones reload on demand.
    if (rt.shards.size >= 4) rt.shards.delete(rt.shards.keys().next().value!)
    rt.shards.set(key, loaded)
    return loaded
  }

  // ---------------------------------------------------------------------------------------- receipts, states

  private scheduleReceipt(id: ConversationId, delay: number): void {
    if (this.receiptTimers.has(id) || this.stopped) return
    const timer = setTimeout(() => {
      this.receiptTimers.delete(id)
      drop(this.sendReceipt(id), (err) => this.log.debug({ err }, 'receipt failed'))
    }, delay)
    timer.unref()
    this.receiptTimers.set(id, timer)
  }

  private async sendReceipt(id: ConversationId): Promise<void> {
    const rt = this.conversations.get(id)
    if (!rt || rt.record.removed || this.stopped) return
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)
    if (!keys) return
    const have: Record<string, number> = {}
    for (const [key, s] of rt.streams) {
      const [e, device] = key.split('/')
      if (e === epoch) have[device!] = s.have
    }
    // Our own position too: a member that missed some of what we wrote learns of it from any receipt of ours.
    have[this.identity.deviceId] = this.ownHave(rt, epoch)
    const payload = encodeReceipt({ hlc: encodeHlc(this.tick()), epoch, have, readUpTo: rt.record.readUpTo })
    const bytes = sealEnvelope({
      keys: keys.envelope,
      header: { device: this.identity.deviceKey.publicKey, seq: 0, kind: EnvelopeKind.signal },
      bodyKey: keys.controlKey,
      body: payload,
      signingSeed: this.identity.deviceKey.seed,
    })
    await this.node.publish(keys.topic, bytes)
  }

  private async onSignal(rt: ConversationRuntime, frame: EnvelopeFrame, header: OpenedEnvelopeHeader, keys: EpochKeys, device: DeviceId): Promise<void> {
    let receipt
    try {
      receipt = decodeReceipt(openEnvelopeBody(frame, header, keys.controlKey))
    } catch {
      this.counters.count('bad-signal')
      return
    }
    const previous = await this.store.getReceipt(rt.id, device)
    if (previous && previous.hlc >= receipt.hlc) return
    await this.store.commit([this.store.putReceipt(rt.id, device, receipt)], false)
    await this.applyReceipt(rt, receipt)
    this.noticeClaims(rt, receipt, device)
  }

  /** A member's receipt says how far it holds each stream: where that is beyond us, ask that member at once. */
  private noticeClaims(rt: ConversationRuntime, receipt: { epoch: string; have: Record<string, number> }, from: DeviceId): void {
    const epoch = receipt.epoch as EpochId
    if (!rt.epochs.has(epoch)) return
    const peer = rt.log.knownDevices.get(from)?.peerId ?? null
    for (const [device, claimed] of Object.entries(receipt.have)) {
      if (device === this.identity.deviceId || !rt.log.knownDevices.has(device as DeviceId)) continue
      const key = streamKey(epoch, device as DeviceId)
      this.gaps.notice(rt.id, key, rt.streams.get(key)?.have ?? 0, claimed, peer)
    }
  }

  /** Moves our messages to delivered / read as far as another member's receipt says. */
  private async applyReceipt(rt: ConversationRuntime, receipt: { epoch: string; have: Record<string, number>; readUpTo: string }): Promise<void> {
    const epoch = receipt.epoch as EpochId
    const own = rt.own.get(epoch)
    const changed = new Map<string, MessageRow>()
    const held = receipt.have[this.identity.deviceId] ?? 0
    if (own && held > own.delivered) {
      const rows = await this.store.getMessages(rt.id, await this.store.mineBetween(rt.id, epoch, own.delivered, held))
      for (const row of rows.values()) {
        if (row.state === 'pending' || row.state === 'sent' || row.state === 'failed') changed.set(row.id, { ...row, state: 'delivered', failure: null })
      }
      const next = { ...own, delivered: held }
      rt.own.set(epoch, next)
      await this.store.commit([this.store.putOwnChain(rt.id, epoch, next)], false)
    }
    if (receipt.readUpTo > rt.record.theirReadUpTo) {
      for (const row of await this.store.messagesAfter(rt.id, rt.record.theirReadUpTo, 10_000)) {
        if (row.orderKey > receipt.readUpTo) break
        if (!row.mine || row.state === 'read') continue
        changed.set(row.id, { ...(changed.get(row.id) ?? row), state: 'read', failure: null })
      }
      rt.record = { ...rt.record, theirReadUpTo: receipt.readUpTo }
      await this.store.commit([this.store.putConversation(rt.record)], false)
    }
    if (changed.size > 0) await this.updateRows(rt.id, [...changed.values()])
  }

  private async updateRows(id: ConversationId, rows: MessageRow[]): Promise<void> {
    await this.store.commit(rows.flatMap((r) => this.store.putMessage(r)), false)
    const names = this.conversations.get(id)?.log.names
    for (const r of rows) this.events.emit('message.updated', { conversation: id, message: toView(r, names) })
  }

  /**
   * Gossip is the fast path, not a durable one: a publish that reached peers does not make a message "sent". That
   * state comes from a relay's acknowledgement (RelayMailboxes) and "delivered" from a member's receipt.
   */
  private async publishOwn(topic: string, envelope: Uint8Array): Promise<void> {
    await this.node.publish(topic, envelope)
  }

  private vector(rt: ConversationRuntime): StreamPosition[] {
    const out: StreamPosition[] = []
    for (const [key, s] of rt.streams) {
      const [epoch, device] = key.split('/') as [EpochId, DeviceId]
      out.push({ epoch, device, seq: s.have })
    }
    for (const epoch of rt.own.keys()) out.push({ epoch, device: this.identity.deviceId, seq: this.ownHave(rt, epoch) })
    return out
  }

  private async pull(peer: string, id: ConversationId): Promise<void> {
    const rt = this.conversations.get(id)
    // A removed member still asks (members answer it with the membership log alone), so it learns of being added back.
    if (!rt || this.stopped) return
    for (let round = 0; round < 50; round++) {
      const paced = this.pacedStreams(rt)
      const req = encodeSyncRequest(
        { conversation: id, device: this.identity.deviceId, at: this.now(), heads: rt.log.heads.slice(0, MAX_SYNC_HEADS), vector: this.vector(rt), paced },
        this.identity.deviceKey.seed,
        { requester: this.identity.peerId, responder: peer },
      )
      let received = 0
      let opsReceived = 0
      let theirs: StreamPosition[] = []
      for await (const frameBytes of request(this.node, peer, SYNC_PROTOCOL, req, SYNC_LIMITS)) {
        const frame = decodeSyncFrame(frameBytes)
        if (frame.kind === 'ops') {
          opsReceived += await this.queue.run(() => this.addOps(rt, frame.ops))
        } else if (frame.kind === 'envelopes') {
          received += frame.envelopes.length
          // In slices, each its own turn on the queue: live gossip (an honest member's next message) then waits for one
          // slice, not for a whole page of backlog (a flooding member's skipped messages arrive this way).
          for (let i = 0; i < frame.envelopes.length; i += SYNC_INGEST_SLICE) {
            const slice = frame.envelopes.slice(i, i + SYNC_INGEST_SLICE)
            await this.queue.run(() => this.ingest(rt, slice.map((bytes) => ({ bytes, from: peer }))))
          }
        } else if (frame.kind === 'evidence') {
          // Every version of an equivocated position: ingest compares them with what we hold.
          await this.queue.run(() => this.ingest(rt, frame.envelopes.map((bytes) => ({ bytes, from: peer }))))
        } else {
          theirs = frame.vector
        }
      }
      const mine = new Map(this.vector(rt).map((p) => [`${p.epoch}/${p.device}`, p.seq]))
      for (const p of paced) this.gossipRate.spent(rt.id, p.device, (mine.get(streamKey(p.epoch, p.device)) ?? 0) - p.had)
      // A paced stream (a flooder's) is not a reason to ask again: the next anti-entropy round fetches its next share.
      const pacedKeys = new Set(paced.map((p) => streamKey(p.epoch, p.device)))
      const behind = theirs.some((p) => rt.epochs.has(p.epoch) && !pacedKeys.has(streamKey(p.epoch, p.device)) && p.seq > (mine.get(`${p.epoch}/${p.device}`) ?? 0))
      // A long membership log comes over several rounds (each response is bounded): ask again while it grows.
      if (opsReceived > 0) continue
      if (!behind || received === 0) return
    }
  }

  /**
   * Streams of devices that went past their gossip allowance lately, with how many envelopes of each this catch-up
   * may bring (what arrives is spent from the same allowance): a flooder's excess is delayed, not processed at the
   * flood's pace.
   */
  private pacedStreams(rt: ConversationRuntime): Array<{ epoch: EpochId; device: DeviceId; max: number; had: number }> {
    const paced: Array<{ epoch: EpochId; device: DeviceId; max: number; had: number }> = []
    for (const [key, stream] of rt.streams) {
      const { epoch, device } = parseStreamKey(key)
      const max = this.gossipRate.catchUpAllowance(rt.id, device)
      if (max !== undefined && paced.length < MAX_PACED_STREAMS) paced.push({ epoch, device, max: Math.min(max, Limits.maxEnvelopesPerPage), had: stream.have })
    }
    return paced
  }

  /** Stores and applies membership operations from a peer; returns how many were new to us. */
  private async addOps(rt: ConversationRuntime, encoded: Uint8Array[]): Promise<number> {
    const batch: Put[] = []
    for (const bytes of encoded) {
      try {
        const op = decodeOp(bytes)
        if (op.conversation !== rt.id || rt.ops.has(op.hash)) continue
        rt.ops.set(op.hash, op)
        batch.push(this.store.putOp(rt.id, op.hash, op.bytes))
      } catch {
        this.counters.count('bad-membership-op')
      }
    }
    if (batch.length === 0) return 0
    await this.store.commit(batch, true)
    await this.afterLogChange(rt)
    return batch.length
  }

  private async *serveSync(requestBytes: Uint8Array, peer: string): AsyncIterable<Uint8Array> {
    const req = decodeSyncRequest(requestBytes, { requester: peer, responder: this.identity.peerId }, this.now())
    const rt = this.conversations.get(req.conversation)
    // One answer for "no such conversation" and "not a member", so non-members learn nothing.
    const refuse = new HearthError('UNAUTHORIZED', 'not a member of that conversation')
    if (!rt || rt.record.removed) throw refuse
    const cert = rt.log.knownDevices.get(req.device)
    const removed = cert !== undefined && rt.log.removed.has(cert.account)
    if (!cert || cert.peerId !== peer || (!rt.log.members.has(cert.account) && !removed)) {
      this.counters.count('sync-unauthorized')
      throw refuse
    }
    for (const page of opPages(opsMissing(rt.ops, req.heads, rt.log.order), OP_PAGES)) yield encodeSyncFrame({ kind: 'ops', ops: page })
    if (removed) {
      // A removed member gets the membership log, so it learns of its removal, and nothing else.
      yield encodeSyncFrame({ kind: 'done', vector: [] })
      return
    }
    const theirs = new Map(req.vector.map((p) => [`${p.epoch}/${p.device}`, p.seq]))
    // The requester may hold what we lack (it wrote while we were apart): ask it back at once.
    for (const p of req.vector) {
      if (p.device === this.identity.deviceId || !rt.epochs.has(p.epoch) || !rt.log.knownDevices.has(p.device)) continue
      const key = streamKey(p.epoch, p.device)
      this.gaps.notice(rt.id, key, rt.streams.get(key)?.have ?? 0, p.seq, peer)
    }
    const paced = new Map((req.paced ?? []).map((p) => [streamKey(p.epoch, p.device), p.max]))
    let budget = MAX_ENVELOPES_PER_SYNC
    let bytesLeft = SYNC_RESPONSE_BYTES
    for (const pos of this.vector(rt)) {
      // A member reads only the epochs it was given; sending it others would be wasted bytes.
      const epoch = rt.log.epochs.get(pos.epoch)
      if (!epoch || !epoch.devices.has(req.device)) continue
      let after = theirs.get(`${pos.epoch}/${pos.device}`) ?? 0
      // Nothing past a removed device's cutoff: every member refuses it (and would blame us for passing it on).
      const account = rt.log.knownDevices.get(pos.device)?.account
      const writable = account === undefined ? pos.seq : lastWritable(rt.log, pos.epoch, pos.device, account, pos.seq)
      // The requester paces this stream (its device flooded): no more than it asked for.
      const end = Math.min(writable, after + (paced.get(streamKey(pos.epoch, pos.device)) ?? Number.POSITIVE_INFINITY))
      while (after < end && budget > 0 && bytesLeft >= Limits.maxEnvelopeBytes) {
        const fetched = await this.store.envelopesAfter(rt.id, pos.epoch, pos.device, after, Math.min(Limits.maxEnvelopesPerPage, budget, end - after))
        if (fetched.length === 0) break
        // A page is bounded in bytes too: 256 envelopes of up to 64 KiB would not fit one frame.
        const page: Uint8Array[] = []
        let bytes = 0
        for (const e of fetched) {
          if (page.length > 0 && bytes + e.length > Math.min(SYNC_PAGE_BYTES, bytesLeft)) break
          page.push(e)
          bytes += e.length
        }
        budget -= page.length
        bytesLeft -= bytes
        after += page.length
        yield encodeSyncFrame({ kind: 'envelopes', envelopes: page })
      }
    }
    const evidence = await this.evidenceFor(rt, req.device, theirs, Math.min(SYNC_PAGE_BYTES, bytesLeft))
    if (evidence.length > 0) yield encodeSyncFrame({ kind: 'evidence', envelopes: evidence })
    yield encodeSyncFrame({ kind: 'done', vector: this.vector(rt) })
  }

  /**
   * Envelopes the requester should compare with what it holds (equivocation.ts): stored evidence, so every member
   * learns of every conflict whichever version reached it, then our envelope at the requester's position of each
   * stream, so two versions meet even when both members hold equally many (a vector alone never compares bytes).
   * One frame per sync at most; only epochs the requester reads and positions the log still lets the device write.
   */
  private async evidenceFor(rt: ConversationRuntime, requester: DeviceId, theirs: ReadonlyMap<string, number>, maxBytes: number): Promise<Uint8Array[]> {
    await this.withdrawals.load(rt.id)
    const positions: Array<{ epoch: EpochId; device: DeviceId; seq: number; evidence: boolean }> = []
    for (const c of this.withdrawals.conflicts(rt.id)) positions.push({ ...c, evidence: true })
    for (const p of this.vector(rt)) {
      const seq = Math.min(theirs.get(`${p.epoch}/${p.device}`) ?? 0, p.seq)
      if (seq > 0 && p.device !== requester) positions.push({ epoch: p.epoch, device: p.device, seq, evidence: false })
    }
    const out: Uint8Array[] = []
    let bytes = 0
    for (const pos of positions) {
      const account = rt.log.knownDevices.get(pos.device)?.account
      if (account === undefined || !rt.log.epochs.get(pos.epoch)?.devices.has(requester) || !mayWrite(rt.log, pos.epoch, pos.device, pos.seq, account)) continue
      const envelopes = pos.evidence ? await this.store.evidenceAt(rt.id, pos.epoch, pos.device, pos.seq) : [await this.store.getEnvelope(rt.id, pos.epoch, pos.device, pos.seq)]
      for (const e of envelopes) {
        if (e === undefined) continue
        if (out.length >= Limits.maxEnvelopesPerPage || bytes + e.length > maxBytes) return out
        out.push(e)
        bytes += e.length
      }
    }
    return out
  }

  private async *serveJoin(requestBytes: Uint8Array, peer: string): AsyncIterable<Uint8Array> {
    const { request: req, signature } = decodeJoinRequest(requestBytes)
    const invalid = new HearthError('INVITE_INVALID', 'invite is not valid')
    const rt = this.conversations.get(req.conversation)
    if (!rt || rt.record.removed) throw invalid
    const invite = rt.log.invites.get(req.inviteId)
    if (!invite || !verifyJoinRequest(req, signature, invite.grant.key, this.identity.peerId)) {
      this.counters.count('join-refused')
      throw invalid
    }
    const cert = decodeDeviceCert(req.cert)
    if (cert.peerId !== peer) throw new HearthError('UNAUTHORIZED', 'device certificate does not match the connection')
    await this.queue.run(async () => {
      const current = rt.log.invites.get(req.inviteId)!
      if (rt.log.members.has(cert.account) && current.usedBy === cert.account) return // a retry after a lost response
      if (rt.log.removed.has(cert.account) && !rt.log.members.has(cert.account)) {
        this.counters.count('join-refused')
        throw new HearthError('REMOVED', 'you were removed from this conversation; only an admin can add you back')
      }
      if (current.revoked) throw new HearthError('INVITE_REVOKED', 'this invite was revoked')
      if (current.grant.expiresAt !== 0 && current.grant.expiresAt < this.now()) {
        throw new HearthError('INVITE_EXPIRED', 'this invite has expired')
      }
      if (current.grant.singleUse && current.usedBy !== null) throw new HearthError('INVITE_USED', 'this invite was already used')
      if (rt.log.members.has(cert.account)) throw new HearthError('INVALID_INPUT', 'already a member')
      this.requireAdmin(rt)
      const epochId = rt.log.currentEpoch
      const secret = await this.epochSecret(rt.id, epochId)
      await this.appendOp(rt, {
        type: 'add',
        certs: [cert],
        role: 'member',
        via: req.inviteId,
        epoch: epochId,
        seals: [{ device: cert.device, box: this.sealEpoch(rt.id, epochId, secret, cert.dhPublic) }],
      })
      if (!rt.log.members.has(cert.account)) throw new HearthError('INVITE_USED', 'the invite could not be used')
    })
    const all = opsMissing(rt.ops, [], rt.log.order)
    for (const page of opPages(all, { ...OP_PAGES, totalBytes: Number.POSITIVE_INFINITY })) yield encodeJoinResponse(page)
  }

  private async epochSecret(id: ConversationId, epoch: EpochId): Promise<Uint8Array> {
    for (const secret of await this.store.listEpochSecrets(id)) if (deriveEpochKeys(secret).id === epoch) return secret
    throw new HearthError('INTERNAL', 'current epoch secret is missing')
  }
}

type OpenedHeader = { ok: true; frame: EnvelopeFrame; keys: EpochKeys; header: OpenedEnvelopeHeader }

/** Envelopes one ingest stored, by `${epoch}/${device}/${seq}`, parsed, with their opened header. */
type FreshEnvelopes = Map<string, { frame: EnvelopeFrame; header: OpenedEnvelopeHeader }>

type CheckResult =
  | { ok: true; frame: EnvelopeFrame; header: OpenedEnvelopeHeader; epoch: EpochId; device: DeviceId; keys: EpochKeys; account: AccountId }
  | { ok: false; reason: string }

function lastMessageView(last: ConversationRecord['lastMessage'], names: ReadonlyMap<string, string>): ConversationSummary['lastMessage'] {
  if (last === null) return null
  const name = last.author === undefined ? undefined : names.get(last.author)
  return { body: last.body, authorName: name ?? last.authorName, at: last.at }
}

function preview(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim()
  return line.length > 120 ? `${line.slice(0, 119)}…` : line
}

/** `names` holds the authors' current display names (a row keeps the name it was written under as a fallback). */
export function toView(row: MessageRow, names?: ReadonlyMap<string, string>): MessageView {
  return {
    id: row.id,
    conversation: row.conversation,
    author: row.author,
    authorName: names?.get(row.author) ?? row.authorName,
    device: row.device,
    hlc: row.hlc,
    sentAt: Number.parseInt(row.hlc.slice(0, 13), 10),
    orderKey: row.orderKey,
    body: row.body,
    edited: row.edited,
    deleted: row.deleted,
    reactions: row.reactions,
    mine: row.mine,
    state: row.state,
    failure: row.failure,
    withdrawn: row.withdrawn ?? null,
  }
}
