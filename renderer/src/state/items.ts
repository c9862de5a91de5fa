/**
 * The rows the message list shows: messages and optimistic rows with a day separator wherever the local day changes,
 * and the conversation's system lines ("Bob joined") at their place in time among the messages.
 * Built in one pass without a Date per message (only at day boundaries), so 100k messages stay cheap to rebuild.
 */
import type { MessageView, SystemLineView } from '../../../node/src/api/types.js'
import { dayLabel, startOfDay, startOfNextDay } from '../lib/time.js'
import type { OptimisticMessage } from './messages.js'

export type ListItem =
  | { kind: 'day'; key: string; label: string }
  /** `first`: the first of a run by the same author on one day, so the name is shown once per run. */
  | { kind: 'message'; key: string; message: MessageView; first: boolean }
  | { kind: 'optimistic'; key: string; message: OptimisticMessage; first: boolean }

/** A quiet line of what happened (joined, left, renamed…): the list draws it itself (SystemLine.tsx). */
export interface SystemItem {
  kind: 'system'
  key: string
  line: SystemLineView
}

export type TimelineItem = ListItem | SystemItem

export interface SystemLines {
  lines: readonly SystemLineView[]
  /**
   * Whether older messages than the loaded ones exist: lines older than the oldest loaded message then wait for the
   * page that reaches back to them, so a line never sits above messages that belong before it.
   */
  olderMessages: boolean
}

export function buildItems(
  messages: MessageView[],
  optimistic: OptimisticMessage[],
  now: number,
  locale?: string,
  system: SystemLines = { lines: [], olderMessages: false },
): TimelineItem[] {
  const items: TimelineItem[] = []
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

  // Lines and messages are both placed by their hybrid logical clocks: the same clock orders both on every member.
  const lines = system.lines
  let next = 0
  if (system.olderMessages) {
    const oldest = messages[0]?.hlc
    while (next < lines.length && (oldest === undefined || lines[next]!.hlc < oldest)) next++
  }
  const linesBefore = (hlc: string | undefined) => {
    while (next < lines.length && (hlc === undefined || lines[next]!.hlc < hlc)) {
      const line = lines[next++]!
      if (line.at < dayStart || line.at >= dayEnd) startDay(line.at)
      items.push({ kind: 'system', key: `sys-${line.id}`, line })
      // The next message names its author again: the run of messages was broken.
      lastAuthor = null
    }
  }

  for (const message of messages) {
    linesBefore(message.hlc)
    // Order is by the shared clock, not wall time: a peer's skewed clock can step back a day; that just adds a separator.
    if (message.sentAt < dayStart || message.sentAt >= dayEnd) startDay(message.sentAt)
    items.push({ kind: 'message', key: message.id, message, first: message.author !== lastAuthor })
    lastAuthor = message.author
  }
  linesBefore(undefined)
  let lastWasMine = messages.length > 0 && messages.at(-1)!.mine && items.at(-1)?.kind === 'message'
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
