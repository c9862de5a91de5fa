import { useEffect, useState } from 'react'
import type { ChatRequestView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

/** Requests to start a direct chat with a device nearby, both ways (`chats.requests`), kept current by events. */
export function useChatRequests(api: Api): ChatRequestView[] {
  const [requests, setRequests] = useState<ChatRequestView[]>([])
  useEffect(() => {
    let alive = true
    let changed = false
    const off = api.on('chat-requests.changed', ({ requests: next }) => {
      changed = true
      setRequests(next)
    })
    api.call('chats.requests').then(
      // An event that came while this was in flight is newer than the answer.
      (loaded) => alive && !changed && setRequests(loaded),
      // A core that does not answer this (an older one) simply has no requests to show.
      () => {},
    )
    return () => {
      alive = false
      off()
    }
  }, [api])
  return requests
}
