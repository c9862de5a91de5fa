import { useId, useState, type FormEvent } from 'react'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { Dialog } from './Dialog.js'
import { FieldError, invalidWhen } from './FieldError.js'

export interface NewConversationDialogProps {
  kind: 'direct' | 'group'
  onClose(): void
  /** The new conversation; the caller goes on to invite people to it. */
  onCreated(conversation: ConversationSummary): void
}

/**
 * A new direct chat or group. People join through an invite (link or QR code), so creating is the first step and the
 * invite dialog follows at once.
 */
export function NewConversationDialog({ kind, onClose, onCreated }: NewConversationDialogProps) {
  const api = useApi()
  const id = useId()
  const [name, setName] = useState('')
  const { busy, error, setError, run } = useAction()
  const direct = kind === 'direct'
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (name.trim().length === 0) return setError(direct ? 'Give the name of the person you want to chat with.' : 'Give the group a name.')
    run(() => api.call('conversations.create', { kind, name: name.trim() }), onCreated)
  }
  return (
    <Dialog
      title={direct ? 'New direct chat' : 'New group'}
      description={
        direct
          ? 'A private chat with one person. Next you get a link or QR code to send them.'
          : 'A chat for several people. Next you get a link or QR code to invite them.'
      }
      onClose={onClose}
    >
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>{direct ? 'Their name' : 'Group name'}</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => {
              setName(e.target.value)
              if (error !== null) setError(null)
            }}
            maxLength={100}
            autoComplete="off"
            autoFocus
            required
            {...invalidWhen(error, `${id}-error`)}
          />
          {/* The form's one field: whatever went wrong, it is said here (the name is what can be changed). */}
          <FieldError id={`${id}-error`} error={error} />
        </div>
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : direct ? 'Create chat' : 'Create group'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
