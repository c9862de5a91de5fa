import { useId, useState, type FormEvent } from 'react'
import { isHearthError } from '../../../node/common/errors.js'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { looksLikeShortInvite, parseShortInvite } from '../../../node/src/conversation/short-invite.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { Dialog } from './Dialog.js'

export interface JoinDialogProps {
  /** A link the app was opened with (hearth://j/… or hearth://join/…), shown for the person to confirm; never joined silently. */
  initialCode?: string
  onClose(): void
  onJoined(conversation: ConversationSummary): void
}

/**
 * Joins with an invite link pasted, or a code typed by hand: spaces, dashes and lower case are fine. A typo in a
 * typed code is caught here (its check symbol) before anything is sent; every error sits under the field it is about.
 */
export function JoinDialog({ initialCode, onClose, onJoined }: JoinDialogProps) {
  const api = useApi()
  const id = useId()
  const [code, setCode] = useState(initialCode ?? '')
  const { busy, error, setError, run } = useAction()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const trimmed = code.trim()
    if (trimmed.length === 0) return setError('Type the invite code or paste the link you were sent.')
    if (looksLikeShortInvite(trimmed)) {
      try {
        parseShortInvite(trimmed)
      } catch (err) {
        return setError(isHearthError(err) ? err.message : 'This invite code has a typo: check it against the one you were given.')
      }
    }
    run(() => api.call('conversations.join', { code: trimmed }), onJoined)
  }
  const errorId = `${id}-error`
  return (
    <Dialog
      title="Join a conversation"
      description="Type the invite code you were given (letters and digits, with an @ in it) or paste the invite link."
      onClose={onClose}
    >
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-code`}>Invite link or code</label>
          <textarea
            id={`${id}-code`}
            className="invite-input"
            value={code}
            onChange={(e) => {
              setCode(e.target.value)
              if (error !== null) setError(null)
            }}
            rows={3}
            spellCheck={false}
            autoComplete="off"
            autoCapitalize="characters"
            autoFocus
            aria-invalid={error !== null}
            {...(error === null ? {} : { 'aria-describedby': errorId })}
            placeholder="K7Q2 9XHM 4RTW PLZ3 G8N2 @ 0G2M …"
          />
          {error !== null && (
            <p id={errorId} className="error-note field-error" role="alert">
              {error}
            </p>
          )}
        </div>
        {busy && (
          <p className="muted small" role="status">
            Joining… if no one who can let you in is online, you will wait in your conversation list until one of them is.
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
