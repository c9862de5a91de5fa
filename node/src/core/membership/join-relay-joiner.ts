/**
 * The joining side of a join through a relay (docs/adr/0027-joining-through-a-relay.md).
 *
 * A join first asks the inviting device directly (join-client.ts). When no one answers within DIRECT_WAIT_MS and the
 * invite names relays, the join becomes a pending join: a durable record (`pjoin/<conv>`, docs/STORAGE.md), a join
 * request deposited in the invite's mailbox on those relays, and a conversation shown as "waiting". On start, when a
 * relay connects and on a timer the device reads the mailbox: the membership log an admin answered with either admits
 * us (we then start as a member, exactly as join-client.ts does, and catch up through the relay like any member) or
 * proves why not (removed, revoked, used, expired). Anything else there (other joiners' answers, garbage, old logs)
 * neither admits nor refuses, and the join keeps waiting.
 */
import { z } from 'zod'
import { signingKeyPairFromSeed } from '../../../common/crypto/ed25519.js'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { HearthError, drop, isHearthError } from '../../../common/errors.js'
import { decodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange } from '../../../common/storage/keyspace.js'
import { equalBytes } from '../../../common/util/bytes.js'
import type { ConversationSummary } from '../../api/types.js'
import { decodeInvite, encodeInvite, type InviteCode } from '../../conversation/invite-code.js'
import { computeLog } from '../../conversation/membership-log.js'
import { decodeOp, type MembershipOp } from '../../conversation/membership-op.js'
import type { LogState } from '../../conversation/membership-state.js'
import { looksLikeShortInvite } from '../../conversation/short-invite.js'
import type { ConversationId, OpHash } from '../../ids.js'
import { encodeJoinRequest } from '../../sync/sync-frames.js'
import { loadRuntime, newRecord } from '../conversation-loader.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import { PassLoop, relayPeerOf, type MailboxPort } from '../relays/relay-mailboxes.js'
import { EXPIRED_MESSAGE, GONE_MESSAGE, type InviteResolver } from './invite-resolver.js'
import { resolveShortInvite } from './join-client.js'
import { encodeItem, inviteMailboxSecret, itemId, itemSealKey, openItem, relayResponder, sealItem, signDeviceProof } from './join-relay-frames.js'
import type { MembershipEngine } from './membership-engine.js'

/** How long a join waits for the inviting device before asking through the relay. */
export const DIRECT_WAIT_MS = 5_000
/** Membership operations a joiner keeps from answers (as join-client.ts accepts in one log). */
const MAX_JOIN_OPS = 200_000
/** Items read from one relay in one pass. */
const MAX_ITEMS_PER_PASS = 2_000

export const REMOVED_MESSAGE = 'You were removed from this conversation: only one of its admins can add you back.'

const pendingKey = (c: string) => key('pjoin', c)
const pendingSchema = z.object({
  code: z.string().min(1).max(4096),
  at: z.number().int().nonnegative(),
  state: z.enum(['waiting', 'refused']),
  reason: z.string().max(500).nullable(),
})
type PendingRecord = z.infer<typeof pendingSchema>

interface Pending {
  record: PendingRecord
  invite: InviteCode
  keys: MailboxKeys
  /** Seals and opens the mailbox's items. */
  itemKey: Uint8Array
  request: Uint8Array
  /** Operations from answers addressed to this device, by hash. */
  ops: Map<OpHash, MembershipOp>
  cursors: Map<string, string | null>
}

export interface JoinRelayJoinerHooks {
  port: MailboxPort | undefined
  /** Turn a short invite into the full one, in order (as join-client.ts does). */
  resolvers: readonly InviteResolver[]
  /** A new member's conversation: deposit, fetch and gossip now. */
  kickRelays(): void
}

