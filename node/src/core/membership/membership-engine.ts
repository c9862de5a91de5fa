import { encodeHlc } from '../../../../crdt/src/index.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { openSealed, sealTo } from '../../../common/crypto/sealed-box.js'
import { advance, newChain } from '../../../common/crypto/sender-chain.js'
import { HearthError, drop } from '../../../common/errors.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind } from '../../../common/wire/envelope.js'
import { deriveEpochKeys, sealContext } from '../../conversation/epoch-keys.js'
import { MAX_CLOCK_SKEW_MS, MAX_PARENTS, computeLog, memberDevices, needsRotation } from '../../conversation/membership-log.js'
import { signOp, type MembershipOp, type OpBody } from '../../conversation/membership-op.js'
import { hlcWall } from '../../conversation/op-graph.js'
import { unanchoredExcess } from '../../conversation/op-retention.js'
import { MAX_FORWARDED_PER_ENVELOPE, encodeChainGrant, encodeKeys, encodeMembership } from '../../history/payloads.js'
import type { AccountId, ConversationId, DeviceId, EpochId, OpHash } from '../../ids.js'
import type { MessageRow, OwnChain, Put } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { nextState } from '../history/message-state.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import { sealOwn } from '../send/own-stream.js'
import { chainsToHandOn, sealedByMe } from './hand-on-chains.js'

/** Membership operations kept while they wait for a parent; beyond this a member's junk is not stored. */
const MAX_PENDING_OPS = 1_000

export interface MembershipHooks {
  /** The log changed: the UI's header, member list and nearby list follow without polling. */
  announce(rt: ConversationRuntime): void
  /** Then catch up with what the change made readable (subscriptions, streams) or withdrawn. */
  followUp(rt: ConversationRuntime): Promise<void>
  /** New envelopes in our stream: the relays should take them. */
  kickRelays(): void
  /** Another device of our account revoked this one: it must stop and forget its keys (devices/own-revocation.ts). */
  revoked(rt: ConversationRuntime): void
}

/**
 * The membership log of each conversation and what follows from it: signing and storing our operations, epoch
 * secrets sealed to us, our sender chain in each epoch and its grant to other devices, our own removal, rotations.
 * Who may do what is decided by the log (conversation/membership-log.ts), never here.
 */
export class MembershipEngine {
  /** Per conversation: when membership operations dated ahead of our clock become due. */
  private readonly futureOpTimers = new Map<ConversationId, NodeJS.Timeout>()

  constructor(
    private readonly kernel: Kernel,
    private readonly readModel: ReadModel,
    private readonly hooks: MembershipHooks,
  ) {}

  stop(): void {
    for (const t of this.futureOpTimers.values()) clearTimeout(t)
  }

  /**
   * Signs a membership operation naming every head, stores it, publishes it in the current epoch and applies it. When
   * there are more heads than one operation may name (members' concurrent operations), `merge` operations join them
   * first, so the log always stays usable.
   */
  async append(rt: ConversationRuntime, body: OpBody): Promise<MembershipOp> {
    let heads = rt.log.heads
    while (heads.length > MAX_PARENTS) {
      const merge = await this.writeOp(rt, { type: 'merge' }, heads.slice(0, MAX_PARENTS))
      heads = [merge.hash, ...heads.slice(MAX_PARENTS)]
    }
    const op = await this.writeOp(rt, body, heads)
    await this.afterLogChange(rt)
    return op
  }

  /** Stores operations from a peer and applies them; returns how many were new to us. */
  async addOps(rt: ConversationRuntime, ops: MembershipOp[]): Promise<number> {
    const { store } = this.kernel
    const batch: Put[] = []
    for (const op of ops) {
      if (op.conversation !== rt.id || rt.ops.has(op.hash)) continue
      rt.ops.set(op.hash, op)
      batch.push(store.putOp(rt.id, op.hash, op.bytes))
    }
    if (batch.length === 0) return 0
    await store.commit(batch, true)
    await this.afterLogChange(rt)
    return batch.length
  }

