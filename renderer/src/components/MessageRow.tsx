import { useCallback, useContext, useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react'
import type { MessageView } from '../../../node/src/api/types.js'
import { errorText, type Api } from '../api/client.js'
import { ApiContext } from '../api/context.js'
import { messageSegments, type MentionName } from '../lib/message-text.js'
import { useMyAccount } from '../lib/my-account.js'
import { fullWhen, timeOfDay } from '../lib/time.js'
import type { ListItem } from '../state/items.js'
import type { OptimisticMessage } from '../state/messages.js'
import { formatBytes, percent } from '../lib/file-size.js'
import { AttachmentList } from './AttachmentList.js'
import { ConfirmDeleteDialog } from './ConfirmDeleteDialog.js'
import { EditMessageDialog } from './EditMessageDialog.js'
import { useMessageListControls } from './message-context.js'
import { MessageDetailsDialog } from './MessageDetailsDialog.js'
import { MessageMenu, type MenuItem } from './MessageMenu.js'
import { ReactionPicker } from './ReactionPicker.js'
import { Reactions } from './Reactions.js'
import { QuoteBlock } from './ReplyQuote.js'
import { StateBadge } from './StateBadge.js'

export interface RowActions {
  /** Re-publishes a message the core marked failed; resolves with an error text or null. */
  retry(messageId: string): Promise<string | null>
  /** Sends again a message the core refused before accepting it. */
  resend(localId: string): void
  discard(localId: string): void
}

export interface ListRowProps {
  item: ListItem
  actions: RowActions
  /** Each account's current display name: a message keeps the name the core gave it as a fallback. */
  names: ReadonlyMap<string, string>
  /** Reply to a message (the composer's reply mode). Absent: the list's own (MessageList `onReply`), or no Reply. */
  onReply?: ((message: MessageView) => void) | undefined
  /** Edit a message of mine (the composer's edit mode). Absent: the list's own, or an edit dialog. */
  onEdit?: ((message: MessageView) => void) | undefined
}

export function ListRow({ item, actions, names, onReply, onEdit }: ListRowProps) {
  switch (item.kind) {
    case 'day':
      return <h3 className="day-separator">{item.label}</h3>
    case 'message':
      return <MessageBubble message={item.message} first={item.first} actions={actions} names={names} onReply={onReply} onEdit={onEdit} />
    case 'optimistic':
      return <OptimisticBubble message={item.message} first={item.first} actions={actions} />
  }
}

/** What is open over a message: at most one at a time. */
type Overlay = 'react' | 'details' | 'confirm-delete' | 'edit' | null

/** How long a message jumped to stays highlighted (ms). */
const HIGHLIGHT_MS = 2000

interface BubbleProps {
  message: MessageView
  first: boolean
  actions: RowActions
  names: ReadonlyMap<string, string>
  onReply?: ((message: MessageView) => void) | undefined
  onEdit?: ((message: MessageView) => void) | undefined
}

function MessageBubble({ message, first, actions, names, ...props }: BubbleProps) {
  const api = useContext(ApiContext)
  const me = useMyAccount(api)
  const list = useMessageListControls()
  const onReply = props.onReply ?? list.onReply
  const onEdit = props.onEdit ?? list.onEdit
  const authorName = names.get(message.author) ?? message.authorName
  const rowRef = useRef<HTMLDivElement>(null)
  const [retrying, setRetrying] = useState(false)
  const [retryError, setRetryError] = useState<string | null>(null)
  const [actionError, setActionError] = useState<string | null>(null)
  const [menuOpen, setMenuOpen] = useState(false)
  const [overlay, setOverlay] = useState<Overlay>(null)
  const [note, setNote] = useState('')
  const highlighted = list.highlighted === message.id

  // Jumped to from a quote: focus follows, so the keyboard and screen readers land on the original too.
  useEffect(() => {
    if (highlighted) rowRef.current?.focus({ preventScroll: true })
  }, [highlighted])

  const retry = () => {
    setRetrying(true)
    setRetryError(null)
    void actions.retry(message.id).then((error) => {
      setRetrying(false)
      setRetryError(error)
    })
  }

  const conversationId = message.conversation
  const messageId = message.id
  /** Asks the core; what changed comes back as a `message.updated` event, which the list applies. */
  const request = useCallback(
    (what: Promise<unknown> | undefined) => {
      setActionError(null)
      what?.catch((err: unknown) => setActionError(errorText(err)))
    },
    [],
  )
  const react = (emoji: string | null) => {
    setOverlay(null)
    request(api?.call('messages.react', { conversationId, messageId, emoji }))
  }
  const deleteMessage = (forEveryone: boolean) => {
    setOverlay(null)
    request(api?.call('messages.delete', { conversationId, messageId, forEveryone }))
  }
  const copy = () => {
    navigator.clipboard.writeText(message.body).then(
      () => setNote('Copied'),
      () => setActionError('Could not copy the text.'),
    )
  }
  useEffect(() => {
    if (note === '') return
    const timer = setTimeout(() => setNote(''), HIGHLIGHT_MS)
    return () => clearTimeout(timer)
  }, [note])

  const gone = message.deleted || Boolean(message.withdrawn)
  // Whether I may delete this message of someone else for everyone: asked when its menu opens (docs/adr/0026).
  const canModerate = useModeration(api, conversationId, menuOpen && !message.mine && !gone)
  const myReaction = me === null ? null : (Object.entries(message.reactions).find(([, accounts]) => accounts.includes(me))?.[0] ?? null)
  const items: MenuItem[] = gone
    ? [{ id: 'delete-me', label: 'Delete for me', run: () => deleteMessage(false) }]
    : [
        ...(onReply === undefined ? [] : [{ id: 'reply', label: 'Reply', run: () => onReply(message) }]),
        { id: 'react', label: 'React…', run: () => setOverlay('react') },
        ...(message.mine ? [{ id: 'edit', label: 'Edit', run: () => (onEdit === undefined ? setOverlay('edit') : onEdit(message)) }] : []),
        ...(message.body.length > 0 ? [{ id: 'copy', label: 'Copy text', run: copy }] : []),
        { id: 'details', label: 'Details', run: () => setOverlay('details') },
        { id: 'delete-me', label: 'Delete for me', danger: true, run: () => deleteMessage(false) },
        ...(message.mine || canModerate ? [{ id: 'delete-all', label: 'Delete for everyone…', danger: true, run: () => setOverlay('confirm-delete') }] : []),
      ]

  const openMenu = (event: MouseEvent | KeyboardEvent) => {
    event.preventDefault()
    setMenuOpen(true)
  }
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey)) openMenu(event)
  }

  const mentionNames: MentionName[] = (message.mentions ?? []).map((account) => ({ name: names.get(account) ?? '', me: account === me }))
  const mentionsMe = message.mentionsMe === true && !gone
  const classes = ['message', message.mine ? 'mine' : 'theirs', first ? 'first' : '', mentionsMe ? 'mentions-me' : '', highlighted ? 'highlighted' : '']
  return (
    <div
      ref={rowRef}
      className={classes.filter(Boolean).join(' ')}
      data-message-id={message.id}
      // Reachable by script (a jump from a quote lands here), not a stop in the Tab order.
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      {first && !message.mine && <div className="author">{authorName}</div>}
      <div className="bubble-line">
        <div className="bubble" onContextMenu={openMenu}>
          {message.replyTo != null && !gone && (
            <QuoteBlock quote={message.replyTo} authorName={names.get(message.replyTo.author) ?? message.replyTo.authorName} onJump={list.jumpTo} />
          )}
          {mentionsMe && <span className="visually-hidden">Mentions you: </span>}
          {!gone && <AttachmentList message={message} authorName={authorName} />}
          {(gone || message.body.length > 0 || (message.attachments?.length ?? 0) === 0) && (
            <p className={`body${gone ? ' deleted' : ''}`}>{gone ? bodyText(message, names) : <MessageText body={message.body} mentions={mentionNames} />}</p>
          )}
          <div className="meta">
            {message.edited && !gone && (
              <button type="button" className="edited link-button" aria-label="Edited: see the versions" onClick={() => setOverlay('details')}>
                edited
              </button>
            )}
            <time dateTime={new Date(message.sentAt).toISOString()} title={fullWhen(message.sentAt)}>
              {timeOfDay(message.sentAt)}
            </time>
            {message.mine && <StateBadge state={message.state} />}
          </div>
        </div>
        {message.withdrawn == null && (
          <MessageMenu items={items} label={message.mine ? 'Actions for your message' : `Actions for ${authorName}’s message`} open={menuOpen} onOpenChange={setMenuOpen} />
        )}
        {note !== '' && (
          <span className="copy-note" role="alert">
            {note}
          </span>
        )}
      </div>
      {!gone && <Reactions reactions={message.reactions} me={me} names={names} onSet={react} />}
      {actionError !== null && (
        <div className="row-problem" role="alert">
          {actionError}
        </div>
      )}
      {message.mine && message.state === 'failed' && (
        <div className="row-problem" role="alert">
          <span>{retryError ?? message.failure ?? 'This message could not be sent.'}</span>
          <button type="button" className="link-button" onClick={retry} disabled={retrying}>
            {retrying ? 'Retrying…' : 'Retry'}
          </button>
        </div>
      )}
      {retryError !== null && message.state !== 'failed' && (
        <div className="row-problem" role="alert">
          {retryError}
        </div>
      )}
      {overlay === 'react' && <ReactionPicker current={myReaction} onPick={react} onClose={() => setOverlay(null)} />}
      {overlay === 'details' && api !== null && <MessageDetailsDialog api={api} message={message} names={names} onClose={() => setOverlay(null)} />}
      {overlay === 'edit' && api !== null && <EditMessageDialog api={api} message={message} onClose={() => setOverlay(null)} />}
      {overlay === 'confirm-delete' && (
        <ConfirmDeleteDialog authorName={message.mine ? undefined : authorName} onConfirm={() => deleteMessage(true)} onClose={() => setOverlay(null)} />
      )}
    </div>
  )
}

