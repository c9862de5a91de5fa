import type { ConversationSummary } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { ErrorNote } from './Dialog.js'
import { joinStateText } from './join-state.js'

/**
 * A conversation we asked to join and are not in yet (ADR 0027): nothing to read or write, only what is happening and
 * a way to give up (waiting) or to clear it away (refused).
 */
export function PendingJoin({ conversation, onDismissed }: { conversation: ConversationSummary; onDismissed(): void }) {
  const api = useApi()
  const dismiss = useAction()
  const waiting = conversation.joinState === 'waiting'
  return (
    <section className="chat pending-join" aria-labelledby="pending-join-title">
      <header className="chat-header">
        <h2 id="pending-join-title">{conversation.name}</h2>
      </header>
      <div className="empty-pane">
        <p role="status">{joinStateText(conversation)}</p>
        {waiting && <p>You can close Hearth meanwhile: the request stays with the relay, and you are let in the next time an admin is online.</p>}
        <button type="button" disabled={dismiss.busy} onClick={() => dismiss.run(() => api.call('conversations.dismissJoin', { conversationId: conversation.id }), onDismissed)}>
          {waiting ? 'Cancel the request' : 'Remove from the list'}
        </button>
        <ErrorNote error={dismiss.error} />
      </div>
    </section>
  )
}
