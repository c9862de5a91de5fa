import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { MessageView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { Drafts } from '../state/drafts.js'
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
    expect(await screen.findByText('the core did not answer in time')).toBeTruthy()
    const retries = screen.getAllByRole('button', { name: 'Retry' })
    expect(retries).toHaveLength(2)
    refuse = false
    fireEvent.click(retries[1]!)
    await waitFor(() => expect(screen.queryByText('the core did not answer in time')).toBeNull())
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

  it('shows a load error in place, and a removed member can read but not write', async () => {
    const api = fakeApi({
      'messages.page': () => {
        throw new HearthError('NOT_A_MEMBER', 'you are not a member of this conversation')
      },
    })
    renderChat(api, new Drafts(), { ...summary, removed: true, role: null })
    expect((await screen.findByRole('alert')).textContent).toBe('you are not a member of this conversation')
    expect(screen.getByText(/You were removed/)).toBeTruthy()
    expect((screen.getByLabelText('Message to Family') as HTMLTextAreaElement).disabled).toBe(true)
    expect(screen.queryByRole('button', { name: 'Invite' })).toBeNull()
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
