import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { MessageView } from '../../../node/src/api/types.js'
import type { ConversationId } from '../../../node/src/ids.js'
import { ApiContext } from '../api/context.js'
import { Drafts, apiDraftSync } from '../state/drafts.js'
import { CONVERSATION, conversationSummary, fakeApi, message, type FakeApi } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { Chat, conflictNotice } from './Chat.js'

afterEach(cleanup)
let restoreLayout: () => void
beforeAll(() => {
  restoreLayout = fakeLayout()
})
afterAll(() => restoreLayout())

const summary = conversationSummary({ unread: 1 })

function renderChat(api: FakeApi, drafts = new Drafts(), conversation = summary) {
  return render(
    <ApiContext.Provider value={api}>
      <Chat conversation={conversation} drafts={drafts} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
    </ApiContext.Provider>,
  )
}

let seq = 1000
function mine(body: string, state: MessageView['state'] = 'pending'): MessageView {
  seq++
  return message({ id: seq.toString(16).padStart(32, '0'), orderKey: `z${seq}`, body, mine: true, state, authorName: 'Alice', author: 'a'.repeat(64) })
}

describe('<Chat>', () => {
  it('shows the newest page, marks what it shows as read, and follows live events', async () => {
    const bob = message({ body: 'hi Alice', orderKey: 'a1' })
    const api = fakeApi({
      'messages.page': () => ({ messages: [bob], nextBefore: null }),
      'messages.markRead': () => ({ ...summary, unread: 0 }),
    })
    renderChat(api)
    await screen.findByText('hi Alice')
    expect(screen.getByRole('log', { name: 'Messages in Family' })).toBeTruthy()
    await waitFor(() => expect(api.calls.some((c) => c.method === 'messages.markRead')).toBe(true))
    expect(api.calls.find((c) => c.method === 'messages.markRead')!.params).toEqual({ conversationId: CONVERSATION, upTo: 'a1' })

    // A new message from Bob arrives: shown, announced, and marked read.
    act(() => api.emit('message.added', { conversation: CONVERSATION as never, message: message({ body: 'are you there?', orderKey: 'a2', authorName: 'Bob' }) }))
    await screen.findByText('are you there?')
    expect(screen.getByRole('status', { name: '' }).textContent ?? '').toBeDefined()
    await waitFor(() => expect(document.querySelector('[aria-live="polite"]')!.textContent).toBe('Bob: are you there?'))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'messages.markRead').at(-1)!.params).toEqual({ conversationId: CONVERSATION, upTo: 'a2' }))
    // Events for other conversations are not ours.
    act(() => api.emit('message.added', { conversation: 'f'.repeat(32) as never, message: message({ body: 'elsewhere', orderKey: 'a3' }) }))
    expect(screen.queryByText('elsewhere')).toBeNull()
  })

  it('sends optimistically, then shows the core state as it moves to read', async () => {
    let answer: (m: MessageView) => void = () => {}
    const api = fakeApi({
      'messages.page': () => ({ messages: [], nextBefore: null }),
      'messages.send': () => new Promise<MessageView>((resolve) => (answer = resolve)),
    })
    renderChat(api)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    fireEvent.change(input, { target: { value: 'dinner at 7' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    // Before the core answers: the row is there, marked as sending, and the composer is free.
    expect(await screen.findByText('dinner at 7')).toBeTruthy()
    expect(document.querySelector('[data-state="sending"]')).not.toBeNull()
    expect(input.value).toBe('')
    const sent = mine('dinner at 7')
    act(() => answer(sent))
    await waitFor(() => expect(document.querySelector('[data-state="pending"]')).not.toBeNull())
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...sent, state: 'delivered' } }))
    await waitFor(() => expect(document.querySelector('[data-state="delivered"]')).not.toBeNull())
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...sent, state: 'read' } }))
    await waitFor(() => expect(document.querySelector('[data-state="read"]')).not.toBeNull())
    expect(screen.getAllByText('dinner at 7')).toHaveLength(1)
  })

  it('shows a refused send in place with Retry, and a failed message with Retry that calls messages.retry', async () => {
    let refuse = true
    const failed = { ...mine('lost one'), state: 'failed' as const, failure: 'not delivered before you were removed' }
    const api = fakeApi({
      'messages.page': () => ({ messages: [failed], nextBefore: null }),
      'messages.send': ({ body }) => {
        if (refuse) throw new HearthError('TIMEOUT', 'the core did not answer in time')
        return mine(body)
      },
      'messages.retry': () => ({ ...failed, state: 'pending', failure: null }),
    })
    renderChat(api)
    expect(await screen.findByText('not delivered before you were removed')).toBeTruthy()
    const input = screen.getByLabelText('Message to Family')
    fireEvent.change(input, { target: { value: 'in a hurry' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(await screen.findByText('Hearth did not answer in time. Try again.')).toBeTruthy()
    const retries = screen.getAllByRole('button', { name: 'Retry' })
    expect(retries).toHaveLength(2)
    refuse = false
    fireEvent.click(retries[1]!)
    await waitFor(() => expect(screen.queryByText('Hearth did not answer in time. Try again.')).toBeNull())
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }))
    await waitFor(() => expect(screen.queryByText('not delivered before you were removed')).toBeNull())
    expect(api.calls.filter((c) => c.method === 'messages.retry')).toHaveLength(1)
  })

  it('keeps a draft per conversation', async () => {
    const drafts = new Drafts()
    drafts.set(CONVERSATION, 'half a thought')
    const api = fakeApi({ 'messages.page': () => ({ messages: [], nextBefore: null }) })
    renderChat(api, drafts)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    expect(input.value).toBe('half a thought')
    fireEvent.change(input, { target: { value: 'a whole thought' } })
    expect(drafts.get(CONVERSATION)).toBe('a whole thought')
    expect(drafts.get('other')).toBe('')
  })

  it('shows the draft typed on another device when there is none here, and sends what is typed here to the core', async () => {
    const drafts = new Drafts(undefined, 10)
    const api = fakeApi({
      'messages.page': () => ({ messages: [], nextBefore: null }),
      'drafts.get': () => ({ text: 'typed on the phone', at: 1 }),
      'drafts.set': () => null,
    })
    drafts.connect(apiDraftSync(api))
    renderChat(api, drafts)
    await waitFor(async () => expect(((await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement).value).toBe('typed on the phone'))
    const input = screen.getByLabelText('Message to Family') as HTMLTextAreaElement
    fireEvent.change(input, { target: { value: 'typed on the laptop' } })
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'drafts.set').map((c) => c.params)).toEqual([{ conversationId: CONVERSATION, text: 'typed on the laptop' }]))
  })

  it('never overwrites the open composer with a draft from another device', async () => {
    const drafts = new Drafts(undefined, 10)
    drafts.set(CONVERSATION, 'half a thought')
    const api = fakeApi({ 'messages.page': () => ({ messages: [], nextBefore: null }), 'drafts.set': () => null })
    drafts.connect(apiDraftSync(api))
    const { unmount } = renderChat(api, drafts)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    fireEvent.change(input, { target: { value: 'half a thought, going on' } })
    act(() => api.emit('draft.changed', { conversation: CONVERSATION as ConversationId, text: 'from the phone' }))
    expect(input.value).toBe('half a thought, going on')
    expect(drafts.get(CONVERSATION)).toBe('half a thought, going on')
    unmount()
    expect(drafts.get(CONVERSATION)).toBe('half a thought, going on')
    // Closed: the next one from elsewhere is taken.
    act(() => api.emit('draft.changed', { conversation: CONVERSATION as ConversationId, text: 'from the phone, later' }))
    expect(drafts.get(CONVERSATION)).toBe('from the phone, later')
  })

  it('shows a load error in place, and a removed member can read but not write', async () => {
    const api = fakeApi({
      'messages.page': () => {
        throw new HearthError('NOT_A_MEMBER', 'you are not a member of this conversation')
      },
    })
    renderChat(api, new Drafts(), { ...summary, removed: true, role: null })
    expect((await screen.findByRole('alert')).textContent).toBe('You are not in this conversation any more. You can still read what was said before.')
    expect(screen.getByText(/You were removed/)).toBeTruthy()
    expect((screen.getByLabelText('Message to Family') as HTMLTextAreaElement).disabled).toBe(true)
    expect(screen.queryByRole('button', { name: 'Invite' })).toBeNull()
  })

  it('offers Invite in a group and in a direct chat still waiting for the other person, never in a full direct chat', async () => {
    const api = fakeApi({ 'messages.page': () => ({ messages: [], nextBefore: null }) })
    const invite = () => screen.queryByRole('button', { name: 'Invite' })
    const { rerender } = renderChat(api, new Drafts(), { ...summary, kind: 'group', memberCount: 2 })
    expect(invite()).not.toBeNull()
    const chat = (conversation: typeof summary) => (
      <ApiContext.Provider value={api}>
        <Chat conversation={conversation} drafts={new Drafts()} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
      </ApiContext.Provider>
    )
    rerender(chat({ ...summary, kind: 'direct', memberCount: 1 }))
    expect(invite()).not.toBeNull()
    rerender(chat({ ...summary, kind: 'direct', memberCount: 2 }))
    expect(invite()).toBeNull()
    expect(screen.getByRole('button', { name: 'Members' })).toBeTruthy()
  })

  it('shows authors under their current name: a rename updates messages already on screen', async () => {
    const member = (displayName: string) => ({ account: 'b'.repeat(64), displayName, role: 'member' as const, devices: [], me: false })
    const api = fakeApi({
      'messages.page': () => ({ messages: [message({ body: 'from before', orderKey: 'a1', authorName: 'Bob' })], nextBefore: null }),
      'conversations.members': () => [member('Bob')],
    })
    renderChat(api)
    await screen.findByText('from before')
    expect(document.querySelector('.author')!.textContent).toBe('Bob')
    act(() => api.emit('members.changed', { conversation: CONVERSATION as never, members: [member('Robert')] }))
    await waitFor(() => expect(document.querySelector('.author')!.textContent).toBe('Robert'))
    // A rename in another conversation is not this one's.
    act(() => api.emit('members.changed', { conversation: 'f'.repeat(32) as never, members: [member('Someone else')] }))
    expect(document.querySelector('.author')!.textContent).toBe('Robert')
  })

  it('a removed member keeps the name they last had on what they wrote', async () => {
    const member = (displayName: string) => ({ account: 'b'.repeat(64), displayName, role: 'member' as const, devices: [], me: false })
    let removed: Array<{ account: string; displayName: string }> = []
    const api = fakeApi({
      'messages.page': () => ({ messages: [message({ body: 'from before', orderKey: 'a1', authorName: 'Bob' })], nextBefore: null }),
      'conversations.members': () => [member('Robert')],
      'conversations.removed': () => removed,
    })
    renderChat(api)
    await waitFor(() => expect(document.querySelector('.author')?.textContent).toBe('Robert'))
    removed = [{ account: 'b'.repeat(64), displayName: 'Robert' }]
    act(() => api.emit('members.changed', { conversation: CONVERSATION as never, members: [] }))
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'conversations.removed').length).toBeGreaterThan(1))
    expect(document.querySelector('.author')!.textContent).toBe('Robert')
  })

  it('equivocation: a calm banner names whose device sent conflicting messages, and a withdrawn row reads like a deleted one', async () => {
    const bob = message({ body: 'the meeting is at noon', orderKey: 'a1', authorName: 'Bob' })
    const api = fakeApi({ 'messages.page': () => ({ messages: [bob], nextBefore: null }) })
    const conflicts = [{ account: bob.author, displayName: 'Bob', device: 'd'.repeat(64), positions: 1, at: 0 }]
    renderChat(api, new Drafts(), { ...summary, conflicts })
    await screen.findByText('the meeting is at noon')
    const banner = screen.getByText('Bob’s device sent conflicting messages; they are hidden.')
    expect(banner.getAttribute('role')).toBe('status')
    expect(banner.className).toBe('banner') // calm: not a warning or an error
    // The core withdraws the row on every member: shown in place, without its text.
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...bob, body: '', withdrawn: 'conflict' } }))
    await screen.findByText('Withdrawn: this device sent conflicting messages')
    expect(screen.queryByText('the meeting is at noon')).toBeNull()
    expect(screen.getByText('Withdrawn: this device sent conflicting messages').className).toContain('deleted')
  })

  it('no banner without conflicts; a message withdrawn after a removal says so', async () => {
    const mallory = message({ body: 'sneaky', orderKey: 'a1', authorName: 'Mallory' })
    const api = fakeApi({ 'messages.page': () => ({ messages: [mallory], nextBefore: null }) })
    renderChat(api, new Drafts(), { ...summary, conflicts: [] })
    await screen.findByText('sneaky')
    expect(screen.queryByText(/conflicting messages/)).toBeNull()
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...mallory, body: '', withdrawn: 'removed' } }))
    await screen.findByText('Withdrawn: sent after they were removed')
  })
})

