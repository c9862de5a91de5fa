import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { MessageView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import type { PrepareImage } from '../lib/outgoing-file.js'
import { Drafts } from '../state/drafts.js'
import { CONVERSATION, conversationSummary, fakeApi, message } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { Chat } from './Chat.js'
import { Composer, type SendExtras } from './Composer.js'

afterEach(cleanup)
let restoreLayout: () => void
const urlSpies: Array<{ mockRestore(): void }> = []
beforeAll(() => {
  restoreLayout = fakeLayout()
  // The previews only need a string.
  urlSpies.push(vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:preview/${Math.random()}`))
  urlSpies.push(vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {}))
})
afterAll(() => {
  restoreLayout()
  urlSpies.forEach((s) => s.mockRestore())
})

const KB = 1024
const file = (name: string, size: number, type = '') => new File([new Uint8Array(size)], name, { type })

/** "Resizes" photos (names ending in .jpg/.png) to a 1 KB JPEG of 2048×1536 with a hash; anything else is a file. */
const fakePrepare: PrepareImage = async (blob, name) =>
  /\.(jpe?g|png)$/i.test(name)
    ? { blob: new Blob([new Uint8Array(KB)], { type: 'image/jpeg' }), name: name.replace(/\.\w+$/, '.jpg'), width: 2048, height: 1536, thumbhash: 'AAAA', reencoded: true }
    : null

function setup(props: { maxFileBytes?: number; prepare?: PrepareImage } = {}) {
  const onSend = vi.fn<(body: string, extras?: SendExtras) => void>()
  render(
    <Composer
      conversationName="Family"
      initialDraft=""
      onDraftChange={() => {}}
      onSend={onSend}
      prepareImage={props.prepare ?? fakePrepare}
      {...(props.maxFileBytes === undefined ? {} : { maxFileBytes: props.maxFileBytes })}
    />,
  )
  const input = screen.getByLabelText('Message to Family') as HTMLTextAreaElement
  const picker = document.querySelector('input[type="file"]') as HTMLInputElement
  const send = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement
  return { onSend, input, picker, send }
}

const pick = (picker: HTMLInputElement, files: File[]) => fireEvent.change(picker, { target: { files } })

describe('<Composer> with files', () => {
  it('the attach button opens the file picker; picked photos and files wait as chips and go with an optional caption', async () => {
    const { onSend, input, picker, send } = setup()
    const click = vi.spyOn(picker, 'click')
    fireEvent.click(screen.getByRole('button', { name: 'Attach photos or files' }))
    expect(click).toHaveBeenCalled()
    pick(picker, [file('beach.png', 3000 * KB, 'image/png'), file('notes.pdf', 20 * KB, 'application/pdf')])
    const list = await screen.findByRole('list', { name: 'Files to send' })
    await waitFor(() => expect(within(list).getByText('beach.jpg')).toBeTruthy())
    expect(within(list).getByText('1 KB')).toBeTruthy()
    expect(within(list).getByText('notes.pdf')).toBeTruthy()
    expect(within(list).getByText('20 KB')).toBeTruthy()
    expect(screen.getByText('Photos are resized and their location data removed before sending.')).toBeTruthy()
    expect(input.placeholder).toBe('Add a caption')
    // No caption needed.
    expect(send.disabled).toBe(false)
    fireEvent.click(send)
    expect(onSend).toHaveBeenCalledTimes(1)
    const [body, extras] = onSend.mock.calls[0]!
    expect(body).toBe('')
    expect(extras!.files!.map((f) => [f.name, f.kind, f.blob.size, f.width, f.height, f.thumbhash])).toEqual([
      ['beach.jpg', 'image', KB, 2048, 1536, 'AAAA'],
      ['notes.pdf', 'file', 20 * KB, undefined, undefined, undefined],
    ])
    expect(screen.queryByRole('list', { name: 'Files to send' })).toBeNull()
    expect(send.disabled).toBe(true)
  })

  it('refuses a file above the size limit before anything is sent, naming it and its size', async () => {
    const { onSend, picker, send } = setup({ maxFileBytes: 100 * KB })
    pick(picker, [file('holiday.mov', 120 * KB, 'video/quicktime')])
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toBe('“holiday.mov” is 120 KB; Hearth sends files up to 100 KB. Nothing was sent.')
    expect(screen.queryByRole('list', { name: 'Files to send' })).toBeNull()
    expect(send.disabled).toBe(true)
    fireEvent.click(send)
    expect(onSend).not.toHaveBeenCalled()
  })

  it('judges a photo by its size once resized: a big photo that shrinks is fine, one that does not is refused', async () => {
    const { picker } = setup({ maxFileBytes: 100 * KB, prepare: async (blob, name) => (name === 'huge.gif' ? { blob, name, width: 10, height: 10, reencoded: false } : fakePrepare(blob, name)) })
    pick(picker, [file('big.jpg', 5000 * KB, 'image/jpeg'), file('huge.gif', 500 * KB, 'image/gif')])
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('“huge.gif” is 500 KB')
    const list = screen.getByRole('list', { name: 'Files to send' })
    expect(within(list).getByText('big.jpg')).toBeTruthy()
    expect(within(list).queryByText('huge.gif')).toBeNull()
  })

  it('at most 10 files go in one message; the others are refused with the reason', async () => {
    const { picker } = setup()
    pick(picker, Array.from({ length: 12 }, (_, i) => file(`f${i}.txt`, 10)))
    expect((await screen.findByRole('alert')).textContent).toMatch(/at most 10 files/)
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Files to send' })).getAllByRole('listitem')).toHaveLength(10))
  })

  it('Send waits while a photo is being prepared', async () => {
    let finish: () => void = () => {}
    const slow: PrepareImage = (blob, name) => new Promise((resolve) => (finish = () => resolve(fakePrepare(blob, name))))
    const { onSend, input, picker, send } = setup({ prepare: slow })
    pick(picker, [file('slow.jpg', 10 * KB, 'image/jpeg')])
    await screen.findByText('Preparing…')
    fireEvent.change(input, { target: { value: 'look' } })
    expect(send.disabled).toBe(true)
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).not.toHaveBeenCalled()
    await act(async () => finish())
    await waitFor(() => expect(send.disabled).toBe(false))
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend.mock.calls[0]![0]).toBe('look')
    expect(onSend.mock.calls[0]![1]!.files).toHaveLength(1)
  })

  it('a pasted image is attached; pasted text stays text', async () => {
    const { input } = setup()
    const text = new Event('paste', { bubbles: true, cancelable: true })
    Object.assign(text, { clipboardData: { files: [], getData: () => 'hello' } })
    input.dispatchEvent(text)
    expect(text.defaultPrevented).toBe(false)
    fireEvent.paste(input, { clipboardData: { files: [file('image.png', 50 * KB, 'image/png')] } })
    const list = await screen.findByRole('list', { name: 'Files to send' })
    await waitFor(() => expect(within(list).getByText('image.jpg')).toBeTruthy())
  })

  it('files dropped on the composer are attached; a chip can be taken out again', async () => {
    setup()
    const form = document.querySelector('form.composer') as HTMLFormElement
    fireEvent.dragOver(form, { dataTransfer: { types: ['Files'], files: [], dropEffect: 'none' } })
    expect(form.classList.contains('dropping')).toBe(true)
    fireEvent.drop(form, { dataTransfer: { types: ['Files'], files: [file('a.txt', 5), file('b.txt', 6)] } })
    expect(form.classList.contains('dropping')).toBe(false)
    const list = await screen.findByRole('list', { name: 'Files to send' })
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2))
    fireEvent.click(screen.getByRole('button', { name: 'Remove a.txt' }))
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(1))
    expect(within(list).getByText('b.txt')).toBeTruthy()
  })

  it('dragging text (not files) over the composer is left to the text field', () => {
    setup()
    const form = document.querySelector('form.composer') as HTMLFormElement
    fireEvent.dragOver(form, { dataTransfer: { types: ['text/plain'], files: [] } })
    expect(form.classList.contains('dropping')).toBe(false)
  })
})

describe('<Chat> sending files', () => {
  function chatApi(send: (p: unknown) => MessageView | Promise<MessageView>, append?: () => Promise<{ received: number }>) {
    let received = 0
    return fakeApi({
      'messages.page': () => ({ messages: [], nextBefore: null }),
      'settings.get': () => ({ displayName: 'Alice', relays: [], autoDownloadPeerBytes: 0, autoDownloadRelayBytes: 0, maxFileBytes: 100 * KB, keepReceivedBytes: 0 }),
      'files.begin': () => ({ uploadId: 'e'.repeat(32) }),
      'files.append': ({ data }) => append?.() ?? { received: (received += atob(data).length) },
      'files.abort': () => null,
      'messages.send': send,
    })
  }
  const renderChat = (api: ReturnType<typeof chatApi>) =>
    render(
      <ApiContext.Provider value={api}>
        <Chat conversation={conversationSummary()} drafts={new Drafts()} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
      </ApiContext.Provider>,
    )

  it('uploads each file, then sends the message naming the uploads, with the caption', async () => {
    const api = chatApi((p) => message({ body: (p as { body: string }).body, mine: true, state: 'pending' }))
    renderChat(api)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    pick(document.querySelector('input[type="file"]')!, [file('report.pdf', 3 * KB, 'application/pdf')])
    await screen.findByText('3 KB')
    fireEvent.change(input, { target: { value: 'the report' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(api.calls.some((c) => c.method === 'messages.send')).toBe(true))
    expect(api.calls.find((c) => c.method === 'files.begin')!.params).toEqual({ conversationId: CONVERSATION, name: 'report.pdf', size: 3 * KB })
    expect(api.calls.find((c) => c.method === 'messages.send')!.params).toEqual({
      conversationId: CONVERSATION,
      body: 'the report',
      attachments: [{ uploadId: 'e'.repeat(32), kind: 'file' }],
    })
  })

  it('files dropped anywhere on the chat join the message being written (once)', async () => {
    const api = chatApi(() => message({ mine: true }))
    renderChat(api)
    await screen.findByLabelText('Message to Family')
    const chat = document.querySelector('section.chat') as HTMLElement
    fireEvent.dragOver(chat, { dataTransfer: { types: ['Files'], files: [], dropEffect: 'none' } })
    expect(chat.classList.contains('dropping')).toBe(true)
    fireEvent.drop(chat, { dataTransfer: { types: ['Files'], files: [file('plan.txt', 10)] } })
    expect(chat.classList.contains('dropping')).toBe(false)
    const list = await screen.findByRole('list', { name: 'Files to send' })
    await waitFor(() => expect(within(list).getByText('plan.txt')).toBeTruthy())
    // Dropped on the composer itself: taken by the composer only, not a second time by the chat.
    fireEvent.drop(document.querySelector('form.composer')!, { dataTransfer: { types: ['Files'], files: [file('other.txt', 10)] } })
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(2))
  })

  it('shows the upload in the sending row with its progress; Cancel stops it and aborts the upload', async () => {
    let release: (v: { received: number }) => void = () => {}
    const api = chatApi(
      () => message({ mine: true }),
      () => new Promise((resolve) => (release = resolve)),
    )
    renderChat(api)
    await screen.findByLabelText('Message to Family')
    pick(document.querySelector('input[type="file"]')!, [file('video.mp4', 5 * KB, 'video/mp4')])
    await screen.findByText('5 KB')
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    const row = await waitFor(() => screen.getByRole('list', { name: 'File being sent' }).closest('.message') as HTMLElement)
    expect(within(row).getByRole('progressbar', { name: 'Sending files' })).toBeTruthy()
    expect(within(row).getByText(/0 bytes of 5 KB \(0 %\)/)).toBeTruthy()
    fireEvent.click(within(row).getByRole('button', { name: 'Cancel' }))
    await waitFor(() => expect(screen.queryByRole('list', { name: 'File being sent' })).toBeNull())
    await act(async () => release({ received: 5 * KB }))
    await waitFor(() => expect(api.calls.some((c) => c.method === 'files.abort')).toBe(true))
    expect(api.calls.some((c) => c.method === 'messages.send')).toBe(false)
  })
})
