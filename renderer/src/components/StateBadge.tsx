import type { MessageState } from '../../../node/src/api/types.js'

/** What each state tells the sender, in words (the icon alone would not reach everyone). */
export const STATE_LABELS: Record<MessageState | 'sending', string> = {
  sending: 'Sending…',
  pending: 'Waiting to send',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
}

const ICONS: Record<MessageState | 'sending', string> = {
  sending: '○',
  pending: '○',
  sent: '✓',
  delivered: '✓✓',
  read: '✓✓',
  failed: '!',
}

export function StateBadge({ state }: { state: MessageState | 'sending' }) {
  return (
    <span className={`state state-${state}`} data-state={state}>
      <span className="state-icon" aria-hidden="true">
        {ICONS[state]}
      </span>
      <span className="state-text">{STATE_LABELS[state]}</span>
    </span>
  )
}
