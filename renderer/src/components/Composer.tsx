import {
  useEffect,
  useId,
  useImperativeHandle,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
  type Ref,
  type SyntheticEvent,
} from 'react'
import type { MessageView } from '../../../node/src/api/types.js'
import type { OutgoingFile } from '../hooks/useChat.js'
import { usePendingFiles } from '../hooks/usePendingFiles.js'
import { composerKeyAction } from '../lib/composer-keys.js'
import type { PrepareImage } from '../lib/outgoing-file.js'
import { activeMention, insertMention, mentionsInText, suggestMentions, type Mentionable, type PickedMention } from '../lib/mentions.js'
import { MAX_BODY_CHARS, measureBody, type BodyMeasure } from '../lib/message-limits.js'
import { ComposerFiles } from './ComposerFiles.js'
import { MentionList } from './MentionList.js'

/** The size limit until the core's setting is known (its default). */
export const DEFAULT_MAX_FILE_BYTES = 100 * 1024 * 1024

/** What a send carries besides the text. */
export interface SendExtras {
  /** The message this one answers. */
  replyTo?: string
  /** Accounts of the members mentioned (picked from the list and still in the text). */
  mentions?: string[]
  /** Photos (already resized) and files; the text is then their caption and may be empty. */
  files?: OutgoingFile[]
}

/** What the chat asks of the composer when the person picks Reply or Edit on a message. */
export interface ComposerHandle {
  reply(message: MessageView, authorName: string): void
  edit(message: MessageView): void
  /** Files dropped anywhere on the chat join the message being written. */
  addFiles(files: readonly File[]): void
}

export interface ComposerProps {
  /** Whom the message goes to, for the field's label. */
  conversationName: string
  initialDraft: string
  onDraftChange(text: string): void
  /**
   * Called with the text; the composer clears at once and stays usable (the send happens in the background). If the
   * returned promise resolves with an error text, the text was refused for good and the composer gives it back.
   * `extras` is passed only when there is a reply or a mention.
   */
  onSend(body: string, extras?: SendExtras): void | Promise<string | null>
  /** Saves an edit of one of our messages; resolves with an error text, or null when it was saved. */
  onEdit?(messageId: string, body: string): Promise<string | null>
  /** The message Arrow-Up in an empty composer edits: our newest one that can still be edited. */
  lastEditable?(): MessageView | undefined
  /** The person typed: the chat tells the others (throttled there). */
  onTyping?(): void
  /** The other members, for completing `@` mentions. */
  members?: readonly Mentionable[]
  disabled?: boolean
  disabledReason?: string
  autoFocus?: boolean
  ref?: Ref<ComposerHandle>
  /** The largest file that may be sent (the core's setting); larger ones are refused before anything is sent. */
  maxFileBytes?: number
  /** How a photo is made ready (resized, metadata removed); tests pass their own, browsers decode for real. */
  prepareImage?: PrepareImage
}

/** Why the last send or edit did not happen; a refusal for length follows the text as it is edited. */
type Problem = { kind: 'too-long' } | { kind: 'not-sent'; error: string } | { kind: 'not-saved'; error: string }

/**
 * Writing a new message, answering one (sent with `replyTo`), or changing one of ours. While editing, the draft that
 * was in the box waits in `stash` and comes back when the edit is saved or cancelled.
 */
type Mode = { kind: 'write' } | { kind: 'reply'; to: MessageView; authorName: string } | { kind: 'edit'; message: MessageView; stash: string }

const WRITE: Mode = { kind: 'write' }

/** How long typing must pause before a screen reader hears how much room is left (each key press would be noise). */
export const ANNOUNCE_AFTER_MS = 1_000

const NO_MEMBERS: readonly Mentionable[] = []

