/**
 * Where the "New messages" divider goes when a chat opens. The core counts as unread the messages of others after
 * the read position (neither withdrawn nor deleted for me), and pages leave those out too, so the first unread one is
 * the `unread`-th newest message of someone else on screen.
 */
import type { MessageView } from '../../../node/src/api/types.js'

/**
 * The id of the first unread message, or null when nothing is unread. When more are unread than are loaded, the
 * oldest loaded message of someone else: the divider then sits as high as the loaded history goes.
 */
export function firstUnreadId(messages: readonly MessageView[], unread: number): string | null {
  if (unread <= 0) return null
  let found: string | null = null
  let counted = 0
  for (let i = messages.length - 1; i >= 0 && counted < unread; i--) {
    const m = messages[i]!
    if (m.mine || m.withdrawn || m.hidden === true) continue
    found = m.id
    counted++
  }
  return found
}

/** Our newest message that can still be edited (Arrow-Up in an empty composer edits it). */
export function lastEditable(messages: readonly MessageView[]): MessageView | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!
    if (m.mine && !m.deleted && !m.withdrawn && m.hidden !== true) return m
  }
  return undefined
}
