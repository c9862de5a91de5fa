import type { ConversationSummary, MessageView, ReplyQuote } from '../../api/types.js'
import type { ConversationRecord, MessageRow } from '../../store/core-store.js'

/**
 * `names` holds the authors' current display names (a row keeps the name it was written under as a fallback); `me` is
 * this account (for `mentionsMe`); `quote` is what the reply shows of its original, looked up by the caller.
 */
export function toView(row: MessageRow, names?: ReadonlyMap<string, string>, me?: string, quote?: ReplyQuote | null): MessageView {
  const view: MessageView = {
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
    ...(row.deletedBy === undefined ? {} : { deletedBy: row.deletedBy }),
    reactions: row.reactions,
    // Ours when our account wrote it, from this device or another of ours (docs/adr/0032); edits and delivery
    // states stay with the device that wrote it (`row.mine`).
    mine: row.mine || (me !== undefined && row.author === me),
    state: row.state,
    failure: row.failure,
    withdrawn: row.withdrawn ?? null,
  }
  if (row.replyTo !== undefined) view.replyTo = quote ?? missingQuote(row.replyTo, names)
  if (row.mentions !== undefined && row.mentions.length > 0) {
    view.mentions = row.mentions
    view.mentionsMe = me !== undefined && row.mentions.includes(me)
  }
  if (row.hidden) view.hidden = true
  return view
}

/** What a reply shows of `original` (its row as it is now, or undefined when this device does not hold it). */
export function quoteOf(ref: { id: string; author: string }, original: MessageRow | undefined, names?: ReadonlyMap<string, string>): ReplyQuote {
  if (original === undefined || original.withdrawn) return missingQuote(ref, names)
  return {
    id: ref.id,
    author: original.author,
    authorName: names?.get(original.author) ?? original.authorName,
    body: original.deleted || original.hidden ? '' : original.body,
    deleted: original.deleted,
    missing: false,
  }
}

function missingQuote(ref: { id: string; author: string }, names?: ReadonlyMap<string, string>): ReplyQuote {
  return { id: ref.id, author: ref.author, authorName: names?.get(ref.author) ?? ref.author.slice(0, 8), body: '', deleted: false, missing: true }
}

/** The wall-clock part (ms) of an encoded hybrid logical clock. */
export const sentAt = (hlc: string): number => Number.parseInt(hlc.slice(0, 13), 10)

export function lastMessageView(last: ConversationRecord['lastMessage'], names: ReadonlyMap<string, string>): ConversationSummary['lastMessage'] {
  if (last === null) return null
  const name = last.author === undefined ? undefined : names.get(last.author)
  return { body: last.body, authorName: name ?? last.authorName, at: last.at }
}

/** One line of a message for the conversation list; a message with files says what they are before its caption. */
export function preview(body: string, files: ReadonlyArray<{ kind: 'image' | 'file'; name: string }> = []): string {
  const line = `${filesLabel(files)}${files.length > 0 && body.trim() !== '' ? ' ' : ''}${body}`.replace(/\s+/g, ' ').trim()
  return line.length > 120 ? `${line.slice(0, 119)}…` : line
}

function filesLabel(files: ReadonlyArray<{ kind: 'image' | 'file'; name: string }>): string {
  if (files.length === 0) return ''
  const images = files.filter((f) => f.kind === 'image').length
  if (images === files.length) return images === 1 ? '📷 Photo' : `📷 ${images} photos`
  return files.length === 1 ? `📎 ${files[0]!.name}` : `📎 ${files.length} files`
}
