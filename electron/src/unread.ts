/**
 * The unread count on the dock/taskbar badge: the sum of every conversation's unread count, kept up to date from
 * `conversation.updated` events (and a full `conversations.list` when the core becomes ready).
 */
import type { ConversationSummary } from '../../node/src/api/types.js'

/** What the shell keeps of each conversation: its name and kind for a notification's title, its mute to stay quiet. */
type Known = Pick<ConversationSummary, 'id' | 'name' | 'kind' | 'unread' | 'removed'> & Partial<Pick<ConversationSummary, 'mute'>>

export class UnreadTracker {
  private readonly conversations = new Map<string, Known>()

  /** Replaces everything with a full list. */
  reset(list: readonly Known[]): void {
    this.conversations.clear()
    for (const c of list) this.update(c)
  }

  update(summary: Known): void {
    this.conversations.set(summary.id, {
      id: summary.id,
      name: summary.name,
      kind: summary.kind,
      unread: summary.unread,
      removed: summary.removed,
      ...(summary.mute === undefined ? {} : { mute: summary.mute }),
    })
  }

  get(id: string): Known | undefined {
    return this.conversations.get(id)
  }

  /** Total unread messages; a conversation we were removed from no longer counts. */
  total(): number {
    let sum = 0
    for (const c of this.conversations.values()) {
      if (!c.removed && Number.isSafeInteger(c.unread) && c.unread > 0) sum += c.unread
    }
    return sum
  }

  clear(): void {
    this.conversations.clear()
  }
}

/** The text of a badge: the count, capped so it fits a dock icon. Empty when nothing is unread. */
export function badgeLabel(count: number): string {
  if (count <= 0) return ''
  return count > 99 ? '99+' : String(count)
}
