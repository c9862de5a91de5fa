/**
 * A modal dialog on the native <dialog>: the browser traps focus inside, Escape closes it, the page behind is inert,
 * and focus goes back to what opened it when it closes.
 */
import { useEffect, useId, useRef, type ReactNode } from 'react'

export interface DialogProps {
  title: string
  onClose(): void
  children: ReactNode
  /** Optional one-line explanation under the title (also the dialog's description). */
  description?: string
  wide?: boolean
}

export function Dialog({ title, onClose, children, description, wide }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null)
  const id = useId()
  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (!dialog.open && typeof dialog.showModal === 'function') dialog.showModal()
    return () => {
      if (dialog.open) dialog.close()
    }
  }, [])
  return (
    <dialog
      ref={ref}
      className={`dialog${wide === true ? ' wide' : ''}`}
      aria-labelledby={`${id}-title`}
      {...(description === undefined ? {} : { 'aria-describedby': `${id}-description` })}
      onCancel={(event) => {
        // Escape: let React own the open state rather than the browser closing the element under it.
        event.preventDefault()
        onClose()
      }}
    >
      <div className="dialog-header">
        <h2 id={`${id}-title`}>{title}</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label="Close">
          <span aria-hidden="true">×</span>
        </button>
      </div>
      {description !== undefined && (
        <p id={`${id}-description`} className="muted">
          {description}
        </p>
      )}
      {children}
    </dialog>
  )
}

/** An error shown where it happened, announced to screen readers. */
export function ErrorNote({ error }: { error: string | null }) {
  if (error === null) return null
  return (
    <p className="error-note" role="alert">
      {error}
    </p>
  )
}
