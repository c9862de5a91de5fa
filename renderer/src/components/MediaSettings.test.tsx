import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { FileUsageView, SettingsView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { conversationSummary, fakeApi } from '../testing/fake-api.js'
import { Settings } from './Settings.js'

afterEach(cleanup)

const MB = 1024 * 1024
const FAMILY = 'a'.repeat(32)
const BOB = 'b'.repeat(32)

function setup(options: { usage?: FileUsageView[]; update?: (patch: Partial<SettingsView>) => SettingsView } = {}) {
  let settings: SettingsView = { displayName: 'Alice', relays: [], autoDownloadPeerBytes: 25 * MB, autoDownloadRelayBytes: 5 * MB, maxFileBytes: 100 * MB, keepReceivedBytes: 10 * 1024 * MB }
  let usage = options.usage ?? [
    { conversationId: FAMILY, bytes: 300 * MB },
    { conversationId: BOB, bytes: 12 * MB },
  ]
  const api = fakeApi({
    'settings.get': () => settings,
    'identity.whoami': () => ({ account: 'a'.repeat(64), device: 'd'.repeat(64), displayName: 'Alice', peerId: 'p', addresses: [] }),
    'settings.update': (patch) => (settings = options.update?.(patch as Partial<SettingsView>) ?? { ...settings, ...(patch as Partial<SettingsView>) }),
    'conversations.list': () => [conversationSummary({ id: FAMILY, name: 'Family' }), conversationSummary({ id: BOB, name: 'Bob', kind: 'direct' })],
    'files.usage': () => usage,
    'devices.list': () => [],
    'files.clear': ({ conversationId }) => {
      usage = usage.filter((u) => u.conversationId !== conversationId)
      return null
    },
  })
  render(
    <ApiContext.Provider value={api}>
      <Settings onClose={() => {}} />
    </ApiContext.Provider>,
  )
  return api
}

describe('Settings: photos and files', () => {
  it('shows and changes the automatic download sizes and the send limit', async () => {
    const api = setup()
    const peers = (await screen.findByLabelText('Download by themselves from members’ devices')) as HTMLSelectElement
    const relays = screen.getByLabelText('Download by themselves through relays') as HTMLSelectElement
    const limit = screen.getByLabelText('Largest file I send') as HTMLSelectElement
    expect(peers.value).toBe(String(25 * MB))
    expect(peers.selectedOptions[0]!.textContent).toBe('Up to 25 MB')
    expect(relays.selectedOptions[0]!.textContent).toBe('Up to 5 MB')
    expect(limit.selectedOptions[0]!.textContent).toBe('100 MB')
    fireEvent.change(relays, { target: { value: '0' } })
    await waitFor(() => expect(api.calls.find((c) => c.method === 'settings.update')!.params).toEqual({ autoDownloadRelayBytes: 0 }))
    await waitFor(() => expect(relays.selectedOptions[0]!.textContent).toBe('Never (only when I click)'))
    fireEvent.change(limit, { target: { value: String(250 * MB) } })
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'settings.update').at(-1)!.params).toEqual({ maxFileBytes: 250 * MB }))
  })

  it('shows and changes the room kept for received files, with no limit as a choice', async () => {
    const api = setup()
    const keep = (await screen.findByLabelText('Keep received photos and files up to')) as HTMLSelectElement
    expect(keep.selectedOptions[0]!.textContent).toBe('10 GB')
    expect([...keep.options].map((o) => o.textContent)).toEqual(['No limit', '1 GB', '5 GB', '10 GB', '50 GB', '100 GB'])
    expect(screen.getByText(/Files you sent are never removed/)).toBeTruthy()
    fireEvent.change(keep, { target: { value: '0' } })
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'settings.update').at(-1)!.params).toEqual({ keepReceivedBytes: 0 }))
  })

  it('keeps a size set elsewhere as a choice rather than showing another', async () => {
    const api = setup()
    api.handlers['settings.get'] = () => ({ displayName: 'Alice', relays: [], autoDownloadPeerBytes: 7 * MB, autoDownloadRelayBytes: 5 * MB, maxFileBytes: 100 * MB, keepReceivedBytes: 10 * 1024 * MB })
    cleanup()
    render(
      <ApiContext.Provider value={api}>
        <Settings onClose={() => {}} />
      </ApiContext.Provider>,
    )
    const peers = (await screen.findByLabelText('Download by themselves from members’ devices')) as HTMLSelectElement
    await waitFor(() => expect(peers.selectedOptions[0]!.textContent).toBe('Up to 7 MB'))
  })

  it('says a refused change where the choices are', async () => {
    setup({
      update: () => {
        throw new HearthError('INVALID_INPUT', 'maxFileBytes must be at most 1 GiB')
      },
    })
    fireEvent.change(await screen.findByLabelText('Largest file I send'), { target: { value: String(10 * MB) } })
    expect((await screen.findByRole('alert')).textContent).toMatch(/1 GiB/)
  })

  it('lists the space each conversation’s files take, largest first, and clears one after asking', async () => {
    const api = setup()
    const list = await screen.findByRole('list', { name: 'Storage by conversation' })
    await waitFor(() => expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Family300 MBClear media', 'Bob12 MBClear media']))
    expect(screen.getByText('312 MB in 2 conversations.')).toBeTruthy()
    fireEvent.click(within(list).getByRole('button', { name: 'Clear media of Family' }))
    const dialog = await screen.findByRole('dialog', { name: 'Clear the media of Family?' })
    expect(dialog.textContent).toMatch(/The messages stay/)
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' })))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(api.calls.some((c) => c.method === 'files.clear')).toBe(false)
    fireEvent.click(within(list).getByRole('button', { name: 'Clear media of Family' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Clear media' }))
    await screen.findByText('Cleared the photos and files of Family from this device.')
    expect(api.calls.find((c) => c.method === 'files.clear')!.params).toEqual({ conversationId: FAMILY })
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Storage by conversation' })).getAllByRole('listitem')).toHaveLength(1))
  })

  it('says when nothing is stored', async () => {
    setup({ usage: [{ conversationId: FAMILY, bytes: 0 }] })
    expect(await screen.findByText('No photos or files are stored on this device.')).toBeTruthy()
  })
})