export function Composer({
  ref,
  conversationName,
  initialDraft,
  onDraftChange,
  onSend,
  onEdit,
  lastEditable,
  onTyping,
  members = NO_MEMBERS,
  disabled = false,
  disabledReason,
  autoFocus,
  maxFileBytes = DEFAULT_MAX_FILE_BYTES,
  prepareImage,
}: ComposerProps) {
  const pending = usePendingFiles({ maxFileBytes, prepare: prepareImage })
  const [dragging, setDragging] = useState(false)
  const picker = useRef<HTMLInputElement>(null)
  const [text, setText] = useState(initialDraft)
  const [mode, setModeState] = useState<Mode>(WRITE)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [announcement, setAnnouncement] = useState('')
  const [caret, setCaret] = useState(initialDraft.length)
  const [picked, setPicked] = useState<PickedMention[]>([])
  const [activeOption, setActiveOption] = useState(0)
  // The `@` whose list was closed (Escape, or a name picked): it stays closed while the caret is in that mention.
  const [dismissedAt, setDismissedAt] = useState<number | null>(null)
  // The latest text and mode even after unmounting: a refusal that arrives once the person has moved on still lands
  // in the draft.
  const latest = useRef(text)
  const modeRef = useRef(mode)
  const input = useRef<HTMLTextAreaElement>(null)
  const pendingCaret = useRef<number | null>(null)
  const id = useId()
  const measure = measureBody(text)

  // ------------------------------------------------------------------------------------------------ mentions
  const query = mode.kind === 'edit' || disabled ? null : activeMention(text, caret)
  const suggestions = query === null || query.start === dismissedAt ? [] : suggestMentions(members, query.query)
  const listOpen = suggestions.length > 0
  const active = Math.min(activeOption, suggestions.length - 1)
  const optionId = (i: number) => `${id}-mention-${i}`

  /** In another mention (or out of one), the highlight starts at the top again and a closed list may open again. */
  const followCaret = (next: string, at: number) => {
    const q = activeMention(next, at)
    if (q?.start !== query?.start || q?.query !== query?.query) setActiveOption(0)
    if (q === null || q.start !== dismissedAt) setDismissedAt(null)
  }

  const setMode = (next: Mode) => {
    modeRef.current = next
    setModeState(next)
  }
  /** Sets the text; the draft follows it, except while editing (the draft is then the stashed text). */
  const change = (next: string, caretAt = next.length) => {
    latest.current = next
    setText(next)
    setCaret(caretAt)
    if (modeRef.current.kind !== 'edit') onDraftChange(next)
    followCaret(next, caretAt)
  }
  const focusAt = (at: number) => {
    pendingCaret.current = at
    input.current?.focus()
  }
  // A programmatic change of the text (a pick, an edit loaded) puts the caret where it belongs once it is rendered.
  useLayoutEffect(() => {
    const el = input.current
    if (el === null || pendingCaret.current === null) return
    const at = pendingCaret.current
    pendingCaret.current = null
    el.setSelectionRange(at, at)
  })

  /** Leaves editing: the stashed draft comes back. */
  const leaveEdit = () => {
    const current = modeRef.current
    if (current.kind !== 'edit') return
    setMode(WRITE)
    change(current.stash)
  }

  const startEdit = (message: MessageView) => {
    const current = modeRef.current
    const stash = current.kind === 'edit' ? current.stash : latest.current
    setMode({ kind: 'edit', message, stash })
    change(message.body)
    setProblem(null)
    focusAt(message.body.length)
  }

  useImperativeHandle(ref, () => ({
    reply(message, authorName) {
      leaveEdit()
      setMode({ kind: 'reply', to: message, authorName })
      focusAt(latest.current.length)
    },
    edit: startEdit,
    addFiles(files) {
      if (files.length === 0 || disabled) return
      if (modeRef.current.kind === 'edit') leaveEdit()
      pending.add(files)
    },
  }))

  const cancelMode = () => {
    if (modeRef.current.kind === 'edit') leaveEdit()
    else setMode(WRITE)
    setProblem(null)
  }

  /** Puts the picked member's name in place of the `@query` and remembers whom it means. */
  const pick = (member: Mentionable) => {
    if (query === null) return
    const inserted = insertMention(text, query, member.displayName)
    change(inserted.text, inserted.caret)
    setPicked((p) => [...p, { account: member.account, name: member.displayName }])
    setDismissedAt(query.start)
    focusAt(inserted.caret)
  }

  // ------------------------------------------------------------------------------------------- send and save
  const giveBack = (body: string, error: string, extras: { to: Mode; picked: PickedMention[]; files: OutgoingFile[] }) => {
    // Typed since? The refused text goes first, nothing is overwritten. An answer becomes an answer again.
    if (modeRef.current.kind === 'write' && extras.to.kind === 'reply') setMode(extras.to)
    pending.restore(extras.files)
    change(latest.current.length === 0 || body.length === 0 ? `${body}${latest.current}` : `${body}\n${latest.current}`)
    setPicked((p) => [...p, ...extras.picked])
    setProblem(measureBody(body).over ? { kind: 'too-long' } : { kind: 'not-sent', error })
  }

  const hasFiles = pending.files.length > 0 && mode.kind !== 'edit'
  const send = () => {
    if ((text.trim().length === 0 && !hasFiles) || disabled) return
    if (hasFiles && pending.preparing) return
    if (measure.over) {
      // Refused in place: the text stays, and the person is told what to do.
      setProblem({ kind: 'too-long' })
      return
    }
    if (mode.kind === 'edit') {
      saveEdit(mode)
      return
    }
    setProblem(null)
    // With files, text of only spaces is no caption at all.
    const body = hasFiles && text.trim().length === 0 ? '' : text
    const sentMode = mode
    const sentPicked = picked
    const extras: SendExtras = {}
    if (mode.kind === 'reply') extras.replyTo = mode.to.id
    const mentions = mentionsInText(body, picked, new Set(members.map((m) => m.account)))
    if (mentions.length > 0) extras.mentions = mentions
    const files = hasFiles ? pending.take() : []
    if (files.length > 0) extras.files = files
    setMode(WRITE)
    setPicked([])
    change('')
    const outcome = Object.keys(extras).length === 0 ? onSend(body) : onSend(body, extras)
    if (outcome !== undefined) {
      void outcome.then((error) => {
        if (error !== null) giveBack(body, error, { to: sentMode, picked: sentPicked, files })
      })
    }
  }

  const saveEdit = ({ message }: Extract<Mode, { kind: 'edit' }>) => {
    const body = text
    setProblem(null)
    leaveEdit()
    if (body === message.body || onEdit === undefined) return
    void onEdit(message.id, body).then((error) => {
      if (error === null) return
      // Not saved: the edit comes back to be tried again, and the draft waits once more.
      startEdit({ ...message, body })
      setProblem({ kind: 'not-saved', error })
    })
  }

  const counter = measure.near ? counterText(measure) : ''
  useEffect(() => {
    const timer = setTimeout(() => setAnnouncement(counter), ANNOUNCE_AFTER_MS)
    return () => clearTimeout(timer)
  }, [counter])

  const onChange = (next: string, at: number) => {
    change(next, at)
    if (problem !== null && problem.kind !== 'too-long') setProblem(null)
    if (modeRef.current.kind !== 'edit' && next.trim().length > 0) onTyping?.()
  }

  const onSelect = (event: SyntheticEvent<HTMLTextAreaElement>) => {
    const at = event.currentTarget.selectionStart
    if (at === caret) return
    setCaret(at)
    followCaret(text, at)
  }

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    const composing = event.nativeEvent.isComposing
    if (listOpen && !composing) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault()
        const step = event.key === 'ArrowDown' ? 1 : -1
        setActiveOption((active + step + suggestions.length) % suggestions.length)
        return
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
        event.preventDefault()
        pick(suggestions[active]!)
        return
      }
      if (event.key === 'Escape') {
        event.preventDefault()
        setDismissedAt(query!.start)
        return
      }
    }
    if (event.key === 'Escape' && mode.kind !== 'write' && !composing) {
      event.preventDefault()
      cancelMode()
      return
    }
    if (event.key === 'ArrowUp' && text.length === 0 && mode.kind !== 'edit' && !composing && !hasModifier(event)) {
      const last = lastEditable?.()
      if (last !== undefined) {
        event.preventDefault()
        startEdit(last)
      }
      return
    }
    // `isComposing` lives on the native event: Enter that confirms an input method's composition is not a send.
    const action = composerKeyAction({ ...event, isComposing: composing })
    if (action === 'send') {
      event.preventDefault()
      send()
    }
  }
  // ------------------------------------------------------------------------------------------ files: pick, drop, paste
  const editing = mode.kind === 'edit'
  const canAttach = !disabled && !editing
  const addFiles = (list: FileList | null) => {
    if (list === null || list.length === 0 || !canAttach) return
    pending.add(Array.from(list))
    if (problem !== null && problem.kind !== 'too-long') setProblem(null)
  }
  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    // Text pastes as text; only a paste that carries files (a copied photo, a screenshot) attaches them.
    if (event.clipboardData.files.length === 0 || !canAttach) return
    event.preventDefault()
    addFiles(event.clipboardData.files)
  }
  const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files')
  const onDragOver = (event: DragEvent<HTMLFormElement>) => {
    if (!carriesFiles(event) || !canAttach) return
    event.preventDefault()
    event.stopPropagation()
    event.dataTransfer.dropEffect = 'copy'
    setDragging(true)
  }
  const onDragLeave = (event: DragEvent<HTMLFormElement>) => {
    // Leaving for one of the form's own children is not leaving.
    if (event.relatedTarget instanceof Node && event.currentTarget.contains(event.relatedTarget)) return
    setDragging(false)
  }
  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    setDragging(false)
    if (!carriesFiles(event) || !canAttach) return
    event.preventDefault()
    // Handled here: the chat around (a drop target too) must not add them again.
    event.stopPropagation()
    addFiles(event.dataTransfer.files)
    input.current?.focus()
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    send()
  }

  // A refusal for length lasts until the text fits; one from the core until the next edit.
  const shown =
    problem?.kind === 'too-long' ? (measure.over ? tooLongText(measure) : null) : problem === null ? (editing ? null : pending.refusal) : problemText(problem)
  const describedBy = [mode.kind === 'write' ? null : `${id}-mode`, `${id}-hint`, shown !== null ? `${id}-problem` : null].filter((x) => x !== null).join(' ')
  return (
    <form
      className={`composer${editing ? ' editing' : ''}${dragging ? ' dropping' : ''}`}
      onSubmit={onSubmit}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
    >
      {mode.kind !== 'write' && (
        <div className={`composer-mode ${mode.kind}`}>
          <p id={`${id}-mode`} className="composer-mode-text">
            {mode.kind === 'reply' ? (
              <>
                <span className="composer-mode-title">Replying to {mode.authorName}: </span>
                <span className="composer-mode-quote">{quoteLine(mode.to)}</span>
              </>
            ) : (
              <span className="composer-mode-title">Editing message</span>
            )}
          </p>
          <button
            type="button"
            className="composer-mode-cancel"
            aria-label={mode.kind === 'reply' ? 'Cancel reply' : 'Cancel editing'}
            onClick={() => {
              cancelMode()
              input.current?.focus()
            }}
          >
            <span aria-hidden="true">×</span>
          </button>
        </div>
      )}
      {listOpen && (
        <MentionList id={`${id}-mentions`} members={suggestions} active={active} optionId={optionId} onPick={pick} onHover={setActiveOption} />
      )}
      {hasFiles && <ComposerFiles files={pending.files} onRemove={pending.remove} />}
      {dragging && (
        <p className="composer-drop-hint" aria-hidden="true">
          Drop to attach
        </p>
      )}
      <div className="composer-row">
        {!editing && (
          <>
            <button
              type="button"
              className="composer-attach icon-button"
              aria-label="Attach photos or files"
              title="Attach photos or files"
              disabled={!canAttach}
              onClick={() => picker.current?.click()}
            >
              <span aria-hidden="true">📎</span>
            </button>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              tabIndex={-1}
              aria-hidden="true"
              onChange={(e) => {
                addFiles(e.target.files)
                // The same file picked again is a change too.
                e.target.value = ''
              }}
            />
          </>
        )}
        <label htmlFor={`${id}-input`} className="visually-hidden">
          Message to {conversationName}
        </label>
        <textarea
          id={`${id}-input`}
          ref={input}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={disabled ? (disabledReason ?? '') : hasFiles ? 'Add a caption' : 'Write a message'}
          onChange={(e) => onChange(e.target.value, e.target.selectionStart)}
          onSelect={onSelect}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          // Leaving the field closes the list; coming back to the same `@` does not reopen it.
          onBlur={() => listOpen && setDismissedAt(query!.start)}
          // A text field that completes names from a list (the combobox pattern, as far as a textarea may take it:
          // role="combobox" and aria-expanded are not allowed on one).
          aria-autocomplete={members.length > 0 && !editing ? 'list' : undefined}
          aria-controls={listOpen ? `${id}-mentions` : undefined}
          aria-activedescendant={listOpen ? optionId(active) : undefined}
          aria-describedby={describedBy}
          aria-invalid={measure.over}
          disabled={disabled}
          // Opening a chat is a request to write in it.
          autoFocus={autoFocus}
        />
        <button type="submit" className="primary" disabled={disabled || (text.trim().length === 0 && !hasFiles) || (hasFiles && pending.preparing)}>
          {editing ? 'Save' : 'Send'}
        </button>
      </div>
      <span id={`${id}-hint`} className="visually-hidden">
        {editing ? 'Enter saves, Escape cancels.' : mode.kind === 'reply' ? 'Enter sends, Shift+Enter starts a new line, Escape cancels the reply.' : 'Enter sends, Shift+Enter starts a new line.'}
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
      <span className="visually-hidden" aria-live="polite">
        {listOpen ? `${suggestions.length} ${suggestions.length === 1 ? 'member' : 'members'} to mention. Arrows choose, Enter picks.` : ''}
      </span>
    </form>
  )
}

function hasModifier(event: KeyboardEvent): boolean {
  return event.shiftKey || event.altKey || event.ctrlKey || event.metaKey
}

/** The first line of the message being answered, as the reply bar shows it. */
export function quoteLine(message: MessageView): string {
  if (message.deleted) return 'This message was deleted'
  const first = message.body.split('\n', 1)[0]!.trim()
  const attachment = message.attachments?.[0]
  if (first.length === 0 && attachment !== undefined) return attachment.kind === 'image' ? 'Photo' : attachment.name
  return first.length > 120 ? `${first.slice(0, 119)}…` : first
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

function problemText(problem: Extract<Problem, { error: string }>): string {
  const why = problem.error.replace(/\.$/, '')
  return problem.kind === 'not-sent' ? `Not sent: ${why}. Your text is back in the box.` : `Not saved: ${why}. Your edit is back in the box.`
}
