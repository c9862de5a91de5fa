import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { ChatRequestView, ConversationSummary, PeerView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { Nearby } from './Nearby.js'

afterEach(cleanup)

const UNKNOWN = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const BOB = '12D3KooWHFrmLWTTDD4NodngtRMEVYgCRjbpDDzGgQyCnQjpUmXb'
const peers: PeerView[] = [
  { peerId: BOB, displayName: 'Bob', addresses: [] },
  { peerId: UNKNOWN, displayName: null, addresses: [] },
]
const direct = conversationSummary({ id: 'e'.repeat(32), kind: 'direct', name: 'Direct chat', memberCount: 1 })

const request = (overrides: Partial<ChatRequestView> = {}): ChatRequestView => ({
  id: 'f'.repeat(32),
  direction: 'incoming',
  peerId: UNKNOWN,
  account: 'a'.repeat(64),
  displayName: 'Alice',
  conversationId: direct.id,
  at: 1,
  expiresAt: 2,
  state: 'pending',
  ...overrides,
})

function renderNearby(api: FakeApi, opened: Array<ConversationSummary | string> = []) {
  render(
    <ApiContext.Provider value={api}>
      <Nearby peers={peers} onOpenConversation={(c) => opened.push(c)} />
    </ApiContext.Provider>,
  )
  return opened
}

describe('<Nearby>', () => {
  it('an unknown device is "Unnamed device" to a screen reader, its short id a description, never its name', () => {
    renderNearby(fakeApi({ 'chats.requests': () => [] }))
    const button = screen.getByRole('button', { name: 'Unnamed device' })
    expect(button.getAttribute('aria-describedby')).toBeTruthy()
    const description = button
      .getAttribute('aria-describedby')!
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent)
      .join(' ')
    expect(description).toContain(`device …${UNKNOWN.slice(-6)}`)
    expect(description).toContain('Starts a direct chat')
    expect(screen.getByRole('button', { name: 'Bob' })).toBeTruthy()
  })

  it('choosing a device asks it for a chat, opens the new direct chat, and shows the request as sent', async () => {
    const api = fakeApi({
      'chats.requests': () => [],
      'chats.request': ({ peerId }) => ({ request: request({ direction: 'outgoing', peerId, account: null, displayName: 'Bob' }), conversation: direct }),
    })
    const opened = renderNearby(api)
    fireEvent.click(screen.getByRole('button', { name: 'Bob' }))
    await waitFor(() => expect(opened).toEqual([direct]))
    expect(api.calls.find((c) => c.method === 'chats.request')?.params).toEqual({ peerId: BOB })
    act(() => api.emit('chat-requests.changed', { requests: [request({ direction: 'outgoing', peerId: BOB, account: null, displayName: 'Bob' })] }))
    expect(screen.getByRole('button', { name: /^Bob/ }).textContent).toContain('Request sent')
  })

  it('a refusal is said in words', async () => {
    const api = fakeApi({
      'chats.requests': () => [],
      'chats.request': () => {
        throw new HearthError('UNREACHABLE', 'That device is not nearby any more. Ask again when it shows under Nearby.')
      },
    })
    renderNearby(api)
    fireEvent.click(screen.getByRole('button', { name: 'Unnamed device' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/not nearby any more|reach/i)
  })

  it('"Alice wants to chat" is announced; Accept joins and opens the chat, Decline answers no', async () => {
    const joined = conversationSummary({ id: direct.id, kind: 'direct', name: 'Alice', memberCount: 2 })
    const api = fakeApi({ 'chats.requests': () => [request()], 'chats.accept': () => joined, 'chats.decline': () => null })
    const opened = renderNearby(api)
    const prompt = await screen.findByRole('group', { name: 'Chat request from Alice' })
    expect(screen.getByRole('status').textContent).toBe('Alice wants to chat')
    expect(prompt.textContent).toContain(`device …${UNKNOWN.slice(-6)}`)
    fireEvent.click(within(prompt).getByRole('button', { name: 'Accept' }))
    await waitFor(() => expect(opened).toEqual([joined]))
    expect(api.calls.find((c) => c.method === 'chats.accept')?.params).toEqual({ requestId: 'f'.repeat(32) })
    fireEvent.click(within(prompt).getByRole('button', { name: 'Decline' }))
    await waitFor(() => expect(api.calls.find((c) => c.method === 'chats.decline')?.params).toEqual({ requestId: 'f'.repeat(32) }))
    act(() => api.emit('chat-requests.changed', { requests: [] }))
    expect(screen.queryByRole('group', { name: /Chat request/ })).toBeNull()
  })
})
