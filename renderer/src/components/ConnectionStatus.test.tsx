import { act, cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PeerView } from '../../../node/src/api/types.js'
import type { RelayStatus } from '../hooks/useRelayStatus.js'
import { ConnectionStatus, connectionState, LOOKING_MS, useLookingPhase, type ConnectionState } from './ConnectionStatus.js'

afterEach(() => {
  cleanup()
  vi.useRealTimers()
})

const peer: PeerView = { peerId: '12D3KooWpeer', displayName: 'Bob', addresses: [] }
const relay = (state: RelayStatus['state']): RelayStatus => ({ address: '/dns4/relay.example/tcp/443/wss/p2p/12D3KooWrelay', peerId: '12D3KooWrelay', state, detail: null, at: 0 })

describe('connectionState', () => {
  const base = { coreConnected: true, peers: [] as PeerView[], relays: [] as RelayStatus[], looking: false }

  it('right after start with no one around is "looking", then "no one nearby yet": never a problem by itself', () => {
    expect(connectionState({ ...base, looking: true })).toBe('looking')
    expect(connectionState({ ...base, peers: null })).toBe('looking')
    expect(connectionState({ ...base, relays: null })).toBe('alone')
    expect(connectionState(base)).toBe('alone')
    // Relays not tried yet, or one working, are no trouble.
    expect(connectionState({ ...base, relays: [relay('unknown')] })).toBe('alone')
    expect(connectionState({ ...base, relays: [relay('ok'), relay('unreachable')] })).toBe('alone')
  })

  it('says relay trouble only when every relay in use failed', () => {
    expect(connectionState({ ...base, relays: [relay('unreachable')] })).toBe('relay-trouble')
    expect(connectionState({ ...base, relays: [relay('refused'), relay('unreachable')], looking: true })).toBe('relay-trouble')
  })

  it('is online with anyone connected, and disconnected without the core, whatever else', () => {
    expect(connectionState({ ...base, peers: [peer], relays: [relay('unreachable')] })).toBe('online')
    expect(connectionState({ ...base, coreConnected: false, peers: [peer] })).toBe('disconnected')
  })
})

describe('<ConnectionStatus>', () => {
  const badge = () => document.querySelector('[data-status]')!

  it.each<[ConnectionState, string, string]>([
    ['looking', 'Looking nearby…', 'offline'],
    ['alone', 'No one nearby yet', 'offline'],
    ['relay-trouble', 'Relay not reachable', 'offline'],
    ['online', 'Online', 'online'],
    ['disconnected', 'Disconnected', 'disconnected'],
  ])('%s: says "%s" in words, with the detail for screen readers', (state, text, connectivity) => {
    render(<ConnectionStatus state={state} />)
    expect(screen.getByRole('status').textContent).toContain(text)
    expect(badge().className).toContain(state)
    expect(badge().getAttribute('data-connectivity')).toBe(connectivity)
    expect(badge().querySelector('.visually-hidden')!.textContent!.length).toBeGreaterThan(10)
  })

  it('no one nearby is not worded as a fault', () => {
    for (const state of ['looking', 'alone'] as const) {
      render(<ConnectionStatus state={state} />)
      expect(badge().textContent).not.toMatch(/offline|error|fail|problem/i)
      cleanup()
    }
  })
})

describe('useLookingPhase', () => {
  function Probe() {
    return <span>{useLookingPhase() ? 'looking' : 'settled'}</span>
  }
  it('lasts LOOKING_MS after the window opens', () => {
    vi.useFakeTimers()
    render(<Probe />)
    expect(screen.getByText('looking')).toBeTruthy()
    act(() => {
      vi.advanceTimersByTime(LOOKING_MS + 1)
    })
    expect(screen.getByText('settled')).toBeTruthy()
  })
})
