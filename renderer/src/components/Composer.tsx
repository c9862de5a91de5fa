import { useId, useState, type FormEvent, type KeyboardEvent } from 'react'
import { composerKeyAction } from '../lib/composer-keys.js'

export interface ComposerProps {
  /** Whom the message goes to, for the field's label. */
  conversationName: string
  initialDraft: string
  onDraftChange(text: string): void
  /** Called with the text; the composer clears at once and stays usable (the send happens in the background). */
  onSend(body: string): void
  disabled?: boolean
  disabledReason?: string
  autoFocus?: boolean
}

export function Composer(props: ComposerProps) {
  const [text, setText] = useState(props.initialDraft)
  const id = useId()
  const change = (next: string) => {
    setText(next)
    props.onDraftChange(next)
  }
  const send = () => {
    if (text.trim().length === 0 || props.disabled === true) return
    props.onSend(text)
    change('')
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // `isComposing` lives on the native event: Enter that confirms an input method's composition is not a send.
    const action = composerKeyAction({ ...event, isComposing: event.nativeEvent.isComposing })
    if (action === 'send') {
      event.preventDefault()
      send()
    }
  }
  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    send()
  }
  return (
    <form className="composer" onSubmit={onSubmit}>
      <label htmlFor={`${id}-input`} className="visually-hidden">
        Message to {props.conversationName}
      </label>
      <textarea
        id={`${id}-input`}
        className="composer-input"
        rows={1}
        value={text}
        placeholder={props.disabled === true ? (props.disabledReason ?? '') : 'Write a message'}
        onChange={(e) => change(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-hint`}
        disabled={props.disabled}
        // Opening a chat is a request to write in it.
        autoFocus={props.autoFocus}
      />
      <span id={`${id}-hint`} className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </span>
      <button type="submit" className="primary" disabled={props.disabled === true || text.trim().length === 0}>
        Send
      </button>
    </form>
  )
}
