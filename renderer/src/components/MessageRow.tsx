import { useState } from 'react'
import type { MessageView } from '../../../node/src/api/types.js'
import { fullWhen, timeOfDay } from '../lib/time.js'
import type { ListItem } from '../state/items.js'
import type { OptimisticMessage } from '../state/messages.js'
import { StateBadge } from './StateBadge.js'

export interface RowActions {
  /** Re-publishes a message the core marked failed; resolves with an error text or null. */
  retry(messageId: string): Promise<string | null>
  /** Sends again a message the core refused before accepting it. */
  resend(localId: string): void
  discard(localId: string): void
}

/** `names`: each account's current display name; a message keeps the name the core gave it as a fallback. */
export function ListRow({ item, actions, names }: { item: ListItem; actions: RowActions; names: ReadonlyMap<string, string> }) {
  switch (item.kind) {
    case 'day':
      return <h3 className="day-separator">{item.label}</h3>
    case 'message':
      return <MessageBubble message={item.message} first={item.first} actions={actions} authorName={names.get(item.message.author) ?? item.message.authorName} />
    case 'optimistic':
      return <OptimisticBubble message={item.message} first={item.first} actions={actions} />
  }
}

function MessageBubble({ message, first, actions, authorName }: { message: MessageView; first: boolean; actions: RowActions; authorName: string }) {
  const [retrying, setRetrying] = useState(false)
  const [retryError, setRetryError] = useState<string | null>(null)
  const retry = () => {
    setRetrying(true)
    setRetryError(null)
    void actions.retry(message.id).then((error) => {
      setRetrying(false)
      setRetryError(error)
    })
  }
  return (
    <div className={`message ${message.mine ? 'mine' : 'theirs'}${first ? ' first' : ''}`} data-message-id={message.id}>
      {first && !message.mine && <div className="author">{authorName}</div>}
      <div className="bubble">
        <p className={`body${message.deleted || message.withdrawn ? ' deleted' : ''}`}>{bodyText(message)}</p>
        <div className="meta">
          {message.edited && <span className="edited">edited</span>}
          <time dateTime={new Date(message.sentAt).toISOString()} title={fullWhen(message.sentAt)}>
            {timeOfDay(message.sentAt)}
          </time>
          {message.mine && <StateBadge state={message.state} />}
        </div>
      </div>
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
    </div>
  )
}

/** What a message shows: its text, or why it has none (a withdrawn message is rendered like a deleted one). */
function bodyText(message: MessageView): string {
  if (message.withdrawn === 'conflict') return 'Withdrawn: this device sent conflicting messages'
  if (message.withdrawn === 'removed') return 'Withdrawn: sent after they were removed'
  return message.deleted ? 'This message was deleted' : message.body
}

function OptimisticBubble({ message, first, actions }: { message: OptimisticMessage; first: boolean; actions: RowActions }) {
  const failed = message.status === 'failed'
  return (
    <div className={`message mine optimistic${first ? ' first' : ''}`}>
      <div className="bubble">
        <p className="body">{message.body}</p>
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
