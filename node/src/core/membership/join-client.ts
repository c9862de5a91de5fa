import { HearthError, drop } from '../../../common/errors.js'
import { request } from '../../../common/net/request-response.js'
import type { ConversationSummary } from '../../api/types.js'
import { decodeInvite } from '../../conversation/invite-code.js'
import { computeLog } from '../../conversation/membership-log.js'
import { decodeOp } from '../../conversation/membership-op.js'
import type { ConversationId } from '../../ids.js'
import { JOIN_PROTOCOL, decodeJoinResponse, encodeJoinRequest } from '../../sync/sync-frames.js'
import { loadRuntime, newRecord } from '../conversation-loader.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import { raceDials } from '../race-dials.js'
import { JOIN_LIMITS } from '../sync/protocol-limits.js'
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

/** Redeems an invite: asks the inviting device to admit us, then syncs. */
export class JoinClient {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly readModel: ReadModel,
    private readonly hooks: JoinHooks,
  ) {}

  async join(code: string): Promise<ConversationSummary> {
    const { identity, node, store, queue, events, log } = this.kernel
    const invite = decodeInvite(code)
    const existing = this.kernel.conversations.get(invite.conversation)
    if (existing && !existing.record.removed) return this.readModel.summary(existing)
    if (invite.expiresAt !== 0 && invite.expiresAt < this.kernel.now()) {
      throw new HearthError('INVITE_EXPIRED', 'this invite has expired: ask for a new one')
    }
    // A relay first: the inviter's circuit addresses (behind NAT) go through it, and it holds the mailbox.
    for (const relay of invite.relays) {
      try {
        await node.dial(relay)
        break
      } catch (err) {
        log.debug({ err, relay }, 'relay from the invite did not answer')
      }
    }
    let lastError: unknown = new HearthError('UNREACHABLE', 'the invite names no address')
    try {
      await raceDials(node, invite.addresses, invite.peerId)
      lastError = undefined
    } catch (err) {
      if (invite.addresses.length > 0) lastError = err
    }
    if (lastError !== undefined && !(await this.hooks.waitForPeer(invite.peerId, JOIN_DISCOVERY_WAIT_MS))) {
      throw new HearthError('UNREACHABLE', 'could not reach the member who made this invite; they need to be online', {
        cause: lastError,
      })
    }
    const requestBytes = encodeJoinRequest(
      { conversation: invite.conversation, inviteId: invite.inviteId, cert: identity.cert.bytes },
      invite.secret,
      invite.peerId,
    )
    // The log comes in pages; a long one (many members, renames) is never cut at one frame.
    const encoded: Uint8Array[] = []
    for await (const page of request(node, invite.peerId, JOIN_PROTOCOL, requestBytes, JOIN_LIMITS)) {
      encoded.push(...decodeJoinResponse(page))
      if (encoded.length > MAX_JOIN_OPS) throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent an oversized membership log')
    }
    const ops = encoded.map(decodeOp)
    const summary = await queue.run(async () => {
      const joined = computeLog(ops, invite.root, this.kernel.now())
      if (joined === undefined || joined.conversation !== invite.conversation) {
        throw new HearthError('PROTOCOL_ERROR', 'the inviting device sent a membership log that does not match the invite')
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
