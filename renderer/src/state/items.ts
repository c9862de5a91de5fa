/**
 * The rows the message list shows: messages and optimistic rows with a day separator wherever the local day changes.
 * Built in one pass without a Date per message (only at day boundaries), so 100k messages stay cheap to rebuild.
 */
import type { MessageView } from '../../../node/src/api/types.js'
import { dayLabel, startOfDay, startOfNextDay } from '../lib/time.js'
import type { OptimisticMessage } from './messages.js'

export type ListItem =
  | { kind: 'day'; key: string; label: string }
  /** `first`: the first of a run by the same author on one day, so the name is shown once per run. */
  | { kind: 'message'; key: string; message: MessageView; first: boolean }
  | { kind: 'optimistic'; key: string; message: OptimisticMessage; first: boolean }

export function buildItems(messages: MessageView[], optimistic: OptimisticMessage[], now: number, locale?: string): ListItem[] {
  const items: ListItem[] = []
  let dayStart = -Infinity
  let dayEnd = -Infinity
  let lastAuthor: string | null = null
  const days = new Set<number>()
  const startDay = (at: number) => {
    dayStart = startOfDay(at)
    dayEnd = startOfNextDay(at)
    // Keys must be unique; a day seen twice (skewed clocks) gets a positional key the second time.
    const key = days.has(dayStart) ? `day-${dayStart}-${items.length}` : `day-${dayStart}`
    days.add(dayStart)
    items.push({ kind: 'day', key, label: dayLabel(dayStart, now, locale) })
    lastAuthor = null
  }
  for (const message of messages) {
    // Order is by the shared clock, not wall time: a peer's skewed clock can step back a day; that just adds a separator.
    if (message.sentAt < dayStart || message.sentAt >= dayEnd) startDay(message.sentAt)
    items.push({ kind: 'message', key: message.id, message, first: message.author !== lastAuthor })
    lastAuthor = message.author
  }
  let lastWasMine = messages.length > 0 && messages.at(-1)!.mine
  for (const message of optimistic) {
    if (message.at < dayStart || message.at >= dayEnd) {
      startDay(message.at)
      lastWasMine = false
    }
    items.push({ kind: 'optimistic', key: `local-${message.localId}`, message, first: !lastWasMine })
    lastWasMine = true
  }
  return items
}
