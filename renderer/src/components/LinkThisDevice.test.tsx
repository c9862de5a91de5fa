import { multiaddr } from '@multiformats/multiaddr'
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { AppStatus } from '../../../node/src/api/types.js'
import { formatLinkCode, groupLinkForReading } from '../../../node/src/identity/link-code.js'
import { ApiContext } from '../api/context.js'
import { fakeApi, type FakeApi } from '../testing/fake-api.js'
import { Onboarding } from './Onboarding.js'

afterEach(cleanup)

const LINK = formatLinkCode({ secret: 'K7Q29XHM4RTWPLZ3G8N', locator: multiaddr('/ip4/192.168.1.20/tcp/4001').bytes })
const NEW: AppStatus = { state: 'new', needsPassphrase: true }
const AXE = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }

function setup(status: AppStatus = NEW): FakeApi {
  const api = fakeApi({
    'app.linkStart': () => ({ link: LINK, expiresAt: Date.now() + 10 * 60_000 }),
    'app.linkConfirm': () => null,
    'app.linkCancel': () => null,
  })
  render(
    <ApiContext.Provider value={api}>
      <Onboarding status={status} />
    </ApiContext.Provider>,
  )
  return api
}

async function showCode(api: FakeApi) {
  fireEvent.click(screen.getByRole('button', { name: 'I already use Hearth' }))
  fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'correct horse battery' } })
  fireEvent.change(screen.getByLabelText('Passphrase again'), { target: { value: 'correct horse battery' } })
  fireEvent.click(screen.getByRole('button', { name: 'Show my code' }))
  await screen.findByRole('heading', { name: 'Your link code' })
  expect(api.calls.find((c) => c.method === 'app.linkStart')!.params).toEqual({ passphrase: 'correct horse battery' })
}

describe('onboarding: I already use Hearth', () => {
  it('asks the passphrase first, then shows the code as a QR and in groups, with how long it works', async () => {
    const api = setup()
    fireEvent.click(screen.getByRole('button', { name: 'I already use Hearth' }))
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'short' } })
    fireEvent.click(screen.getByRole('button', { name: 'Show my code' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/at least 8 characters/)
    expect(api.calls.some((c) => c.method === 'app.linkStart')).toBe(false)
    cleanup()

    await showCode(setup())
    expect(await screen.findByRole('img', { name: 'QR code of this device’s link code' })).toBeTruthy()
    expect(screen.getByLabelText('Link code').textContent).toBe(groupLinkForReading(LINK))
    expect(screen.getByText(/This code works for (10:00|9:5\d) more, once\./)).toBeTruthy()
    const result = await axe.run(document.body, AXE)
    expect(result.violations).toEqual([])
  })

  it('shows the 6 digits to compare, answers, then says it is getting the conversations', async () => {
    const api = setup()
    await showCode(api)
    act(() => api.emit('app.linking', { stage: 'confirm', code: '870 288' }))
    expect(await screen.findByText('870 288')).toBeTruthy()
    expect((await axe.run(document.body, AXE)).violations).toEqual([])
    fireEvent.click(screen.getByRole('button', { name: 'They match' }))
    await waitFor(() => expect(api.calls.find((c) => c.method === 'app.linkConfirm')?.params).toEqual({ accept: true }))
    act(() => api.emit('app.linking', { stage: 'receiving' }))
    expect(await screen.findByRole('status')).toHaveProperty('textContent', 'Getting your conversations…')
  })

  it('says why it failed in plain words, and refusing the digits says nothing was shared', async () => {
    const api = setup()
    await showCode(api)
    act(() => api.emit('app.linking', { stage: 'failed', error: 'The link code has expired: show a new one' }))
    expect((await screen.findByRole('alert')).textContent).toBe('The link code has expired: show a new one.')
    fireEvent.click(screen.getByRole('button', { name: 'Show a new code' }))
    await screen.findByRole('heading', { name: 'Your link code' })

    act(() => api.emit('app.linking', { stage: 'confirm', code: '111 222' }))
    fireEvent.click(await screen.findByRole('button', { name: 'They don’t match' }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'app.linkConfirm').at(-1)?.params).toEqual({ accept: false }))
    act(() => api.emit('app.linking', { stage: 'failed', error: 'Linking was cancelled' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/^You said the numbers differ, so nothing was shared/)
  })

  it('a refused start keeps the form with the reason; Cancel goes back to the welcome', async () => {
    const api = setup()
    api.handlers['app.linkStart'] = () => {
      throw new HearthError('UNREACHABLE', 'This device has no network address to show: check it is connected')
    }
    fireEvent.click(screen.getByRole('button', { name: 'I already use Hearth' }))
    fireEvent.change(screen.getByLabelText('Passphrase'), { target: { value: 'correct horse battery' } })
    fireEvent.change(screen.getByLabelText('Passphrase again'), { target: { value: 'correct horse battery' } })
    fireEvent.click(screen.getByRole('button', { name: 'Show my code' }))
    expect((await screen.findByRole('alert')).textContent).toBe('This device has no network address to show: check it is connected.')
    api.handlers['app.linkStart'] = () => ({ link: LINK, expiresAt: Date.now() + 60_000 })
    fireEvent.click(screen.getByRole('button', { name: 'Show my code' }))
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }))
    await screen.findByRole('heading', { name: 'Welcome to Hearth' })
    expect(api.calls.some((c) => c.method === 'app.linkCancel')).toBe(true)
  })

  it('after a reload while linking offers to start again; after a revocation says this device was unlinked', async () => {
    const api = setup({ state: 'linking', needsPassphrase: true })
    fireEvent.click(await screen.findByRole('button', { name: 'Start again' }))
    await screen.findByRole('button', { name: 'Show my code' })
    expect(api.calls.map((c) => c.method)).toEqual(['app.linkCancel'])
    cleanup()

    setup({ state: 'new', needsPassphrase: true, notice: 'revoked' })
    expect(screen.getByRole('alert').textContent).toMatch(/^This device was unlinked by another of your devices/)
    expect((await axe.run(document.body, AXE)).violations).toEqual([])
  })

  it('needs no passphrase where the keychain wraps the keys', async () => {
    const api = setup({ state: 'new', needsPassphrase: false })
    fireEvent.click(screen.getByRole('button', { name: 'I already use Hearth' }))
    expect(screen.queryByLabelText('Passphrase')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Show my code' }))
    await screen.findByRole('heading', { name: 'Your link code' })
    expect(api.calls.find((c) => c.method === 'app.linkStart')!.params).toEqual({})
  })
})
