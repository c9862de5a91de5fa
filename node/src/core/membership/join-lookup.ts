import { z } from 'zod'
import { HearthError } from '../../../common/errors.js'
import { equalBytes, toHex } from '../../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { bytes, parseWire } from '../../../common/wire/schema.js'
import type { ProtocolLimits } from '../../../common/net/request-response.js'
import {
  deviceInviteSecret,
  invitePublicKey,
  LOOKUP_ID_BYTES,
  MAX_ANSWER_BYTES,
  sealInviteDetails,
  shortInviteKeys,
  type ShortInviteKeys,
} from '../../conversation/short-invite-keys.js'
import type { OpHash } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'

/**
 * `/hearth/invite-lookup/1`: a joiner holding a short invite sends the lookup id its secret derives; a device that
 * made that invite answers with the rest of the invite, sealed under the answer key the same secret derives. The
 * lookup id is one-way, so a device that does not hold the invite learns nothing from being asked, and the answer is
 * unreadable to anyone without the secret.
 */
export const INVITE_LOOKUP_PROTOCOL = '/hearth/invite-lookup/1.0.0'

export const INVITE_LOOKUP_LIMITS: ProtocolLimits = {
  maxRequestBytes: 256,
  maxResponseBytes: MAX_ANSWER_BYTES + 64,
  timeoutMs: 10_000,
  // A person types a code a few times at most; more is someone guessing (128-bit ids: hopeless, but cheap to limit).
  ratePerSecond: 1,
  burst: 10,
  runOnLimitedConnection: true,
}

const requestSchema = z.object({ v: z.literal(1), l: bytes(LOOKUP_ID_BYTES) })
const answerSchema = z.object({ b: bytes() })

export const encodeLookupRequest = (lookupId: Uint8Array) => encodeCbor({ v: 1, l: lookupId })
export const encodeLookupAnswer = (box: Uint8Array) => encodeCbor({ b: box })
export const decodeLookupAnswer = (b: Uint8Array): Uint8Array =>
  parseWire(answerSchema, decodeCbor(b, INVITE_LOOKUP_LIMITS.maxResponseBytes, 'invite lookup answer'), 'invite lookup answer').b

interface OwnInvite {
  secret: string
  keys: ShortInviteKeys
}

/**
 * The short invites this device made, found again from its device key: for each invite an account of ours created,
 * the secret this device would have derived for it, kept only when its key is the one in the log (an invite made on
 * another device, or before short invites, has none here).
 */
export class OwnShortInvites {
  /** `${conversation}/${inviteId}` → the invite's secret and keys, or null when this device did not make it. */
  private readonly known = new Map<string, OwnInvite | null>()

  constructor(private readonly kernel: Kernel) {}

  /** The secret of an invite this device made, or null. */
  secretOf(rt: ConversationRuntime, inviteId: string): OwnInvite | null {
    const key = `${rt.id}/${inviteId}`
    const cached = this.known.get(key)
    if (cached !== undefined) return cached
    const invite = rt.log.invites.get(inviteId)
    if (invite === undefined || invite.createdBy !== this.kernel.identity.account) return null
    const secret = deviceInviteSecret(this.kernel.identity.deviceKey.seed, rt.id, inviteId)
    const keys = shortInviteKeys(secret)
    const own = equalBytes(invitePublicKey(keys), invite.grant.key) ? { secret, keys } : null
    this.known.set(key, own)
    return own
  }

  /** The conversation and invite a lookup id names, among the invites this device made. */
  find(lookupId: Uint8Array): { rt: ConversationRuntime; inviteId: string; own: OwnInvite } | null {
    for (const rt of this.kernel.conversations.values()) {
      if (rt.record.removed) continue
      for (const inviteId of rt.log.invites.keys()) {
        const own = this.secretOf(rt, inviteId)
        if (own !== null && equalBytes(own.keys.lookupId, lookupId)) return { rt, inviteId, own }
      }
    }
    return null
  }
}

export interface LookupHooks {
  /** Our addresses and the conversation's relays, as a long invite would carry them. */
  addresses(): string[]
  relaysFor(rt: ConversationRuntime): string[]
}

/** Answers lookups for the short invites this device made and that can still admit someone. */
export class JoinLookupServer {
  constructor(
    private readonly kernel: Kernel,
    private readonly own: OwnShortInvites,
    private readonly hooks: LookupHooks,
  ) {}

  serve(requestBytes: Uint8Array): Uint8Array {
    const { counters, identity } = this.kernel
    const { l: lookupId } = parseWire(requestSchema, decodeCbor(requestBytes, INVITE_LOOKUP_LIMITS.maxRequestBytes, 'invite lookup'), 'invite lookup')
    const found = this.own.find(lookupId)
    if (found === null) {
      counters.count('invite-lookup-unknown')
      throw new HearthError('NOT_FOUND', `no invite with lookup id ${toHex(lookupId)}`, { publicMessage: 'no such invite here' })
    }
    const { rt, inviteId, own } = found
    const invite = rt.log.invites.get(inviteId)!
    // Refused here already, so a code that can no longer admit anyone does not even reveal the conversation's name.
    // A used single-use invite is still answered: the account that used it may be retrying a join whose answer was
    // lost, which the join server lets through; anyone else hears INVITE_USED from it.
    if (invite.revoked) throw new HearthError('INVITE_REVOKED', 'this invite was revoked')
    if (invite.grant.expiresAt !== 0 && invite.grant.expiresAt < this.kernel.now()) throw new HearthError('INVITE_EXPIRED', 'this invite has expired')
    const box = sealInviteDetails(own.keys, identity.peerId, {
      conversation: rt.id,
      root: rt.record.root as OpHash,
      name: rt.record.name,
      inviteId,
      expiresAt: invite.grant.expiresAt,
      addresses: this.hooks.addresses(),
      peerId: identity.peerId,
      relays: this.hooks.relaysFor(rt).slice(0, 3),
    })
    return encodeLookupAnswer(box)
  }
}