/** The text with its web links (opened outside the app) and mentions; never HTML. */
export function MessageText({ body, mentions }: { body: string; mentions: MentionName[] }) {
  return (
    <>
      {messageSegments(body, mentions).map((segment, i) => {
        switch (segment.kind) {
          case 'text':
            return segment.text
          case 'link':
            return (
              <a key={i} href={segment.href} target="_blank" rel="noopener noreferrer">
                {segment.text}
              </a>
            )
          case 'mention':
            return (
              <span key={i} className={`mention${segment.me ? ' mention-me' : ''}`}>
                {segment.text}
              </span>
            )
        }
      })}
    </>
  )
}

/** What a message shows: its text, or why it has none (a withdrawn message is rendered like a deleted one). */
function bodyText(message: MessageView, names: ReadonlyMap<string, string>): string {
  if (message.withdrawn === 'conflict') return 'Withdrawn: this device sent conflicting messages'
  if (message.withdrawn === 'removed') return 'Withdrawn: sent after they were removed'
  if (message.deleted && message.deletedBy !== undefined) {
    const admin = names.get(message.deletedBy)
    return admin === undefined || admin === '' ? 'Deleted by an admin' : `Deleted by an admin (${admin})`
  }
  return message.deleted ? 'This message was deleted' : message.body
}

