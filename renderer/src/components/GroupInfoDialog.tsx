import { useId, useState, type FormEvent } from 'react'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { Dialog } from './Dialog.js'

/** The limits the core applies (node/src/conversation/group-about.ts), counted the same way: in characters. */
const MAX_NAME = 64
const MAX_DESCRIPTION = 500

export interface GroupInfoDialogProps {
  conversation: ConversationSummary
  onClose(): void
  /** Opens the Members dialog (this one closes). */
  onMembers(): void
}

type Field = 'name' | 'description' | null

/** Which field a refusal from the core is about, so it shows under that field. */
function fieldOf(message: string): Field {
  if (/^the group name/i.test(message)) return 'name'
  if (/^the description/i.test(message)) return 'description'
  return null
}

const length = (text: string) => [...text].length

/**
 * A group's name and description (admins change them; everyone reads them), how many members it has with a way to
 * the Members dialog, and Leave group behind a confirmation that says what leaving does.
 */
export function GroupInfoDialog({ conversation, onClose, onMembers }: GroupInfoDialogProps) {
  const api = useApi()
  const id = useId()
  const canEdit = conversation.role === 'admin' && !conversation.removed
  const [name, setName] = useState(conversation.name)
  const [description, setDescription] = useState(conversation.description ?? '')
  const [saved, setSaved] = useState(false)
  const save = useAction()
  const [fieldError, setFieldError] = useState<{ field: Field; text: string } | null>(null)
  const leave = useAction()
  const [confirmingLeave, setConfirmingLeave] = useState(false)

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setSaved(false)
    const trimmed = name.trim()
    if (trimmed.length === 0) return setFieldError({ field: 'name', text: 'Give the group a name.' })
    if (length(trimmed) > MAX_NAME) return setFieldError({ field: 'name', text: `The group name can be at most ${MAX_NAME} characters.` })
    if (length(description.trim()) > MAX_DESCRIPTION) {
      return setFieldError({ field: 'description', text: `The description can be at most ${MAX_DESCRIPTION} characters.` })
    }
    setFieldError(null)
    save.run(
      () =>
        api.call('conversations.update', { conversationId: conversation.id, name: trimmed, description: description.trim() }).catch((err: unknown) => {
          const text = errorText(err)
          setFieldError({ field: fieldOf(text), text })
          throw err
        }),
      () => setSaved(true),
    )
  }
  const nameError = fieldError?.field === 'name' ? fieldError.text : null
  const descriptionError = fieldError?.field === 'description' ? fieldError.text : null
  const generalError = fieldError !== null && fieldError.field === null ? fieldError.text : null

  const members = `${conversation.memberCount} ${conversation.memberCount === 1 ? 'member' : 'members'}`
  return (
    <Dialog title={`About ${conversation.name}`} onClose={onClose}>
      {canEdit ? (
        <form onSubmit={submit} className="stack" noValidate aria-label="Name and description">
          <div className="field">
            <label htmlFor={`${id}-name`}>Group name</label>
            <input
              id={`${id}-name`}
              value={name}
              onChange={(e) => {
                setName(e.target.value)
                setSaved(false)
                if (fieldError?.field === 'name') setFieldError(null)
              }}
              maxLength={MAX_NAME * 2}
              autoComplete="off"
              aria-invalid={nameError !== null}
              {...(nameError === null ? {} : { 'aria-describedby': `${id}-name-error` })}
            />
            {nameError !== null && (
              <p id={`${id}-name-error`} className="error-note field-error" role="alert">
                {nameError}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-description`}>Description</label>
            <textarea
              id={`${id}-description`}
              value={description}
              onChange={(e) => {
                setDescription(e.target.value)
                setSaved(false)
                if (fieldError?.field === 'description') setFieldError(null)
              }}
              rows={3}
              aria-invalid={descriptionError !== null}
              aria-describedby={[`${id}-description-hint`, descriptionError === null ? null : `${id}-description-error`].filter((x) => x !== null).join(' ')}
            />
            <p id={`${id}-description-hint`} className="muted small">
              What the group is for; everyone in it sees this. {length(description.trim())}/{MAX_DESCRIPTION}
            </p>
            {descriptionError !== null && (
              <p id={`${id}-description-error`} className="error-note field-error" role="alert">
                {descriptionError}
              </p>
            )}
          </div>
          {generalError !== null && (
            <p className="error-note" role="alert">
              {generalError}
            </p>
          )}
          <div className="button-row">
            {saved && (
              <span className="muted small" role="status">
                Saved
              </span>
            )}
            <button type="submit" className="primary" disabled={save.busy}>
              {save.busy ? 'Saving…' : 'Save'}
            </button>
          </div>
        </form>
      ) : (
        <section className="stack" aria-label="Name and description">
          <p className="group-description">{conversation.description === undefined || conversation.description === '' ? 'No description.' : conversation.description}</p>
          {!conversation.removed && <p className="muted small">Only admins can change the name and description.</p>}
        </section>
      )}

      <div className="group-info-members">
        <span>{members}</span>
        <button type="button" onClick={onMembers}>
          See members
        </button>
      </div>

      {conversation.left === true ? (
        <p className="muted" role="status">
          You left this group. You can still read what was said before you left.
        </p>
      ) : (
        !conversation.removed && (
          <div className="group-info-leave">
            {!confirmingLeave ? (
              <button type="button" className="danger-link" onClick={() => setConfirmingLeave(true)}>
                Leave group
              </button>
            ) : (
              <div className="confirm" role="group" aria-label={`Leave ${conversation.name}?`}>
                <p>
                  Leave {conversation.name}? You will stop getting its messages and can no longer write here; the others get
                  new keys, so nothing said after you leave reaches you. What was said so far stays readable on this device.
                  The invites you made stop working, and only an admin can add you back.
                </p>
                {leave.error !== null && (
                  <p className="error-note" role="alert">
                    {leave.error}
                  </p>
                )}
                <div className="button-row">
                  <button type="button" onClick={() => setConfirmingLeave(false)}>
                    Stay
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={leave.busy}
                    onClick={() => leave.run(() => api.call('conversations.leave', { conversationId: conversation.id }), onClose)}
                  >
                    {leave.busy ? 'Leaving…' : 'Leave group'}
                  </button>
                </div>
              </div>
            )}
          </div>
        )
      )}
    </Dialog>
  )
}
