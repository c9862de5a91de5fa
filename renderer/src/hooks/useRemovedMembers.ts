import { useEffect, useState } from 'react'
import type { RemovedMemberView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'

export interface RemovedMembers {
  /** Null until the first answer, or when not asked (`enabled` false). */
  list: RemovedMemberView[] | null
  error: string | null
}

/**
 * The people removed from a conversation, for an admin who may add them back. Read again on every `members.changed`
 * of the conversation (a removal or an add-back changes both lists).
 */
export function useRemovedMembers(api: Api, conversationId: string, enabled: boolean): RemovedMembers {
  const [list, setList] = useState<RemovedMemberView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (!enabled) return
    let alive = true
    // Answers can cross: only the newest read is shown.
    let generation = 0
    const read = () => {
      const asked = ++generation
      api.call('conversations.removed', { conversationId }).then(
        (removed) => {
          if (!alive || asked !== generation) return
          setList(removed)
          setError(null)
        },
        (err: unknown) => alive && asked === generation && setError(errorText(err)),
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
  }, [api, conversationId, enabled])
  return { list: enabled ? list : null, error: enabled ? error : null }
}
