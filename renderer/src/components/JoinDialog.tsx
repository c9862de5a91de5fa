import { useId, useState, type FormEvent } from 'react'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { Dialog, ErrorNote } from './Dialog.js'

export interface JoinDialogProps {
  /** A link the app was opened with (hearth://join/…), shown for the person to confirm; never joined silently. */
  initialCode?: string
  onClose(): void
  onJoined(conversation: ConversationSummary): void
}

export function JoinDialog({ initialCode, onClose, onJoined }: JoinDialogProps) {
  const api = useApi()
  const id = useId()
  const [code, setCode] = useState(initialCode ?? '')
  const { busy, error, setError, run } = useAction()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = code.trim()
    if (trimmed.length === 0) return setError('Paste the invite link you were sent.')
    run(() => api.call('conversations.join', { code: trimmed }), onJoined)
  }
  return (
    <Dialog title="Join a conversation" description="Paste the invite link someone sent you (it starts with hearth://join/)." onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor={`${id}-code`}>Invite link</label>
          <textarea
            id={`${id}-code`}
            value={code}
            onChange={(e) => setCode(e.target.value)}
            rows={4}
            spellCheck={false}
            autoComplete="off"
            autoFocus
          />
        </div>
        <ErrorNote error={error} />
        {busy && (
          <p className="muted small" role="status">
            Joining… the person who invited you needs to be online.
          </p>
        )}
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Joining…' : 'Join'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
