import type { SystemLineView } from '../../../node/src/api/types.js'
import { fullWhen, timeOfDay } from '../lib/time.js'

/**
 * A quiet, centred line of what happened in the conversation ("Bob joined", "Alice renamed the group to …"). The text
 * comes from the core with current names; the time is the operation's own.
 */
export function SystemLine({ line }: { line: SystemLineView }) {
  return (
    <p className="system-line" data-kind={line.kind}>
      <span>{line.text}</span>
      <time className="system-line-time" dateTime={new Date(line.at).toISOString()} title={fullWhen(line.at)}>
        {timeOfDay(line.at)}
      </time>
    </p>
  )
}
