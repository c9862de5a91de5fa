import { useSyncExternalStore } from 'react'

/** Whether a CSS media query matches now, following changes (a window resized across a breakpoint). */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      if (typeof window.matchMedia !== 'function') return () => {}
      const list = window.matchMedia(query)
      list.addEventListener('change', onChange)
      return () => list.removeEventListener('change', onChange)
    },
    () => typeof window.matchMedia === 'function' && window.matchMedia(query).matches,
  )
}

/**
 * Up to this width the app shows one pane at a time (the list, or a chat with a Back button), as phone messengers
 * do: two panes side by side would leave the chat too narrow to read. Main sets the `one-pane` class from it, so
 * styles.css needs no media query of its own.
 */
export const ONE_PANE_QUERY = '(max-width: 720px)'
