import { drop } from '../../../common/errors.js'
import { stripEnvelope } from '../../../common/wire/envelope.js'
import type { ConversationId } from '../../ids.js'
import { Keys, type ConversationRecord, type CoreStore, type MessageRow, type Put } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { sentAt } from './views.js'

/** What the conversation list shows for a last message that was deleted for everyone. */
export const DELETED_PREVIEW = 'This message was deleted'
/** The same, for someone else's message an admin deleted (docs/adr/0026). */
export const DELETED_BY_ADMIN_PREVIEW = 'Deleted by an admin'

/**
 * The writes that make a message deleted for everyone unreadable on this device (docs/adr/0020): its content key is
 * forgotten, and the stored envelope that carried the key (at the message's source position) is kept stripped of it,
 * still verifiable so it can be synced to members that lack it. The row itself is blanked by the delete change.
 */
export async function forgetMessage(store: CoreStore, rt: ConversationRuntime, row: MessageRow): Promise<Put[]> {
  const puts: Put[] = [store.deleteContentKey(rt.id, row.id)]
  if (row.seq > 0) {
    const stored = await store.getEnvelope(rt.id, row.epoch, row.device, row.seq)
    if (stored !== undefined) {
      const stripped = stripEnvelope(stored)
      if (stripped !== stored) puts.push(store.putEnvelope(rt.id, row.epoch, row.device, row.seq, stripped))
    }
  }
  return puts
}

/**
 * Once the writes of `forgetMessage` are committed, makes them the only versions on disk: LevelDB would otherwise keep
 * the content key, the row's text (sealed under the database key, which the device holds) and the preview in older
 * table files until a compaction happened to reach them. In the core's queue, after the step that deleted, because a
 * purge writes each key's current value once more and nothing may write those keys in between.
 */
export function purgeForgotten(kernel: Pick<Kernel, 'queue' | 'store' | 'log' | 'forgotten'>, c: ConversationId, rows: readonly MessageRow[]): void {
  if (rows.length === 0) return
  for (const listener of kernel.forgotten) listener(rows)
  const keys = rows.flatMap((row) => [
    Keys.contentKey(c, row.id),
    Keys.message(c, row.orderKey),
    ...(row.seq > 0 ? [Keys.envelope(c, row.epoch, row.device, row.seq)] : []),
  ])
  keys.push(Keys.conversation(c))
  drop(kernel.queue.run(() => kernel.store.db.purge(keys)), (err) => kernel.log.warn({ err }, 'purging a deleted message from disk failed'))
}

/** The conversation record without a preview of `row`'s text (the same record when it does not show it). */
export function withoutPreviewOf(record: ConversationRecord, row: MessageRow): ConversationRecord {
  const last = record.lastMessage
  if (last === null || last.author !== row.author || last.at !== sentAt(row.hlc)) return record
  return { ...record, lastMessage: { ...last, body: row.deletedBy === undefined ? DELETED_PREVIEW : DELETED_BY_ADMIN_PREVIEW } }
}
