/**
 * The arrow, Home and End keys of an ARIA menu (WAI-ARIA menu pattern): moves focus among `entries`, wrapping around.
 * Returns whether the key was one of them, so the menu's own handler deals with the rest.
 */
export function moveMenuFocus(entries: readonly HTMLElement[], key: string): boolean {
  const at = entries.indexOf(document.activeElement as HTMLElement)
  const focus = (i: number) => entries[(i + entries.length) % entries.length]?.focus()
  switch (key) {
    case 'ArrowDown':
      focus(at + 1)
      return true
    case 'ArrowUp':
      focus(at - 1)
      return true
    case 'Home':
      focus(0)
      return true
    case 'End':
      focus(entries.length - 1)
      return true
    default:
      return false
  }
}
