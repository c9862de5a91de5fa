import { useCallback, useEffect, useMemo, useState } from 'react'
import type { Api } from '../api/client.js'
import { throttle, typingAt, typingStarted, typingStopped, type Typist } from '../lib/typing.js'

/** How often at most the composer tells the core that the person is typing. */
export const TYPING_CALL_INTERVAL_MS = 1_000

export interface Typing {
  /** Others typing in this conversation now, in the order they started. */
  typists: readonly Typist[]
  /** The person typed something: tells the members (throttled; failures do not matter, the next key press retries). */
  typing(): void
}

/**
 * Who else is typing in one conversation, kept current by `typing` events, cleared when each one's time runs out or
 * when a message from them arrives. `me` (our account, once known) is never shown: another of our devices may say it.
 */
export function useTyping(api: Api, conversationId: string, me: string | null): Typing {
  const [typists, setTypists] = useState<readonly Typist[]>([])

  useEffect(() => {
    const offTyping = api.on('typing', ({ conversation, account, displayName, until }) => {
      if (conversation !== conversationId) return
      setTypists((current) => typingStarted(typingAt(current, Date.now()), { account, displayName, until }))
    })
    const offAdded = api.on('message.added', ({ conversation, message }) => {
      if (conversation === conversationId) setTypists((current) => typingStopped(current, message.author))
    })
    return () => {
      offTyping()
      offAdded()
    }
  }, [api, conversationId])

  // One timer, for whoever runs out first.
  useEffect(() => {
    if (typists.length === 0) return
    const next = Math.min(...typists.map((t) => t.until))
    const timer = setTimeout(() => setTypists((current) => typingAt(current, Date.now())), Math.max(0, next - Date.now()) + 10)
    return () => clearTimeout(timer)
  }, [typists])

  const [allowed] = useState(() => throttle(TYPING_CALL_INTERVAL_MS))
  const typing = useCallback(() => {
    if (!allowed()) return
    api.call('messages.typing', { conversationId }).catch(() => {})
  }, [api, conversationId, allowed])

  const shown = useMemo(() => (me === null ? typists : typists.filter((t) => t.account !== me)), [typists, me])
  return { typists: shown, typing }
}
