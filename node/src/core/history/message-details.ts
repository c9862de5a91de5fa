import { messageVersions } from '../../../../crdt/src/index.js'
import { HearthError } from '../../../common/errors.js'
import type { MessageVersionView, SeenByView } from '../../api/types.js'
import type { AccountId, ConversationId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import { epochCandidates, whoSaw } from '../receipts/seen-by.js'
import type { Kernel } from '../kernel.js'
import { openText } from './content-keys.js'
import { targetShard } from './kinds/target.js'
import type { ReadModel } from './read-model.js'
import { loadShard } from './shards.js'

/** What a message's details show: its earlier versions, who holds it and who has read it; and deleting it for me. */
export class MessageDetails {
  constructor(
    private readonly kernel: Kernel,
    private readonly readModel: ReadModel,
  ) {}

  /** Every version of a message, oldest first (one when it was never edited; none once deleted). */
  async versions(id: ConversationId, messageId: MessageId): Promise<MessageVersionView[]> {
    const rt = this.kernel.runtime(id)
    const row = await this.row(id, messageId)
    const { epoch, shard } = targetShard(rt, row)
    const { doc } = await loadShard(this.kernel, rt, epoch, shard)
    const key = (await this.kernel.store.getContentKeys(id, [messageId])).get(messageId)
    return messageVersions(doc, actorOf(row.device), row.id as never).map((v) => ({
      body: v.box === undefined ? v.body : key === undefined ? '' : (openText(key, id, messageId, v.box) ?? ''),
      at: v.hlc.wall,
    }))
  }

  /**
   * Who has read a message and who holds it without having read it yet, per member (any of their devices), from the
   * latest receipt of each device of the message's epoch, removed members included; for a message written before a
   * rotation, "holds" comes from the last receipt of its epoch (receipts/seen-by.ts, receipts/earlier-epochs.ts).
   */
  async seenBy(id: ConversationId, messageId: MessageId): Promise<SeenByView> {
    const { store } = this.kernel
    const rt = this.kernel.runtime(id)
    const row = await this.row(id, messageId)
    const candidates = epochCandidates(rt.log, row.epoch)
    const receipts = new Map(await Promise.all(candidates.map(async (c) => [c.device, await store.getReceipt(rt.id, c.device)] as const)))
    const { read, held } = whoSaw(row, candidates, (device) => receipts.get(device))
    const named = (accounts: Iterable<AccountId>) =>
      [...accounts].map((account) => ({ account, displayName: rt.log.names.get(account) ?? account.slice(0, 8) })).sort((a, b) => a.displayName.localeCompare(b.displayName))
    return { read: named(read), delivered: named(held) }
  }

  /** Delete for me: this device stops showing the message; nobody else is told. */
  async hide(id: ConversationId, messageId: MessageId): Promise<void> {
    await this.kernel.queue.run(async () => {
      const row = await this.row(id, messageId)
      await this.readModel.updateRows(id, [{ ...row, hidden: true }])
    })
  }

  private async row(id: ConversationId, messageId: MessageId): Promise<MessageRow> {
    const row = await this.kernel.store.getMessage(id, messageId)
    if (row === undefined || row.hidden || row.withdrawn) throw new HearthError('NOT_FOUND', 'no such message')
    return row
  }
}
