import { useEffect, useRef, type RefObject } from 'react'

/**
 * Where focus goes when a dialog opens. `showModal()` focuses the first control it finds (the header's close button)
 * and React's `autoFocus` runs before it; a component that renders a <Dialog> calls this, and its effect runs after the
 * dialog's own (parents' effects run after their children's).
 */
export function useFocusOnOpen<T extends HTMLElement>(): RefObject<T | null> {
  const ref = useRef<T>(null)
  useEffect(() => {
    ref.current?.focus()
  }, [])
  return ref
}
