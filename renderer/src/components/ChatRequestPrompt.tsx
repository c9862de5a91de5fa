/**
 * "Alice wants to chat": a request from a device nearby, with Accept (join the direct chat it offers) and Decline
 * (the asker is told). The name comes from the asker's device certificate, which the core checked; the short network
 * id under it tells two devices of the same name apart.
 */
import { useState } from 'react'
import type { ChatRequestView, ConversationSummary } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { ErrorNote } from './Dialog.js'

export interface ChatRequestPromptProps {
  request: ChatRequestView
  onAccepted?(conversation: ConversationSummary): void
}

export function ChatRequestPrompt({ request, onAccepted }: ChatRequestPromptProps) {
  const api = useApi()
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const name = request.displayName ?? 'Someone nearby'
  const answer = (accept: boolean) => {
    setBusy(true)
    setError(null)
    const done = accept
      ? api.call('chats.accept', { requestId: request.id }).then((c) => onAccepted?.(c))
      : api.call('chats.decline', { requestId: request.id }).then(() => {})
    done.then(
      () => setBusy(false),
      (err: unknown) => {
        setBusy(false)
        setError(errorText(err))
      },
    )
  }
  return (
    <div className="chat-request" role="group" aria-label={`Chat request from ${name}`} data-request-id={request.id}>
      <p>
        <strong>{name}</strong> wants to chat
        <span className="muted small"> · device {shortPeer(request.peerId)}</span>
      </p>
      <div className="chat-request-actions">
        <button type="button" className="primary" disabled={busy} onClick={() => answer(true)}>
          Accept
        </button>
        <button type="button" disabled={busy} onClick={() => answer(false)}>
          Decline
        </button>
      </div>
      <ErrorNote error={error} />
    </div>
  )
}

/** The end of a network id: enough to tell devices apart at a glance, short enough to read out. */
export function shortPeer(peerId: string): string {
  return peerId.length > 10 ? `…${peerId.slice(-6)}` : peerId
}
