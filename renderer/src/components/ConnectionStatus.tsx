import { useEffect, useState } from 'react'
import type { PeerView } from '../../../node/src/api/types.js'
import type { RelayStatus } from '../hooks/useRelayStatus.js'

/**
 * What the header says about reaching other people. Having no one around is the normal state of a new install and
 * of a laptop away from home, so it is said calmly in a neutral colour; amber is kept for something the person may
 * want to fix (their relays do not answer), red for this window having lost Hearth itself.
 */
export type ConnectionState = 'online' | 'looking' | 'alone' | 'relay-trouble' | 'disconnected'

/** How long after the window opens "no one yet" still reads as "still looking". */
export const LOOKING_MS = 20_000

export function connectionState(input: { coreConnected: boolean; peers: PeerView[] | null; relays: RelayStatus[] | null; looking: boolean }): ConnectionState {
  if (!input.coreConnected) return 'disconnected'
  if (input.peers !== null && input.peers.length > 0) return 'online'
  // Relays that were tried and all failed; relays not tried yet ('unknown') are no trouble yet.
  const relays = input.relays ?? []
  if (relays.length > 0 && relays.every((r) => r.state === 'unreachable' || r.state === 'refused')) return 'relay-trouble'
  return input.peers === null || input.looking ? 'looking' : 'alone'
}

const TEXT: Record<ConnectionState, string> = {
  online: 'Online',
  looking: 'Looking nearby…',
  alone: 'No one nearby yet',
  'relay-trouble': 'Relay not reachable',
  disconnected: 'Disconnected',
}

const DETAIL: Record<ConnectionState, string> = {
  online: 'Connected to other devices.',
  looking: 'Looking for your people nearby. Messages you write now wait and go out when someone is reachable.',
  alone: 'Messages you write wait and go out when someone is reachable. People on your network appear under Nearby.',
  'relay-trouble': 'Your relays do not answer, so people outside your network cannot be reached. Settings shows why.',
  disconnected: 'This window lost its connection to Hearth.',
}

/** The older, machine-readable reading (tests and scripts look for it): reachable, not reachable, or no core. */
const CONNECTIVITY: Record<ConnectionState, 'online' | 'offline' | 'disconnected'> = {
  online: 'online',
  looking: 'offline',
  alone: 'offline',
  'relay-trouble': 'offline',
  disconnected: 'disconnected',
}

/** True for the first LOOKING_MS after mount: the time it takes to find devices nearby. */
export function useLookingPhase(ms = LOOKING_MS): boolean {
  const [looking, setLooking] = useState(true)
  useEffect(() => {
    const timer = setTimeout(() => setLooking(false), ms)
    return () => clearTimeout(timer)
  }, [ms])
  return looking
}

/** The connection badge: a dot and words (never colour alone), the detail for screen readers and on hover. */
export function ConnectionStatus({ state }: { state: ConnectionState }) {
  return (
    <span className={`status-pill ${state}`} role="status" title={DETAIL[state]} data-connectivity={CONNECTIVITY[state]} data-status={state}>
      <span className="presence" aria-hidden="true" />
      {TEXT[state]}
      <span className="visually-hidden">: {DETAIL[state]}</span>
    </span>
  )
}
