import { multiaddr } from '@multiformats/multiaddr'
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { DeviceView } from '../../../node/src/api/types.js'
import { formatLinkCode } from '../../../node/src/identity/link-code.js'
import { ApiContext } from '../api/context.js'
import { fakeApi, type FakeApi } from '../testing/fake-api.js'
import { DevicesSettings } from './DevicesSettings.js'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

const LINK = formatLinkCode({ secret: 'K7Q29XHM4RTWPLZ3G8N', locator: multiaddr('/ip4/192.168.1.20/tcp/4001').bytes })
const AXE = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
const NOW = Date.now()
const ME: DeviceView = { device: 'a'.repeat(64), peerId: '12D3KooWme', name: 'Kitchen desktop', kind: 'Linux', current: true, linkedAt: NOW - 86_400_000 * 30, online: true, lastSeen: NOW }
const LAPTOP: DeviceView = { device: 'b1c2d3'.padEnd(64, '0'), peerId: '12D3KooWlaptop', name: 'Alice’s laptop', kind: 'macOS', current: false, linkedAt: NOW - 86_400_000, online: true, lastSeen: NOW }
const OLD: DeviceView = { device: 'c'.repeat(64), peerId: '12D3KooWold', name: 'Old tower', kind: 'Windows', current: false, linkedAt: NOW - 86_400_000 * 3, online: false, lastSeen: null }

function setup(devices: DeviceView[] = [ME, LAPTOP, OLD]) {
  let finish: (d: DeviceView) => void = () => {}
  let fail: (e: unknown) => void = () => {}
  const api: FakeApi = fakeApi({
    'devices.list': () => devices,
    'devices.revoke': () => null,
    'devices.rename': (p: { device: string; name: string }) => ({ ...devices.find((d) => d.device === p.device)!, name: p.name }),
    'devices.confirmLink': () => null,
    'devices.link': () =>
      new Promise<DeviceView>((resolve, reject) => {
        finish = resolve
        fail = reject
      }),
  })
  render(
    <ApiContext.Provider value={api}>
      <DevicesSettings />
    </ApiContext.Provider>,
  )
  return { api, finish: (d: DeviceView) => finish(d), fail: (e: unknown) => fail(e) }
}

const typeCode = (text: string) => fireEvent.change(screen.getByLabelText('Code shown on the new device'), { target: { value: text } })

