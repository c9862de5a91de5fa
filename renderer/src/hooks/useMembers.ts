import { useEffect, useMemo, useState } from 'react'
import type { MemberView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'

export interface Members {
  /** Null until the first answer. */
  list: MemberView[] | null
  /** Each account's current display name: messages show who wrote them under the name they have now. */
  names: ReadonlyMap<string, string>
  error: string | null
}

/**
 * One conversation's members, kept current by `members.changed` (joins, removals, roles, names) and read again on
 * `peer.changed` (which devices are online).
 */
export function useMembers(api: Api, conversationId: string): Members {
  const [list, setList] = useState<MemberView[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let alive = true
    // An event that came while a read was in flight is newer than its answer.
    let generation = 0
    const read = () => {
      const asked = generation
      api.call('conversations.members', { conversationId }).then(
        (members) => {
          if (!alive || asked !== generation) return
          setList(members)
          setError(null)
        },
        (err: unknown) => alive && setError(errorText(err)),
      )
    }
    const offMembers = api.on('members.changed', ({ conversation, members }) => {
      if (conversation !== conversationId) return
      generation++
      setList(members)
    })
    const offPeers = api.on('peer.changed', read)
    read()
    return () => {
      alive = false
      offMembers()
      offPeers()
    }
  }, [api, conversationId])
  const names = useMemo(() => new Map((list ?? []).map((m) => [m.account, m.displayName])), [list])
  return { list, names, error }
}
