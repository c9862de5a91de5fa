import type { ConversationSummary } from '../../../node/src/api/types.js'
import { fullWhen, shortWhen } from '../lib/time.js'

export interface ConversationListProps {
  conversations: ConversationSummary[]
  selectedId: string | null
  onSelect(id: string): void
  /** Conversations with an unsent draft, marked in the list. */
  hasDraft(id: string): boolean
  now: number
}

export function ConversationList({ conversations, selectedId, onSelect, hasDraft, now }: ConversationListProps) {
  if (conversations.length === 0) {
    return <p className="muted small empty-list">No conversations yet. Start one, or join with an invite link.</p>
  }
  return (
    <ul className="conversation-list">
      {conversations.map((c) => {
        const selected = c.id === selectedId
        const preview = c.lastMessage === null ? (c.removed ? 'You were removed' : 'No messages yet') : `${c.lastMessage.authorName}: ${c.lastMessage.body}`
        const unread = c.unread > 0 && !selected ? c.unread : 0
        const mentions = (c.unreadMentions ?? 0) > 0 && !selected ? c.unreadMentions! : 0
        return (
          <li key={c.id}>
            <button
              type="button"
              className={`conversation${selected ? ' selected' : ''}${unread > 0 ? ' has-unread' : ''}`}
              aria-current={selected ? 'page' : undefined}
              onClick={() => onSelect(c.id)}
              data-conversation-id={c.id}
            >
              <span className="avatar" aria-hidden="true">
                {initials(c.name)}
              </span>
              <span className="conversation-text">
                <span className="conversation-top">
                  <span className="conversation-name">{c.name}</span>
                  {c.lastMessage !== null && (
                    <time className="conversation-time" dateTime={new Date(c.lastMessage.at).toISOString()} title={fullWhen(c.lastMessage.at)}>
                      {shortWhen(c.lastMessage.at, now)}
                    </time>
                  )}
                </span>
                <span className="conversation-bottom">
                  <span className="conversation-preview">
                    {hasDraft(c.id) && !selected ? <em className="draft-mark">Draft · </em> : null}
                    {preview}
                  </span>
                  {mentions > 0 && (
                    <>
                      <span className="unread mentions" data-mentions={mentions} aria-hidden="true">
                        @
                      </span>
                      <span className="visually-hidden">
                        , {mentions} unread {mentions === 1 ? 'mention' : 'mentions'}
                      </span>
                    </>
                  )}
                  {unread > 0 && (
                    <>
                      <span className="unread" data-unread={unread} aria-hidden="true">
                        {unread > 99 ? '99+' : unread}
                      </span>
                      {/* The visible name is the button's content; the count is read out in words. */}
                      <span className="visually-hidden">, {unread} unread</span>
                    </>
                  )}
                </span>
              </span>
            </button>
          </li>
        )
      })}
    </ul>
  )
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter((p) => p.length > 0)
  const letters = parts.length >= 2 ? [parts[0]!, parts.at(-1)!].map((p) => [...p][0]) : [...(parts[0] ?? '?')].slice(0, 1)
  return letters.join('').toUpperCase()
}
