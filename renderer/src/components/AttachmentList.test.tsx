import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import axe from 'axe-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AttachmentView, MessageView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { bytesToBase64 } from '../lib/base64.js'
import { browserTabTarget } from '../lib/open-file.js'
import { browserSaveTarget } from '../lib/save-file.js'
import { thumbhashOf } from '../lib/thumbhash.js'
import { Drafts } from '../state/drafts.js'
import { CONVERSATION, conversationSummary, fakeApi, message, type FakeApi } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { boxRatio } from './AttachmentList.js'
import { Chat } from './Chat.js'

afterEach(cleanup)
let restoreLayout: () => void
let urls = 0
beforeAll(() => {
  restoreLayout = fakeLayout()
})
const spies: Array<{ mockRestore(): void }> = []
beforeEach(() => {
  spies.push(vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:hearth/${++urls}`))
  spies.push(vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {}))
})
afterAll(() => restoreLayout())
// Only this file's own spies: the layout's stay for every test.
afterEach(() => spies.splice(0).forEach((s) => s.mockRestore()))

// A real thumbhash (a small orange image), as a sender's photo would carry.
const HASH = thumbhashOf(4, 3, new Uint8Array(4 * 3 * 4).map((_, i) => [230, 120, 40, 255][i % 4]!))

function attachment(overrides: Partial<AttachmentView> = {}): AttachmentView {
  return { index: 0, name: 'beach.jpg', size: 4096, mime: 'image/jpeg', kind: 'image', width: 2048, height: 1536, thumbhash: HASH, state: 'complete', received: 4096, ...overrides }
}

let seq = 0
function withFiles(attachments: AttachmentView[], overrides: Partial<MessageView> = {}): MessageView {
  seq++
  return message({ id: (0x500 + seq).toString(16).padStart(32, '0'), orderKey: `m${seq.toString().padStart(4, '0')}`, body: '', attachments, ...overrides })
}

function setup(messages: MessageView[]): FakeApi {
  const api = fakeApi({
    'messages.page': () => ({ messages, nextBefore: null }),
    'messages.markRead': () => conversationSummary(),
    'files.read': ({ offset, length }) => ({ data: bytesToBase64(new Uint8Array(Math.min(length, 4096 - offset)).fill(9)), size: 4096, mime: 'image/jpeg' }),
    'files.download': () => null,
    'files.cancel': () => null,
  })
  render(
    <ApiContext.Provider value={api}>
      <Chat conversation={conversationSummary()} drafts={new Drafts()} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
    </ApiContext.Provider>,
  )
  return api
}

const progress = (messageId: string, index: number, state: AttachmentView['state'], received: number, error?: string) => ({
  conversation: CONVERSATION as never,
  message: messageId,
  index,
  state,
  received,
  size: 4096,
  ...(error === undefined ? {} : { error }),
})

describe('photos in a message', () => {
  it('shows the placeholder at once, then the photo read from the core through an object URL', async () => {
    const m = withFiles([attachment()], { body: 'at the beach' })
    const api = setup([m])
    const open = await screen.findByRole('button', { name: 'Open Photo beach.jpg from Bob' })
    const img = await waitFor(() => {
      const full = within(open).getByRole('img', { name: 'Photo beach.jpg from Bob' }) as HTMLImageElement
      expect(full.src).toMatch(/^blob:hearth\//)
      return full
    })
    expect(img).toBeTruthy()
    expect(api.calls.find((c) => c.method === 'files.read')!.params).toEqual({ conversationId: CONVERSATION, messageId: m.id, index: 0, offset: 0, length: 4096 })
    expect(screen.getByText('at the beach')).toBeTruthy()
  })

  it('a photo still downloading has its placeholder, progress in bytes and percent, and Cancel; it appears when complete', async () => {
    const m = withFiles([attachment({ state: 'downloading', received: 1024 })])
    const api = setup([m])
    const bar = await screen.findByRole('progressbar', { name: 'beach.jpg: downloading' })
    expect(bar.getAttribute('value')).toBe('1024')
    expect(screen.getByText('Downloading… 1 KB of 4 KB (25 %)')).toBeTruthy()
    const placeholder = document.querySelector('.attachment-image-placeholder') as HTMLImageElement
    expect(placeholder.src).toMatch(/^data:image\/png;base64,/)
    expect(api.calls.some((c) => c.method === 'files.read')).toBe(false)
    fireEvent.click(screen.getByRole('button', { name: 'Cancel download of beach.jpg' }))
    await waitFor(() => expect(api.calls.find((c) => c.method === 'files.cancel')!.params).toEqual({ conversationId: CONVERSATION, messageId: m.id, index: 0 }))

    act(() => api.emit('file.progress', progress(m.id, 0, 'downloading', 3072)))
    await screen.findByText('Downloading… 3 KB of 4 KB (75 %)')
    act(() => api.emit('file.progress', progress(m.id, 0, 'complete', 4096)))
    await screen.findByRole('button', { name: 'Open Photo beach.jpg from Bob' })
    expect(screen.queryByRole('progressbar')).toBeNull()
    await waitFor(() => expect(api.calls.some((c) => c.method === 'files.read')).toBe(true))
  })
})

describe('boxRatio', () => {
  it('keeps a photo’s shape, within 1:3 and 3:1, whatever sizes a message claims', () => {
    expect(boxRatio(2048, 1536)).toBeCloseTo(4 / 3)
    expect(boxRatio(1, 65_535)).toBeCloseTo(1 / 3)
    expect(boxRatio(65_535, 1)).toBe(3)
    expect(boxRatio(0, 10)).toBe(1)
    expect(boxRatio(Number.NaN, 10)).toBe(1)
  })
})

describe('file cards', () => {
  const pdf = (overrides: Partial<AttachmentView>) => attachment({ name: 'report.pdf', mime: 'application/pdf', kind: 'file', ...overrides })

  it('say where the file is, in words, with the action that state allows', async () => {
    const a = withFiles([pdf({ state: 'available', received: 0 })])
    const b = withFiles([pdf({ name: 'late.pdf', state: 'waiting', received: 0 })])
    const c = withFiles([pdf({ name: 'broken.pdf', state: 'failed', received: 0, error: 'Every copy we found was damaged.' })])
    const d = withFiles([pdf({ name: 'gone.pdf', state: 'removed', received: 0 })])
    const e = withFiles([pdf({ name: 'sent.pdf', state: 'removed', received: 0 })], { mine: true })
    const api = setup([a, b, c, d, e])
    await screen.findByText('PDF document · 4 KB · Not downloaded (larger than your automatic download size)')
    expect(screen.getByText('PDF document · 4 KB · Waiting for someone who has it to be online')).toBeTruthy()
    expect(screen.getByText('PDF document · 4 KB · Not downloaded: Every copy we found was damaged')).toBeTruthy()
    expect(screen.getAllByText('PDF document · 4 KB · Removed from this device')).toHaveLength(2)
    fireEvent.click(screen.getByRole('button', { name: 'Download report.pdf' }))
    fireEvent.click(screen.getByRole('button', { name: 'Retry download of broken.pdf' }))
    fireEvent.click(screen.getByRole('button', { name: 'Cancel download of late.pdf' }))
    fireEvent.click(screen.getByRole('button', { name: 'Try downloading late.pdf now' }))
    // A received file removed from this device (Clear media, or for room) can be downloaded again.
    fireEvent.click(screen.getByRole('button', { name: 'Download again: gone.pdf' }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'files.download' || c.method === 'files.cancel')).toHaveLength(5))
    expect(api.calls.filter((c) => c.method === 'files.download').map((c) => (c.params as { messageId: string }).messageId)).toEqual([a.id, c.id, b.id, d.id])
    expect(api.calls.find((c) => c.method === 'files.cancel')!.params).toEqual({ conversationId: CONVERSATION, messageId: b.id, index: 0 })
    // Our own file removed here has nobody to come back from but us: nothing to do.
    expect(screen.queryByRole('button', { name: /sent\.pdf/ })).toBeNull()
  })

  it('a file that can run programs is saved only after a warning (focus on Cancel); a plain one saves at once', async () => {
    const click = vi.spyOn(browserSaveTarget, 'click').mockImplementation(() => {})
    spies.push(click)
    const m = withFiles([pdf({ name: 'setup.exe', mime: 'application/x-msdownload', risky: true }), pdf({ index: 1, name: 'notes.txt', mime: 'text/plain' })])
    const api = setup([m])
    expect(await screen.findByText('This type of file can run programs on your computer.')).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Save setup.exe' }))
    const dialog = await screen.findByRole('dialog', { name: 'Save a file that can run programs?' })
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' })))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(api.calls.some((c) => c.method === 'files.read')).toBe(false)
    fireEvent.click(screen.getByRole('button', { name: 'Save setup.exe' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Save anyway' }))
    await waitFor(() => expect(click).toHaveBeenCalledWith(expect.stringMatching(/^blob:/), 'setup.exe'))
    // Not risky: no question asked.
    fireEvent.click(screen.getByRole('button', { name: 'Save notes.txt' }))
    await waitFor(() => expect(click).toHaveBeenLastCalledWith(expect.stringMatching(/^blob:/), 'notes.txt'))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('a risky name is warned about even when the core did not mark it', async () => {
    setup([withFiles([pdf({ name: 'invoice.pdf.js', mime: 'text/plain' })])])
    expect(await screen.findByText('This type of file can run programs on your computer.')).toBeTruthy()
  })
})

describe('the photo viewer', () => {
  it('opens on a photo, goes through the chat’s photos with the arrows and buttons, and Escape gives focus back', async () => {
    const first = withFiles([attachment({ name: 'one.jpg' }), attachment({ index: 1, name: 'two.jpg' })])
    const second = withFiles([attachment({ name: 'three.jpg' }), attachment({ index: 1, name: 'notes.pdf', kind: 'file', mime: 'application/pdf' })])
    setup([first, second])
    const opener = await screen.findByRole('button', { name: 'Open Photo two.jpg from Bob' })
    opener.focus()
    fireEvent.click(opener)
    const viewer = await screen.findByRole('dialog', { name: 'two.jpg' })
    expect(viewer.getAttribute('aria-describedby')).toBeTruthy()
    expect(within(viewer).getByText(/^Photo 2 of 3, from Bob/)).toBeTruthy()
    await waitFor(() => expect((within(viewer).getByRole('img', { name: 'Photo two.jpg from Bob' }) as HTMLImageElement).src).toMatch(/^blob:/))

    fireEvent.keyDown(viewer, { key: 'ArrowRight' })
    expect(await screen.findByRole('dialog', { name: 'three.jpg' })).toBeTruthy()
    expect(within(viewer).getByText(/^Photo 3 of 3/)).toBeTruthy()
    // The last one: Next does nothing more, and says so by being disabled.
    expect((within(viewer).getByRole('button', { name: 'Next photo' }) as HTMLButtonElement).disabled).toBe(true)
    fireEvent.keyDown(viewer, { key: 'ArrowRight' })
    expect(within(viewer).getByText(/^Photo 3 of 3/)).toBeTruthy()
    fireEvent.click(within(viewer).getByRole('button', { name: 'Previous photo' }))
    fireEvent.keyDown(viewer, { key: 'ArrowLeft' })
    expect(await screen.findByRole('dialog', { name: 'one.jpg' })).toBeTruthy()
    expect((within(viewer).getByRole('button', { name: 'Previous photo' }) as HTMLButtonElement).disabled).toBe(true)

    fireEvent.keyDown(viewer, { key: 'Escape' })
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Open Photo two.jpg from Bob' }))
  })

  it('saves the photo shown', async () => {
    const click = vi.spyOn(browserSaveTarget, 'click').mockImplementation(() => {})
    spies.push(click)
    setup([withFiles([attachment({ name: 'sunset.jpg' })])])
    fireEvent.click(await screen.findByRole('button', { name: 'Open Photo sunset.jpg from Bob' }))
    const viewer = await screen.findByRole('dialog', { name: 'sunset.jpg' })
    fireEvent.click(within(viewer).getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(click).toHaveBeenCalledWith(expect.stringMatching(/^blob:/), 'sunset.jpg'))
  })

  it('closes when its photo is deleted for everyone', async () => {
    const m = withFiles([attachment({ name: 'oops.jpg' })])
    const api = setup([m])
    fireEvent.click(await screen.findByRole('button', { name: 'Open Photo oops.jpg from Bob' }))
    await screen.findByRole('dialog', { name: 'oops.jpg' })
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...m, deleted: true, attachments: [] } }))
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
  })
})

describe('accessibility', () => {
  it('the attachment list and the viewer pass axe (structure, names, roles)', async () => {
    const m = withFiles([attachment({ name: 'a.jpg' }), attachment({ index: 1, name: 'b.jpg', state: 'downloading', received: 100 })])
    const files = withFiles([attachment({ name: 'setup.exe', kind: 'file', mime: 'application/x-msdownload', risky: true }), attachment({ index: 1, name: 'x.pdf', kind: 'file', mime: 'application/pdf', state: 'available', received: 0 })])
    const container = document.body
    setup([m, files])
    await screen.findByRole('button', { name: 'Open Photo a.jpg from Bob' })
    // Colour contrast needs a layout engine; the e2e run checks it in Chromium.
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const list = await axe.run(container, options)
    expect(list.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
    fireEvent.click(screen.getByRole('button', { name: 'Open Photo a.jpg from Bob' }))
    await screen.findByRole('dialog', { name: 'a.jpg' })
    const viewer = await axe.run(container, options)
    expect(viewer.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
  })
})

describe('opening a file', () => {
  const file = (overrides: Partial<AttachmentView>): AttachmentView => {
    const { width: _w, height: _h, thumbhash: _t, ...plain } = attachment({ kind: 'file', ...overrides })
    return plain
  }
  const bridge = window as unknown as { hearth?: unknown }
  afterEach(() => {
    delete bridge.hearth
  })

  it('on the desktop, hands the shell only which file; a risky one only after a warning that says it is shown, not run', async () => {
    const openFile = vi.fn((_ref: unknown) => Promise.resolve<{ action: 'opened' | 'shown' }>({ action: 'opened' }))
    bridge.hearth = { openFile }
    const m = withFiles([file({ name: 'report.pdf', mime: 'application/pdf' }), file({ index: 1, name: 'setup.exe', mime: 'application/x-msdownload', risky: true })])
    const api = setup([m])
    fireEvent.click(await screen.findByRole('button', { name: 'Open report.pdf' }))
    await waitFor(() => expect(openFile).toHaveBeenCalledTimes(1))
    expect(openFile.mock.calls[0]![0]).toEqual({ conversationId: CONVERSATION, messageId: m.id, index: 0 })
    // The shell asks the core itself: the page reads nothing.
    expect(api.calls.some((c) => c.method === 'files.read')).toBe(false)

    fireEvent.click(screen.getByRole('button', { name: 'Open setup.exe' }))
    const dialog = await screen.findByRole('dialog', { name: 'Open a file that can run programs?' })
    expect(within(dialog).getByText(/Hearth will not run it: it saves it in your Downloads folder, under Hearth, and shows it there\./)).toBeTruthy()
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Cancel' })))
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(openFile).toHaveBeenCalledTimes(1)
    fireEvent.click(screen.getByRole('button', { name: 'Open setup.exe' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Continue' }))
    await waitFor(() => expect(openFile).toHaveBeenCalledTimes(2))
    expect(openFile.mock.calls[1]![0]).toEqual({ conversationId: CONVERSATION, messageId: m.id, index: 1 })
    // The shell only showed it in its folder: the card says where it is.
    openFile.mockImplementationOnce(() => Promise.resolve({ action: 'shown' as const }))
    fireEvent.click(screen.getByRole('button', { name: 'Open setup.exe' }))
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Continue' }))
    await waitFor(() => expect(screen.getByText('“setup.exe” was saved in Downloads › Hearth and is shown in its folder.').getAttribute('role')).toBe('status'))

    // A refusal from the shell is shown on the card.
    openFile.mockImplementationOnce(() => Promise.reject({ name: 'HearthError', code: 'NOT_FOUND', message: '“report.pdf” is not on this device yet' }))
    fireEvent.click(screen.getByRole('button', { name: 'Open report.pdf' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/not on this device yet/)
  })

  it('in a browser, opens a PDF or text in a tab opened in the click, as a type that runs nothing; anything else is saved', async () => {
    const shown: Array<{ url: string; type: string }> = []
    const made = new Map<string, string>()
    const tab = { show: vi.fn((url: string) => shown.push({ url, type: made.get(url)! })), close: vi.fn() }
    const openBlank = vi.spyOn(browserTabTarget, 'openBlank').mockImplementation(() => tab)
    const createUrl = vi.spyOn(browserTabTarget, 'createUrl').mockImplementation((blob) => {
      const url = `blob:hearth/tab-${made.size}`
      made.set(url, blob.type)
      return url
    })
    const save = vi.spyOn(browserSaveTarget, 'click').mockImplementation(() => {})
    spies.push(openBlank, createUrl, save)
    const m = withFiles([
      file({ name: 'report.pdf', mime: 'application/pdf' }),
      file({ index: 1, name: 'notes.txt', mime: 'text/plain' }),
      file({ index: 2, name: 'budget.docx', mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }),
      file({ index: 3, name: 'page.html', mime: 'text/html', risky: true }),
    ])
    setup([m])

    fireEvent.click(await screen.findByRole('button', { name: 'Open report.pdf' }))
    // The tab is opened in the click itself, before the file is read (later, it would be blocked as a pop-up).
    expect(openBlank).toHaveBeenCalledTimes(1)
    await waitFor(() => expect(shown).toEqual([{ url: 'blob:hearth/tab-0', type: 'application/pdf' }]))
    fireEvent.click(screen.getByRole('button', { name: 'Open notes.txt' }))
    await waitFor(() => expect(shown[1]?.type).toBe('text/plain;charset=utf-8'))

    fireEvent.click(screen.getByRole('button', { name: 'Open budget.docx' }))
    await waitFor(() => expect(save).toHaveBeenCalledWith(expect.stringMatching(/^blob:/), 'budget.docx'))
    fireEvent.click(screen.getByRole('button', { name: 'Open page.html' }))
    const dialog = await screen.findByRole('dialog', { name: 'Open a file that can run programs?' })
    expect(within(dialog).getByText(/your browser downloads it, or shows it as plain text/)).toBeTruthy()
    fireEvent.click(within(dialog).getByRole('button', { name: 'Continue' }))
    await waitFor(() => expect(save).toHaveBeenCalledWith(expect.stringMatching(/^blob:/), 'page.html'))
    // Neither went to a tab.
    expect(openBlank).toHaveBeenCalledTimes(2)

    // A browser that blocks the tab: the file is saved instead.
    openBlank.mockImplementation(() => null)
    fireEvent.click(screen.getByRole('button', { name: 'Open report.pdf' }))
    await waitFor(() => expect(save).toHaveBeenCalledWith(expect.stringMatching(/^blob:/), 'report.pdf'))
    expect(shown).toHaveLength(2)
  })
})

describe('who received my files', () => {
  const receipt = (name: string, device: string, received: number, complete: boolean) => ({ account: name.repeat(64).slice(0, 64), displayName: name, device: device.repeat(64), received, complete })

  it('says how many of the other devices fetched my file, each with how far, and follows progress events', async () => {
    const mine = withFiles(
      [attachment({ name: 'minutes.pdf', kind: 'file', mime: 'application/pdf', receivedBy: [receipt('carol', 'c', 4096, true), receipt('dave', 'e', 2048, false)], recipients: 2 })],
      { mine: true },
    )
    const theirs = withFiles([attachment({ name: 'other.pdf', kind: 'file', mime: 'application/pdf' })])
    const api = setup([mine, theirs])
    const summary = await screen.findByText('Received by 1 of 2')
    const details = summary.closest('details')!
    expect(details.open).toBe(false)
    fireEvent.click(summary)
    const list = within(details).getByRole('list', { name: 'Who received minutes.pdf' })
    expect(within(list).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['carol · received', 'dave · 50 %'])
    // Someone else's file says nothing of the kind.
    expect(screen.getAllByText(/^Received by/)).toHaveLength(1)

    act(() =>
      api.emit('file.progress', {
        ...progress(mine.id, 0, 'complete', 4096),
        receivedBy: [receipt('carol', 'c', 4096, true), receipt('dave', 'e', 4096, true)],
        recipients: 2,
      }),
    )
    expect(await screen.findByText('Received by 2 of 2')).toBeTruthy()
  })

  it('on my photo too, and it passes axe', async () => {
    const photo = withFiles([attachment({ name: 'cake.jpg', receivedBy: [], recipients: 3 })], { mine: true })
    setup([photo])
    const summary = await screen.findByText('Received by 0 of 3')
    fireEvent.click(summary)
    expect(screen.getByText('No one has fetched it from this device yet.')).toBeTruthy()
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const result = await axe.run(document.body, options)
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
  })
})
