import { useEffect, useState } from 'react'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'
import { errorText } from '../api/client.js'
import { sortConversations, upsertConversation } from '../state/conversations.js'

export interface ConversationsState {
  list: ConversationSummary[] | null
  error: string | null
}

/** The conversation list, kept current by `conversation.updated` events. */
export function useConversations(api: Api): ConversationsState & { upsert(c: ConversationSummary): void; remove(id: string): void } {
  const [state, setState] = useState<ConversationsState>({ list: null, error: null })
  useEffect(() => {
    let alive = true
    // Subscribe before loading, so nothing that happens in between is missed; an event wins over the loaded copy.
    const seen = new Set<string>()
    const off = api.on('conversation.updated', ({ conversation }) => {
      seen.add(conversation.id)
      setState((s) => ({ ...s, list: upsertConversation(s.list ?? [], conversation) }))
    })
    api.call('conversations.list').then(
      (loaded) => {
        if (!alive) return
        setState((s) => {
          const fromEvents = (s.list ?? []).filter((c) => seen.has(c.id))
          return { list: sortConversations([...loaded.filter((c) => !seen.has(c.id)), ...fromEvents]), error: null }
        })
      },
      (err: unknown) => alive && setState((s) => ({ ...s, error: errorText(err) })),
    )
    return () => {
      alive = false
      off()
    }
  }, [api])
  return {
    ...state,
    upsert: (c) => setState((s) => ({ ...s, list: upsertConversation(s.list ?? [], c) })),
    // A join given up on (conversations.dismissJoin) is gone from the core's list; no event says so.
    remove: (id) => setState((s) => ({ ...s, list: (s.list ?? []).filter((c) => c.id !== id) })),
  }
}
