import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { validateRelayAddresses } from '../../../node/src/core/settings/settings.js'
import type { SettingsView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { fakeApi, type FakeApi } from '../testing/fake-api.js'
import { Settings } from './Settings.js'

afterEach(cleanup)

const MEDIA = { autoDownloadPeerBytes: 25 * 1024 * 1024, autoDownloadRelayBytes: 5 * 1024 * 1024, maxFileBytes: 100 * 1024 * 1024, keepReceivedBytes: 10 * 1024 ** 3 }

function settingsApi(update: (patch: { displayName?: string | undefined; relays?: string[] | undefined }) => SettingsView): FakeApi {
  return fakeApi({
    'settings.get': () => ({ displayName: 'Alice', relays: [], ...MEDIA }),
    'identity.whoami': () => ({ account: 'a'.repeat(64), device: 'd'.repeat(64), displayName: 'Alice', peerId: 'p', addresses: [] }),
    'settings.update': update,
    'files.usage': () => [],
    'conversations.list': () => [],
    'devices.list': () => [],
  })
}

describe('<Settings>', () => {
  it('changes the display name: trimmed, saved through settings.update, reported to the app', async () => {
    const changed: string[] = []
    const api = settingsApi((patch) => ({ displayName: patch.displayName!, relays: [], ...MEDIA }))
    render(
      <ApiContext.Provider value={api}>
        <Settings onClose={() => {}} onNameChanged={(name) => changed.push(name)} />
      </ApiContext.Provider>,
    )
    const input = (await screen.findByLabelText('Display name')) as HTMLInputElement
    await waitFor(() => expect(input.value).toBe('Alice'))
    const save = screen.getByRole('button', { name: 'Save name' }) as HTMLButtonElement
    expect(save.disabled).toBe(true) // nothing to save yet
    fireEvent.change(input, { target: { value: '  Grandma Alice ' } })
    fireEvent.click(save)
    await screen.findByText(/Saved\./)
    expect(api.calls.find((c) => c.method === 'settings.update')!.params).toEqual({ displayName: 'Grandma Alice' })
    expect(changed).toEqual(['Grandma Alice'])
    expect(input.value).toBe('Grandma Alice')
  })

  it('shows a refused name in place and keeps what was typed', async () => {
    const api = settingsApi(() => {
      throw new HearthError('INVALID_INPUT', 'display name must not contain control or direction-override characters')
    })
    render(
      <ApiContext.Provider value={api}>
        <Settings onClose={() => {}} />
      </ApiContext.Provider>,
    )
    const input = (await screen.findByLabelText('Display name')) as HTMLInputElement
    await waitFor(() => expect(input.value).toBe('Alice'))
    fireEvent.change(input, { target: { value: 'Al\u202Eice' } })
    fireEvent.click(screen.getByRole('button', { name: 'Save name' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('text-direction marks')
    expect(input.value).toBe('Al\u202Eice')
    // Said under the field and tied to it, after its hint.
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(input.getAttribute('aria-describedby')!.split(' ')).toEqual([expect.stringContaining('name-help'), alert.id])
  })

  it('says what is wrong with a relay address under the relay field, in plain words, until it is edited', async () => {
    // The core's own check, so the words shown are those of the real refusal.
    const api = settingsApi((patch) => ({ displayName: 'Alice', relays: validateRelayAddresses(patch.relays ?? []), ...MEDIA }))
    render(
      <ApiContext.Provider value={api}>
        <Settings onClose={() => {}} />
      </ApiContext.Provider>,
    )
    const input = (await screen.findByLabelText('Add a relay')) as HTMLInputElement
    expect(input.getAttribute('aria-invalid')).toBe('false')
    fireEvent.change(input, { target: { value: 'relay.example.org' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add' }))
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toMatch(/^That is not a relay address\. A relay address looks like \/dns4\//)
    expect(alert.textContent).not.toContain('multiaddr')
    expect(input.getAttribute('aria-invalid')).toBe('true')
    expect(input.getAttribute('aria-describedby')).toBe(alert.id)
    expect(input.closest('.field')!.contains(alert)).toBe(true)
    expect(input.value).toBe('relay.example.org')
    fireEvent.change(input, { target: { value: '/dns4/relay.example.org/tcp/443/wss' } })
    expect(screen.queryByRole('alert')).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: 'Add' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/lacks the relay’s id at the end/)
  })
})