  /** A fresh epoch secret sealed to every current member device (but those of the account or the device `excluding`). */
  newEpochFor(rt: ConversationRuntime, excluding?: AccountId | DeviceId) {
    const secret = randomBytes(32)
    const keys = deriveEpochKeys(secret)
    const seals = [...memberDevices(rt.log).values()]
      .filter((cert) => cert.account !== excluding && cert.device !== excluding)
      .map((cert) => ({ device: cert.device, box: sealEpoch(rt.id, keys.id, secret, cert.dhPublic) }))
    return { id: keys.id, seals }
  }

  async epochSecret(id: ConversationId, epoch: EpochId): Promise<Uint8Array> {
    for (const secret of await this.kernel.store.listEpochSecrets(id)) if (deriveEpochKeys(secret).id === epoch) return secret
    throw new HearthError('INTERNAL', 'current epoch secret is missing')
  }

  /**
   * Everything that follows a change of the membership log: pick up epoch secrets sealed to us, start our chain in
   * the current epoch and hand it to devices that lack it, notice our own removal, heal concurrent rotations.
   */
  async afterLogChange(rt: ConversationRuntime): Promise<void> {
    const { identity, store, counters } = this.kernel
    const log = computeLog(rt.ops.values(), rt.record.root as OpHash, this.kernel.now())
    if (log === undefined) return
    rt.log = log
    await this.forgetRefusedOps(rt)
    const me = identity.deviceId

    for (const epoch of log.epochs.values()) {
      if (rt.epochs.has(epoch.id)) continue
      const box = epoch.seals.get(me)
      if (box === undefined) continue
      let secret: Uint8Array
      try {
        secret = openSealed(identity.dhKey, box, sealContext('epoch', rt.id, epoch.id))
      } catch {
        counters.count('bad-epoch-seal')
        continue
      }
      const keys = deriveEpochKeys(secret)
      if (keys.id !== epoch.id) {
        counters.count('bad-epoch-seal')
        continue
      }
      rt.epochs.set(keys.id, keys)
      await store.commit([store.putEpochSecret(rt.id, keys.id, secret)], true)
    }

    if (log.revokedDevices.has(me)) {
      this.hooks.revoked(rt)
      return
    }
    const removed = !log.members.has(identity.account)
    // A group is called what its log says now (renames by `about`), also in the invites made from here.
    const name = log.kind === 'group' ? log.name : rt.record.name
    if (removed !== rt.record.removed || name !== rt.record.name) {
      const wasRemoved = rt.record.removed
      rt.record = { ...rt.record, removed, name }
      await store.commit([store.putConversation(rt.record)], true)
      if (removed && !wasRemoved) {
        const left = log.removed.get(identity.account)?.left === true
        await this.failUndelivered(rt, left ? 'you left this group before it was delivered' : 'you were removed from this conversation before it was delivered')
      }
    }
    this.hooks.announce(rt)

    const current = log.epochs.get(log.currentEpoch)
    if (!removed && current && current.devices.has(me) && rt.epochs.has(current.id) && !rt.own.has(current.id)) {
      const chain = newChain()
      // Sequence numbers start at 1, so the cursor starts one step into the chain (index 1).
      const own = { initialKey: toBase64Url(chain.chainKey), cursorKey: toBase64Url(advance(chain).chainKey), next: 1, messages: 0, sentTo: [], delivered: 0 }
      rt.own.set(current.id, own)
      await store.commit([store.putOwnChain(rt.id, current.id, own)], true)
    }
    // Every epoch we wrote in, not only the current one: a device linked later is sealed into old epochs too
    // (`add-device`) and reads what we wrote there once it has our chain.
    if (!removed) {
      // Never to a device that has since been revoked or whose account left: what it was not sent, it does not get.
      const readers = memberDevices(log)
      for (const [epochId, own] of rt.own) {
        const epoch = log.epochs.get(epochId)
        if (epoch === undefined || !epoch.devices.has(me)) continue
        const sent = new Set(own.sentTo)
        const recipients = [...epoch.devices].filter((d) => d !== me && !sent.has(d) && readers.has(d))
        if (recipients.length > 0) await this.distributeChain(rt, epochId, own, recipients)
      }
      await this.handOnChains(rt)
    }

    if (!removed && needsRotation(log) && log.members.get(identity.account)?.role === 'admin') {
      await this.append(rt, { type: 'rotate', epoch: this.newEpochFor(rt) })
      return
    }
    await this.hooks.followUp(rt)
  }

