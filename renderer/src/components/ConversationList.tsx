import { useEffect, useState } from 'react'
import { effectiveMute, type MuteLevel, type MuteSetting } from '../../../node/src/api/mute.js'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { fullWhen, shortWhen } from '../lib/time.js'
import { ConversationMenu, type ConversationMenuItem } from './ConversationMenu.js'
import { ErrorNote } from './Dialog.js'
import { HistoryBar, historyText } from './HistoryProgress.js'
import { joinStateText } from './join-state.js'

export interface ConversationListProps {
  conversations: ConversationSummary[]
  selectedId: string | null
  onSelect(id: string): void
  /** Conversations with an unsent draft, marked in the list. */
  hasDraft(id: string): boolean
  now: number
}

const HOUR = 3600_000
const DURATIONS: Array<{ id: string; label: string; ms: number | null }> = [
  { id: '1h', label: 'For 1 hour', ms: HOUR },
  { id: '8h', label: 'For 8 hours', ms: 8 * HOUR },
  { id: '1d', label: 'For 1 day', ms: 24 * HOUR },
  { id: '1w', label: 'For 1 week', ms: 7 * 24 * HOUR },
  { id: 'always', label: 'Always', ms: null },
]

/** Pinned conversations first, in the order they were pinned; then the rest as they came (latest activity first). */
export function pinnedFirst(list: ConversationSummary[]): ConversationSummary[] {
  const pinned = list.filter((c) => typeof c.pinnedAt === 'number').sort((a, b) => a.pinnedAt! - b.pinnedAt! || a.id.localeCompare(b.id))
  return [...pinned, ...list.filter((c) => typeof c.pinnedAt !== 'number')]
}

/** "Muted", "Mentions only", with "until …" for a timed mute; null when not muted. */
export function muteText(mute: MuteSetting, now: number): string | null {
  if (mute.level === 'all') return null
  const what = mute.level === 'nothing' ? 'Muted' : 'Mentions only'
  return mute.until === null ? what : `${what} until ${shortWhen(mute.until, now)}`
}

/** The time now, moved on when the soonest timed mute lapses, so the list stops showing it as muted by itself. */
function useMuteClock(conversations: ConversationSummary[]): number {
  const [current, setClock] = useState(() => Date.now())
  const next = conversations.reduce<number | null>((soonest, c) => {
    const until = c.mute?.level !== 'all' ? (c.mute?.until ?? null) : null
    return until !== null && until > current && (soonest === null || until < soonest) ? until : soonest
  }, null)
  useEffect(() => {
    if (next === null) return
    const timer = setTimeout(() => setClock(Date.now()), Math.min(next - Date.now() + 50, 2 ** 31 - 1))
    return () => clearTimeout(timer)
  }, [next])
  return current
}

