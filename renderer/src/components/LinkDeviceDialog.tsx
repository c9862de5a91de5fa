/**
 * Settings → Devices → "Link a new device", on the device already in use: the person types, pastes or scans the code
 * the new device shows; both screens then show the same 6 digits, which the person compares before the account's keys
 * go over; then this device admits the new one to every conversation. The camera is optional: without one, or when
 * it is refused, typing is all there is.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react'
import type { DeviceView } from '../../../node/src/api/types.js'
import { parseLinkCode } from '../../../node/src/identity/link-code.js'
import { useApi } from '../api/context.js'
import { describeError } from '../lib/error-text.js'
import { Dialog, ErrorNote } from './Dialog.js'
import { FieldError, invalidWhen } from './FieldError.js'
import { LinkDigits } from './LinkDigits.js'
import { cameraSupported, LinkQrScanner } from './LinkQrScanner.js'

type Stage =
  | { name: 'enter' }
  | { name: 'connecting' }
  | { name: 'confirm'; code: string }
  | { name: 'admitting' }
  | { name: 'done'; device: DeviceView }
  | { name: 'failed'; error: string }

const REFUSED = 'You said the numbers differ, so nothing was shared with that device. Check you typed the code of your own new device, then try again.'

export function LinkDeviceDialog({ onClose }: { onClose(): void }) {
  const api = useApi()
  const id = useId()
  const [stage, setShownStage] = useState<Stage>({ name: 'enter' })
  const [code, setCode] = useState('')
  const [fieldError, setFieldError] = useState<string | null>(null)
  const [scanning, setScanning] = useState(false)
  const [cameraNote, setCameraNote] = useState<string | null>(null)
  const [answering, setAnswering] = useState(false)
  const linking = useRef(false)
  const refused = useRef(false)
  // The stage as the callbacks of a running link must see it (not the one of the render that started it).
  const current = useRef<Stage>({ name: 'enter' })
  const setStage = (next: Stage) => {
    current.current = next
    setShownStage(next)
  }

  useEffect(
    () =>
      api.on('devices.linking', (p) => {
        // Only the link this dialog started: another window's is not ours to show.
        if (!linking.current) return
        if (p.stage === 'connecting') setStage({ name: 'connecting' })
        else if (p.stage === 'confirm' && p.code !== undefined) setStage({ name: 'confirm', code: p.code })
        else if (p.stage === 'admitting') setStage({ name: 'admitting' })
      }),
    [api],
  )

  const link = (text: string) => {
    try {
      parseLinkCode(text)
    } catch (err) {
      setFieldError(describeError(err).text)
      return
    }
    setFieldError(null)
    setScanning(false)
    linking.current = true
    refused.current = false
    setStage({ name: 'connecting' })
    api.call('devices.link', { code: text.trim() }).then(
      (device) => {
        linking.current = false
        setStage({ name: 'done', device })
      },
      (err: unknown) => {
        linking.current = false
        const problem = describeError(err)
        if (refused.current) setStage({ name: 'failed', error: REFUSED })
        else if (problem.field === 'linkCode' && current.current.name === 'connecting') {
          // The code itself was the problem: back to it, said under the field.
          setStage({ name: 'enter' })
          setFieldError(problem.text)
        } else setStage({ name: 'failed', error: problem.text })
      },
    )
  }
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (code.trim().length === 0) return setFieldError('Type the code the new device shows.')
    link(code)
  }
  const answer = (accept: boolean) => {
    refused.current = !accept
    setAnswering(true)
    api.call('devices.confirmLink', { accept }).then(
      () => setAnswering(false),
      () => setAnswering(false),
    )
  }
  const close = () => {
    // Closed while the digits are on screen: that is not a yes.
    if (current.current.name === 'confirm') drop(api.call('devices.confirmLink', { accept: false }))
    onClose()
  }

  return (
    <Dialog title="Link a new device" description="Add another computer or browser of yours to your account: it gets your conversations and writes as you." onClose={close}>
      {stage.name === 'enter' && (
        <div className="stack">
          <ol className="steps small">
            <li>On the new device, open Hearth and choose “I already use Hearth”.</li>
            <li>It shows a QR code and a code. Type the code here{cameraSupported() ? ', or scan the QR code' : ''}.</li>
          </ol>
          <form onSubmit={submit} className="stack" noValidate>
            <div className="field">
              <label htmlFor={`${id}-code`}>Code shown on the new device</label>
              <textarea
                id={`${id}-code`}
                value={code}
                rows={2}
                onChange={(e) => {
                  setCode(e.target.value)
                  setFieldError(null)
                }}
                autoComplete="off"
                autoCapitalize="characters"
                spellCheck={false}
                maxLength={400}
                placeholder="K7Q2 9XHM 4RTW PLZ3 G8N2 @ 0G2M …"
                {...invalidWhen(fieldError, `${id}-code-error`)}
              />
              <FieldError id={`${id}-code-error`} error={fieldError} />
            </div>
            <div className="button-row">
              {cameraSupported() && cameraNote === null && (
                <button type="button" onClick={() => setScanning((s) => !s)}>
                  {scanning ? 'Stop scanning' : 'Scan QR code'}
                </button>
              )}
              <button type="submit" className="primary">
                Link device
              </button>
            </div>
          </form>
          {cameraNote !== null && (
            <p className="muted small" role="status">
              {cameraNote}
            </p>
          )}
          {scanning && (
            <LinkQrScanner
              onCode={(text) => {
                setCode(text)
                link(text)
              }}
              onUnavailable={(reason) => {
                setScanning(false)
                setCameraNote(reason)
              }}
            />
          )}
        </div>
      )}
      {stage.name === 'connecting' && (
        <p role="status" className="muted">
          Reaching the new device…
        </p>
      )}
      {stage.name === 'confirm' && (
        <div className="stack">
          <p>The new device shows 6 digits too. Check that they are the same as these, digit by digit.</p>
          <LinkDigits code={stage.code} />
          <div className="button-row">
            <button type="button" onClick={() => answer(false)} disabled={answering}>
              Don’t match
            </button>
            <button type="button" className="primary" onClick={() => answer(true)} disabled={answering}>
              Match
            </button>
          </div>
        </div>
      )}
      {stage.name === 'admitting' && (
        <p role="status" className="muted">
          Adding the new device to your conversations…
        </p>
      )}
      {stage.name === 'done' && (
        <div className="stack">
          <p role="status">Linked. The new device is one of yours now: it is getting your conversations.</p>
          <div className="button-row">
            <button type="button" className="primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
      {stage.name === 'failed' && (
        <div className="stack">
          <ErrorNote error={stage.error} />
          <div className="button-row">
            <button type="button" onClick={onClose}>
              Close
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => {
                setCode('')
                setStage({ name: 'enter' })
              }}
            >
              Try again
            </button>
          </div>
        </div>
      )}
    </Dialog>
  )
}

function drop(promise: Promise<unknown>): void {
  promise.catch(() => {})
}
