import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import axe from 'axe-core'
import { afterEach, describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { ChatRequestView, ConversationSummary, MemberView, SafetyNumberView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { conversationSummary, fakeApi, type FakeApi, type Handlers } from '../testing/fake-api.js'
import { Nearby } from './Nearby.js'

afterEach(cleanup)

const DIGITS = '300354477692869396892869876765458257569162576843440918079131'
const ALICE_PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const BOB_PEER = '12D3KooWHFrmLWTTDD4NodngtRMEVYgCRjbpDDzGgQyCnQjpUmXb'
const ALICE = 'a'.repeat(64)
const BOB = 'b'.repeat(64)
const ME = 'c'.repeat(64)
const DIRECT = 'e'.repeat(32)
const joined = conversationSummary({ id: DIRECT, kind: 'direct', name: 'Alice', memberCount: 2 })

const incoming: ChatRequestView = {
  id: 'f'.repeat(32),
  direction: 'incoming',
  peerId: ALICE_PEER,
  account: ALICE,
  displayName: 'Alice',
  conversationId: DIRECT,
  at: 1,
  expiresAt: Date.now() + 3600_000,
  state: 'pending',
}
const outgoing: ChatRequestView = { ...incoming, id: '1'.repeat(32), direction: 'outgoing', peerId: BOB_PEER, account: null, displayName: 'Bob' }

const member = (account: string, displayName: string, peerId: string, me = false): MemberView => ({
  account,
  displayName,
  role: account === ME ? 'admin' : 'member',
  devices: [{ device: account.slice(0, 1).repeat(64), peerId, online: true }],
  me,
})

/** A core whose safety number with anyone is DIGITS, verified or not as `people.verify` left it. */
function core(handlers: Handlers = {}, verified = false) {
  const state = { verified }
  const api = fakeApi({
    'chats.requests': () => [incoming],
    'chats.accept': () => joined,
    'people.safetyNumber': (): SafetyNumberView => ({ digits: DIGITS, qr: 'o2F2AQ==', verified: state.verified }),
    'people.verify': () => {
      state.verified = true
      return null
    },
    ...handlers,
  })
  return api
}

function renderNearby(api: FakeApi) {
  const opened: Array<ConversationSummary | string> = []
  render(
    <ApiContext.Provider value={api}>
      <Nearby peers={[]} onOpenConversation={(c) => opened.push(c)} />
    </ApiContext.Provider>,
  )
  return opened
}

async function accept(api: FakeApi) {
  const opened = renderNearby(api)
  const prompt = await screen.findByRole('group', { name: 'Chat request from Alice' })
  fireEvent.click(within(prompt).getByRole('button', { name: 'Accept' }))
  return opened
}

const panel = (name: string) => screen.findByRole('dialog', { name: `Compare safety numbers with ${name}` })

describe('comparing safety numbers in the same step as a chat from Nearby', () => {
  it('accepting offers the 60 digits and the QR code; "They match" marks the asker verified, then the chat opens', async () => {
    const api = core()
    const opened = await accept(api)
    const dialog = await panel('Alice')
    // On the page itself, not inside Nearby: a narrow window hides the sidebar while a chat shows.
    expect(dialog.parentElement).toBe(document.body)
    expect(dialog.getAttribute('aria-describedby')).toBeTruthy()
    expect(document.getElementById(dialog.getAttribute('aria-describedby')!)!.textContent).toContain('You’re next to each other: compare your safety numbers now.')
    const number = await within(dialog).findByText(/30035 44776 92869 39689/)
    expect(number.textContent).toBe('30035 44776 92869 3968928698 76765 45825 7569162576 84344 09180 79131')
    expect(await within(dialog).findByRole('img', { name: 'Your code for Alice to scan' })).toBeTruthy()
    // The chat waits for the answer here, so it opens with its composer focused once the panel is gone.
    expect(opened).toEqual([])

    fireEvent.click(within(dialog).getByRole('button', { name: 'They match' }))
    await waitFor(() => expect(opened).toEqual([joined]))
    expect(api.calls.filter((c) => c.method === 'people.verify').map((c) => c.params)).toEqual([{ account: ALICE }])
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('"Not now", the close button and Escape each open the chat and mark nothing', async () => {
    for (const leave of ['Not now', 'Close', 'Escape'] as const) {
      const api = core()
      const opened = await accept(api)
      const dialog = await panel('Alice')
      await within(dialog).findByText(/30035/)
      if (leave === 'Escape') fireEvent(dialog, new Event('cancel', { cancelable: true }))
      else fireEvent.click(within(dialog).getByRole('button', { name: leave }))
      await waitFor(() => expect(opened).toEqual([joined]))
      expect(api.calls.some((c) => c.method === 'people.verify')).toBe(false)
      expect(screen.queryByRole('dialog')).toBeNull()
      cleanup()
    }
  })

  it('a mark the core refuses is said in words, and "Not now" still opens the chat', async () => {
    const api = core({
      'people.verify': () => {
        throw new HearthError('NOT_FOUND', 'You share no conversation with this person.')
      },
    })
    const opened = await accept(api)
    const dialog = await panel('Alice')
    await within(dialog).findByText(/30035/)
    fireEvent.click(within(dialog).getByRole('button', { name: 'They match' }))
    expect((await within(dialog).findByRole('alert')).textContent).toContain('You share no conversation')
    expect(opened).toEqual([])
    fireEvent.click(within(dialog).getByRole('button', { name: 'Not now' }))
    await waitFor(() => expect(opened).toEqual([joined]))
  })

  it('never holds the chat up: someone already verified, or a number the core cannot give, opens it at once', async () => {
    const verified = core({}, true)
    const opened = await accept(verified)
    await waitFor(() => expect(opened).toEqual([joined]))
    expect(screen.queryByRole('dialog')).toBeNull()
    cleanup()

    const failing = core({
      'people.safetyNumber': () => {
        throw new HearthError('INTERNAL', 'no number')
      },
    })
    const openedToo = await accept(failing)
    await waitFor(() => expect(openedToo).toEqual([joined]))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('on the asking side, the person who accepted is offered the same check, only when it is the device asked', async () => {
    const api = core({ 'chats.requests': () => [outgoing], 'conversations.members': () => [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] })
    const opened = renderNearby(api)
    await waitFor(() => expect(api.calls.some((c) => c.method === 'chats.requests')).toBe(true))
    // Someone else joining with the invite (passed on) is not the person next to this one.
    act(() => api.emit('members.changed', { conversation: DIRECT as never, members: [member(ME, 'Me', 'x', true), member(ALICE, 'Mallory', ALICE_PEER)] }))
    expect(screen.queryByRole('dialog')).toBeNull()
    // Another conversation's members say nothing about this request.
    act(() => api.emit('members.changed', { conversation: 'd'.repeat(32) as never, members: [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] }))
    expect(screen.queryByRole('dialog')).toBeNull()

    act(() => api.emit('members.changed', { conversation: DIRECT as never, members: [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] }))
    act(() => api.emit('chat-requests.changed', { requests: [] }))
    const dialog = await panel('Bob')
    await within(dialog).findByRole('img', { name: 'Your code for Bob to scan' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'They match' }))
    await waitFor(() => expect(opened).toEqual([DIRECT]))
    expect(api.calls.filter((c) => c.method === 'people.verify').map((c) => c.params)).toEqual([{ account: BOB }])
    // Offered once: later member changes of that chat ask nothing again.
    act(() => api.emit('members.changed', { conversation: DIRECT as never, members: [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] }))
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('on the asking side, a request that is gone is checked against the members (its event may have come first)', async () => {
    const api = core({ 'chats.requests': () => [outgoing], 'conversations.members': () => [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] })
    renderNearby(api)
    await waitFor(() => expect(api.calls.some((c) => c.method === 'chats.requests')).toBe(true))
    await act(async () => {})
    act(() => api.emit('chat-requests.changed', { requests: [] }))
    await panel('Bob')
    expect(api.calls.find((c) => c.method === 'conversations.members')?.params).toEqual({ conversationId: DIRECT })
  })

  it('a declined request offers nothing', async () => {
    const api = core({ 'chats.requests': () => [outgoing], 'conversations.members': () => [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] })
    renderNearby(api)
    await waitFor(() => expect(api.calls.some((c) => c.method === 'chats.requests')).toBe(true))
    await act(async () => {})
    act(() => api.emit('chat-requests.changed', { requests: [{ ...outgoing, state: 'declined' }] }))
    act(() => api.emit('members.changed', { conversation: DIRECT as never, members: [member(ME, 'Me', 'x', true), member(BOB, 'Bob', BOB_PEER)] }))
    act(() => api.emit('chat-requests.changed', { requests: [] }))
    await act(async () => {})
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('passes axe (structure, names, roles)', async () => {
    await accept(core())
    const dialog = await panel('Alice')
    await within(dialog).findByRole('img', { name: 'Your code for Alice to scan' })
    const options = { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } }
    const result = await axe.run(document.body, options)
    expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`)).toEqual([])
  })
})
