import type { HistoryProgressView } from '../../../node/src/api/types.js'

/**
 * How far a conversation's history has arrived (`ConversationSummary.history`), said the way other messengers say it
 * while they restore ("Getting history… 40%"): an empty or half-empty chat then reads as "still coming", not as lost.
 * Nothing here blocks: the person reads and writes meanwhile.
 */

/** The percentage got so far, 0–99 (100 only once it is gone); null when nothing is being fetched now. */
export function historyPercent(history: HistoryProgressView | undefined): number | null {
  if (history === undefined || history.total <= 0 || history.have >= history.total) return null
  return Math.min(99, Math.max(0, Math.floor((history.have * 100) / history.total)))
}

/** "Getting history… 40%", or null when nothing is being fetched. */
export function historyText(history: HistoryProgressView | undefined): string | null {
  const percent = historyPercent(history)
  return percent === null ? null : `Getting history… ${percent}%`
}

/** "Some earlier messages will appear when Bob is online.", or null when nothing waits for anyone's keys. */
export function waitingText(history: HistoryProgressView | undefined, names?: ReadonlyMap<string, string>): string | null {
  if (history === undefined || (history.waiting ?? 0) <= 0) return null
  const who = [...new Set((history.waitingFor ?? []).map((w) => names?.get(w.account) ?? w.displayName))]
  if (who.length === 0) return 'Some earlier messages will appear when the people who wrote them are online.'
  const list = who.length === 1 ? who[0]! : `${who.slice(0, -1).join(', ')} or ${who.at(-1)!}`
  return `Some earlier messages will appear when ${list} ${who.length === 1 ? 'is' : 'are'} online.`
}

/** The thin bar; a native progress element, so it is a progressbar with its value for assistive technology. */
export function HistoryBar({ history, label, className }: { history: HistoryProgressView | undefined; label: string; className: string }) {
  const percent = historyPercent(history)
  if (percent === null) return null
  return <progress className={className} max={100} value={percent} aria-label={label} aria-valuetext={`${percent}%`} />
}

/**
 * The open chat's slim banner above the messages: the progress while history arrives, and whose keys earlier messages
 * wait for. The percentage is not a live region (it would be read out several times a second); the waiting sentence,
 * which rarely changes, is.
 */
export function HistoryBanner({ history, names }: { history: HistoryProgressView | undefined; names?: ReadonlyMap<string, string> }) {
  const getting = historyText(history)
  const waiting = waitingText(history, names)
  if (getting === null && waiting === null) return null
  return (
    <div className="banner history-banner">
      {getting !== null && (
        <div className="history-getting">
          <span>{getting} You can read and write meanwhile.</span>
          <HistoryBar history={history} label="History arriving" className="history-bar" />
        </div>
      )}
      {waiting !== null && (
        <p className="history-waiting" role="status">
          {waiting}
        </p>
      )}
    </div>
  )
}
