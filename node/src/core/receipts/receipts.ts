import { encodeHlc } from '../../../../crdt/src/index.js'
import { drop } from '../../../common/errors.js'
import { encodeReceipt, type ReceiptPayload } from '../../history/payloads.js'
import type { ConversationId, DeviceId, EpochId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import { parseStreamKey, streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { GapSync } from '../gap-sync.js'
import { nextState } from '../history/message-state.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import { sealSignal } from '../send/own-stream.js'
import { nextReceiptRecord } from './earlier-epochs.js'
import { isOwnDevice, readOnOtherDevice } from './own-read.js'

/**
 * Receipts: each device tells the conversation how far it holds every stream of the current epoch (its own too) and
 * how far it has read, in a signal (never stored in a stream, last one by HLC wins). Members' receipts move our
 * messages to delivered and read, and a receipt claiming more than we hold starts a sync at once. A receipt from
 * another device of our own account moves our own read position instead (own-read.ts): read on the phone, read on the
 * laptop.
 */
export class Receipts {
  private readonly timers = new Map<ConversationId, NodeJS.Timeout>()

  constructor(
    private readonly kernel: Kernel,
    private readonly readModel: ReadModel,
    private readonly gaps: GapSync,
  ) {}

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t)
  }

  /** Sends our receipt for a conversation in `delayMs`, once however often it is asked for meanwhile. */
  schedule(id: ConversationId, delayMs: number): void {
    if (this.timers.has(id) || this.kernel.stopped) return
    const timer = setTimeout(() => {
      this.timers.delete(id)
      drop(this.send(id), (err) => this.kernel.log.debug({ err }, 'receipt failed'))
    }, delayMs)
    timer.unref()
    this.timers.set(id, timer)
  }

  /** A member device's receipt, if newer than the last one we hold of that device. */
  async onReceipt(rt: ConversationRuntime, device: DeviceId, receipt: ReceiptPayload): Promise<void> {
    const { store } = this.kernel
    const previous = await store.getReceipt(rt.id, device)
    if (previous && previous.hlc >= receipt.hlc) return
    // Our own devices' positions in the epoch a replaced receipt named are kept: seen-by for messages before a rotation.
    const ownAccount = this.kernel.identity.account
    const ownStream = (d: string) => rt.log.knownDevices.get(d as DeviceId)?.account === ownAccount
    await store.commit([store.putReceipt(rt.id, device, nextReceiptRecord(previous, receipt, ownStream))], false)
    // Our other device holding or reading what we wrote is not a member receiving or reading it: no ticks from it.
    if (isOwnDevice(rt, this.kernel.identity.account, device)) {
      if (await readOnOtherDevice(this.kernel, rt, receipt.readUpTo)) this.readModel.emitConversation(rt.id)
    } else {
      await this.apply(rt, receipt)
    }
    this.noticeClaims(rt, receipt, device)
  }

  private async send(id: ConversationId): Promise<void> {
    const { identity, node } = this.kernel
    const rt = this.kernel.conversations.get(id)
    if (!rt || rt.record.removed || this.kernel.stopped) return
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)
    if (!keys) return
    const have: Record<string, number> = {}
    for (const [key, s] of rt.streams) {
      const stream = parseStreamKey(key)
      if (stream.epoch === epoch) have[stream.device] = s.have
    }
    // Our own position too: a member that missed some of what we wrote learns of it from any receipt of ours.
    have[identity.deviceId] = this.kernel.ownHave(rt, epoch)
    const payload = encodeReceipt({ hlc: encodeHlc(this.kernel.tick()), epoch, have, readUpTo: rt.record.readUpTo })
    await node.publish(keys.topic, sealSignal(identity, keys, payload))
  }

  /** A member's receipt says how far it holds each stream: where that is beyond us, ask that member at once. */
  private noticeClaims(rt: ConversationRuntime, receipt: ReceiptPayload, from: DeviceId): void {
    const epoch = receipt.epoch as EpochId
    if (!rt.epochs.has(epoch)) return
    const peer = rt.log.knownDevices.get(from)?.peerId ?? null
    for (const [device, claimed] of Object.entries(receipt.have)) {
      if (device === this.kernel.identity.deviceId || !rt.log.knownDevices.has(device as DeviceId)) continue
      const key = streamKey(epoch, device as DeviceId)
      this.gaps.notice(rt.id, key, rt.streams.get(key)?.have ?? 0, claimed, peer)
    }
  }

  /** Moves our messages to delivered / read as far as another member's receipt says. */
  private async apply(rt: ConversationRuntime, receipt: ReceiptPayload): Promise<void> {
    const { store, identity } = this.kernel
    const epoch = receipt.epoch as EpochId
    const own = rt.own.get(epoch)
    const changed = new Map<MessageId, MessageRow>()
    const held = receipt.have[identity.deviceId] ?? 0
    if (own && held > own.delivered) {
      const rows = await store.getMessages(rt.id, await store.mineBetween(rt.id, epoch, own.delivered, held))
      for (const row of rows.values()) {
        const next = nextState(row, { type: 'delivered' })
        if (next) changed.set(row.id, next)
      }
      const next = { ...own, delivered: held }
      rt.own.set(epoch, next)
      await store.commit([store.putOwnChain(rt.id, epoch, next)], false)
    }
    if (receipt.readUpTo > rt.record.theirReadUpTo) {
      for (const row of await store.messagesAfter(rt.id, rt.record.theirReadUpTo, 10_000)) {
        if (row.orderKey > receipt.readUpTo) break
        const next = nextState(changed.get(row.id) ?? row, { type: 'read' })
        if (next) changed.set(row.id, next)
      }
      rt.record = { ...rt.record, theirReadUpTo: receipt.readUpTo }
      await store.commit([store.putConversation(rt.record)], false)
    }
    if (changed.size > 0) await this.readModel.updateRows(rt.id, [...changed.values()])
  }
}
