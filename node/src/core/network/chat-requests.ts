/**
 * Starting a direct chat with a device nearby, without a link to paste (docs/adr/0024). The asking side creates a
 * direct conversation and a single-use invite as for any invite, and hands the invite to the other device over
 * `/hearth/chat-request/1.0.0`. The asked side keeps it as a pending request until its person accepts (then it joins
 * through the invite, the ordinary join path) or declines (then the asker is told and revokes the invite), or until it
 * expires.
 *
 * Everything in a request is hostile until checked: its size and shape (chat-request-frames.ts), the asking device's
 * certificate (signed by its account key, naming the very peer on the connection), the invite (well formed, pointing
 * back at that same peer, not expired). A peer is rate limited by the framing layer, holds at most a few pending
 * requests, and the same conversation asked twice is one request. Pending requests live in memory only: they are
 * between two devices connected right now, and a restart forgets them (the invite still expires on its own).
 */
import { HearthError, isHearthError } from '../../../common/errors.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { handleProtocol, request } from '../../../common/net/request-response.js'
import { toHex } from '../../../common/util/bytes.js'
import type { ChatRequestView, ConversationSummary } from '../../api/types.js'
import { decodeInvite } from '../../conversation/invite-code.js'
import { memberDevices } from '../../conversation/membership-log.js'
import { decodeDeviceCert, displayNameProblem } from '../../identity/device-cert.js'
import type { ConversationId } from '../../ids.js'
import type { Kernel } from '../kernel.js'
import {
  CHAT_REQUEST_LIMITS,
  CHAT_REQUEST_PROTOCOL,
  decodeChatAnswer,
  decodeChatRequest,
  encodeChatAnswer,
  encodeChatRequest,
} from './chat-request-frames.js'

/** How long a request (and its invite) stays good: long enough to answer after lunch, short enough to forget. */
export const CHAT_REQUEST_TTL_MS = 24 * 3600_000
/** Pending requests one peer may hold here at once; more are refused (a flood is capped, not queued). */
export const MAX_PENDING_PER_PEER = 3
/** Pending requests from everyone together: many peers (a hostile LAN) cannot grow memory without bound. */
export const MAX_PENDING_TOTAL = 50

export interface ChatRequestHooks {
  createDirect(name: string): Promise<ConversationSummary>
  createInvite(id: ConversationId, options: { expiresInMs: number; singleUse: boolean }): Promise<{ code: string; inviteId: string; expiresAt: number }>
  revokeInvite(id: ConversationId, inviteId: string): Promise<void>
  join(code: string): Promise<ConversationSummary>
  /** The conversation as the list shows it, or undefined when it is not held here. */
  summary(id: ConversationId): ConversationSummary | undefined
  /** A name this device already knows for the peer (from a shared conversation), or null. */
  knownName(peer: string): string | null
}

interface Incoming {
  id: string
  peerId: string
  account: string
  displayName: string
  conversationId: ConversationId
  invite: string
  at: number
  expiresAt: number
}

interface Outgoing {
  id: string
  peerId: string
  displayName: string | null
  conversationId: ConversationId
  inviteId: string
  at: number
  expiresAt: number
  state: 'pending' | 'declined'
}

