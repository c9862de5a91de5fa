import { useId } from 'react'
import type { PeerView } from '../../../node/src/api/types.js'

/**
 * Devices this one is connected to right now: on the LAN (found by mDNS) or through a relay. A known person's device
 * shows their name; others a short form of their network id.
 */
export function Nearby({ peers }: { peers: PeerView[] | null }) {
  const id = useId()
  return (
    <section className="nearby" aria-labelledby={id}>
      <h2 id={id} className="section-title">
        Nearby
      </h2>
      {peers === null ? (
        <p className="muted small">Looking…</p>
      ) : peers.length === 0 ? (
        <p className="muted small">No one found yet. Devices running Hearth on your network appear here.</p>
      ) : (
        <ul className="peer-list">
          {peers.map((p) => (
            <li key={p.peerId} title={p.peerId}>
              <span className="presence online" aria-hidden="true" />
              {p.displayName ?? `Device ${shortPeer(p.peerId)}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

export function shortPeer(peerId: string): string {
  return peerId.length > 10 ? `…${peerId.slice(-6)}` : peerId
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
