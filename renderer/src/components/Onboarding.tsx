/**
 * First run: pick a name (and a passphrase where the keys are wrapped with one), see the recovery phrase once, type
 * some of its words back, and only then does the identity exist. Or restore an account from its phrase, or link this
 * device to an account already in use on another (LinkThisDevice.tsx). And, on later runs, unlock.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import type { AppStatus, CreatedIdentity } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { ErrorNote } from './Dialog.js'
import { FieldError, invalidWhen } from './FieldError.js'
import { LinkThisDevice } from './LinkThisDevice.js'
import { Card, PassphraseFields, passphraseProblem } from './OnboardingCard.js'

type Step =
  | { name: 'welcome' }
  | { name: 'create' }
  | { name: 'phrase'; created: CreatedIdentity }
  | { name: 'confirm'; created: CreatedIdentity }
  | { name: 'restore' }
  | { name: 'link' }

const REVOKED =
  'This device was unlinked by another of your devices. Its keys, messages and files were wiped from here. You can set it up again below.'

function firstStep(status: AppStatus): Step {
  // A reload while confirming loses the phrase on this side (the host never shows it twice): start over then.
  if (status.state === 'confirming') return { name: 'create' }
  if (status.state === 'linking') return { name: 'link' }
  return { name: 'welcome' }
}

export function Onboarding({ status }: { status: AppStatus }) {
  const [step, setStep] = useState<Step>(() => firstStep(status))
  switch (step.name) {
    case 'welcome':
      return (
        <Card title="Welcome to Hearth" intro="Chat with your family and friends, device to device. No account on a server: your identity lives here.">
          {status.notice === 'revoked' && (
            <p className="error-note" role="alert">
              {REVOKED}
            </p>
          )}
          <div className="stack">
            <button type="button" className="primary" onClick={() => setStep({ name: 'create' })}>
              Create my identity
            </button>
            <button type="button" onClick={() => setStep({ name: 'link' })}>
              I already use Hearth
            </button>
            <button type="button" onClick={() => setStep({ name: 'restore' })}>
              I have a recovery phrase
            </button>
          </div>
        </Card>
      )
    case 'create':
      return (
        <CreateForm
          needsPassphrase={status.needsPassphrase}
          restarting={status.state === 'confirming'}
          onBack={() => setStep({ name: 'welcome' })}
          onCreated={(created) => setStep({ name: 'phrase', created })}
        />
      )
    case 'phrase':
      return <ShowPhrase created={step.created} onNext={() => setStep({ name: 'confirm', created: step.created })} />
    case 'confirm':
      return <ConfirmPhrase created={step.created} onBack={() => setStep({ name: 'phrase', created: step.created })} />
    case 'restore':
      return <RestoreForm needsPassphrase={status.needsPassphrase} onBack={() => setStep({ name: 'welcome' })} />
    case 'link':
      return <LinkThisDevice status={status} onBack={() => setStep({ name: 'welcome' })} />
  }
}

function CreateForm(props: { needsPassphrase: boolean; restarting: boolean; onBack(): void; onCreated(created: CreatedIdentity): void }) {
  const api = useApi()
  const id = useId()
  const [name, setName] = useState('')
  const [passphrase, setPassphrase] = useState('')
  const [again, setAgain] = useState('')
  const { busy, error, setError, run } = useAction()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const problem = name.trim().length === 0 ? 'Tell us your name.' : passphraseProblem(props.needsPassphrase, passphrase, again)
    if (problem !== null) return setError(problem)
    run(() => api.call('app.create', { name: name.trim(), ...(props.needsPassphrase ? { passphrase } : {}) }), props.onCreated)
  }
  return (
    <Card
      title="Create your identity"
      intro={props.restarting ? 'The previous attempt was not confirmed, so nothing was saved. Start again here.' : 'Your name is what the people you chat with see.'}
    >
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Your name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={100} required />
        </div>
        {props.needsPassphrase && <PassphraseFields value={passphrase} onChange={setPassphrase} confirm={again} onConfirmChange={setAgain} />}
        <ErrorNote error={error} />
        <div className="button-row">
          <button type="button" onClick={props.onBack}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Creating…' : 'Continue'}
          </button>
        </div>
      </form>
    </Card>
  )
}

function ShowPhrase({ created, onNext }: { created: CreatedIdentity; onNext(): void }) {
  const id = useId()
  const [written, setWritten] = useState(false)
  const words = created.recoveryPhrase.split(' ')
  return (
    <Card
      title="Your recovery phrase"
      intro="These 24 words are the only way to get your identity back if this computer is lost. Write them down on paper, in order, and keep them somewhere safe. You can show them again later in Settings, Account."
    >
      <ol className="phrase" aria-label="Recovery phrase">
        {words.map((word, i) => (
          <li key={i}>
            <span className="phrase-number" aria-hidden="true">
              {i + 1}
            </span>
            <span className="phrase-word">{word}</span>
          </li>
        ))}
      </ol>
      <div className="check">
        <input id={`${id}-written`} type="checkbox" checked={written} onChange={(e) => setWritten(e.target.checked)} />
        <label htmlFor={`${id}-written`}>I have written these words down</label>
      </div>
      <div className="button-row">
        <button type="button" className="primary" disabled={!written} onClick={onNext}>
          Continue
        </button>
      </div>
    </Card>
  )
}

function ConfirmPhrase({ created, onBack }: { created: CreatedIdentity; onBack(): void }) {
  const api = useApi()
  const id = useId()
  const [words, setWords] = useState<string[]>(() => created.confirmPositions.map(() => ''))
  const { busy, error, setError, run } = useAction()
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (words.some((w) => w.trim().length === 0)) return setError('Fill in every word.')
    // Success moves the whole app on (app.changed); only a failure comes back here.
    run(() => api.call('app.confirmRecovery', { words: words.map((w) => w.trim()) }))
  }
  return (
    <Card title="Check your recovery phrase" intro="Type these words from what you wrote down.">
      <form onSubmit={submit} className="stack" noValidate>
        {created.confirmPositions.map((position, i) => (
          <div className="field" key={position}>
            <label htmlFor={`${id}-word-${position}`}>Word {position}</label>
            <input
              id={`${id}-word-${position}`}
              value={words[i]}
              onChange={(e) => setWords((all) => all.map((w, j) => (j === i ? e.target.value : w)))}
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
            />
          </div>
        ))}
        <ErrorNote error={error} />
        {busy && (
          <p className="muted small" role="status">
            Saving your identity and starting Hearth…
          </p>
        )}
        <div className="button-row">
          <button type="button" onClick={onBack} disabled={busy}>
            Show the words again
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Starting…' : 'Finish'}
          </button>
        </div>
      </form>
    </Card>
  )
}

function RestoreForm({ needsPassphrase, onBack }: { needsPassphrase: boolean; onBack(): void }) {
  const api = useApi()
  const id = useId()
  const [name, setName] = useState('')
  const [phrase, setPhrase] = useState('')
  const [passphrase, setPassphrase] = useState('')
  const [again, setAgain] = useState('')
  const { busy, error, errorField, setError, run } = useAction()
  const phraseError = errorField === 'recoveryPhrase' ? error : null
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (name.trim().length > 0 && phrase.trim().length === 0) return setError('Type your recovery phrase.', 'recoveryPhrase')
    const problem = name.trim().length === 0 ? 'Tell us your name.' : passphraseProblem(needsPassphrase, passphrase, again)
    if (problem !== null) return setError(problem)
    run(() => api.call('app.restore', { name: name.trim(), phrase, ...(needsPassphrase ? { passphrase } : {}) }))
  }
  return (
    <Card title="Restore your identity" intro="Type the 24 words of your recovery phrase. This computer becomes a new device of the same account.">
      <form onSubmit={submit} className="stack" noValidate>
        <div className="field">
          <label htmlFor={`${id}-name`}>Your name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={100} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-phrase`}>Recovery phrase</label>
          <textarea
            id={`${id}-phrase`}
            value={phrase}
            onChange={(e) => {
              setPhrase(e.target.value)
              if (phraseError !== null) setError(null)
            }}
            rows={4}
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            {...invalidWhen(phraseError, `${id}-phrase-error`)}
          />
          <FieldError id={`${id}-phrase-error`} error={phraseError} />
        </div>
        {needsPassphrase && <PassphraseFields value={passphrase} onChange={setPassphrase} confirm={again} onConfirmChange={setAgain} />}
        <ErrorNote error={phraseError === null ? error : null} />
        <div className="button-row">
          <button type="button" onClick={onBack} disabled={busy}>
            Back
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Restoring…' : 'Restore'}
          </button>
        </div>
      </form>
    </Card>
  )
}

/** Later runs: the keys are on disk, wrapped; unlock them. Without a passphrase (OS keychain) this unlocks at once. */
export function Unlock({ status }: { status: AppStatus }) {
  const api = useApi()
  const id = useId()
  const [passphrase, setPassphrase] = useState('')
  const { busy, error, setError, run } = useAction()
  const unlock = (value: string | undefined) => run(() => api.call('app.unlock', value === undefined ? {} : { passphrase: value }))
  // Without a passphrase (the OS keychain wraps the keys) there is nothing to ask: unlock on arrival, once.
  const [autoUnlock] = useState(() => !status.needsPassphrase)
  const started = useRef(false)
  useEffect(() => {
    if (!autoUnlock || started.current) return
    started.current = true
    run(() => api.call('app.unlock', {}))
  }, [api, autoUnlock, run])
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (passphrase.length === 0) return setError('Type your passphrase.')
    unlock(passphrase)
  }
  return (
    <Card focusTitle={!status.needsPassphrase} title="Unlock Hearth" intro={status.needsPassphrase ? 'Your keys are locked with your passphrase.' : 'Opening your keys…'}>
      {status.needsPassphrase ? (
        <form onSubmit={submit} className="stack" noValidate>
          <div className="field">
            <label htmlFor={`${id}-pass`}>Passphrase</label>
            <input
              id={`${id}-pass`}
              type="password"
              value={passphrase}
              onChange={(e) => setPassphrase(e.target.value)}
              autoComplete="current-password"
              autoFocus
              {...invalidWhen(error, `${id}-pass-error`)}
            />
            {/* The form's one field: whatever went wrong is said under it. */}
            <FieldError id={`${id}-pass-error`} error={error} />
          </div>
          <div className="button-row">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Unlocking…' : 'Unlock'}
            </button>
          </div>
        </form>
      ) : (
        <>
          <ErrorNote error={error} />
          {error !== null && (
            <button type="button" className="primary" onClick={() => unlock(undefined)} disabled={busy}>
              Try again
            </button>
          )}
        </>
      )}
    </Card>
  )
}