  private async writeOp(rt: ConversationRuntime, body: OpBody, prev: OpHash[]): Promise<MembershipOp> {
    const { identity, store, node } = this.kernel
    // The log refuses an operation whose clock is not after its parents': ours has seen them.
    for (const p of prev) {
      const parent = rt.ops.get(p)
      if (parent) this.kernel.observe(parent.hlc)
    }
    const op = signOp({ conversation: rt.id, prev, hlc: encodeHlc(this.kernel.tick()), author: identity.cert, deviceSeed: identity.deviceKey.seed, body })
    const envelope = await this.writeControl(rt, EnvelopeKind.membership, encodeMembership(op.bytes), [store.putOp(rt.id, op.hash, op.bytes)])
    rt.ops.set(op.hash, op)
    if (envelope) drop(node.publish(envelope.topic, envelope.bytes))
    return op
  }

  /** Writes a durable control envelope (membership op or keys) into our stream of an epoch (the current one). */
  private async writeControl(
    rt: ConversationRuntime,
    kind: EnvelopeKind,
    body: Uint8Array,
    extra: Put[],
    epochId: EpochId = rt.log.currentEpoch,
  ): Promise<{ topic: string; bytes: Uint8Array } | undefined> {
    const { identity, store } = this.kernel
    const keys = rt.epochs.get(epochId)
    const own = rt.own.get(epochId)
    if (keys === undefined || own === undefined) {
      await store.commit(extra, true)
      return undefined
    }
    const sealed = sealOwn(identity, keys, own, kind, body)
    await store.commit([...extra, store.putEnvelope(rt.id, epochId, identity.deviceId, sealed.seq, sealed.bytes), store.putOwnChain(rt.id, epochId, sealed.next)], true)
    rt.own.set(epochId, sealed.next)
    this.hooks.kickRelays()
    return { topic: keys.topic, bytes: sealed.bytes }
  }

  /**
   * Operations whose author lacked the authority in their own causal past stay refused whatever arrives later, so they
   * are neither kept nor passed on; operations waiting for parents are bounded. Operations dated ahead of our clock
   * are looked at again when our clock gets there.
   */
  private async forgetRefusedOps(rt: ConversationRuntime): Promise<void> {
    const { store, counters, queue } = this.kernel
    if (rt.log.unauthorized.size > 0) counters.count('unauthorized-membership-op', rt.log.unauthorized.size)
    const forget = new Set([...rt.log.unauthorized, ...rt.log.pending.slice(MAX_PENDING_OPS)])
    for (const hash of forget) rt.ops.delete(hash)
    const admins = new Set([...rt.log.members.values()].filter((m) => m.role === 'admin').map((m) => m.account))
    const excess = unanchoredExcess(rt.ops, admins)
    if (excess.length > 0) counters.count('membership-op-flood', excess.length)
    for (const hash of excess) {
      rt.ops.delete(hash)
      forget.add(hash)
    }
    if (forget.size > 0) {
      await store.commit([...forget].map((hash) => store.deleteOp(rt.id, hash)), true)
      if (excess.length > 0) rt.log = computeLog(rt.ops.values(), rt.record.root as OpHash, this.kernel.now()) ?? rt.log
    }
    const now = this.kernel.now()
    const due = rt.log.pending.map((h) => rt.ops.get(h)).filter((op) => op !== undefined).map((op) => hlcWall(op.hlc) - MAX_CLOCK_SKEW_MS - now).filter((ms) => ms > 0)
    clearTimeout(this.futureOpTimers.get(rt.id))
    if (due.length > 0 && !this.kernel.stopped) {
      const timer = setTimeout(() => drop(queue.run(() => this.afterLogChange(rt))), Math.min(Math.min(...due) + 10, 2 ** 31 - 1))
      timer.unref()
      this.futureOpTimers.set(rt.id, timer)
    }
  }

