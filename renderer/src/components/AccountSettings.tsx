/**
 * Settings, Account: the recovery phrase shown again, and the passphrase changed. Where a passphrase wraps the keys
 * (the browser mode, headless) the phrase needs it; where the OS keychain does (the desktop) there is nothing to type,
 * so the person confirms instead, told why. A device set up before the phrase was kept says so and offers nothing.
 */
import { useEffect, useId, useState, type FormEvent } from 'react'
import type { AccountStatus } from '../../../node/src/api/types.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { ErrorNote } from './Dialog.js'
import { FieldError, invalidWhen } from './FieldError.js'

const MIN_PASSPHRASE = 8

export function AccountSettings() {
  const api = useApi()
  const id = useId()
  const [status, setStatus] = useState<AccountStatus | null>(null)

  useEffect(() => {
    let alive = true
    // A headless core has no app host to answer: the section is then left out.
    api.call('account.status').then(
      (s) => alive && setStatus(s),
      () => {},
    )
    return () => {
      alive = false
    }
  }, [api])

  if (status === null) return null
  return (
    <section aria-labelledby={`${id}-account`} className="settings-section">
      <h3 id={`${id}-account`}>Account</h3>
      <RecoveryPhrase status={status} />
      {status.protection === 'passphrase' ? (
        <ChangePassphrase />
      ) : (
        <p className="muted small">This computer’s keychain protects your keys, so there is no passphrase to change.</p>
      )}
    </section>
  )
}

type PhraseStep = { name: 'closed' } | { name: 'asking' } | { name: 'shown'; words: string[] } | { name: 'none' }

const NOT_KEPT =
  'This device was set up before Hearth kept the recovery phrase, so it cannot show it again. The 24 words you wrote down when you started still restore your account: keep them safe.'

function RecoveryPhrase({ status }: { status: AccountStatus }) {
  const api = useApi()
  const id = useId()
  const [step, setStep] = useState<PhraseStep>({ name: 'closed' })
  const [passphrase, setPassphrase] = useState('')
  const { busy, error, setError, run } = useAction()
  const byPassphrase = status.protection === 'passphrase'

  const close = () => {
    setStep({ name: 'closed' })
    setPassphrase('')
    setError(null)
  }
  const show = (event: FormEvent) => {
    event.preventDefault()
    if (byPassphrase && passphrase.length === 0) return setError('Type your passphrase.')
    run(
      () => api.call('account.recoveryPhrase', byPassphrase ? { passphrase } : {}),
      ({ phrase }) => {
        setPassphrase('')
        setStep(phrase === null ? { name: 'none' } : { name: 'shown', words: phrase.split(' ') })
      },
    )
  }

  if (!status.recoveryPhraseKept || step.name === 'none') {
    return (
      <>
        <h4 className="subheading">Recovery phrase</h4>
        <p className="small">{NOT_KEPT}</p>
      </>
    )
  }
  return (
    <>
      <h4 className="subheading">Recovery phrase</h4>
      <p className="muted small" id={`${id}-why`}>
        The 24 words restore your account on a new device. Anyone who sees them can become you: show them only where no
        one is looking.
      </p>
      {step.name === 'closed' && (
        <button type="button" onClick={() => setStep({ name: 'asking' })}>
          Show recovery phrase
        </button>
      )}
      {step.name === 'asking' && (
        <form onSubmit={show} className="stack" noValidate aria-label="Show recovery phrase">
          {byPassphrase ? (
            <div className="field">
              <label htmlFor={`${id}-pass`}>Your passphrase</label>
              <input
                id={`${id}-pass`}
                type="password"
                value={passphrase}
                onChange={(e) => {
                  setPassphrase(e.target.value)
                  setError(null)
                }}
                autoComplete="current-password"
                {...invalidWhen(error, `${id}-pass-error`, `${id}-why`)}
              />
              <FieldError id={`${id}-pass-error`} error={error} />
            </div>
          ) : (
            <>
              <p className="small">
                This computer’s keychain protects your keys, so there is no passphrase to ask for. Make sure no one can see
                your screen, then show the words.
              </p>
              <ErrorNote error={error} />
            </>
          )}
          <div className="button-row">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {byPassphrase ? 'Show' : 'Nobody is looking: show the words'}
            </button>
          </div>
        </form>
      )}
      {step.name === 'shown' && (
        <>
          <ol className="phrase" aria-label="Recovery phrase">
            {step.words.map((word, i) => (
              <li key={i}>
                <span className="phrase-number" aria-hidden="true">
                  {i + 1}
                </span>
                <span className="phrase-word">{word}</span>
              </li>
            ))}
          </ol>
          <button type="button" onClick={close}>
            Hide recovery phrase
          </button>
        </>
      )}
    </>
  )
}

