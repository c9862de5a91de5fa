import { useCallback, useState } from 'react'
import { errorText } from '../api/client.js'

export interface Action {
  busy: boolean
  /** The last failure, as text for the person; shown in place by the form. */
  error: string | null
  setError(error: string | null): void
  /** Runs one call: busy while it runs, its error kept if it fails, `onDone` with its result if it succeeds. */
  run<T>(task: () => Promise<T>, onDone?: (value: T) => void): void
}

/** The busy/error bookkeeping every form around one API call needs. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(<T,>(task: () => Promise<T>, onDone?: (value: T) => void) => {
    setBusy(true)
    setError(null)
    task().then(
      (value) => {
        setBusy(false)
        onDone?.(value)
      },
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }, [])
  return { busy, error, setError, run }
}
