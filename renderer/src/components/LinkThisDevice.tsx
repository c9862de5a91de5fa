/**
 * Onboarding, "I already use Hearth": this device becomes another device of the person's account. It shows a link
 * code (QR and text, with how long it works); the person types or scans it on the device they already use; both
 * screens then show the same 6 digits, which the person compares before anything is shared; then this device gets the
 * conversations and the app opens. The passphrase (where one wraps the keys) is asked first, as creating does: the
 * keys that arrive are saved under it.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import type { AppStatus } from '../../../node/src/api/types.js'
import { groupLinkForReading } from '../../../node/src/identity/link-code.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useAction } from '../hooks/useAction.js'
import { formatTimeLeft } from '../lib/countdown.js'
import { linkFailureText } from '../lib/error-text.js'
import { qrDataUrl } from '../lib/qr.js'
import { ErrorNote } from './Dialog.js'
import { LinkDigits } from './LinkDigits.js'
import { Card, PassphraseFields, passphraseProblem } from './OnboardingCard.js'

type Step =
  | { name: 'form' }
  | { name: 'starting' }
  | { name: 'waiting'; link: string; expiresAt: number }
  | { name: 'confirm'; code: string }
  | { name: 'receiving' }
  | { name: 'failed'; error: string }
  /** The host is linking but this window has no code to show (a reload, another window). */
  | { name: 'orphan' }

const REFUSED =
  'You said the numbers differ, so nothing was shared. The code may have been typed on a device that is not yours: show a new code and try again.'

export function LinkThisDevice({ status, onBack }: { status: AppStatus; onBack(): void }) {
  const api = useApi()
  const [step, setStep] = useState<Step>(status.state === 'linking' ? { name: 'orphan' } : { name: 'form' })
  const [passphrase, setPassphrase] = useState('')
  const [again, setAgain] = useState('')
  const refused = useRef(false)
  const { busy, error, setError, run } = useAction()

  useEffect(
    () =>
      api.on('app.linking', (p) => {
        switch (p.stage) {
          case 'waiting':
            if (p.link !== undefined && p.expiresAt !== undefined) {
              const { link, expiresAt } = p
              setStep((s) => (s.name === 'starting' || s.name === 'waiting' ? { name: 'waiting', link, expiresAt } : s))
            }
            return
          case 'confirm':
            if (p.code !== undefined) setStep({ name: 'confirm', code: p.code })
            return
          case 'receiving':
            setStep({ name: 'receiving' })
            return
          case 'failed':
            setStep((s) => (s.name === 'form' ? s : { name: 'failed', error: refused.current ? REFUSED : linkFailureText(p.error) }))
            return
        }
      }),
    [api],
  )

  const start = () => {
    refused.current = false
    setStep({ name: 'starting' })
    setError(null)
    api.call('app.linkStart', status.needsPassphrase ? { passphrase } : {}).then(
      ({ link, expiresAt }) => setStep((s) => (s.name === 'starting' ? { name: 'waiting', link, expiresAt } : s)),
      (err: unknown) => {
        setStep({ name: 'form' })
        setError(errorText(err))
      },
    )
  }
  const submit = (event: FormEvent) => {
    event.preventDefault()
    const problem = passphraseProblem(status.needsPassphrase, passphrase, again)
    if (problem !== null) return setError(problem)
    start()
  }
  const cancel = () => run(() => api.call('app.linkCancel'), onBack)
  const answer = (accept: boolean) => {
    refused.current = !accept
    run(() => api.call('app.linkConfirm', { accept }))
  }

  switch (step.name) {
    case 'form':
    case 'starting':
      return (
        <Card
          title="Link this device"
          intro="This device will show a code. On the device where you already use Hearth, open Settings, Devices, choose “Link a new device” and type or scan the code."
        >
          <form onSubmit={submit} className="stack" noValidate>
            {status.needsPassphrase && <PassphraseFields value={passphrase} onChange={setPassphrase} confirm={again} onConfirmChange={setAgain} />}
            <ErrorNote error={error} />
            {step.name === 'starting' && (
              <p className="muted small" role="status">
                Making a code for this device…
              </p>
            )}
            <div className="button-row">
              <button type="button" onClick={onBack} disabled={step.name === 'starting'}>
                Back
              </button>
              <button type="submit" className="primary" disabled={step.name === 'starting'}>
                {step.name === 'starting' ? 'Making a code…' : 'Show my code'}
              </button>
            </div>
          </form>
        </Card>
      )
    case 'waiting':
      return <ShowCode link={step.link} expiresAt={step.expiresAt} busy={busy} error={error} onCancel={cancel} />
    case 'confirm':
      return (
        <Card title="Compare the numbers" intro="Your other device shows 6 digits too. Check that they are the same as these, digit by digit.">
          <LinkDigits code={step.code} />
          <ErrorNote error={error} />
          <div className="button-row">
            <button type="button" onClick={() => answer(false)} disabled={busy}>
              They don’t match
            </button>
            <button type="button" className="primary" onClick={() => answer(true)} disabled={busy}>
              They match
            </button>
          </div>
        </Card>
      )
    case 'receiving':
      return (
        <Card title="Getting your conversations…" intro="Your other device is sending your conversations to this one. Keep both on and nearby. Their messages keep arriving after you are in: each conversation shows how far it has got.">
          <p className="muted" role="status">
            Getting your conversations…
          </p>
        </Card>
      )
    case 'failed':
      return (
        <Card title="This device was not linked">
          <p className="error-note" role="alert">
            {step.error}
          </p>
          <div className="button-row">
            <button type="button" onClick={onBack}>
              Back
            </button>
            <button type="button" className="primary" onClick={start}>
              Show a new code
            </button>
          </div>
        </Card>
      )
    case 'orphan':
      return (
        <Card title="Link this device" intro="Linking was started before this page was reloaded, and its code is not shown here any more.">
          <ErrorNote error={error} />
          <div className="button-row">
            <button type="button" className="primary" onClick={() => run(() => api.call('app.linkCancel'), () => setStep({ name: 'form' }))} disabled={busy}>
              Start again
            </button>
          </div>
        </Card>
      )
  }
}

function ShowCode({ link, expiresAt, busy, error, onCancel }: { link: string; expiresAt: number; busy: boolean; error: string | null; onCancel(): void }) {
  const id = useId()
  const [qr, setQr] = useState<string | null>(null)
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    let alive = true
    qrDataUrl(link).then(
      (url) => alive && setQr(url),
      () => {},
    )
    return () => {
      alive = false
    }
  }, [link])
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000)
    return () => clearInterval(timer)
  }, [])
  const left = expiresAt - now
  return (
    <Card title="Your link code" intro="On the device where you already use Hearth: Settings, Devices, “Link a new device”. Scan this QR code there, or type the code below.">
      <div className="stack link-code-box">
        {qr !== null && <img className="qr" src={qr} alt="QR code of this device’s link code" width={220} height={220} />}
        <p className="link-code" id={`${id}-code`} aria-label="Link code">
          {groupLinkForReading(link)}
        </p>
        <p className="muted small" id={`${id}-expiry`}>
          {left > 0 ? `This code works for ${formatTimeLeft(left)} more, once.` : 'This code has expired.'}
        </p>
        <p className="muted small" role="status">
          Waiting for your other device…
        </p>
      </div>
      <ErrorNote error={error} />
      <div className="button-row">
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </Card>
  )
}
