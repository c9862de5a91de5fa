import type { MessageRow, MessageState } from '../../store/core-store.js'

/**
 * What moves one of our messages from one state to the next. The states only move forward (pending → sent →
 * delivered → read), except that a message nobody acknowledged can fail and a failed one can be retried.
 */
export type MessageEvent =
  /** A relay acknowledged holding the envelope. */
  | { type: 'deposited' }
  /** A member's receipt says it holds the envelope. */
  | { type: 'delivered' }
  /** A member's receipt says it has read up to (or past) the message. */
  | { type: 'read' }
  /** Nobody will accept it any more (we were removed before anyone acknowledged it). */
  | { type: 'undeliverable'; reason: string }
  /** The person asked to send it again. */
  | { type: 'retry' }

const RANK: Record<MessageState, number> = { failed: 0, pending: 1, sent: 2, delivered: 3, read: 4 }

/** The one place a message's state changes: the row after `event`, or undefined when the event changes nothing. */
export function nextState(row: MessageRow, event: MessageEvent): MessageRow | undefined {
  if (!row.mine) return undefined
  const to = (state: MessageState, failure: string | null = null): MessageRow | undefined =>
    row.state === state && row.failure === failure ? undefined : { ...row, state, failure }
  switch (event.type) {
    case 'deposited':
      return row.state === 'pending' ? to('sent') : undefined
    case 'delivered':
      return RANK[row.state] < RANK.delivered ? to('delivered') : undefined
    case 'read':
      return row.state === 'read' ? undefined : to('read')
    case 'undeliverable':
      return row.state === 'pending' || row.state === 'sent' ? to('failed', event.reason) : undefined
    case 'retry':
      return row.state === 'failed' ? to('pending') : undefined
    default:
      return assertNever(event)
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled message event ${JSON.stringify(value)}`)
}
