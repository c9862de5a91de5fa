/**
 * The message a reply answers, inside the reply's bubble: who wrote it and the start of what it says now (or that it
 * was deleted, or that this device does not have it). Clicking it goes to the original.
 */
import type { ReplyQuote } from '../../../node/src/api/types.js'

export function quoteText(quote: ReplyQuote): string {
  if (quote.missing) return 'Original message not available'
  // An original deleted for everyone, or only here (its text is gone from this device either way).
  if (quote.deleted || quote.body === '') return 'Original message deleted'
  return quote.body
}

export function QuoteBlock({ quote, authorName, onJump }: { quote: ReplyQuote; authorName: string; onJump(id: string): void }) {
  const gone = quote.missing || quote.deleted || quote.body === ''
  const content = (
    <>
      <span className="quote-author">{authorName}</span>
      <span className={`quote-body${gone ? ' gone' : ''}`}>{quoteText(quote)}</span>
    </>
  )
  // Nothing to go to when this device does not hold the original.
  if (quote.missing) return <div className="quote">{content}</div>
  return (
    <button type="button" className="quote" onClick={() => onJump(quote.id)}>
      <span className="visually-hidden">Reply to </span>
      {content}
      <span className="visually-hidden"> (go to the original message)</span>
    </button>
  )
}
