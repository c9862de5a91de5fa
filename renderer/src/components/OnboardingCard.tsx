/**
 * What every onboarding screen shares: the card with its title (focused when the screen appears), and the passphrase
 * fields a new identity takes where a passphrase wraps the keys.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react'

export const MIN_PASSPHRASE = 8

export function Card({ title, intro, children, focusTitle = true }: { title: string; intro?: string; children: ReactNode; focusTitle?: boolean }) {
  const id = useId()
  const heading = useRef<HTMLHeadingElement>(null)
  // Each step is a new screen: move focus to its title so keyboard and screen reader users start at the top.
  useEffect(() => {
    if (focusTitle) heading.current?.focus()
  }, [focusTitle])
  return (
    <main className="onboarding">
      <section className="card" aria-labelledby={id}>
        <h1 id={id} ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {intro !== undefined && <p className="muted">{intro}</p>}
        {children}
      </section>
    </main>
  )
}

export function PassphraseFields({ value, onChange, confirm, onConfirmChange }: { value: string; onChange(v: string): void; confirm: string; onConfirmChange(v: string): void }) {
  const id = useId()
  return (
    <>
      <div className="field">
        <label htmlFor={`${id}-pass`}>Passphrase</label>
        <input
          id={`${id}-pass`}
          type="password"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          autoComplete="new-password"
          aria-describedby={`${id}-pass-hint`}
          required
        />
        <p id={`${id}-pass-hint`} className="muted small">
          At least {MIN_PASSPHRASE} characters. It locks your keys on this computer; you type it each time Hearth starts.
        </p>
      </div>
      <div className="field">
        <label htmlFor={`${id}-again`}>Passphrase again</label>
        <input id={`${id}-again`} type="password" value={confirm} onChange={(e) => onConfirmChange(e.target.value)} autoComplete="new-password" required />
      </div>
    </>
  )
}

export function passphraseProblem(needed: boolean, passphrase: string, again: string): string | null {
  if (!needed) return null
  if (passphrase.length < MIN_PASSPHRASE) return `The passphrase needs at least ${MIN_PASSPHRASE} characters.`
  if (passphrase !== again) return 'The two passphrases differ.'
  return null
}
