/**
 * Which incoming messages become a native notification, and what it says. Decided here, shown by main.ts.
 *
 * Only messages from other people, only while the window is not focused (the person is looking at the app
 * otherwise), and never a flood: a catch-up after being offline can deliver hundreds of old messages at once, so old
 * messages are skipped and each conversation notifies at most once per interval. A muted conversation stays quiet
 * (at "mentions only", but for a message that mentions this person), while its unread count goes on. The text is plain
 * and bounded: it is written by someone else and lands in the OS notification centre.
 */
import { notifies } from '../../node/src/api/mute.js'
import type { ConversationSummary, MessageView } from '../../node/src/api/types.js'

export interface NotificationPolicyOptions {
  /** Minimum time between two notifications for one conversation. */
  perConversationIntervalMs?: number
  /** Messages sent longer ago than this (a catch-up) do not notify. */
  maxAgeMs?: number
  /** Longest body shown. */
  maxBodyChars?: number
}

export interface NotificationContent {
  conversationId: string
  title: string
  body: string
}

const DEFAULTS: Required<NotificationPolicyOptions> = {
  perConversationIntervalMs: 5_000,
  maxAgeMs: 5 * 60_000,
  maxBodyChars: 200,
}

export class NotificationPolicy {
  private readonly options: Required<NotificationPolicyOptions>
  private readonly lastShown = new Map<string, number>()

  constructor(options: NotificationPolicyOptions = {}) {
    this.options = { ...DEFAULTS, ...options }
  }

  /**
   * The notification for a `message.added` event, or null. `conversation` is what the shell last heard about the
   * conversation (for its name and kind), when it knows.
   */
  decide(
    message: MessageView,
    context: { windowFocused: boolean; now: number; conversation?: (Pick<ConversationSummary, 'name' | 'kind'> & Partial<Pick<ConversationSummary, 'mute'>>) | undefined },
  ): NotificationContent | null {
    if (message.mine || message.deleted || context.windowFocused) return null
    if (!notifies(context.conversation?.mute, message.mentionsMe === true, context.now)) return null
    if (context.now - message.sentAt > this.options.maxAgeMs) return null
    const last = this.lastShown.get(message.conversation)
    if (last !== undefined && context.now - last < this.options.perConversationIntervalMs) return null
    this.lastShown.set(message.conversation, context.now)

    const author = plain(message.authorName, 80) || 'Someone'
    const group = context.conversation?.kind === 'group' ? plain(context.conversation.name, 80) : ''
    return {
      conversationId: message.conversation,
      title: group === '' ? author : `${author} in ${group}`,
      body: plain(message.body, this.options.maxBodyChars),
    }
  }
}

/** One line of printable text, at most `max` characters (by code point, so no emoji is cut in half). */
export function plain(text: string, max: number): string {
  // Control characters, including bidi overrides that could make a notification read differently than it is.
  const cleaned = text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim()
  const chars = [...cleaned]
  return chars.length <= max ? cleaned : `${chars.slice(0, max - 1).join('')}…`
}
