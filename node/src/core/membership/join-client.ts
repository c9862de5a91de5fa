import { signingKeyPairFromSeed } from '../../../common/crypto/ed25519.js'
import { HearthError, drop, isHearthError } from '../../../common/errors.js'
import { request } from '../../../common/net/request-response.js'
import { equalBytes } from '../../../common/util/bytes.js'
import type { ConversationSummary } from '../../api/types.js'
import { decodeInvite, type InviteCode } from '../../conversation/invite-code.js'
import { computeLog } from '../../conversation/membership-log.js'
import { decodeOp } from '../../conversation/membership-op.js'
import { shortInviteKeys } from '../../conversation/short-invite-keys.js'
import { looksLikeShortInvite, parseShortInvite } from '../../conversation/short-invite.js'
import type { ConversationId } from '../../ids.js'
import { JOIN_PROTOCOL, decodeJoinResponse, encodeJoinRequest } from '../../sync/sync-frames.js'
import { loadRuntime, newRecord } from '../conversation-loader.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { Logger } from '../logger.js'
import { raceDials } from '../race-dials.js'
import { JOIN_LIMITS } from '../sync/protocol-limits.js'
import { EXPIRED_MESSAGE, GONE_MESSAGE, UNREACHABLE_MESSAGE, type InviteResolver } from './invite-resolver.js'
import type { MembershipEngine } from './membership-engine.js'

/** Membership operations a joiner accepts in the log it is sent. */
const MAX_JOIN_OPS = 200_000
/** How long a join waits for LAN discovery to find the inviter when its addresses do not answer. */
const JOIN_DISCOVERY_WAIT_MS = 15_000

export interface JoinHooks {
  /** True once `peer` is connected within `timeoutMs` (network/). */
  waitForPeer(peer: string, timeoutMs: number): Promise<boolean>
  syncWith(peer: string, conversation: ConversationId): Promise<void>
}

/** How long resolving a short invite may take, all sources together. */
const RESOLVE_TIMEOUT_MS = 30_000

/**
 * Redeems an invite: asks the inviting device to admit us, then syncs. A short invite is first resolved into the
 * full one by the resolvers, in order (the first that reaches a source holding the invite decides).
 */
export class JoinClient {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly readModel: ReadModel,
    private readonly hooks: JoinHooks,
    private readonly resolvers: readonly InviteResolver[] = [],
  ) {}

  async join(code: string): Promise<ConversationSummary> {
    const { identity, node, store, queue, events, log } = this.kernel
    const invite = looksLikeShortInvite(code) ? await resolveShortInvite(code, this.resolvers, log) : decodeInvite(code)
    const existing = this.kernel.conversations.get(invite.conversation)
    if (existing && !existing.record.removed) return this.readModel.summary(existing)
    if (invite.expiresAt !== 0 && invite.expiresAt < this.kernel.now()) {
      throw new HearthError('INVITE_EXPIRED', EXPIRED_MESSAGE)
    }
    // A relay first: the inviter's circuit addresses (behind NAT) go through it, and it holds the mailbox. Not when
    // the inviter is connected already (a short invite's lookup just reached it): a slow relay would only delay.
    const connected = node.connectedPeers().includes(invite.peerId)
    for (const relay of connected ? [] : invite.relays) {
      try {
        await node.dial(relay)
        break
      } catch (err) {
        log.debug({ err, relay }, 'relay from the invite did not answer')
      }
    }
    let lastError: unknown = connected ? undefined : new HearthError('UNREACHABLE', 'the invite names no address')
    if (!connected) {
      try {
        await raceDials(node, invite.addresses, invite.peerId)
        lastError = undefined
      } catch (err) {
        if (invite.addresses.length > 0) lastError = err
      }
    }
    if (lastError !== undefined && !(await this.hooks.waitForPeer(invite.peerId, JOIN_DISCOVERY_WAIT_MS))) {
      throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: lastError })
    }
    const requestBytes = encodeJoinRequest(
      { conversation: invite.conversation, inviteId: invite.inviteId, cert: identity.cert.bytes },
      invite.secret,
      invite.peerId,
    )
    // The log comes in pages; a long one (many members, renames) is never cut at one frame.
    const encoded: Uint8Array[] = []
    try {
      for await (const page of request(node, invite.peerId, JOIN_PROTOCOL, requestBytes, JOIN_LIMITS)) {
        encoded.push(...decodeJoinResponse(page))
        if (encoded.length > MAX_JOIN_OPS) throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent an oversized membership log')
      }
    } catch (err) {
      throw refusalInWords(err)
    }
    const ops = encoded.map(decodeOp)
    const summary = await queue.run(async () => {
      // Let in another way meanwhile (through the relay, join-relay-joiner.ts): keep that conversation as it is.
      const already = this.kernel.conversations.get(invite.conversation)
      if (already && !already.record.removed) return this.readModel.summary(already)
      const joined = computeLog(ops, invite.root, this.kernel.now())
      if (joined === undefined || joined.conversation !== invite.conversation) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent a membership log that does not match the invite')
      }
      // The log must be the one the invite lives in: an invite in it with exactly the key our secret makes.
      const grant = joined.invites.get(invite.inviteId)?.grant
      if (grant === undefined || !equalBytes(grant.key, signingKeyPairFromSeed(invite.secret).publicKey)) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent the membership log of another invite')
      }
      if (!joined.members.has(identity.account)) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device did not admit us')
      }
      const record = newRecord(this.kernel.now(), { id: invite.conversation, root: invite.root, kind: joined.kind, name: joined.name, relays: invite.relays })
      await store.commit([store.putConversation(record), ...ops.map((op) => store.putOp(record.id, op.hash, op.bytes))], true)
      const rt = await loadRuntime(store, identity.deviceId, record)
      this.kernel.conversations.set(record.id, rt)
      await this.engine.afterLogChange(rt)
      return this.readModel.summary(rt)
    })
    events.emit('conversation.updated', { conversation: summary })
    drop(this.hooks.syncWith(invite.peerId, invite.conversation))
    return summary
  }
}

/**
 * The full invite a short one stands for, from the first resolver that reaches a source holding it (a direct join
 * here, and a join through a relay in join-relay-joiner.ts).
 */
export async function resolveShortInvite(code: string, resolvers: readonly InviteResolver[], log: Logger): Promise<InviteCode> {
  const short = parseShortInvite(code)
  const keys = shortInviteKeys(short.secret)
  const signal = AbortSignal.timeout(RESOLVE_TIMEOUT_MS)
  let unreachable: unknown = undefined
  for (const resolver of resolvers) {
    try {
      return await resolver.resolve(short, keys, signal)
    } catch (err) {
      if (!isHearthError(err, 'UNREACHABLE')) throw err
      log.debug({ err, resolver: resolver.name }, 'short invite: source not reachable')
      unreachable = err
    }
  }
  throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: unreachable })
}

/** The inviting device's refusals, in words for the person joining (the codes stay as they are). */
function refusalInWords(err: unknown): unknown {
  if (!isHearthError(err)) return err
  if (err.code === 'INVITE_REVOKED' || err.code === 'INVITE_USED') return new HearthError(err.code, GONE_MESSAGE, { cause: err })
  if (err.code === 'INVITE_EXPIRED') return new HearthError(err.code, EXPIRED_MESSAGE, { cause: err })
  return err
}
