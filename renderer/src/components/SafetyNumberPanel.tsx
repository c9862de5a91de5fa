/**
 * The safety number with one person (docs/adr/0031-safety-numbers.md) as both places that show it need it: the verify
 * dialog of the member list, and the check offered when a chat is started from Nearby. One hook reads the number and
 * draws its QR code; one component shows the 60 digits and the code, so both screens read exactly alike.
 */
import QRCode from 'qrcode'
import { Fragment, useEffect, useState, type Dispatch, type SetStateAction } from 'react'
import type { SafetyNumberView } from '../../../node/src/api/types.js'
import { errorText, type Api } from '../api/client.js'

/** 60 digits as 12 groups of five, four to a row: the layout Signal shows, so both screens read alike. */
export function digitRows(digits: string): string[][] {
  const groups = digits.match(/[0-9]{5}/g) ?? []
  return [groups.slice(0, 4), groups.slice(4, 8), groups.slice(8, 12)]
}

export interface SafetyNumberState {
  /** Null until the core answers (or when it refused: see `error`). */
  number: SafetyNumberView | null
  /** The QR code as an SVG data URL, null until drawn. */
  qr: string | null
  error: string | null
  /** For a caller that changed the mark: what the core would now answer, without asking again. */
  setNumber: Dispatch<SetStateAction<SafetyNumberView | null>>
}

/** Reads `people.safetyNumber` for one account and draws its QR payload (black on white, so every scanner reads it). */
export function useSafetyNumber(api: Api, account: string): SafetyNumberState {
  const [number, setNumber] = useState<SafetyNumberView | null>(null)
  const [qr, setQr] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    api.call('people.safetyNumber', { account }).then(
      (n) => {
        if (!alive) return
        setNumber(n)
        QRCode.toString(n.qr, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, color: { dark: '#000000', light: '#ffffff' } }).then(
          (svg) => alive && setQr(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
          () => {},
        )
      },
      (err: unknown) => alive && setError(errorText(err)),
    )
    return () => {
      alive = false
    }
  }, [api, account])
  return { number, qr, error, setNumber }
}

/** The digits in three rows of four groups, then this device's code for the other person's Hearth to scan. */
export function SafetyNumberPanel({ digits, qr, name }: { digits: string; qr: string | null; name: string }) {
  return (
    <>
      <p className="safety-number" style={{ fontFamily: 'ui-monospace, monospace', fontSize: '1.25rem', lineHeight: 1.6 }}>
        {digitRows(digits).map((row, i) => (
          <Fragment key={i}>
            {i > 0 && <br />}
            {row.join(' ')}
          </Fragment>
        ))}
      </p>
      {qr !== null && <img className="qr" src={qr} alt={`Your code for ${name} to scan`} width={200} height={200} />}
    </>
  )
}
