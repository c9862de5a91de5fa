import { useEffect, useState } from 'react'
import type { SystemLineView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

const NONE: SystemLineView[] = []

/**
 * A conversation's system lines (what happened: joins, leaves, renames…). Read again on every `members.changed` of the
 * conversation: the core announces every change of the membership log with it. A failed read shows no lines rather
 * than an error: the messages matter more, and the next change reads them again.
 */
export function useSystemLines(api: Api, conversationId: string): SystemLineView[] {
  const [lines, setLines] = useState<SystemLineView[]>(NONE)
  useEffect(() => {
    let alive = true
    // Answers can cross: only the newest read is shown.
    let generation = 0
    const read = () => {
      const asked = ++generation
      api.call('conversations.systemLines', { conversationId }).then(
        (next) => alive && asked === generation && setLines(next),
        () => {},
      )
    }
    const off = api.on('members.changed', ({ conversation }) => {
      if (conversation === conversationId) read()
    })
    read()
    return () => {
      alive = false
      off()
    }
  }, [api, conversationId])
  return lines
}