export class ChatRequests {
  private readonly incoming = new Map<string, Incoming>()
  private readonly outgoing = new Map<string, Outgoing>()
  private unhandle: (() => Promise<void>) | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly hooks: ChatRequestHooks,
  ) {}

  async start(): Promise<void> {
    this.unhandle = await handleProtocol(this.kernel.node, CHAT_REQUEST_PROTOCOL, CHAT_REQUEST_LIMITS, (bytes, ctx) => this.serve(bytes, ctx.peer), {
      onError: (err, context) => this.kernel.log.warn({ err, context }, 'chat request handler failed'),
    })
  }

  async stop(): Promise<void> {
    await this.unhandle?.()
  }

  /** Pending requests both ways, oldest first; expired ones are dropped as they are read. */
  list(): ChatRequestView[] {
    this.expire()
    const inViews: ChatRequestView[] = [...this.incoming.values()].map((r) => ({
      id: r.id,
      direction: 'incoming',
      peerId: r.peerId,
      account: r.account,
      displayName: r.displayName,
      conversationId: r.conversationId,
      at: r.at,
      expiresAt: r.expiresAt,
      state: 'pending',
    }))
    const outViews: ChatRequestView[] = [...this.outgoing.values()].map((r) => ({
      id: r.id,
      direction: 'outgoing',
      peerId: r.peerId,
      account: null,
      displayName: r.displayName,
      conversationId: r.conversationId,
      at: r.at,
      expiresAt: r.expiresAt,
      state: r.state,
    }))
    return [...inViews, ...outViews].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
  }

  /**
   * Asks a connected peer to chat: a new direct conversation, a single-use invite, and the request. Asking the same
   * peer again while a request is pending returns that request instead of making another conversation; asking someone
   * this person already has a direct chat with returns that chat (and no request).
   */
  async ask(peerId: string): Promise<{ request: ChatRequestView | null; conversation: ConversationSummary }> {
    const { node, identity } = this.kernel
    if (peerId === identity.peerId) throw new HearthError('INVALID_INPUT', 'That is this device.')
    if (!node.connectedPeers().includes(peerId)) {
      throw new HearthError('UNREACHABLE', 'That device is not nearby any more. Ask again when it shows under Nearby.')
    }
    const existing = this.directWith(peerId)
    if (existing !== undefined) return { request: null, conversation: existing }
    this.expire()
    const pending = [...this.outgoing.values()].find((r) => r.peerId === peerId && r.state === 'pending')
    if (pending !== undefined) {
      const conversation = this.hooks.summary(pending.conversationId)
      if (conversation !== undefined) return { request: this.view(pending.id)!, conversation }
    }
    const known = this.hooks.knownName(peerId)
    const created = await this.hooks.createDirect(known ?? 'Direct chat')
    const id = created.id as ConversationId
    const invite = await this.hooks.createInvite(id, { expiresInMs: CHAT_REQUEST_TTL_MS, singleUse: true })
    try {
      await this.send(peerId, encodeChatRequest({ t: 'ask', invite: invite.code, cert: identity.cert.bytes }))
    } catch (err) {
      // The conversation stays (with its invite): the person can still pass the invite on another way.
      throw askFailure(err)
    }
    const entry: Outgoing = {
      id: toHex(randomBytes(16)),
      peerId,
      displayName: known,
      conversationId: id,
      inviteId: invite.inviteId,
      at: this.kernel.now(),
      expiresAt: invite.expiresAt,
      state: 'pending',
    }
    this.outgoing.set(entry.id, entry)
    this.changed()
    return { request: this.view(entry.id)!, conversation: created }
  }

  /** Joins the conversation of an incoming request through its invite (the ordinary join path). */
  async accept(requestId: string): Promise<ConversationSummary> {
    this.expire()
    const req = this.incoming.get(requestId)
    if (req === undefined) throw new HearthError('NOT_FOUND', 'This request is no longer there: it was answered or it expired.')
    const summary = await this.hooks.join(req.invite)
    this.incoming.delete(requestId)
    this.changed()
    return summary
  }

  /** Forgets an incoming request and tells the asker (best effort: if it is gone, its invite expires by itself). */
  async decline(requestId: string): Promise<void> {
    const req = this.incoming.get(requestId)
    if (req === undefined) throw new HearthError('NOT_FOUND', 'This request is no longer there: it was answered or it expired.')
    this.incoming.delete(requestId)
    this.changed()
    try {
      await this.send(req.peerId, encodeChatRequest({ t: 'decline', conversation: req.conversationId }))
    } catch (err) {
      this.kernel.log.debug({ err, peer: req.peerId }, 'could not tell the asker that the request was declined')
    }
  }

  /** A conversation we asked someone into now has them: the request is answered. */
  joined(conversation: ConversationId, memberCount: number): void {
    if (memberCount < 2) return
    let changed = false
    for (const [id, r] of this.outgoing) {
      if (r.conversationId === conversation) {
        this.outgoing.delete(id)
        changed = true
      }
    }
    if (changed) this.changed()
  }

  // ---------------------------------------------------------------------------------------------- the asked side

  private async serve(bytes: Uint8Array, peer: string): Promise<Uint8Array> {
    try {
      const frame = decodeChatRequest(bytes)
      if (frame.t === 'ask') this.receiveAsk(frame.invite, frame.cert, peer)
      else await this.receiveDecline(frame.conversation as ConversationId, peer)
      return encodeChatAnswer()
    } catch (err) {
      this.kernel.counters.count(isHearthError(err, 'RATE_LIMITED') ? 'chat-request-capped' : 'chat-request-refused')
      this.kernel.events.emit('security.rejected', { reason: 'chat-request', peer })
      throw err
    }
  }

  private receiveAsk(code: string, certBytes: Uint8Array, peer: string): void {
    const { identity } = this.kernel
    const now = this.kernel.now()
    const cert = decodeDeviceCert(certBytes)
    // The certificate must be the connected device's own: nobody asks in someone else's name.
    if (cert.peerId !== peer) throw new HearthError('UNAUTHORIZED', 'the certificate is not the asking device’s')
    if (cert.account === identity.account) throw new HearthError('INVALID_INPUT', 'a device of the same person')
    const nameProblem = displayNameProblem(cert.displayName)
    if (nameProblem !== undefined) throw new HearthError('MALFORMED', nameProblem)
    let invite
    try {
      invite = decodeInvite(code)
    } catch (err) {
      throw new HearthError('INVITE_INVALID', 'invite is not valid', { cause: err })
    }
    // Accepting dials the invite's device: it must be the one asking, or a request could send us anywhere.
    if (invite.peerId !== peer) throw new HearthError('INVITE_INVALID', 'the invite is not the asking device’s')
    if (invite.expiresAt === 0 || invite.expiresAt <= now) throw new HearthError('INVITE_EXPIRED', 'the invite has expired')
    if (this.kernel.conversations.has(invite.conversation)) throw new HearthError('INVALID_INPUT', 'already in that conversation')
    this.expire()
    const fromPeer = [...this.incoming.values()].filter((r) => r.peerId === peer)
    const same = fromPeer.find((r) => r.conversationId === invite.conversation)
    if (same !== undefined) return // asked twice: still one request
    if (fromPeer.length >= MAX_PENDING_PER_PEER || this.incoming.size >= MAX_PENDING_TOTAL) {
      throw new HearthError('RATE_LIMITED', 'too many pending chat requests')
    }
    const entry: Incoming = {
      id: toHex(randomBytes(16)),
      peerId: peer,
      account: cert.account,
      displayName: cert.displayName,
      conversationId: invite.conversation,
      invite: code,
      at: now,
      expiresAt: Math.min(invite.expiresAt, now + CHAT_REQUEST_TTL_MS),
    }
    this.incoming.set(entry.id, entry)
    this.changed()
  }

  /** Only the device we asked can decline, and only the conversation we asked it into. */
  private async receiveDecline(conversation: ConversationId, peer: string): Promise<void> {
    const entry = [...this.outgoing.values()].find((r) => r.peerId === peer && r.conversationId === conversation && r.state === 'pending')
    if (entry === undefined) throw new HearthError('NOT_FOUND', 'no such request')
    entry.state = 'declined'
    this.changed()
    await this.hooks.revokeInvite(conversation, entry.inviteId).catch((err: unknown) => this.kernel.log.debug({ err }, 'revoking a declined request’s invite failed'))
  }

  // ------------------------------------------------------------------------------------------------------ helpers

  private async send(peer: string, bytes: Uint8Array): Promise<void> {
    let answered = false
    for await (const chunk of request(this.kernel.node, peer, CHAT_REQUEST_PROTOCOL, bytes, CHAT_REQUEST_LIMITS)) {
      decodeChatAnswer(chunk)
      answered = true
    }
    if (!answered) throw new HearthError('PROTOCOL_ERROR', 'the other device did not answer the chat request')
  }

  /** Our direct chat (both still in it) with the person whose device `peer` is, if there is one. */
  private directWith(peer: string): ConversationSummary | undefined {
    const me = this.kernel.identity.account
    for (const rt of this.kernel.conversations.values()) {
      if (rt.record.kind !== 'direct' || rt.record.removed || rt.log.members.size !== 2 || !rt.log.members.has(me)) continue
      for (const cert of memberDevices(rt.log).values()) {
        if (cert.peerId === peer && cert.account !== me) return this.hooks.summary(rt.id)
      }
    }
    return undefined
  }

  private view(id: string): ChatRequestView | undefined {
    return this.list().find((r) => r.id === id)
  }

  private expire(): void {
    const now = this.kernel.now()
    for (const [id, r] of this.incoming) if (r.expiresAt <= now) this.incoming.delete(id)
    for (const [id, r] of this.outgoing) if (r.expiresAt <= now) this.outgoing.delete(id)
  }

  private changed(): void {
    this.kernel.events.emit('chat-requests.changed', { requests: this.list() })
  }
}

/** What the person reads when the other device did not take the request. */
function askFailure(err: unknown): HearthError {
  const code = isHearthError(err) ? err.code : 'INTERNAL'
  const say = (c: ConstructorParameters<typeof HearthError>[0], message: string) => new HearthError(c, message, { cause: err })
  switch (code) {
    case 'UNSUPPORTED_VERSION':
      return say(code, 'That device does not take chat requests: it may be a relay, or an older Hearth.')
    case 'RATE_LIMITED':
      return say(code, 'That device has too many chat requests waiting. Try again later.')
    case 'UNREACHABLE':
    case 'TIMEOUT':
      return say('UNREACHABLE', 'That device did not answer. Ask again when it shows under Nearby.')
    default:
      return isHearthError(err) ? err : say('PROTOCOL_ERROR', 'That device did not take the chat request.')
  }
}
