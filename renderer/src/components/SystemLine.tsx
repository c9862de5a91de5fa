import { useState } from 'react'
import type { SystemLineView } from '../../../node/src/api/types.js'
import { fullWhen, timeOfDay } from '../lib/time.js'
import { VerifyDialog } from './VerifyDialog.js'

/**
 * A quiet, centred line of what happened in the conversation ("Bob joined", "Alice renamed the group to …", "Alice
 * linked a new device", "Alice removed a device"). The text comes from the core with current names, so every member
 * reads the same words; the time is the operation's own.
 *
 * On the latest device line of a person verified here whose devices changed since (`verifyAgain`), the line also says
 * so plainly and offers to verify them again, right there. It never blocks the chat: it is a note, not a dialog.
 */
export function SystemLine({ line }: { line: SystemLineView }) {
  const [verifying, setVerifying] = useState(false)
  const notice = line.verifyAgain
  return (
    <>
      <p className="system-line" data-kind={line.kind}>
        <span>{line.text}</span>
        <time className="system-line-time" dateTime={new Date(line.at).toISOString()} title={fullWhen(line.at)}>
          {timeOfDay(line.at)}
        </time>
      </p>
      {notice !== undefined && (
        <p className="system-line system-line-notice" role="note" data-kind="verify-again">
          <span>{notice.text}</span>
          <button type="button" className="link-button" onClick={() => setVerifying(true)} aria-label={`Verify again: ${notice.displayName}`}>
            Verify again
          </button>
        </p>
      )}
      {verifying && notice !== undefined && (
        <VerifyDialog
          member={{ account: notice.account, displayName: notice.displayName, verifiedDevicesChanged: true }}
          onClose={() => setVerifying(false)}
        />
      )}
    </>
  )
}
