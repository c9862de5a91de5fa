/**
 * An error shown under the field it is about: announced when it appears (role="alert"), and tied to the field so a
 * screen reader reads it with the field (aria-describedby) and says the field needs attention (aria-invalid).
 */
export function FieldError({ id, error }: { id: string; error: string | null }) {
  if (error === null) return null
  return (
    <p id={id} className="error-note field-error" role="alert">
      {error}
    </p>
  )
}

/**
 * The attributes that tie a field to its error, keeping any description it already has (a hint) first.
 * Spread them on the input: `<input {...invalidWhen(error, errorId, hintId)} />`.
 */
export function invalidWhen(error: string | null, errorId: string, describedBy?: string): { 'aria-invalid': boolean; 'aria-describedby'?: string } {
  const ids = [describedBy, error === null ? undefined : errorId].filter((x): x is string => x !== undefined)
  return { 'aria-invalid': error !== null, ...(ids.length === 0 ? {} : { 'aria-describedby': ids.join(' ') }) }
}
