import { useCallback, useState } from 'react'
import { describeError, type ErrorField } from '../lib/error-text.js'

export interface Action {
  busy: boolean
  /** The last failure, as text for the person; shown in place by the form. */
  error: string | null
  /** The field the last failure is about (lib/error-text.ts), so the form can show it there; null: the whole form. */
  errorField: ErrorField | null
  setError(error: string | null, field?: ErrorField | null): void
  /** Runs one call: busy while it runs, its error kept if it fails, `onDone` with its result if it succeeds. */
  run<T>(task: () => Promise<T>, onDone?: (value: T) => void): void
}

/** The busy/error bookkeeping every form around one API call needs. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false)
  const [failure, setFailure] = useState<{ text: string; field: ErrorField | null } | null>(null)
  const setError = useCallback((text: string | null, field: ErrorField | null = null) => setFailure(text === null ? null : { text, field }), [])
  const run = useCallback(<T,>(task: () => Promise<T>, onDone?: (value: T) => void) => {
    setBusy(true)
    setFailure(null)
    task().then(
      (value) => {
        setBusy(false)
        onDone?.(value)
      },
      (err: unknown) => {
        setBusy(false)
        setFailure(describeError(err))
      },
    )
  }, [])
  return { busy, error: failure?.text ?? null, errorField: failure?.field ?? null, setError, run }
}
