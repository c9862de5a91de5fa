import { MAX_BODY_CHARS, applyRemoteChanges, isCrdtError } from '../../../../crdt/src/index.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { HearthError, drop } from '../../../common/errors.js'
import { toHex, utf8 } from '../../../common/util/bytes.js'
import { EnvelopeKind } from '../../../common/wire/envelope.js'
import { Limits } from '../../../common/wire/limits.js'
import type { MessageView } from '../../api/types.js'
import { encodeContent, encodeContentSecrets } from '../../history/payloads.js'
import type { ConversationId, EpochId, MessageId } from '../../ids.js'
import type { ConversationRecord, MessageRow, OwnChain, Put } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { nextState } from '../history/message-state.js'
import type { ReadModel } from '../history/read-model.js'
import { loadShard, withUnmerged } from '../history/shards.js'
import { planChange, type MessageIntent } from '../history/kinds/index.js'
import { materializeRow } from '../history/rows.js'
import { forgetMessage, purgeForgotten, withoutPreviewOf } from '../history/forget.js'
import { filesOf } from '../history/media-box.js'
import { preview, sentAt } from '../history/views.js'
import type { Withdrawals } from '../equivocation.js'
import type { Kernel } from '../kernel.js'
import { sealOwn } from './own-stream.js'

