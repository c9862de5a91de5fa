import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../node/common/errors.js'
import type { AppStatus } from '../../node/src/api/types.js'
import type { Connection } from './api/connect.js'
import { App } from './App.js'
import { fakeApi, type FakeApi } from './testing/fake-api.js'

afterEach(cleanup)

function connected(api: FakeApi): () => Promise<Connection> {
  const connection: Connection = { api, kind: 'websocket', transport: { call: async () => null, on: () => () => {}, onClose: () => () => {}, close: () => {} } }
  return async () => connection
}

const status = (state: AppStatus['state']): AppStatus => ({ state, needsPassphrase: true })

function readyHandlers(api: FakeApi) {
  Object.assign(api.handlers, {
    'conversations.list': () => [],
    'network.peers': () => [],
    'identity.whoami': () => ({ account: 'a'.repeat(64), device: 'd'.repeat(64), displayName: 'Alice', peerId: 'p', addresses: [] }),
  })
}

describe('<App>', () => {
  it('says how to open Hearth when it cannot connect', async () => {
    render(<App connectTo={async () => Promise.reject(new HearthError('UNAUTHORIZED', 'Open Hearth with the link `npm start` printed'))} />)
    expect((await screen.findByRole('alert')).textContent).toContain('npm start')
  })

  it('shows onboarding for a new identity, then the app once the host says ready', async () => {
    const api = fakeApi({ 'app.status': () => status('new') })
    readyHandlers(api)
    render(<App connectTo={connected(api)} />)
    await screen.findByRole('button', { name: 'Create my identity' })
    act(() => api.emit('app.changed', { status: status('starting') }))
    // Starting keeps the screen that started it.
    expect(screen.getByRole('button', { name: 'Create my identity' })).toBeTruthy()
    act(() => api.emit('app.changed', { status: status('ready') }))
    await screen.findByRole('button', { name: 'New group' })
    await screen.findByText('Start your first conversation')
    // The core goes away: said at once, in words.
    act(() => api.close('core stopped'))
    expect((await screen.findAllByRole('alert')).some((a) => a.textContent?.includes('lost its connection'))).toBe(true)
    expect(document.querySelector('[data-connectivity="disconnected"]')).not.toBeNull()
  })

  it('when the carrier comes back after a restart, starts over from app.status: the restarted host asks to unlock', async () => {
    let state: AppStatus['state'] = 'ready'
    const api = fakeApi({ 'app.status': () => status(state) })
    readyHandlers(api)
    const reconnected = new Set<() => void>()
    const connection: Connection = {
      api,
      kind: 'websocket',
      transport: {
        call: async () => null,
        on: () => () => {},
        onClose: () => () => {},
        onReconnect: (l) => {
          reconnected.add(l)
          return () => reconnected.delete(l)
        },
        close: () => {},
      },
    }
    render(<App connectTo={async () => connection} />)
    await screen.findByRole('button', { name: 'New group' })
    act(() => api.close('code 1006'))
    expect((await screen.findAllByRole('alert')).some((a) => a.textContent?.includes('trying to reconnect'))).toBe(true)
    state = 'locked'
    act(() => reconnected.forEach((l) => l()))
    await screen.findByRole('heading', { name: 'Unlock Hearth' })
    expect(screen.queryAllByRole('alert').some((a) => a.textContent?.includes('lost its connection'))).toBe(false)
  })

  it('keeps a wrong passphrase error on the unlock screen while the host went starting and back to locked', async () => {
    const api = fakeApi({
      'app.status': () => status('locked'),
      'app.unlock': () => {
        api.emit('app.changed', { status: status('starting') })
        api.emit('app.changed', { status: status('locked') })
        throw new HearthError('WRONG_PASSPHRASE', 'wrong passphrase')
      },
    })
    render(<App connectTo={connected(api)} />)
    const field = await screen.findByLabelText('Passphrase')
    fireEvent.change(field, { target: { value: 'nope nope' } })
    fireEvent.click(screen.getByRole('button', { name: 'Unlock' }))
    expect((await screen.findByRole('alert')).textContent).toBe('That passphrase is not right.')
    expect(api.calls.find((c) => c.method === 'app.unlock')!.params).toEqual({ passphrase: 'nope nope' })
  })

  it('unlocks by itself where no passphrase is needed (the OS keychain)', async () => {
    const api = fakeApi({ 'app.status': () => ({ state: 'locked', needsPassphrase: false }), 'app.unlock': () => status('ready') })
    render(<App connectTo={connected(api)} />)
    await waitFor(() => expect(api.calls.some((c) => c.method === 'app.unlock')).toBe(true))
    expect(screen.queryByLabelText('Passphrase')).toBeNull()
  })
})
