import { stripEnvelope } from '../../../common/wire/envelope.js'
import type { ConversationRecord, CoreStore, MessageRow, Put } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
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

/** The conversation record without a preview of `row`'s text (the same record when it does not show it). */
export function withoutPreviewOf(record: ConversationRecord, row: MessageRow): ConversationRecord {
  const last = record.lastMessage
  if (last === null || last.author !== row.author || last.at !== sentAt(row.hlc)) return record
  return { ...record, lastMessage: { ...last, body: row.deletedBy === undefined ? DELETED_PREVIEW : DELETED_BY_ADMIN_PREVIEW } }
}
