import type { ConversationSummary, MessageView } from '../../api/types.js'
import type { ConversationRecord, MessageRow } from '../../store/core-store.js'

/** `names` holds the authors' current display names (a row keeps the name it was written under as a fallback). */
export function toView(row: MessageRow, names?: ReadonlyMap<string, string>): MessageView {
  return {
    id: row.id,
    conversation: row.conversation,
    author: row.author,
    authorName: names?.get(row.author) ?? row.authorName,
    device: row.device,
    hlc: row.hlc,
    sentAt: sentAt(row.hlc),
    orderKey: row.orderKey,
    body: row.body,
    edited: row.edited,
    deleted: row.deleted,
    reactions: row.reactions,
    mine: row.mine,
    state: row.state,
    failure: row.failure,
    withdrawn: row.withdrawn ?? null,
  }
}

/** The wall-clock part (ms) of an encoded hybrid logical clock. */
export const sentAt = (hlc: string): number => Number.parseInt(hlc.slice(0, 13), 10)

export function lastMessageView(last: ConversationRecord['lastMessage'], names: ReadonlyMap<string, string>): ConversationSummary['lastMessage'] {
  if (last === null) return null
  const name = last.author === undefined ? undefined : names.get(last.author)
  return { body: last.body, authorName: name ?? last.authorName, at: last.at }
}

/** One line of a message for the conversation list. */
export function preview(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim()
  return line.length > 120 ? `${line.slice(0, 119)}…` : line
}
