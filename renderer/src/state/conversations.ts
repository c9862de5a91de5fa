/** The conversation list: most recent activity first; an update replaces its conversation wherever it was. */
import type { ConversationSummary } from '../../../node/src/api/types.js'

export function sortConversations(list: ConversationSummary[]): ConversationSummary[] {
  return [...list].sort((a, b) => b.lastActivity - a.lastActivity || a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
}

export function upsertConversation(list: ConversationSummary[], next: ConversationSummary): ConversationSummary[] {
  return sortConversations([...list.filter((c) => c.id !== next.id), next])
}

export function totalUnread(list: ConversationSummary[]): number {
  return list.reduce((sum, c) => sum + (c.removed ? 0 : c.unread), 0)
}
