import { useId, useState } from 'react'
import type { MemberView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { SafetyNumberPanel, useSafetyNumber } from './SafetyNumberPanel.js'

export { digitRows } from './SafetyNumberPanel.js'

/**
 * The safety number with one person (docs/adr/0031-safety-numbers.md): the 60 digits to compare in person or on a
 * call, this device's QR code for their Hearth to check, a field for the code their Hearth shows, and the mark.
 * Marking is this device's own note; it never blocks anything.
 */
export function VerifyDialog({
  member,
  onClose,
}: {
  member: Pick<MemberView, 'account' | 'displayName' | 'verifiedKeyChanged' | 'verifiedDevicesChanged'>
  onClose(): void
}) {
  const api = useApi()
  const id = useId()
  const name = member.displayName
  const { number, qr, error: loadError, setNumber } = useSafetyNumber(api, member.account)
  const [code, setCode] = useState('')
  const [actError, setError] = useState<string | null>(null)
  const [status, setStatus] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const error = actError ?? loadError

  const act = (run: () => Promise<unknown>, verified: boolean, done: string) => {
    setBusy(true)
    setError(null)
    setStatus(null)
    run().then(
      () => {
        setBusy(false)
        setNumber((n) => (n === null ? n : { ...n, verified, verifiedDevicesChanged: false }))
        setStatus(done)
        setCode('')
      },
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  const copy = (text: string) => {
    navigator.clipboard.writeText(text).then(
      () => setStatus(`Your code is copied. Send it to ${name}: their Hearth checks it against yours.`),
      () => setStatus('Copying was not allowed here.'),
    )
  }
  const mark = () => act(() => api.call('people.verify', { account: member.account }), true, `${name} is marked as verified on all your devices.`)
  const check = () =>
    act(
      () => api.call('people.verify', { account: member.account, scanned: code.trim() }),
      true,
      `The codes match: ${name} is verified on all your devices.`,
    )
  const unmark = () => act(() => api.call('people.unverify', { account: member.account }), false, `${name} is no longer marked as verified.`)

  return (
    <Dialog
      title={`Verify ${name}`}
      description={`Compare these numbers with ${name}, in person or on a call. If every digit matches, nobody is in between you.`}
      onClose={onClose}
    >
      <ErrorNote error={error} />
      {member.verifiedKeyChanged === true && (
        <p className="error-note" role="note">
          {name}’s key is not the one you verified. Check the numbers with {name} again before trusting what you read.
        </p>
      )}
      {(number?.verifiedDevicesChanged ?? member.verifiedDevicesChanged) === true && (
        <p className="error-note" role="note">
          {name}’s devices changed since you verified them. The number stays the same (it belongs to {name}’s account), so
          ask {name} whether they added or restored a device; if they did, mark them as verified again.
        </p>
      )}
      {number === null && error === null && <p role="status">Working out the safety number…</p>}
      {number !== null && (
        <div className="stack">
          <SafetyNumberPanel digits={number.digits} qr={qr} name={name} />
          <div className="button-row start">
            <button type="button" onClick={() => copy(number.qr)}>
              Copy your code
            </button>
          </div>
          <p aria-live="polite">
            {number.verified
              ? `✓ You have verified ${name}.`
              : number.verifiedDevicesChanged === true
                ? `${name} needs verifying again.`
                : `${name} is not verified yet.`}
          </p>
          <div className="button-row start">
            {number.verified ? (
              <button type="button" disabled={busy} onClick={unmark}>
                Remove verification
              </button>
            ) : (
              <button type="button" className="primary" disabled={busy} onClick={mark}>
                The numbers match: mark as verified
              </button>
            )}
          </div>
          {!number.verified && (
            <form
              className="stack"
              onSubmit={(event) => {
                event.preventDefault()
                if (code.trim() !== '') check()
              }}
            >
              <label htmlFor={`${id}-code`}>Or paste the code {name}’s Hearth shows</label>
              <input id={`${id}-code`} value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" spellCheck={false} maxLength={256} />
              <div className="button-row start">
                <button type="submit" disabled={busy || code.trim() === ''}>
                  Check code
                </button>
              </div>
            </form>
          )}
          {status !== null && <p role="status">{status}</p>}
        </div>
      )}
    </Dialog>
  )
}