  /** Our messages no member acknowledged yet: after removal nobody will accept them, so say so. */
  private async failUndelivered(rt: ConversationRuntime, reason: string): Promise<void> {
    const { store } = this.kernel
    const failed: MessageRow[] = []
    for (const [epoch, own] of rt.own) {
      const rows = await store.getMessages(rt.id, await store.mineBetween(rt.id, epoch, own.delivered, own.next))
      for (const row of rows.values()) {
        const next = nextState(row, { type: 'undeliverable', reason })
        if (next) failed.push(next)
      }
    }
    if (failed.length > 0) await this.readModel.updateRows(rt.id, failed)
  }

  /** Chains of other senders this device holds, to the devices it sealed into their epochs (hand-on-chains.ts). */
  private async handOnChains(rt: ConversationRuntime): Promise<void> {
    const { identity, store, node } = this.kernel
    const current = rt.log.currentEpoch
    if (!rt.epochs.has(current) || !rt.own.has(current)) return
    const sealed = sealedByMe(rt, identity.deviceId)
    // Most conversations have no device this one sealed in: nothing to read from disk for them.
    if (sealed.length === 0) return
    const handed = await store.getHandedOn(rt.id)
    const due = chainsToHandOn(rt, identity.deviceId, sealed, new Set(handed))
    for (let i = 0; i < due.length; i += MAX_FORWARDED_PER_ENVELOPE) {
      const part = due.slice(i, i + MAX_FORWARDED_PER_ENVELOPE)
      handed.push(...part.map((f) => f.key))
      const forwarded = part.map(({ device, epoch, sender, box }) => ({ device, epoch, sender, box }))
      // The record of what was handed is written with the envelope that hands it: never one without the other.
      const envelope = await this.writeControl(rt, EnvelopeKind.keys, encodeKeys({ recipients: [], forwarded }), [store.putHandedOn(rt.id, handed)], current)
      if (envelope) drop(node.publish(envelope.topic, envelope.bytes))
    }
  }

  private async distributeChain(rt: ConversationRuntime, epoch: EpochId, own: OwnChain, devices: DeviceId[]): Promise<void> {
    const { identity, node } = this.kernel
    const chain = encodeChainGrant(fromBase64Url(own.initialKey))
    const recipients = []
    for (const device of devices) {
      const cert = rt.log.knownDevices.get(device)
      if (!cert) continue
      recipients.push({ device, box: sealTo(cert.dhPublic, chain, sealContext('chain', rt.id, `${epoch}/${identity.deviceId}`)) })
    }
    // writeControl persists rt.own's entry with its new position, so the recipients are saved in the same batch.
    rt.own.set(epoch, { ...own, sentTo: [...own.sentTo, ...devices] })
    const envelope = await this.writeControl(rt, EnvelopeKind.keys, encodeKeys({ recipients }), [], epoch)
    if (envelope) drop(node.publish(envelope.topic, envelope.bytes))
  }
}

/** An epoch secret sealed to one device's key-agreement key. */
export function sealEpoch(conversation: string, epoch: string, secret: Uint8Array, dhPublic: Uint8Array): Uint8Array {
  return sealTo(dhPublic, secret, sealContext('epoch', conversation, epoch))
}
