import { useEffect, useRef } from 'react'
import type { ChatRequestView, MemberView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

export interface AcceptedChatRequest {
  conversationId: string
  /** The person who joined, through the very device that was asked. */
  account: string
  displayName: string
}

interface Asked {
  peerId: string
  expiresAt: number
}

/**
 * Calls back once when a device this one asked for a chat from Nearby accepts: its person is then a member of the
 * direct chat. The core forgets an answered request (`chat-requests.changed` drops it right after `members.changed`
 * shows the newcomer), so the asking side watches the members of the chats it asked about.
 *
 * Only a member with a device of the asked PeerId counts: whoever else joins with the invite (it could be passed on)
 * is not the person next to this one, and is never offered the in-person check.
 */
export function useAcceptedChatRequests(api: Api, requests: ChatRequestView[], onAccepted: (accepted: AcceptedChatRequest) => void): void {
  // Conversation id → the request still waiting for an answer, as last seen pending.
  const asked = useRef(new Map<string, Asked>())
  const callback = useRef(onAccepted)
  useEffect(() => {
    callback.current = onAccepted
  }, [onAccepted])

  const check = useRef((conversationId: string, members: MemberView[], answered: boolean) => {
    const waiting = asked.current.get(conversationId)
    if (waiting === undefined) return
    const them = members.find((m) => !m.me && m.devices.some((d) => d.peerId === waiting.peerId))
    if (them !== undefined) {
      asked.current.delete(conversationId)
      callback.current({ conversationId, account: them.account, displayName: them.displayName })
    } else if (answered) {
      asked.current.delete(conversationId)
    }
  })

  useEffect(
    () =>
      api.on('members.changed', ({ conversation, members }) => {
        check.current(conversation, members, false)
      }),
    [api],
  )

  useEffect(() => {
    const outgoing = requests.filter((r) => r.direction === 'outgoing')
    for (const r of outgoing) {
      if (r.state === 'pending') asked.current.set(r.conversationId, { peerId: r.peerId, expiresAt: r.expiresAt })
      else asked.current.delete(r.conversationId)
    }
    // A request that is gone was answered, or it expired. The members tell which, in case their event came first
    // to a listener that was not there yet.
    for (const [conversationId, waiting] of [...asked.current]) {
      if (outgoing.some((r) => r.conversationId === conversationId)) continue
      if (waiting.expiresAt <= Date.now()) {
        asked.current.delete(conversationId)
        continue
      }
      api.call('conversations.members', { conversationId }).then(
        (members) => check.current(conversationId, members, true),
        () => asked.current.delete(conversationId),
      )
    }
  }, [api, requests])
}
