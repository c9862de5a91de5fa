import { useCallback, useId, useState } from 'react'
import type { ChatRequestView, ConversationSummary, PeerView } from '../../../node/src/api/types.js'
import { errorText } from '../api/client.js'
import { useApi } from '../api/context.js'
import { useAcceptedChatRequests, type AcceptedChatRequest } from '../hooks/useAcceptedChatRequests.js'
import { useChatRequests } from '../hooks/useChatRequests.js'
import { ChatRequestPrompt, shortPeer } from './ChatRequestPrompt.js'
import { ErrorNote } from './Dialog.js'
import { VerifyNearbyDialog } from './VerifyNearbyDialog.js'

export { shortPeer }

export interface NearbyProps {
  peers: PeerView[] | null
  /** Shows a conversation (or the one of this id): the direct chat just asked for, or the one just accepted. */
  onOpenConversation?(conversation: ConversationSummary | string): void
}

/** A person to offer the in-person check, and the chat to open once that is done. */
interface NearbyCheck {
  account: string
  name: string
  conversation: ConversationSummary | string
}

/**
 * Devices this one is connected to right now: on the LAN (found by mDNS) or through a relay. A known person's device
 * shows their name; a device nobody here knows reads "Unnamed device", its short network id given as a description
 * (never as its name: a screen reader would spell out a string of random letters). Choosing one asks it for a direct
 * chat; a request from someone nearby shows here, to accept or decline. Once a request is accepted, on both sides,
 * the two people standing together are offered to compare their safety numbers in the same step (VerifyNearbyDialog).
 */
export function Nearby({ peers, onOpenConversation }: NearbyProps) {
  const id = useId()
  const api = useApi()
  const requests = useChatRequests(api)
  const [asking, setAsking] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  // One check at a time; another accepted meanwhile waits its turn.
  const [checks, setChecks] = useState<NearbyCheck[]>([])
  const offer = useCallback((check: NearbyCheck) => {
    setChecks((list) => (list.some((c) => c.account === check.account) ? list : [...list, check]))
  }, [])
  useAcceptedChatRequests(
    api,
    requests,
    useCallback((a: AcceptedChatRequest) => offer({ account: a.account, name: a.displayName, conversation: a.conversationId }), [offer]),
  )
  const check = checks[0]
  const checked = () => {
    setChecks((list) => list.slice(1))
    if (check !== undefined) onOpenConversation?.(check.conversation)
  }
  const accepted = (request: ChatRequestView, conversation: ConversationSummary) => {
    if (request.account === null) onOpenConversation?.(conversation)
    else offer({ account: request.account, name: request.displayName ?? conversation.name, conversation })
  }
  const incoming = requests.filter((r) => r.direction === 'incoming')
  const outgoing = new Map<string, ChatRequestView>()
  for (const r of requests) if (r.direction === 'outgoing') outgoing.set(r.peerId, r)

  const ask = (peer: PeerView) => {
    setAsking(peer.peerId)
    setError(null)
    api.call('chats.request', { peerId: peer.peerId }).then(
      ({ conversation }) => {
        setAsking(null)
        onOpenConversation?.(conversation)
      },
      (err: unknown) => {
        setAsking(null)
        setError(errorText(err))
      },
    )
  }

  return (
    <section className="nearby" aria-labelledby={id}>
      <h2 id={id} className="section-title">
        Nearby
      </h2>
      <p className="visually-hidden" role="status">
        {incoming.length === 0 ? '' : incoming.length === 1 ? `${incoming[0]!.displayName ?? 'Someone nearby'} wants to chat` : `${incoming.length} chat requests`}
      </p>
      {incoming.map((r) => (
        <ChatRequestPrompt key={r.id} request={r} onAccepted={(c) => accepted(r, c)} />
      ))}
      {check !== undefined && <VerifyNearbyDialog key={check.account} account={check.account} name={check.name} onDone={checked} />}
      <ErrorNote error={error} />
      {peers === null ? (
        <p className="muted small">Looking…</p>
      ) : peers.length === 0 ? (
        <p className="muted small">No one found yet. Devices running Hearth on your network appear here.</p>
      ) : (
        <>
          <p id={`${id}-hint`} className="visually-hidden">
            Starts a direct chat: they get a request to accept.
          </p>
          <ul className="peer-list">
            {peers.map((p) => {
              const request = outgoing.get(p.peerId)
              const note = asking === p.peerId ? 'Asking…' : request?.state === 'pending' ? 'Request sent' : request?.state === 'declined' ? 'Declined' : null
              const descId = `${id}-${p.peerId}`
              return (
                <li key={p.peerId}>
                  <button
                    type="button"
                    className="nearby-peer"
                    title={`Start a chat · ${p.peerId}`}
                    aria-describedby={`${descId} ${id}-hint`}
                    disabled={asking !== null}
                    onClick={() => ask(p)}
                    data-peer-id={p.peerId}
                  >
                    <span className="presence online" aria-hidden="true" />
                    <span>{p.displayName ?? 'Unnamed device'}</span>
                    {/* Shown, and read as the description (aria-describedby), not as part of the name. */}
                    <span id={descId} className="muted small" aria-hidden="true">
                      {p.displayName === null ? `device ${shortPeer(p.peerId)}` : ''}
                      {note === null ? '' : <span className="peer-note">{p.displayName === null ? ' · ' : ''}{note}</span>}
                    </span>
                  </button>
                </li>
              )
            })}
          </ul>
        </>
      )}
    </section>
  )
}


export type Connectivity = 'online' | 'offline' | 'disconnected'

export function connectivity(peers: PeerView[] | null, coreConnected: boolean): Connectivity {
  if (!coreConnected) return 'disconnected'
  return peers !== null && peers.length > 0 ? 'online' : 'offline'
}

const STATUS_TEXT: Record<Connectivity, string> = {
  online: 'Online',
  offline: 'Offline',
  disconnected: 'Disconnected',
}

const STATUS_DETAIL: Record<Connectivity, string> = {
  online: 'Connected to other devices',
  offline: 'No other device reachable: messages wait and go out when someone is back',
  disconnected: 'This window lost its connection to Hearth',
}

/** The online/offline indicator: a dot plus a word, never color alone. */
export function StatusPill({ state }: { state: Connectivity }) {
  return (
    <span className={`status-pill ${state}`} role="status" title={STATUS_DETAIL[state]} data-connectivity={state}>
      <span className="presence" aria-hidden="true" />
      {STATUS_TEXT[state]}
      <span className="visually-hidden">: {STATUS_DETAIL[state]}</span>
    </span>
  )
}
