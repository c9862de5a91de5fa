/**
 * "You're next to each other: compare your safety numbers now", offered in the same step as a chat started from
 * Nearby (docs/adr/0031-safety-numbers.md, addendum on Nearby): the two people are in one room, the one moment the
 * in-person check costs nothing. The same digits and QR code as the verify dialog, with "They match" (marks the person
 * verified, on all of our devices by own-device sync) and "Not now". It never holds the chat up: every way out of it, an
 * error included, opens the chat; a person already verified is not asked again.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { createPortal } from 'react-dom'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { SafetyNumberPanel, useSafetyNumber } from './SafetyNumberPanel.js'

export interface VerifyNearbyDialogProps {
  /** The account that just joined (or whose chat was just accepted): the one whose device is next to this one. */
  account: string
  name: string
  /** The panel is done (matched, not now, closed, or nothing to compare): the caller opens the chat. */
  onDone(): void
}

export function VerifyNearbyDialog({ account, name, onDone }: VerifyNearbyDialogProps) {
  const api = useApi()
  const { number, qr, error: loadError } = useSafetyNumber(api, account)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  // onDone is the caller's latest; calling it twice would open the chat twice.
  const done = useRef(onDone)
  const finished = useRef(false)
  useEffect(() => {
    done.current = onDone
  }, [onDone])
  const finish = useCallback(() => {
    if (finished.current) return
    finished.current = true
    done.current()
  }, [])

  // Nothing to compare (already verified), or no number to show: the chat opens at once rather than wait on this.
  const skip = number?.verified === true || loadError !== null
  useEffect(() => {
    if (skip) finish()
  }, [skip, finish])

  const match = () => {
    setBusy(true)
    setError(null)
    api.call('people.verify', { account }).then(
      () => finish(),
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }

  if (skip) return null
  // In a body-level portal: in a narrow window the sidebar holding Nearby is hidden while a chat shows.
  return createPortal(
    <Dialog
      title={`Compare safety numbers with ${name}`}
      description={`You’re next to each other: compare your safety numbers now. If every digit matches what ${name} sees, nobody is in between you.`}
      onClose={finish}
    >
      <ErrorNote error={error} />
      <div className="stack verify-nearby">
        {number === null ? (
          <p role="status">Working out the safety number…</p>
        ) : (
          <>
            {number.verifiedDevicesChanged === true && (
              <p className="error-note" role="note">
                {name}’s devices changed since you verified them: compare again, and ask {name} whether they added or restored a device.
              </p>
            )}
            <SafetyNumberPanel digits={number.digits} qr={qr} name={name} />
          </>
        )}
        <div className="button-row start">
          <button type="button" className="primary" disabled={busy || number === null} onClick={match}>
            They match
          </button>
          <button type="button" disabled={busy} onClick={finish}>
            Not now
          </button>
        </div>
        <p className="muted small">Not now opens the chat as usual; you can verify {name} later from the chat’s member list.</p>
      </div>
    </Dialog>,
    document.body,
  )
}
