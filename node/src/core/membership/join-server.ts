import { HearthError } from '../../../common/errors.js'
import { decodeDeviceCert } from '../../identity/device-cert.js'
import { opPages, opsMissing } from '../../sync/op-sync.js'
import { decodeJoinRequest, encodeJoinResponse, verifyJoinRequest } from '../../sync/sync-frames.js'
import type { Kernel } from '../kernel.js'
import { OP_PAGES } from '../sync/protocol-limits.js'
import { sealEpoch, type MembershipEngine } from './membership-engine.js'

/**
 * The inviting side of a join: a request signed with an invite's key, from the device its certificate names, admits
 * that device if the invite is still good and the account was never removed; the answer is the whole membership log.
 */
export class JoinServer {
  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
  ) {}

  async *serve(requestBytes: Uint8Array, peer: string): AsyncIterable<Uint8Array> {
    const { identity, counters, queue } = this.kernel
    const { request: req, signature } = decodeJoinRequest(requestBytes)
    const invalid = new HearthError('INVITE_INVALID', 'invite is not valid')
    const rt = this.kernel.conversations.get(req.conversation)
    if (!rt || rt.record.removed) throw invalid
    const invite = rt.log.invites.get(req.inviteId)
    if (!invite || !verifyJoinRequest(req, signature, invite.grant.key, identity.peerId)) {
      counters.count('join-refused')
      throw invalid
    }
    const cert = decodeDeviceCert(req.cert)
    if (cert.peerId !== peer) throw new HearthError('UNAUTHORIZED', 'device certificate does not match the connection')
    await queue.run(async () => {
      const current = rt.log.invites.get(req.inviteId)!
      if (rt.log.members.has(cert.account) && current.usedBy === cert.account) return // a retry after a lost response
      if (rt.log.removed.has(cert.account) && !rt.log.members.has(cert.account)) {
        counters.count('join-refused')
        throw new HearthError('REMOVED', 'you were removed from this conversation; only an admin can add you back')
      }
      if (current.revoked) throw new HearthError('INVITE_REVOKED', 'this invite was revoked')
      if (current.grant.expiresAt !== 0 && current.grant.expiresAt < this.kernel.now()) {
        throw new HearthError('INVITE_EXPIRED', 'this invite has expired')
      }
      if (current.grant.singleUse && current.usedBy !== null) throw new HearthError('INVITE_USED', 'this invite was already used')
      if (rt.log.members.has(cert.account)) throw new HearthError('INVALID_INPUT', 'already a member')
      this.kernel.requireAdmin(rt)
      const epochId = rt.log.currentEpoch
      const secret = await this.engine.epochSecret(rt.id, epochId)
      await this.engine.append(rt, {
        type: 'add',
        certs: [cert],
        role: 'member',
        via: req.inviteId,
        epoch: epochId,
        seals: [{ device: cert.device, box: sealEpoch(rt.id, epochId, secret, cert.dhPublic) }],
      })
      if (!rt.log.members.has(cert.account)) throw new HearthError('INVITE_USED', 'the invite could not be used')
    })
    const all = opsMissing(rt.ops, [], rt.log.order)
    for (const page of opPages(all, { ...OP_PAGES, totalBytes: Number.POSITIVE_INFINITY })) yield encodeJoinResponse(page)
  }
}
