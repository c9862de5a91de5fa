import { MAX_BODY_CHARS, encodeHlc, readMessage, sendMessage, shardOf } from '../../../../crdt/src/index.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { HearthError, drop } from '../../../common/errors.js'
import { toHex, utf8 } from '../../../common/util/bytes.js'
import { EnvelopeKind } from '../../../common/wire/envelope.js'
import { Limits } from '../../../common/wire/limits.js'
import type { MessageView } from '../../api/types.js'
import { encodeContent } from '../../history/payloads.js'
import type { ConversationId, EpochId, MessageId } from '../../ids.js'
import type { ConversationRecord, MessageRow, OwnChain, Put } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { nextState } from '../history/message-state.js'
import type { ReadModel } from '../history/read-model.js'
import { loadShard } from '../history/shards.js'
import { preview, toView } from '../history/views.js'
import type { Kernel } from '../kernel.js'
import { sealOwn } from './own-stream.js'

interface OutgoingSend {
  id: ConversationId
  body: string
  resolve: (view: MessageView) => void
  reject: (err: unknown) => void
}

export interface OutboxHooks {
  /** New envelopes in our stream: the relays should take them. */
  kickRelays(): void
  /** Ask members for a sync of the conversation (a retry also goes out this way). */
  syncMembers(rt: ConversationRuntime): void
}

/**
 * Our messages on their way out: validated, composed into a CRDT change, sealed into our stream, written in one
 * synced batch with everything else sent at the same moment (group commit), and only then announced and published.
 */
export class Outbox {
  private readonly outgoing: OutgoingSend[] = []

  constructor(
    private readonly kernel: Kernel,
    private readonly readModel: ReadModel,
    private readonly hooks: OutboxHooks,
  ) {}

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
      if (this.outgoing.length === 1) drop(this.kernel.queue.run(() => this.flush()))
    })
  }

  /** Re-publishes a message that is still pending or failed; sync will also deliver it when members reconnect. */
  async retry(id: ConversationId, messageId: string): Promise<MessageView> {
    const { store, node } = this.kernel
    const rt = this.kernel.runtime(id)
    if (rt.record.removed) throw new HearthError('REMOVED', 'you were removed from this conversation')
    const row = await store.getMessage(id, messageId as MessageId)
    if (row === undefined || !row.mine) throw new HearthError('NOT_FOUND', 'no such message of yours')
    const envelope = await store.getEnvelope(id, row.epoch, row.device, row.seq)
    const keys = rt.epochs.get(row.epoch)
    if (envelope === undefined || keys === undefined) throw new HearthError('NOT_FOUND', 'message envelope is missing')
    const retried = nextState(row, { type: 'retry' })
    if (retried) await this.readModel.updateRows(id, [retried])
    await node.publish(keys.topic, envelope)
    this.hooks.kickRelays()
    this.hooks.syncMembers(rt)
    return toView((await store.getMessage(id, row.id))!, rt.log.names)
  }

  private async flush(): Promise<void> {
    const { store, events, node, log } = this.kernel
    const items = this.outgoing.splice(0)
    const composed: Array<{ item: OutgoingSend; view: MessageView; envelope: Uint8Array; topic: string }> = []
    const batch: Put[] = []
    const restore = new Map<ConversationRuntime, { own: Map<EpochId, OwnChain>; shards: ConversationRuntime['shards']; record: ConversationRecord }>()
    for (const item of items) {
      try {
        const rt = this.kernel.runtime(item.id)
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
      await store.commit(batch, true)
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
      events.emit('message.added', { conversation: item.id, message: view })
      conversations.add(item.id)
      // Gossip is the fast path, not a durable one: "sent" comes from a relay's acknowledgement, "delivered" from a
      // member's receipt.
      drop(node.publish(topic, envelope), (err) => log.warn({ err }, 'publish failed'))
      item.resolve(view)
    }
    for (const id of conversations) this.readModel.emitConversation(id)
    this.hooks.kickRelays()
  }

  /** One message: CRDT change, next chain key, sealed envelope, and the puts that make it durable (not yet written). */
  private async compose(rt: ConversationRuntime, body: string): Promise<{ puts: Put[]; view: MessageView; envelope: Uint8Array; topic: string }> {
    const { identity, store } = this.kernel
    const id = rt.id
    if (rt.record.removed) throw new HearthError('REMOVED', 'you were removed from this conversation')
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)
    const own = rt.own.get(epoch)
    if (keys === undefined || own === undefined) {
      throw new HearthError('NOT_A_MEMBER', 'this device cannot write in this conversation yet')
    }
    const hlc = this.kernel.tick()
    const messageId = toHex(randomBytes(16)) as MessageId
    const shard = shardOf(own.messages)
    const loaded = await loadShard(this.kernel, rt, epoch, shard)
    const actor = actorOf(identity.deviceId)
    const result = sendMessage(loaded.doc, actor, { id: messageId, body, hlc, seq: own.messages })
    const sealed = sealOwn(identity, keys, own, EnvelopeKind.content, encodeContent({ shard, change: result.change }))
    const msg = readMessage(result.doc, actor, messageId as never)!
    const row: MessageRow = {
      id: messageId,
      conversation: id,
      author: identity.account,
      authorName: identity.displayName,
      device: identity.deviceId,
      epoch,
      seq: sealed.seq,
      shard,
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
    const nextOwn: OwnChain = { ...sealed.next, messages: own.messages + 1 }
    const record = { ...rt.record, lastActivity: this.kernel.now(), lastMessage: { body: preview(body), authorName: row.authorName, author: row.author, at: hlc.wall } }
    const puts: Put[] = [
      store.putEnvelope(id, epoch, identity.deviceId, sealed.seq, sealed.bytes),
      store.putOwnChain(id, epoch, nextOwn),
      store.putChange(id, epoch, shard, loaded.stored, result.change),
      ...store.putMessage(row),
      store.putMine(id, epoch, sealed.seq, messageId),
      store.putConversation(record),
    ]
    // In memory at once, so the next message of the same flush builds on this one; flush undoes it on failure.
    rt.record = record
    rt.own.set(epoch, nextOwn)
    rt.shards.set(`${epoch}/${shard}`, { doc: result.doc, stored: loaded.stored + 1 })
    return { puts, view: toView(row, rt.log.names), envelope: sealed.bytes, topic: keys.topic }
  }
}
