import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { composerKeyAction } from '../lib/composer-keys.js'
import { MAX_BODY_CHARS, measureBody, type BodyMeasure } from '../lib/message-limits.js'

export interface ComposerProps {
  /** Whom the message goes to, for the field's label. */
  conversationName: string
  initialDraft: string
  onDraftChange(text: string): void
  /**
   * Called with the text; the composer clears at once and stays usable (the send happens in the background). If the
   * returned promise resolves with an error text, the text was refused for good and the composer gives it back.
   */
  onSend(body: string): void | Promise<string | null>
  disabled?: boolean
  disabledReason?: string
  autoFocus?: boolean
}

/** Why the last send did not happen; a refusal for length follows the text as it is edited. */
type Problem = { kind: 'too-long' } | { kind: 'not-sent'; error: string }

/** How long typing must pause before a screen reader hears how much room is left (each key press would be noise). */
export const ANNOUNCE_AFTER_MS = 1_000

export function Composer(props: ComposerProps) {
  const [text, setText] = useState(props.initialDraft)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [announcement, setAnnouncement] = useState('')
  // The latest text even after unmounting: a refusal that arrives once the person has moved on still lands in the draft.
  const latest = useRef(text)
  const { onDraftChange } = props
  const id = useId()
  const measure = measureBody(text)

  const change = (next: string) => {
    latest.current = next
    setText(next)
    onDraftChange(next)
  }
  const edit = (next: string) => {
    change(next)
    if (problem?.kind === 'not-sent') setProblem(null)
  }

  const giveBack = (body: string, error: string) => {
    // Typed since? The refused text goes first, nothing is overwritten.
    change(latest.current.length === 0 ? body : `${body}\n${latest.current}`)
    setProblem(measureBody(body).over ? { kind: 'too-long' } : { kind: 'not-sent', error })
  }

  const send = () => {
    if (text.trim().length === 0 || props.disabled === true) return
    if (measure.over) {
      // Refused in place: the text stays, and the person is told what to do.
      setProblem({ kind: 'too-long' })
      return
    }
    setProblem(null)
    const body = text
    change('')
    const outcome = props.onSend(body)
    if (outcome !== undefined) {
      void outcome.then((error) => {
        if (error !== null) giveBack(body, error)
      })
    }
  }

  const counter = measure.near ? counterText(measure) : ''
  useEffect(() => {
    const timer = setTimeout(() => setAnnouncement(counter), ANNOUNCE_AFTER_MS)
    return () => clearTimeout(timer)
  }, [counter])

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

  // A refusal for length lasts until the text fits; one from the core until the next edit.
  const shown = problem?.kind === 'too-long' ? (measure.over ? tooLongText(measure) : null) : problem === null ? null : notSentText(problem.error)
  const describedBy = [`${id}-hint`, shown !== null ? `${id}-problem` : null].filter((x) => x !== null).join(' ')
  return (
    <form className="composer" onSubmit={onSubmit}>
      <div className="composer-row">
        <label htmlFor={`${id}-input`} className="visually-hidden">
          Message to {props.conversationName}
        </label>
        <textarea
          id={`${id}-input`}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={props.disabled === true ? (props.disabledReason ?? '') : 'Write a message'}
          onChange={(e) => edit(e.target.value)}
          onKeyDown={onKeyDown}
          aria-describedby={describedBy}
          aria-invalid={measure.over}
          disabled={props.disabled}
          // Opening a chat is a request to write in it.
          autoFocus={props.autoFocus}
        />
        <button type="submit" className="primary" disabled={props.disabled === true || text.trim().length === 0}>
          Send
        </button>
      </div>
      <span id={`${id}-hint`} className="visually-hidden">
        Enter sends, Shift+Enter starts a new line.
      </span>
      {shown !== null ? (
        <p id={`${id}-problem`} className="composer-problem" role="alert">
          {shown}
        </p>
      ) : (
        counter !== '' && (
          // Read out by the live region below once typing pauses, not on every key press.
          <p className={`composer-counter${measure.over ? ' over' : ''}`} aria-hidden="true">
            {counter}
          </p>
        )
      )}
      <span className="visually-hidden" aria-live="polite">
        {shown === null ? announcement : ''}
      </span>
    </form>
  )
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}

function characters(n: number): string {
  return `${count(n)} ${n === 1 ? 'character' : 'characters'}`
}

/** The counter near the limit: room left, or how far over. */
export function counterText(measure: BodyMeasure): string {
  return measure.left >= 0 ? `${characters(measure.left)} left` : `${characters(-measure.left)} over the limit`
}

/** What a refused send says: what happened, and what to do about it. */
export function tooLongText(measure: BodyMeasure): string {
  const over = measure.byBytes ? `about ${characters(-measure.left)} over the limit` : `${characters(-measure.left)} over the limit of ${count(MAX_BODY_CHARS)}`
  return `This message is too long to send: ${over}. Shorten it, or send it in several parts.`
}

function notSentText(error: string): string {
  return `Not sent: ${error.replace(/\.$/, '')}. Your text is back in the box.`
}