export function ConversationList({ conversations, selectedId, onSelect, hasDraft, now }: ConversationListProps) {
  const api = useApi()
  const [showArchived, setShowArchived] = useState(false)
  const [menuFor, setMenuFor] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const clock = useMuteClock(conversations)

  if (conversations.length === 0) {
    return <p className="muted small empty-list">No conversations yet. Start one, or join with an invite link.</p>
  }
  const archived = conversations.filter((c) => c.archived === true)
  const shown = showArchived ? archived : pinnedFirst(conversations.filter((c) => c.archived !== true))

  const setPrefs = (c: ConversationSummary, prefs: { mute?: { level: MuteLevel; forMs: number | null }; archived?: boolean; pinned?: boolean }) => {
    setError(null)
    api.call('conversations.setPrefs', { conversationId: c.id, ...prefs }).then(
      () => {},
      (err: unknown) => setError(errorText(err)),
    )
  }
  const itemsFor = (c: ConversationSummary, muted: boolean): ConversationMenuItem[] => {
    const durations = (level: MuteLevel) => DURATIONS.map((d) => ({ id: d.id, label: d.label, run: () => setPrefs(c, { mute: { level, forMs: d.ms } }) }))
    return [
      typeof c.pinnedAt === 'number'
        ? { id: 'unpin', label: 'Unpin', run: () => setPrefs(c, { pinned: false }) }
        : { id: 'pin', label: 'Pin to top', run: () => setPrefs(c, { pinned: true }) },
      c.archived === true
        ? { id: 'unarchive', label: 'Unarchive', run: () => setPrefs(c, { archived: false }) }
        : { id: 'archive', label: 'Archive', run: () => setPrefs(c, { archived: true }) },
      { id: 'mute', label: 'Mute', children: durations('nothing') },
      { id: 'mentions', label: 'Mentions only', children: durations('mentions') },
      ...(muted ? [{ id: 'unmute', label: 'Unmute', run: () => setPrefs(c, { mute: { level: 'all' as const, forMs: null } }) }] : []),
    ]
  }

  return (
    <>
      <ErrorNote error={error} />
      {showArchived && (
        <div className="archived-header">
          <button type="button" className="link-button" onClick={() => setShowArchived(false)}>
            ← Back to chats
          </button>
          <h2 className="section-title">Archived</h2>
        </div>
      )}
      {shown.length === 0 && (
        <p className="muted small empty-list">{showArchived ? 'Nothing archived.' : 'Every conversation is archived.'}</p>
      )}
      <ul className="conversation-list">
        {shown.map((c) => {
          const mute = effectiveMute(c.mute, clock)
          const muted = muteText(mute, clock)
          const pinned = typeof c.pinnedAt === 'number'
          const selected = c.id === selectedId
          // While its history arrives, that is what the row says (an empty or stale preview would look like lost history).
          const preview = joinStateText(c) ?? historyText(c.history) ?? (c.lastMessage === null ? (c.removed ? (c.left === true ? 'You left' : 'You were removed') : 'No messages yet') : `${c.lastMessage.authorName}: ${c.lastMessage.body}`)
          const unread = c.unread > 0 && !selected ? c.unread : 0
          const mentions = (c.unreadMentions ?? 0) > 0 && !selected ? c.unreadMentions! : 0
          return (
            <li key={c.id} className="conversation-row">
              <button
                type="button"
                className={`conversation${selected ? ' selected' : ''}${unread > 0 ? ' has-unread' : ''}${muted !== null ? ' is-muted' : ''}`}
                aria-current={selected ? 'page' : undefined}
                onClick={() => onSelect(c.id)}
                onContextMenu={(event) => {
                  event.preventDefault()
                  setMenuFor(c.id)
                }}
                onKeyDown={(event) => {
                  if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) {
                    event.preventDefault()
                    setMenuFor(c.id)
                  }
                }}
                data-conversation-id={c.id}
              >
                <span className="avatar" aria-hidden="true">
                  {initials(c.name)}
                </span>
                <span className="conversation-text">
                  <span className="conversation-top">
                    <span className="conversation-name">
                      {c.name}
                      {pinned && (
                        <span className="conversation-flag" aria-hidden="true" title="Pinned">
                          {' '}
                          📌
                        </span>
                      )}
                      {muted !== null && (
                        <span className="conversation-flag" aria-hidden="true" title={mute.until === null ? muted : `${muted} (${fullWhen(mute.until)})`}>
                          {' '}
                          🔕
                        </span>
                      )}
                    </span>
                    {pinned && <span className="visually-hidden">, pinned</span>}
                    {muted !== null && <span className="visually-hidden">, {muted.toLowerCase()}</span>}
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
              <HistoryBar history={c.history} label={`History of ${c.name} arriving`} className="history-row-bar" />
              <ConversationMenu
                label={`Options for ${c.name}`}
                items={itemsFor(c, muted !== null)}
                open={menuFor === c.id}
                onOpenChange={(open) => setMenuFor(open ? c.id : null)}
              />
            </li>
          )
        })}
      </ul>
      {!showArchived && archived.length > 0 && (
        <button type="button" className="link-button archived-entry" onClick={() => setShowArchived(true)}>
          Archived ({archived.length})
        </button>
      )}
    </>
  )
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter((p) => p.length > 0)
  const letters = parts.length >= 2 ? [parts[0]!, parts.at(-1)!].map((p) => [...p][0]) : [...(parts[0] ?? '?')].slice(0, 1)
  return letters.join('').toUpperCase()
}