describe('conflictNotice', () => {
  it('names one device or several', () => {
    expect(conflictNotice(['Bob'])).toBe('Bob’s device sent conflicting messages; they are hidden.')
    expect(conflictNotice(['Bob', 'Eve', 'Bob'])).toBe('The devices of Bob and Eve sent conflicting messages; they are hidden.')
  })
})

describe('<Chat> composing and reading', () => {
  const ME = 'a'.repeat(64)
  const BOB = 'b'.repeat(64)
  const CAROL = 'c'.repeat(64)
  const member = (account: string, displayName: string, me = false) => ({ account, displayName, role: 'member' as const, devices: [], me })
  const members = () => [member(ME, 'Alice', true), member(BOB, 'Bob'), member(CAROL, 'Carol')]
  const theirs = (i: number, author = BOB, authorName = 'Bob') => message({ id: i.toString(16).padStart(32, '0'), orderKey: `k${String(i).padStart(4, '0')}`, body: `message ${i}`, author, authorName })
  const ours = (i: number) => ({ ...theirs(i, ME, 'Alice'), mine: true, body: `mine ${i}` })

  it('a "New messages" divider sits above the first unread message, and stays after they are marked read', async () => {
    const page = [theirs(1), ours(2), theirs(3), ours(4), theirs(5)]
    const api = fakeApi({
      'messages.page': () => ({ messages: page, nextBefore: null }),
      'messages.markRead': () => ({ ...summary, unread: 0 }),
      'conversations.members': members,
    })
    const view = renderChat(api, new Drafts(), { ...summary, unread: 2 })
    const divider = await screen.findByRole('separator', { name: 'New messages' })
    // In the same slot as the first unread message, above it.
    expect(divider.parentElement!.querySelector('.body')!.textContent).toBe('message 3')
    // Everything fits: the chat opens at the newest message and marks it read.
    await waitFor(() => expect(api.calls.some((c) => c.method === 'messages.markRead')).toBe(true))
    view.rerender(
      <ApiContext.Provider value={api}>
        <Chat conversation={{ ...summary, unread: 0 }} drafts={new Drafts()} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
      </ApiContext.Provider>,
    )
    expect(screen.getByRole('separator', { name: 'New messages' })).toBe(divider)
    expect(screen.queryByRole('button', { name: /Jump to latest/ })).toBeNull()
  })

  it('no divider when nothing is unread', async () => {
    const api = fakeApi({ 'messages.page': () => ({ messages: [theirs(1), theirs(2)], nextBefore: null }), 'messages.markRead': () => summary })
    renderChat(api, new Drafts(), { ...summary, unread: 0 })
    await screen.findByText('message 2')
    expect(screen.queryByRole('separator', { name: 'New messages' })).toBeNull()
  })

  it('more unread than fit: opens at the divider without marking read; Jump to latest says how many and marks them read', async () => {
    const page = Array.from({ length: 40 }, (_, i) => theirs(i + 1))
    const api = fakeApi({
      'messages.page': () => ({ messages: page, nextBefore: null }),
      'messages.markRead': () => ({ ...summary, unread: 0 }),
      'conversations.members': members,
    })
    // Rows are measured by their offsetHeight, which happy-dom leaves at 0: give them the height a browser would.
    const rowHeight = vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockImplementation(function (this: HTMLElement) {
      return this.classList.contains('message-slot') ? 64 : 0
    })
    onTestFinished(() => rowHeight.mockRestore())
    renderChat(api, new Drafts(), { ...summary, unread: 25 })
    await screen.findByText('message 40').catch(() => {})
    const jump = await screen.findByRole('button', { name: /^Jump to latest\s*25\s*new messages$/ })
    expect(screen.getByRole('separator', { name: 'New messages' }).parentElement!.querySelector('.body')!.textContent).toBe('message 16')
    expect(api.calls.some((c) => c.method === 'messages.markRead')).toBe(false)
    fireEvent.click(jump)
    await waitFor(() => expect(api.calls.find((c) => c.method === 'messages.markRead')?.params).toEqual({ conversationId: CONVERSATION, upTo: page.at(-1)!.orderKey }))
    expect(screen.queryByRole('button', { name: /Jump to latest/ })).toBeNull()
    expect(document.activeElement).toBe(screen.getByRole('log'))
  })

  it("shows others typing under the messages, never us, and clears it when they send or their time runs out", async () => {
    const api = fakeApi({
      'messages.page': () => ({ messages: [theirs(1)], nextBefore: null }),
      'messages.markRead': () => summary,
      'conversations.members': members,
    })
    renderChat(api)
    await screen.findByText('message 1')
    await waitFor(() => expect(api.calls.some((c) => c.method === 'conversations.members')).toBe(true))
    await act(async () => {})
    const line = document.querySelector('.typing-indicator')!
    expect(line.getAttribute('aria-live')).toBe('polite')
    const typing = (account: string, displayName: string, until = Date.now() + 7_000, conversation = CONVERSATION) =>
      act(() => api.emit('typing', { conversation: conversation as never, account: account as never, displayName, until }))
    typing(ME, 'Alice')
    typing(BOB, 'Bob', Date.now() + 7_000, 'f'.repeat(32))
    expect(line.textContent).toBe('')
    typing(BOB, 'Bob')
    expect(line.textContent).toBe('Bob is typing…')
    typing(CAROL, 'Carol', Date.now() + 150)
    expect(line.textContent).toBe('Bob and Carol are typing…')
    await waitFor(() => expect(line.textContent).toBe('Bob is typing…'))
    act(() => api.emit('message.added', { conversation: CONVERSATION as never, message: theirs(2) }))
    expect(line.textContent).toBe('')
  })

  it('tells the members we are typing, at most once a second', async () => {
    const api = fakeApi({ 'messages.page': () => ({ messages: [], nextBefore: null }), 'messages.typing': () => null, 'conversations.members': members })
    renderChat(api)
    const input = await screen.findByLabelText('Message to Family')
    fireEvent.change(input, { target: { value: 'h' } })
    fireEvent.change(input, { target: { value: 'he' } })
    fireEvent.change(input, { target: { value: 'hey' } })
    expect(api.calls.filter((c) => c.method === 'messages.typing')).toEqual([{ method: 'messages.typing', params: { conversationId: CONVERSATION } }])
  })

  it('a mention picked from the members (not us) is sent with their account', async () => {
    const api = fakeApi({
      'messages.page': () => ({ messages: [], nextBefore: null }),
      'messages.send': ({ body }) => ({ ...ours(9), body }),
      'messages.typing': () => null,
      'conversations.members': members,
    })
    renderChat(api)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    await waitFor(() => expect(api.calls.some((c) => c.method === 'conversations.members')).toBe(true))
    fireEvent.change(input, { target: { value: '@' } })
    expect((await screen.findAllByRole('option')).map((o) => o.textContent)).toEqual(['BBob', 'CCarol'])
    fireEvent.change(input, { target: { value: '@c' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    fireEvent.change(input, { target: { value: '@Carol can you bring the cake?' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(api.calls.find((c) => c.method === 'messages.send')?.params).toEqual({ conversationId: CONVERSATION, body: '@Carol can you bring the cake?', mentions: [CAROL] }))
  })

  it('Arrow-Up in the empty composer edits our last message; Enter saves it with messages.edit', async () => {
    const api = fakeApi({
      'messages.page': () => ({ messages: [ours(1), theirs(2), ours(3), theirs(4)], nextBefore: null }),
      'messages.markRead': () => summary,
      'messages.edit': ({ messageId, body }) => ({ ...ours(3), id: messageId, body, edited: true }),
      'conversations.members': members,
    })
    const drafts = new Drafts()
    drafts.set(CONVERSATION, '')
    renderChat(api, drafts)
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    await screen.findByText('mine 3')
    fireEvent.keyDown(input, { key: 'ArrowUp' })
    expect(input.value).toBe('mine 3')
    fireEvent.change(input, { target: { value: 'mine 3, corrected' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(api.calls.find((c) => c.method === 'messages.edit')?.params).toEqual({ conversationId: CONVERSATION, messageId: ours(3).id, body: 'mine 3, corrected' }))
    expect(input.value).toBe('')
    expect(api.calls.some((c) => c.method === 'messages.send')).toBe(false)
  })
})