interface OutgoingSend {
  id: ConversationId
  intent: MessageIntent
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
    private readonly withdrawals: Withdrawals,
    private readonly hooks: OutboxHooks,
  ) {}

  /**
   * Sends a message of any kind: validated here, composed in the next group commit. Resolves with the message as it
   * now shows (the new one for a text, the changed one for an edit, a delete or a reaction).
   */
  async send(id: ConversationId, intent: MessageIntent): Promise<MessageView> {
    if (intent.kind === 'text' || intent.kind === 'edit') checkBody(intent.body)
    return new Promise<MessageView>((resolve, reject) => {
      this.outgoing.push({ id, intent, resolve, reject })
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
    const [view] = await this.readModel.views(rt, [(await store.getMessage(id, row.id))!])
    return view!
  }

  private async flush(): Promise<void> {
    const { store, events, node, log } = this.kernel
    const items = this.outgoing.splice(0)
    const composed: Array<{ item: OutgoingSend; view: MessageView; envelope: Uint8Array; topic: string; forgotten?: MessageRow | undefined }> = []
    const batch: Put[] = []
    const restore = new Map<ConversationRuntime, { own: Map<EpochId, OwnChain>; shards: ConversationRuntime['shards']; record: ConversationRecord }>()
    for (const item of items) {
      try {
        const rt = this.kernel.runtime(item.id)
        if (!restore.has(rt)) restore.set(rt, { own: new Map(rt.own), shards: new Map(rt.shards), record: rt.record })
        const out = await this.compose(rt, item.intent)
        batch.push(...out.puts)
        composed.push({ item, view: out.view, envelope: out.envelope, topic: out.topic, forgotten: out.forgotten })
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
    for (const { item, forgotten } of composed) if (forgotten !== undefined) purgeForgotten(this.kernel, item.id, [forgotten])
    for (const id of conversations) this.readModel.emitConversation(id)
    this.hooks.kickRelays()
  }

  /** One change: planned by its kind, sealed into our stream, with the puts that make it durable (not yet written). */
  private async compose(
    rt: ConversationRuntime,
    intent: MessageIntent,
  ): Promise<{ puts: Put[]; view: MessageView; envelope: Uint8Array; topic: string; forgotten?: MessageRow | undefined }> {
    const { identity, store } = this.kernel
    const id = rt.id
    if (rt.record.removed) throw new HearthError('REMOVED', 'you were removed from this conversation')
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)
    const own = rt.own.get(epoch)
    if (keys === undefined || own === undefined) {
      throw new HearthError('NOT_A_MEMBER', 'this device cannot write in this conversation yet')
    }
    const plan = await planChange(
      {
        rt,
        me: identity.account,
        ownMessages: own.messages,
        row: async (messageId) => {
          const row = await store.getMessage(id, messageId)
          if (row === undefined || row.hidden) throw new HearthError('NOT_FOUND', 'no such message')
          return row
        },
        newMessageId: () => toHex(randomBytes(16)) as MessageId,
        contentKey: async (messageId) => (await store.getContentKeys(id, [messageId])).get(messageId),
        now: () => this.kernel.tick(),
      },
      intent,
    )
    // A new message is read back from our own document, which holds all of it; the merged document takes the change
    // later, with the others of a run of sends (history/shards.ts). Anything else reads others' changes too (reactions
    // beside an edit, the target of a reaction or an admin's delete): that needs the merged document now.
    const loaded = await loadShard(this.kernel, rt, plan.epoch, plan.shard, { ownOnly: plan.creates })
    const ownDoc = loaded.own
    const lazy = plan.creates && ownDoc !== undefined
    const actor = actorOf(identity.deviceId)
    let result
    try {
      // Lazily, the merged document may lack our latest messages; our own document has them all, so it is what a new
      // message's checks (its id unused by us) read.
      result = lazy ? plan.change(ownDoc, actor, ownDoc) : plan.change(loaded.doc, actor, ownDoc)
    } catch (err) {
      // The history model's refusals (a reaction already in that state, another's message) are the person's to read.
      throw isCrdtError(err) ? new HearthError(err.code, err.message, { cause: err }) : err
    }
    // Written onto our own document: the shard as we see it takes the change like any other, now or with the next read.
    const merged = ownDoc === undefined || lazy ? result.doc : applyRemoteChanges(loaded.doc, [result.change]).doc
    const payload = encodeContent({ shard: plan.shard, change: result.change, epoch: plan.epoch === epoch ? undefined : plan.epoch })
    const secrets = plan.contentKey === undefined ? undefined : encodeContentSecrets({ keys: [{ message: plan.message, key: plan.contentKey }] })
    const sealed = sealOwn(identity, keys, own, EnvelopeKind.content, payload, secrets)
    const existing = plan.creates ? undefined : await store.getMessage(id, plan.message)
    // The message's text is shown again from its box: a reaction to someone else's message needs their key as much as
    // an edit of ours needs our own.
    const contentKey = plan.contentKey ?? (await store.getContentKeys(id, [plan.message])).get(plan.message)
    const materialized = materializeRow(rt, this.withdrawals, identity.deviceId, merged, { author: plan.author ?? actor, id: plan.message as never }, plan, existing, (m) =>
      m === plan.message ? contentKey : undefined,
    )
    if (materialized === undefined) throw new HearthError('INTERNAL', 'the change did not produce its message')
    const row: MessageRow = plan.creates ? { ...materialized.row, seq: sealed.seq, state: 'pending', failure: null } : materialized.row
    const nextOwn: OwnChain = { ...sealed.next, messages: own.messages + (plan.creates ? 1 : 0) }
    const puts: Put[] = [
      store.putEnvelope(id, epoch, identity.deviceId, sealed.seq, sealed.bytes),
      store.putOwnChain(id, epoch, nextOwn),
      store.putChange(id, plan.epoch, plan.shard, loaded.stored, result.change),
      ...(ownDoc === undefined ? [] : [store.putOwnChange(id, plan.epoch, plan.shard, loaded.stored, result.change)]),
      ...store.putMessage(row),
    ]
    if (plan.contentKey !== undefined) puts.push(store.putContentKey(id, plan.message, plan.contentKey))
    if (plan.creates) {
      const record = { ...rt.record, lastActivity: this.kernel.now(), lastMessage: { body: preview(row.body, filesOf(row)), authorName: row.authorName, author: row.author, at: sentAt(row.hlc) } }
      puts.push(store.putMine(id, epoch, sealed.seq, row.id), store.putConversation(record))
      rt.record = record
    }
    if (plan.forget !== undefined) {
      // Deleted means gone: the key is forgotten and the envelope that carried it keeps only what stays verifiable.
      puts.push(...(await forgetMessage(store, rt, plan.forget)))
      const record = withoutPreviewOf(rt.record, row)
      if (record !== rt.record) {
        rt.record = record
        puts.push(store.putConversation(record))
      }
    }
    // In memory at once, so the next message of the same flush builds on this one; flush undoes it on failure.
    rt.own.set(epoch, nextOwn)
    const shardKey = `${plan.epoch}/${plan.shard}`
    if (lazy) rt.shards.set(shardKey, withUnmerged(loaded, { stored: loaded.stored + 1, own: result.doc }, result.change))
    else rt.shards.set(shardKey, { doc: merged, stored: loaded.stored + 1, own: ownDoc === undefined ? undefined : result.doc })
    const [view] = await this.readModel.views(rt, [row])
    return { puts, view: view!, envelope: sealed.bytes, topic: keys.topic, forgotten: plan.forget }
  }
}

/** The core's limits on a message's text, checked before anything is composed. */
function checkBody(body: string): void {
  if (typeof body !== 'string' || body.trim().length === 0) throw new HearthError('INVALID_INPUT', 'message is empty')
  if (body.length > MAX_BODY_CHARS) {
    throw new HearthError('TOO_LARGE', `message is ${body.length} characters; the limit is ${MAX_BODY_CHARS}`)
  }
  const size = utf8(body).length
  if (size > Limits.maxBodyBytes) {
    throw new HearthError('TOO_LARGE', `message is ${size} bytes; the limit is ${Limits.maxBodyBytes} bytes`)
  }
}