describe('Settings → Devices', () => {
  it('lists this device first, then the others with when they were linked and seen; updates on devices.changed', async () => {
    const { api } = setup()
    const list = await screen.findByRole('list', { name: 'Your devices' })
    const rows = within(list).getAllByRole('listitem')
    expect(rows.map((r) => r.querySelector('.device-name')!.textContent)).toEqual(['Kitchen desktop (this device)', 'Alice’s laptop', 'Old tower'])
    expect(rows[1]!.textContent).toMatch(/macOS/)
    expect(rows[0]!.textContent).toMatch(/In use now/)
    expect(rows[1]!.textContent).toMatch(/Online now/)
    expect(rows[2]!.textContent).toMatch(/Not seen since Hearth started/)
    expect(within(rows[0]!).queryByRole('button', { name: /Revoke/ })).toBeNull() // this device cannot revoke itself
    act(() => api.emit('devices.changed', { devices: [ME, { ...OLD, lastSeen: NOW - 3_600_000 }] }))
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2))
    expect(within(list).getAllByRole('listitem')[1]!.textContent).toMatch(/Last seen/)
    expect((await axe.run(document.body, AXE)).violations).toEqual([])
  })

  it('revokes a device after a confirmation that says what it does', async () => {
    const { api } = setup()
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke Alice’s laptop' }))
    const dialog = await screen.findByRole('dialog', { name: 'Revoke Alice’s laptop?' })
    expect(dialog.textContent).toMatch(/stops reading anything new/)
    expect(dialog.textContent).toMatch(/wipes\s+its keys, messages and files/)
    expect((await axe.run(document.body, AXE)).violations).toEqual([])
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke device' }))
    await screen.findByText('Alice’s laptop was revoked. It wipes itself when it next connects.')
    expect(api.calls.find((c) => c.method === 'devices.revoke')!.params).toEqual({ device: LAPTOP.device })
  })

  it('links a device by its typed code: a typo is said under the field, then the 6 digits, Match, done', async () => {
    const link = setup([ME])
    fireEvent.click(await screen.findByRole('button', { name: 'Link a new device' }))
    const dialog = await screen.findByRole('dialog', { name: 'Link a new device' })
    // No camera in this browser: typing only.
    expect(within(dialog).queryByRole('button', { name: 'Scan QR code' })).toBeNull()
    typeCode('K7Q2 9XHM')
    fireEvent.click(within(dialog).getByRole('button', { name: 'Link device' }))
    const field = screen.getByLabelText('Code shown on the new device')
    expect(field.getAttribute('aria-invalid')).toBe('true')
    expect(within(dialog).getByRole('alert').textContent).toMatch(/missing the part after @/)
    expect(link.api.calls.some((c) => c.method === 'devices.link')).toBe(false)
    expect((await axe.run(document.body, AXE)).violations).toEqual([])

    typeCode(LINK.replace('hearth://link/', '').toLowerCase())
    fireEvent.click(within(dialog).getByRole('button', { name: 'Link device' }))
    await within(dialog).findByText('Reaching the new device…')
    act(() => link.api.emit('devices.linking', { stage: 'confirm', code: '870 288' }))
    expect(await within(dialog).findByText('870 288')).toBeTruthy()
    expect((await axe.run(document.body, AXE)).violations).toEqual([])
    fireEvent.click(within(dialog).getByRole('button', { name: 'Match' }))
    await waitFor(() => expect(link.api.calls.find((c) => c.method === 'devices.confirmLink')?.params).toEqual({ accept: true }))
    act(() => link.api.emit('devices.linking', { stage: 'admitting' }))
    await within(dialog).findByText('Adding the new device to your conversations…')
    act(() => link.finish(LAPTOP))
    await within(dialog).findByText(/^Linked\. The new device is one of yours now/)
  })

  it('a wrong or expired code after connecting is said under the field; Don’t match says nothing was shared', async () => {
    const link = setup([ME])
    fireEvent.click(await screen.findByRole('button', { name: 'Link a new device' }))
    const dialog = await screen.findByRole('dialog', { name: 'Link a new device' })
    typeCode(LINK)
    fireEvent.click(within(dialog).getByRole('button', { name: 'Link device' }))
    await within(dialog).findByText('Reaching the new device…')
    act(() => link.fail(new HearthError('LINK_INVALID', 'The code was wrong or has expired')))
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/^That code is wrong or has expired/)
    expect(screen.getByLabelText('Code shown on the new device').getAttribute('aria-invalid')).toBe('true')

    fireEvent.click(within(dialog).getByRole('button', { name: 'Link device' }))
    act(() => link.api.emit('devices.linking', { stage: 'confirm', code: '111 222' }))
    fireEvent.click(await within(dialog).findByRole('button', { name: 'Don’t match' }))
    await waitFor(() => expect(link.api.calls.filter((c) => c.method === 'devices.confirmLink').at(-1)?.params).toEqual({ accept: false }))
    act(() => link.fail(new HearthError('LINK_CANCELLED', 'Linking was cancelled')))
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/^You said the numbers differ, so nothing was shared/)
  })

  it('offers to scan where a camera may exist, and falls back to typing when it is refused', async () => {
    const getUserMedia = vi.fn(() => Promise.reject(Object.assign(new Error('denied'), { name: 'NotAllowedError' })))
    vi.stubGlobal('navigator', { ...navigator, mediaDevices: { getUserMedia } })
    setup([ME])
    fireEvent.click(await screen.findByRole('button', { name: 'Link a new device' }))
    const dialog = await screen.findByRole('dialog', { name: 'Link a new device' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Scan QR code' }))
    await within(dialog).findByText('Hearth may not use the camera here. Type the code instead.')
    expect(getUserMedia).toHaveBeenCalledOnce()
    expect(within(dialog).queryByRole('button', { name: 'Scan QR code' })).toBeNull()
    expect(screen.getByLabelText('Code shown on the new device')).toBeTruthy()
  })

  it('renames a device: the name goes to the core, which tells every device of the person', async () => {
    const { api } = setup()
    fireEvent.click(await screen.findByRole('button', { name: 'Rename Old tower' }))
    const dialog = await screen.findByRole('dialog', { name: 'Rename device' })
    fireEvent.change(within(dialog).getByLabelText('Device name'), { target: { value: 'Study PC' } })
    expect((await axe.run(dialog, AXE)).violations).toEqual([])
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(screen.queryByRole('dialog', { name: 'Rename device' })).toBeNull())
    expect(api.calls.filter((c) => c.method === 'devices.rename').map((c) => c.params)).toEqual([{ device: OLD.device, name: 'Study PC' }])
  })
})