export class JoinRelayJoiner {
  private readonly pending = new Map<ConversationId, Pending>()
  private readonly loop: PassLoop
  /** Ends a long-poll in flight when the core stops. */
  private readonly abort = new AbortController()
  /** The long-poll in flight: a kick (a new join, a relay back, the timer) ends it so the pass runs again at once. */
  private poll: AbortController | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly readModel: ReadModel,
    private readonly hooks: JoinRelayJoinerHooks,
    intervalMs = 15_000,
    private readonly directWaitMs = DIRECT_WAIT_MS,
    /** Long-poll on the invite mailbox while waiting, so an answer arrives at once; 0 turns it off. */
    private readonly waitMs = 20_000,
  ) {
    this.loop = new PassLoop(
      () => this.pass(),
      (err) => this.kernel.log.warn({ err }, 'pending join pass failed'),
      intervalMs,
    )
  }

  /** Pending joins as stored: a join survives restarts and resumes here. */
  async load(): Promise<void> {
    const { store } = this.kernel
    for await (const [k, v] of store.db.iterate(prefixRange('pjoin'))) {
      try {
        const record = decodeJson(store.openSealed(k, v), (x) => pendingSchema.parse(x), 'pending join')
        const p = this.prepare(record, decodeInvite(record.code))
        this.pending.set(p.invite.conversation, p)
      } catch (err) {
        this.kernel.log.warn({ err }, 'a pending join record could not be read')
      }
    }
  }

  start(): void {
    this.loop.start(() => this.kick())
  }

  async stop(): Promise<void> {
    const stopped = this.loop.stop() // marks the loop stopped at once, before the long-poll in flight is ended
    this.abort.abort()
    await stopped
  }

  kick(): void {
    if (this.hooks.port === undefined) return
    // A pass is running: the next one follows it; end its long-poll so that is now.
    if (!this.loop.kick() && !this.loop.stopped) this.poll?.abort()
  }

  private get stopped(): boolean {
    return this.loop.stopped
  }

  /** The waiting and refused joins, as the conversation list shows them. */
  summaries(): ConversationSummary[] {
    return [...this.pending.values()]
      .filter((p) => {
        const rt = this.kernel.conversations.get(p.invite.conversation)
        return rt === undefined || rt.record.removed
      })
      .map((p) => this.summary(p))
  }

  /** The summary of a join still waiting or refused for `id` (also over a conversation we were removed from). */
  summaryOf(id: ConversationId): ConversationSummary | undefined {
    const p = this.pending.get(id)
    if (p === undefined) return undefined
    const rt = this.kernel.conversations.get(id)
    return rt === undefined || rt.record.removed ? this.summary(p) : undefined
  }

  /** True when `id` is only a join in progress: no conversation of ours yet, so it has no messages or members. */
  onlyPending(id: ConversationId): boolean {
    return this.pending.has(id) && !this.kernel.conversations.has(id)
  }

  /**
   * Joins with `code`: directly when the inviting device answers in time, otherwise through the invite's relays (the
   * summary then says `joinState: 'waiting'`). A short invite, or one naming no relay, only goes directly.
   */
  async join(given: string, direct: (code: string) => Promise<ConversationSummary>): Promise<ConversationSummary> {
    if (this.hooks.port === undefined) return direct(given)
    const invite = looksLikeShortInvite(given) ? await resolveShortInvite(given, this.hooks.resolvers, this.kernel.log) : decodeInvite(given)
    const code = looksLikeShortInvite(given) ? encodeInvite(invite) : given
    const existing = this.kernel.conversations.get(invite.conversation)
    if (invite.relays.length === 0 || (existing !== undefined && !existing.record.removed)) return direct(code)
    const attempt = direct(code)
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      attempt.then((summary) => ({ summary }), (err: unknown) => ({ err })),
      new Promise<{ late: true }>((resolve) => (timer = setTimeout(() => resolve({ late: true }), this.directWaitMs))),
    ])
    clearTimeout(timer)
    if ('summary' in outcome) {
      await this.forget(invite.conversation)
      return outcome.summary
    }
    if ('err' in outcome && !isHearthError(outcome.err, 'UNREACHABLE')) throw outcome.err
    // The direct attempt may still succeed later (the inviter came online): it then wins, and the pending join goes.
    drop(attempt.then(() => this.forget(invite.conversation)), () => {})
    return this.begin(code, invite)
  }

  private async begin(code: string, invite: InviteCode): Promise<ConversationSummary> {
    const record: PendingRecord = { code, at: this.kernel.now(), state: 'waiting', reason: null }
    if (invite.expiresAt !== 0 && invite.expiresAt < this.kernel.now()) throw new HearthError('INVITE_EXPIRED', EXPIRED_MESSAGE)
    const p = this.prepare(record, invite)
    await this.save(p)
    this.pending.set(invite.conversation, p)
    const summary = this.summary(p)
    this.kernel.events.emit('conversation.updated', { conversation: summary })
    this.kick()
    return summary
  }

  private prepare(record: PendingRecord, invite: InviteCode): Pending {
    const secret = inviteMailboxSecret(invite.secret)
    const keys = deriveMailboxKeys(secret)
    const itemKey = itemSealKey(secret)
    const { identity } = this.kernel
    const joinRequest = encodeJoinRequest(
      { conversation: invite.conversation, inviteId: invite.inviteId, cert: identity.cert.bytes },
      invite.secret,
      relayResponder(keys.mailboxId),
    )
    const item = encodeItem({ type: 'request', request: joinRequest, deviceProof: signDeviceProof(identity.deviceKey.seed, joinRequest, keys.mailboxId) })
    const request = sealItem(itemKey, keys.mailboxId, item)
    return { record, invite, keys, itemKey, request, ops: new Map(), cursors: new Map() }
  }

  private summary(p: Pending): ConversationSummary {
    const at = p.record.at
    return {
      id: p.invite.conversation,
      kind: 'group',
      name: p.invite.name,
      createdAt: at,
      lastActivity: at,
      lastMessage: null,
      unread: 0,
      memberCount: 0,
      role: null,
      removed: false,
      joinState: p.record.state,
      ...(p.record.reason === null ? {} : { joinRefusal: p.record.reason }),
    }
  }

  private async pass(): Promise<void> {
    for (const p of [...this.pending.values()]) {
      if (this.stopped) return
      const id = p.invite.conversation
      const rt = this.kernel.conversations.get(id)
      if (rt !== undefined && !rt.record.removed) {
        await this.forget(id) // in by another path
        continue
      }
      if (p.record.state !== 'waiting') continue
      for (const address of p.invite.relays) {
        try {
          await this.exchange(p, address)
        } catch (err) {
          this.kernel.log.debug({ err, relay: relayPeerOf(address) }, 'pending join: relay exchange failed')
        }
        if (await this.settle(p)) break
      }
      if (p.record.state === 'waiting' && p.invite.expiresAt !== 0 && p.invite.expiresAt < this.kernel.now()) {
        await this.refuse(p, EXPIRED_MESSAGE)
      }
    }
    // One join waiting: hold a long-poll on its mailbox so the answer comes the moment an admin deposits it.
    const waiting = [...this.pending.values()].filter((p) => p.record.state === 'waiting')
    if (waiting.length === 1 && this.waitMs > 0 && !this.stopped) {
      const p = waiting[0]!
      const address = p.invite.relays[0]!
      this.poll = new AbortController()
      try {
        const page = await this.hooks.port!.fetch(address, p.keys, {
          after: p.cursors.get(relayPeerOf(address)) ?? null,
          limit: 500,
          waitMs: this.waitMs,
          signal: AbortSignal.any([this.abort.signal, this.poll.signal]),
        })
        for (const item of page.items) this.take(p, item.bytes)
        p.cursors.set(relayPeerOf(address), page.next)
        if (page.items.length > 0 && !(await this.settle(p))) this.loop.runAgain()
      } catch (err) {
        if (!this.stopped) this.kernel.log.debug({ err }, 'pending join: long-poll ended')
      } finally {
        this.poll = undefined
      }
    }
  }

  /** Deposits our request (a repeat is a duplicate) and reads what the relay holds for us. */
  private async exchange(p: Pending, address: string): Promise<void> {
    const port = this.hooks.port!
    await port.deposit(address, p.keys, [{ id: itemId(p.request), bytes: p.request }])
    const peer = relayPeerOf(address)
    let after = p.cursors.get(peer) ?? null
    let read = 0
    while (read < MAX_ITEMS_PER_PASS) {
      const page = await port.fetch(address, p.keys, { after, limit: 500 })
      read += page.items.length
      for (const item of page.items) this.take(p, item.bytes)
      after = page.next
      p.cursors.set(peer, after)
      if (!page.more) break
    }
  }

  /** Keeps the operations of answers addressed to this device; everything else in the mailbox is ignored. */
  private take(p: Pending, bytes: Uint8Array): void {
    let item
    try {
      item = openItem(p.itemKey, p.keys.mailboxId, bytes)
    } catch {
      this.kernel.counters.count('relay-join-garbage')
      return
    }
    if (item.type !== 'answer' || item.to !== this.kernel.identity.deviceId) return
    for (const b of item.ops) {
      if (p.ops.size >= MAX_JOIN_OPS) return
      try {
        const op = decodeOp(b)
        p.ops.set(op.hash, op)
      } catch {
        this.kernel.counters.count('relay-join-garbage')
      }
    }
  }

  /** Decides from the operations gathered so far: true once admitted or refused. */
  private async settle(p: Pending): Promise<boolean> {
    if (p.ops.size === 0) return false
    const { identity } = this.kernel
    const log = computeLog(p.ops.values(), p.invite.root, this.kernel.now())
    if (log === undefined || log.conversation !== p.invite.conversation) return false
    // The log must be the one the invite lives in: an invite in it with exactly the key our secret makes.
    const state = log.invites.get(p.invite.inviteId)
    if (state === undefined || !equalBytes(state.grant.key, signingKeyPairFromSeed(p.invite.secret).publicKey)) return false
    if (log.members.has(identity.account)) {
      await this.admitted(p, log)
      return true
    }
    const reason = log.removed.has(identity.account)
      ? REMOVED_MESSAGE
      : state.revoked || (state.grant.singleUse && state.usedBy !== null)
        ? GONE_MESSAGE
        : null
    if (reason === null) return false
    await this.refuse(p, reason)
    return true
  }

  /** Starts as a member, exactly as a direct join does once the inviting device answered. */
  private async admitted(p: Pending, log: LogState): Promise<void> {
    const { store, queue, events, identity } = this.kernel
    const { invite } = p
    const ops = [...p.ops.values()].filter((op) => log.order.includes(op.hash))
    const summary = await queue.run(async () => {
      const existing = this.kernel.conversations.get(invite.conversation)
      if (existing !== undefined && !existing.record.removed) return this.readModel.summary(existing)
      const record = newRecord(this.kernel.now(), { id: invite.conversation, root: invite.root, kind: log.kind, name: log.name, relays: invite.relays })
      await store.commit(
        [store.putConversation(record), ...ops.map((op) => store.putOp(record.id, op.hash, op.bytes)), { type: 'del', key: pendingKey(invite.conversation) }],
        true,
      )
      const rt = await loadRuntime(store, identity.deviceId, record)
      this.kernel.conversations.set(record.id, rt)
      await this.engine.afterLogChange(rt)
      return this.readModel.summary(rt)
    })
    this.pending.delete(invite.conversation)
    events.emit('conversation.updated', { conversation: summary })
    this.hooks.kickRelays()
  }

  private async refuse(p: Pending, reason: string): Promise<void> {
    p.record = { ...p.record, state: 'refused', reason }
    await this.save(p)
    this.kernel.events.emit('conversation.updated', { conversation: this.summary(p) })
  }

  /** Drops a pending or refused join (joined another way, or the person dismissed it). */
  async forget(id: ConversationId): Promise<void> {
    if (!this.pending.has(id)) return
    this.pending.delete(id)
    await this.kernel.store.commit([{ type: 'del', key: pendingKey(id) }], true)
  }

  private save(p: Pending): Promise<void> {
    const { store } = this.kernel
    return store.commit([store.sealJson(pendingKey(p.invite.conversation), p.record)], true)
  }
}
