import { typingText } from '../lib/typing.js'

/**
 * "Alice is typing…" under the messages. Always in the page, even empty: a live region must exist before its text
 * changes for a screen reader to announce it. Its height is kept while empty, so the messages do not jump.
 */
export function TypingIndicator({ names }: { names: readonly string[] }) {
  return (
    <p className="typing-indicator" aria-live="polite" aria-atomic="true">
      {typingText(names)}
    </p>
  )
}
