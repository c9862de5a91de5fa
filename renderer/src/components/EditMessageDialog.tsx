/**
 * Editing a message of mine in a dialog: used where no composer edit mode is wired to the list (the chat's composer
 * offers its own edit mode when it is).
 */
import { useId, useState, type FormEvent } from 'react'
import type { MessageView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { useFocusOnOpen } from './focus-on-open.js'

export function EditMessageDialog({ api, message, onClose }: { api: Api; message: MessageView; onClose(): void }) {
  const id = useId()
  const field = useFocusOnOpen<HTMLTextAreaElement>()
  const [text, setText] = useState(message.body)
  const [saving, setSaving] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const unchanged = text.trim() === '' || text === message.body
  const save = (event: FormEvent) => {
    event.preventDefault()
    if (unchanged) return
    setSaving(true)
    api.call('messages.edit', { conversationId: message.conversation, messageId: message.id, body: text }).then(onClose, (err: unknown) => {
      setSaving(false)
      setError(errorText(err))
    })
  }
  return (
    <Dialog title="Edit message" onClose={onClose}>
      <form className="stack" onSubmit={save}>
        <div className="field">
          <label htmlFor={`${id}-text`}>Message</label>
          <textarea id={`${id}-text`} value={text} onChange={(e) => setText(e.target.value)} rows={4} ref={field} />
        </div>
        <ErrorNote error={error} />
        <div className="button-row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={unchanged || saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