function ChangePassphrase() {
  const api = useApi()
  const id = useId()
  const [open, setOpen] = useState(false)
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [again, setAgain] = useState('')
  const [newError, setNewError] = useState<string | null>(null)
  const [done, setDone] = useState(false)
  const { busy, error, errorField, setError, run } = useAction()

  const reset = () => {
    setCurrent('')
    setNext('')
    setAgain('')
    setNewError(null)
    setError(null)
  }
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (current.length === 0) return setError('Type your current passphrase.', 'passphrase')
    const problem =
      next.length < MIN_PASSPHRASE
        ? `The new passphrase needs at least ${MIN_PASSPHRASE} characters.`
        : next !== again
          ? 'The two new passphrases differ.'
          : next === current
            ? 'The new passphrase is the same as the current one.'
            : null
    if (problem !== null) return setNewError(problem)
    run(
      () => api.call('account.changePassphrase', { current, next }),
      () => {
        reset()
        setOpen(false)
        setDone(true)
      },
    )
  }
  // A wrong or rate-limited current passphrase belongs under that field; anything else under the form.
  const currentError = errorField === 'passphrase' || /passphrase/i.test(error ?? '') ? error : null
  const formError = currentError === null ? error : null

  return (
    <>
      <h4 className="subheading">Passphrase</h4>
      <p className="muted small" role="status">
        {done ? 'Passphrase changed. Use the new one the next time you unlock Hearth.' : 'Your passphrase unlocks Hearth on this device.'}
      </p>
      {!open ? (
        <button
          type="button"
          onClick={() => {
            setOpen(true)
            setDone(false)
          }}
        >
          Change passphrase
        </button>
      ) : (
        <form onSubmit={submit} className="stack" noValidate aria-label="Change passphrase">
          <div className="field">
            <label htmlFor={`${id}-current`}>Current passphrase</label>
            <input
              id={`${id}-current`}
              type="password"
              value={current}
              onChange={(e) => {
                setCurrent(e.target.value)
                setError(null)
              }}
              autoComplete="current-password"
              {...invalidWhen(currentError, `${id}-current-error`)}
            />
            <FieldError id={`${id}-current-error`} error={currentError} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-next`}>New passphrase</label>
            <input
              id={`${id}-next`}
              type="password"
              value={next}
              onChange={(e) => {
                setNext(e.target.value)
                setNewError(null)
              }}
              autoComplete="new-password"
              {...invalidWhen(newError, `${id}-next-error`)}
            />
            <FieldError id={`${id}-next-error`} error={newError} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-again`}>New passphrase again</label>
            <input
              id={`${id}-again`}
              type="password"
              value={again}
              onChange={(e) => {
                setAgain(e.target.value)
                setNewError(null)
              }}
              autoComplete="new-password"
            />
          </div>
          <ErrorNote error={formError} />
          <div className="button-row">
            <button
              type="button"
              onClick={() => {
                reset()
                setOpen(false)
              }}
            >
              Cancel
            </button>
            <button type="submit" className="primary" disabled={busy}>
              Change passphrase
            </button>
          </div>
        </form>
      )}
    </>
  )
}
