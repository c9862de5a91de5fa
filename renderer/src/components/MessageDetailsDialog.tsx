/**
 * A message's details: when it was sent, who has read it and who holds it without having read it yet, and every
 * version of an edited message (oldest first).
 */
import { useEffect, useId, useState } from 'react'
import type { MessageVersionView, MessageView, SeenByView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'
import { fullWhen } from '../lib/time.js'
import { Dialog, ErrorNote } from './Dialog.js'

export interface MessageDetailsDialogProps {
  api: Api
  message: MessageView
  names: ReadonlyMap<string, string>
  onClose(): void
}

export function MessageDetailsDialog({ api, message, names, onClose }: MessageDetailsDialogProps) {
  const [seen, setSeen] = useState<SeenByView | null>(null)
  const [versions, setVersions] = useState<MessageVersionView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const conversationId = message.conversation
  const messageId = message.id
  const edited = message.edited && !message.deleted
  // Receipts tell the sender how their message went; on someone else's they would only list the others.
  const mine = message.mine
  useEffect(() => {
    let alive = true
    const fail = (err: unknown) => alive && setError(errorText(err))
    if (mine) api.call('messages.seenBy', { conversationId, messageId }).then((s) => alive && setSeen(s), fail)
    if (edited) api.call('messages.versions', { conversationId, messageId }).then((v) => alive && setVersions(v), fail)
    return () => {
      alive = false
    }
  }, [api, conversationId, messageId, edited, mine])

  const id = useId()
  const nameOf = (p: { account: string; displayName: string }) => names.get(p.account) ?? p.displayName
  return (
    <Dialog title="Message details" onClose={onClose}>
      <div className="message-details">
        <p className="muted small">
          {mine ? 'Sent' : `From ${names.get(message.author) ?? message.authorName},`} {fullWhen(message.sentAt)}
        </p>
        <ErrorNote error={error} />
        {mine && (
          <>
            <section aria-labelledby={`${id}-read`}>
              <h3 id={`${id}-read`}>Read by</h3>
              <PeopleList people={seen?.read} nameOf={nameOf} empty="Nobody yet" />
            </section>
            <section aria-labelledby={`${id}-delivered`}>
              <h3 id={`${id}-delivered`}>Delivered to</h3>
              <PeopleList people={seen?.delivered} nameOf={nameOf} empty={seen?.read.length ? 'Nobody else yet' : 'Nobody yet'} />
            </section>
          </>
        )}
        {edited && (
          <section aria-labelledby={`${id}-versions`}>
            <h3 id={`${id}-versions`}>Edit history</h3>
            {versions === null ? (
              <p className="muted" role="status">
                Loading…
              </p>
            ) : (
              <ol className="versions">
                {versions.map((v, i) => (
                  <li key={`${v.at}-${i}`}>
                    <p className="version-when muted small">
                      {i === 0 ? 'Sent' : 'Edited'} {fullWhen(v.at)}
                      {i === versions.length - 1 ? ' (current)' : ''}
                    </p>
                    <p className="version-body">{v.body}</p>
                  </li>
                ))}
              </ol>
            )}
          </section>
        )}
      </div>
    </Dialog>
  )
}

function PeopleList({ people, nameOf, empty }: { people: SeenByView['read'] | undefined; nameOf(p: SeenByView['read'][number]): string; empty: string }) {
  if (people === undefined) {
    return (
      <p className="muted" role="status">
        Loading…
      </p>
    )
  }
  if (people.length === 0) return <p className="muted">{empty}</p>
  return (
    <ul className="plain people">
      {people.map((p) => (
        <li key={p.account}>{nameOf(p)}</li>
      ))}
    </ul>
  )
}