/**
 * True when I am an admin of this group, asked of the core only while `asking` (a menu on someone else's message is
 * open): admins may delete others' messages for everyone; nobody may in a direct chat.
 */
function useModeration(api: Api | null, conversationId: string, asking: boolean): boolean {
  const [admin, setAdmin] = useState(false)
  useEffect(() => {
    if (!asking || api === null) return
    let alive = true
    api.call('conversations.get', { conversationId }).then(
      (c) => {
        if (alive) setAdmin(c.kind === 'group' && c.role === 'admin' && !c.removed)
      },
      () => {},
    )
    return () => {
      alive = false
    }
  }, [api, conversationId, asking])
  return admin
}

function OptimisticBubble({ message, first, actions }: { message: OptimisticMessage; first: boolean; actions: RowActions }) {
  const failed = message.status === 'failed'
  const files = message.files ?? []
  const total = files.reduce((n, f) => n + f.size, 0)
  const sent = message.sent ?? 0
  return (
    <div className={`message mine optimistic${first ? ' first' : ''}`}>
      <div className="bubble">
        {files.length > 0 && (
          <div className="optimistic-files">
            <ul className="plain" aria-label={files.length === 1 ? 'File being sent' : `${files.length} files being sent`}>
              {files.map((f, i) => (
                <li key={i} className="optimistic-file">
                  <span aria-hidden="true">{f.kind === 'image' ? '🖼' : '📄'}</span> {f.name} <span className="muted small">{formatBytes(f.size)}</span>
                </li>
              ))}
            </ul>
            {!failed && (
              <div className="optimistic-progress">
                <progress max={Math.max(1, total)} value={sent} aria-label="Sending files" />
                <span className="small">
                  {formatBytes(sent)} of {formatBytes(total)} ({percent(sent, total)} %)
                </span>
                <button type="button" className="link-button" onClick={() => actions.discard(message.localId)}>
                  Cancel
                </button>
              </div>
            )}
          </div>
        )}
        {message.body.length > 0 && <p className="body">{message.body}</p>}
        <div className="meta">
          <time dateTime={new Date(message.at).toISOString()}>{timeOfDay(message.at)}</time>
          <StateBadge state={failed ? 'failed' : 'sending'} />
        </div>
      </div>
      {failed && (
        <div className="row-problem" role="alert">
          <span>{message.error}</span>
          <button type="button" className="link-button" onClick={() => actions.resend(message.localId)}>
            Retry
          </button>
          <button type="button" className="link-button" onClick={() => actions.discard(message.localId)}>
            Discard
          </button>
        </div>
      )}
    </div>
  )
}
