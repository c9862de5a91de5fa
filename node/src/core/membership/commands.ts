import { encodeHlc } from '../../../../crdt/src/index.js'
import { signingKeyPairFromSeed } from '../../../common/crypto/ed25519.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { HearthError } from '../../../common/errors.js'
import { toHex } from '../../../common/util/bytes.js'
import { Limits } from '../../../common/wire/limits.js'
import type { ConversationSummary, InviteView, MemberView, RemovedMemberView } from '../../api/types.js'
import { deriveEpochKeys } from '../../conversation/epoch-keys.js'
import { encodeInvite } from '../../conversation/invite-code.js'
import { hlcWall } from '../../conversation/op-graph.js'
import { deviceInviteSecret, shortInviteKeys } from '../../conversation/short-invite-keys.js'
import { formatShortInvite, pickLocator } from '../../conversation/short-invite.js'
import { signOp } from '../../conversation/membership-op.js'
import type { ConversationId, OpHash } from '../../ids.js'
import { asAccountId } from '../../ids.js'
import { loadRuntime, newRecord } from '../conversation-loader.js'
import { streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { OwnShortInvites } from './join-lookup.js'
import { sealEpoch, type MembershipEngine } from './membership-engine.js'

/** A new invite is valid this long unless the person chose otherwise. */
const DEFAULT_INVITE_MS = 7 * 24 * 3600_000

export interface CommandHooks {
  /** Relays for a conversation's mailboxes (relays/). */
  relaysFor(rt: ConversationRuntime): string[]
  /** Our addresses worth putting in an invite (network/). */
  dialableAddresses(): string[]
  /** The short invites this device made, found again from its key (join-lookup.ts). */
  ownShortInvites: OwnShortInvites
}

/** What a person does to a conversation: create it, invite, remove, add back, change roles. Admins only, but create. */
export class ConversationCommands {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly readModel: ReadModel,
    private readonly hooks: CommandHooks,
  ) {}

  async create(input: { kind: 'direct' | 'group'; name: string }): Promise<ConversationSummary> {
    const name = input.name.trim()
    if (name.length === 0 || [...name].length > 100) {
      throw new HearthError('INVALID_INPUT', 'conversation name must be 1 to 100 characters')
    }
    const { identity, store, queue, events } = this.kernel
    return queue.run(async () => {
      const id = toHex(randomBytes(16)) as ConversationId
      const secret = randomBytes(32)
      const keys = deriveEpochKeys(secret)
      const op = signOp({
        conversation: id,
        prev: [],
        hlc: encodeHlc(this.kernel.tick()),
        author: identity.cert,
        deviceSeed: identity.deviceKey.seed,
        body: {
          type: 'create',
          kind: input.kind,
          name,
          epoch: { id: keys.id, seals: [{ device: identity.deviceId, box: sealEpoch(id, keys.id, secret, identity.cert.dhPublic) }] },
        },
      })
      const record = newRecord(this.kernel.now(), { id, root: op.hash, kind: input.kind, name })
      await store.commit([store.putConversation(record), store.putOp(id, op.hash, op.bytes)], true)
      const rt = await loadRuntime(store, identity.deviceId, record)
      this.kernel.conversations.set(id, rt)
      await this.engine.afterLogChange(rt)
      const summary = this.readModel.summary(rt)
      events.emit('conversation.updated', { conversation: summary })
      return summary
    })
  }

  members(id: ConversationId): MemberView[] {
    const { identity, node } = this.kernel
    const rt = this.kernel.runtime(id)
    const connected = new Set(node.connectedPeers())
    return [...rt.log.members.values()]
      .map((m) => ({
        account: m.account,
        displayName: m.displayName,
        role: m.role,
        devices: [...m.devices.values()].map((c) => ({
          device: c.device,
          peerId: c.peerId,
          online: c.device === identity.deviceId || connected.has(c.peerId),
        })),
        me: m.account === identity.account,
      }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.account.localeCompare(b.account))
  }

  async createInvite(
    id: ConversationId,
    options: { expiresInMs?: number; singleUse?: boolean } = {},
  ): Promise<{ code: string; inviteId: string; expiresAt: number; shortLink: string | null }> {
    const lifetime = options.expiresInMs
    if (lifetime !== undefined && !(Number.isSafeInteger(lifetime) && lifetime >= 0 && lifetime <= Limits.maxInviteLifetimeMs)) {
      throw new HearthError('INVALID_INPUT', 'an invite lasts at most 365 days, or never expires')
    }
    return this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      this.kernel.requireAdmin(rt)
      const inviteId = toHex(randomBytes(16))
      // The key comes from a short secret this device can derive again, so the invite also has a short link.
      const seed = shortInviteKeys(deviceInviteSecret(this.kernel.identity.deviceKey.seed, id, inviteId)).inviteSeed
      const now = this.kernel.now()
      const expiresAt = options.expiresInMs === undefined ? now + DEFAULT_INVITE_MS : options.expiresInMs === 0 ? 0 : now + options.expiresInMs
      await this.engine.append(rt, {
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
        addresses: this.hooks.dialableAddresses(),
        peerId: this.kernel.identity.peerId,
        relays: this.hooks.relaysFor(rt),
      })
      return { code, inviteId, expiresAt, shortLink: this.shortLink(rt, inviteId) }
    })
  }

  /** The short link of an invite this device made (null for others' invites and invites from before short links). */
  private shortLink(rt: ConversationRuntime, inviteId: string): string | null {
    const own = this.hooks.ownShortInvites.secretOf(rt, inviteId)
    const locator = pickLocator(this.hooks.dialableAddresses())
    return own === null || locator === null ? null : formatShortInvite({ secret: own.secret, locator })
  }

  /**
   * The conversation's invites that can still admit someone (not revoked, not expired, not used up), newest first,
   * with their links when this device made them.
   */
  invites(id: ConversationId): InviteView[] {
    const rt = this.kernel.runtime(id)
    const now = this.kernel.now()
    const created = new Map<string, number>()
    const uses = new Map<string, number>()
    for (const op of rt.ops.values()) {
      if (op.body.type === 'invite') created.set(op.body.invite.id, hlcWall(op.hlc))
      // Only admissions that took effect count (a refused one used nothing).
      else if (op.body.type === 'add' && op.body.via !== null && !rt.log.invalid.has(op.hash) && !rt.log.unauthorized.has(op.hash)) {
        uses.set(op.body.via, (uses.get(op.body.via) ?? 0) + 1)
      }
    }
    const views: InviteView[] = []
    for (const [inviteId, invite] of rt.log.invites) {
      const { grant } = invite
      if (invite.revoked || (grant.expiresAt !== 0 && grant.expiresAt < now) || (grant.singleUse && invite.usedBy !== null)) continue
      const shortLink = this.shortLink(rt, inviteId)
      const own = this.hooks.ownShortInvites.secretOf(rt, inviteId)
      views.push({
        id: inviteId,
        createdAt: created.get(inviteId) ?? 0,
        expiresAt: grant.expiresAt,
        singleUse: grant.singleUse,
        uses: uses.get(inviteId) ?? 0,
        shortLink,
        code:
          own === null
            ? null
            : encodeInvite({
                conversation: rt.id,
                root: rt.record.root as OpHash,
                name: rt.record.name,
                inviteId,
                secret: own.keys.inviteSeed,
                expiresAt: grant.expiresAt,
                addresses: this.hooks.dialableAddresses(),
                peerId: this.kernel.identity.peerId,
                relays: this.hooks.relaysFor(rt),
              }),
      })
    }
    return views.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
  }

  async revokeInvite(id: ConversationId, inviteId: string): Promise<void> {
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      this.kernel.requireAdmin(rt)
      if (!rt.log.invites.has(inviteId)) throw new HearthError('NOT_FOUND', 'no such invite')
      await this.engine.append(rt, { type: 'revoke-invite', inviteId })
    })
  }

  async removeMember(id: ConversationId, account: string): Promise<void> {
    const target = asAccountId(account)
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      this.kernel.requireAdmin(rt)
      if (target === this.kernel.identity.account) throw new HearthError('INVALID_INPUT', 'you cannot remove yourself: leave the group instead')
      const member = this.kernel.memberOf(rt, target)
      // How far each of their devices had written when we removed them: beyond that, every member refuses it.
      const cutoffs: Record<string, number> = {}
      for (const device of member.devices.keys()) {
        for (const epoch of rt.epochs.keys()) {
          cutoffs[`${epoch}/${device}`] =
            device === this.kernel.identity.deviceId ? this.kernel.ownHave(rt, epoch) : (rt.streams.get(streamKey(epoch, device))?.have ?? 0)
        }
      }
      await this.engine.append(rt, { type: 'remove', account: target, cutoffs, epoch: this.engine.newEpochFor(rt, target) })
    })
  }

  /** Former members (removed, or who left) an admin may add back, under the name they last had. */
  removedMembers(id: ConversationId): RemovedMemberView[] {
    const rt = this.kernel.runtime(id)
    return [...rt.log.removed.keys()]
      .filter((account) => !rt.log.members.has(account))
      .map((account) => ({
        account,
        displayName: rt.log.names.get(account) ?? account.slice(0, 8),
        ...(rt.log.removed.get(account)?.left === true ? { left: true } : {}),
      }))
      .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.account.localeCompare(b.account))
  }

  /**
   * Adds a removed member back: the only way a removed account returns (an invite never readmits it). Their devices
   * are the ones the log last knew for the account; they get a new epoch, so nothing said while they were out.
   */
  async addBack(id: ConversationId, account: string): Promise<void> {
    const target = asAccountId(account)
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      this.kernel.requireAdmin(rt)
      if (rt.log.members.has(target)) throw new HearthError('INVALID_INPUT', 'they are already a member')
      if (!rt.log.removed.has(target)) throw new HearthError('NOT_FOUND', 'they were never a member of this conversation')
      const certs = [...rt.log.knownDevices.values()].filter((c) => c.account === target).slice(-Limits.maxDevicesPerMember)
      if (certs.length === 0) throw new HearthError('NOT_FOUND', 'no device of theirs is known here')
      // A fresh epoch first: what was said while they were out stays in an epoch they never get.
      await this.engine.append(rt, { type: 'rotate', epoch: this.engine.newEpochFor(rt) })
      const epochId = rt.log.currentEpoch
      const secret = await this.engine.epochSecret(rt.id, epochId)
      await this.engine.append(rt, {
        type: 'add',
        certs,
        role: 'member',
        via: null,
        epoch: epochId,
        seals: certs.map((c) => ({ device: c.device, box: sealEpoch(rt.id, epochId, secret, c.dhPublic) })),
      })
    })
  }

  async setRole(id: ConversationId, account: string, role: 'admin' | 'member'): Promise<void> {
    const target = asAccountId(account)
    await this.kernel.queue.run(async () => {
      const rt = this.kernel.runtime(id)
      this.kernel.requireAdmin(rt)
      const member = this.kernel.memberOf(rt, target)
      if (member.role === role) return
      const admins = [...rt.log.members.values()].filter((m) => m.role === 'admin').length
      if (role === 'member' && admins === 1) {
        throw new HearthError('INVALID_INPUT', 'a conversation needs an admin: make someone else admin first')
      }
      await this.engine.append(rt, { type: 'role', account: target, role })
    })
  }
}
