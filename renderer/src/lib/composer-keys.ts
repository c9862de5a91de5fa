/** What a key press in the composer means. */
export type ComposerKeyAction = 'send' | 'newline' | 'none'

export interface KeyLike {
  key: string
  shiftKey: boolean
  altKey: boolean
  ctrlKey: boolean
  metaKey: boolean
  /** True while an input method (Japanese, Chinese…) is composing: Enter then confirms the composition, not a send. */
  isComposing: boolean
}

export function composerKeyAction(event: KeyLike): ComposerKeyAction {
  if (event.key !== 'Enter' || event.isComposing) return 'none'
  if (event.shiftKey || event.altKey) return 'newline'
  return 'send'
}
