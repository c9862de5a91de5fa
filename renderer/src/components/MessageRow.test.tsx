import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { useMemo } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { MessageView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { useChat } from '../hooks/useChat.js'
import { buildItems } from '../state/items.js'
import { CONVERSATION, conversationSummary, fakeApi, ME, message, messageActions, type FakeApi } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { MessageList } from './MessageList.js'
import { ListRow } from './MessageRow.js'

afterEach(cleanup)
let restoreLayout: () => void
beforeAll(() => {
  restoreLayout = fakeLayout()
})
afterAll(() => restoreLayout())

const BOB = 'b'.repeat(64)
const CAROL = 'c'.repeat(64)
const names = new Map([
  [ME, 'Alice'],
  [BOB, 'Bob'],
  [CAROL, 'Carol'],
])
const actions = { retry: async () => null, resend: () => {}, discard: () => {} }
const NOW = Date.UTC(2026, 0, 15, 18)

/** The chat's message list as the chat wires it: the real reducer, paging and events, over a fake core. */
function Harness({ onReply }: { onReply?: (m: MessageView) => void }) {
  const api = useMemo(() => (globalThis as unknown as { testApi: FakeApi }).testApi, [])
  const chat = useChat(api, CONVERSATION)
  const items = useMemo(() => buildItems(chat.state.messages, chat.state.optimistic, NOW), [chat.state.messages, chat.state.optimistic])
  if (!chat.state.loaded) return null
  return (
    <MessageList
      items={items}
      label="Messages in Family"
      canLoadOlder={chat.state.nextBefore !== null}
      loadingOlder={chat.state.loadingOlder}
      onLoadOlder={chat.loadOlder}
      onAtBottomChange={() => {}}
      followSignal={0}
      renderItem={(item) => <ListRow item={item} actions={actions} names={names} />}
      onReply={onReply}
    />
  )
}

/** One page holding `messages` (or several: `pages[0]` is the newest), with the message actions answered. */
function setup(messages: MessageView[], { pages, onReply }: { pages?: MessageView[][]; onReply?: (m: MessageView) => void } = {}) {
  const all = pages ?? [messages]
  const api = fakeApi({
    'messages.page': ({ before }) => {
      const i = before === undefined ? 0 : Number(before)
      return { messages: all[i]!, nextBefore: i + 1 < all.length ? String(i + 1) : null }
    },
  })
  Object.assign(api.handlers, messageActions(api, all.flat(), { read: [{ account: BOB, displayName: 'Bob' }], delivered: [{ account: CAROL, displayName: 'Carol' }] }))
  ;(globalThis as unknown as { testApi: FakeApi }).testApi = api
  render(
    <ApiContext.Provider value={api}>
      <Harness {...(onReply === undefined ? {} : { onReply })} />
    </ApiContext.Provider>,
  )
  return api
}

const row = (text: string) => screen.getByText(text, { exact: false }).closest('.message') as HTMLElement

async function openMenu(text: string) {
  const r = await waitFor(() => row(text))
  fireEvent.click(within(r).getByRole('button', { name: /^Actions for/ }))
  return screen.getByRole('menu')
}

describe('message actions', () => {
  it('a menu button opens an ARIA menu: arrows move, Escape closes it and gives focus back', async () => {
    setup([message({ body: 'from Bob', author: BOB }), message({ body: 'from me', author: ME, mine: true, authorName: 'Alice' })], { onReply: () => {} })
    const menu = await openMenu('from Bob')
    const button = within(row('from Bob')).getByRole('button', { name: 'Actions for Bob’s message' })
    expect(button.getAttribute('aria-haspopup')).toBe('menu')
    expect(button.getAttribute('aria-expanded')).toBe('true')
    expect(menu.getAttribute('aria-labelledby')).toBe(button.id)
    const labels = within(menu).getAllByRole('menuitem').map((i) => i.textContent)
    // Not mine: no edit, no delete for everyone.
    expect(labels).toEqual(['Reply', 'React…', 'Copy text', 'Details', 'Delete for me'])
    await waitFor(() => expect(document.activeElement?.textContent).toBe('Reply'))
    fireEvent.keyDown(menu, { key: 'ArrowDown' })
    expect(document.activeElement?.textContent).toBe('React…')
    fireEvent.keyDown(menu, { key: 'End' })
    expect(document.activeElement?.textContent).toBe('Delete for me')
    fireEvent.keyDown(menu, { key: 'ArrowDown' })
    expect(document.activeElement?.textContent).toBe('Reply')
    fireEvent.keyDown(menu, { key: 'd' })
    expect(document.activeElement?.textContent).toBe('Details')
    fireEvent.keyDown(menu, { key: 'Escape' })
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)

    const mine = await openMenu('from me')
    expect(within(mine).getAllByRole('menuitem').map((i) => i.textContent)).toEqual([
      'Reply',
      'React…',
      'Edit',
      'Copy text',
      'Details',
      'Delete for me',
      'Delete for everyone…',
    ])
  })

  it('the context menu key and a right click open the same menu; Reply hands the message to the composer', async () => {
    const onReply = vi.fn()
    setup([message({ body: 'dinner?', author: BOB })], { onReply })
    const r = await waitFor(() => row('dinner?'))
    fireEvent.keyDown(r, { key: 'ContextMenu' })
    expect(screen.getByRole('menu')).toBeTruthy()
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' })
    fireEvent.contextMenu(r.querySelector('.bubble')!)
    fireEvent.click(within(screen.getByRole('menu')).getByRole('menuitem', { name: 'Reply' }))
    expect(onReply).toHaveBeenCalledWith(expect.objectContaining({ body: 'dinner?' }))
    expect(screen.queryByRole('menu')).toBeNull()
  })

  it('reactions: pick one, see who reacted, switch to another chip, take it away', async () => {
    const api = setup([message({ body: 'we won!', author: BOB, reactions: { '🎉': [BOB, CAROL] } })])
    const menu = await openMenu('we won!')
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'React…' }))
    const dialog = screen.getByRole('dialog', { name: 'React' })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Thumbs up' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull())
    expect(api.calls.filter((c) => c.method === 'messages.react').at(-1)!.params).toEqual({ conversationId: CONVERSATION, messageId: expect.any(String), emoji: '👍' })

    const chips = await waitFor(() => within(row('we won!')).getByRole('group', { name: 'Reactions' }))
    const thumbs = within(chips).getByRole('button', { name: '👍 1' })
    await waitFor(() => expect(thumbs.getAttribute('aria-pressed')).toBe('true'))
    const party = within(chips).getByRole('button', { name: '🎉 2' })
    expect(party.getAttribute('aria-pressed')).toBe('false')
    expect(document.getElementById(party.getAttribute('aria-describedby')!)!.textContent).toBe('Bob and Carol · click to react with 🎉')
    expect(document.getElementById(thumbs.getAttribute('aria-describedby')!)!.textContent).toBe('You · click to remove yours')

    // One reaction each: choosing 🎉 replaces 👍.
    fireEvent.click(party)
    await waitFor(() => expect(within(row('we won!')).getByRole('button', { name: '🎉 3' }).getAttribute('aria-pressed')).toBe('true'))
    expect(within(row('we won!')).queryByRole('button', { name: /^👍/ })).toBeNull()
    fireEvent.click(within(row('we won!')).getByRole('button', { name: '🎉 3' }))
    await waitFor(() => expect(within(row('we won!')).getByRole('button', { name: '🎉 2' })).toBeTruthy())
    expect(api.calls.filter((c) => c.method === 'messages.react').map((c) => (c.params as { emoji: string | null }).emoji)).toEqual(['👍', '🎉', null])
  })

  it('edit (in a dialog when no composer is wired): "edited" shows and opens the details with every version and who saw it', async () => {
    setup([message({ body: 'dinner at 7?', author: ME, mine: true, authorName: 'Alice' })])
    fireEvent.click(within(await openMenu('dinner at 7?')).getByRole('menuitem', { name: 'Edit' }))
    const dialog = screen.getByRole('dialog', { name: 'Edit message' })
    fireEvent.change(within(dialog).getByLabelText('Message'), { target: { value: 'dinner at 8?' } })
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }))
    const edited = await waitFor(() => within(row('dinner at 8?')).getByRole('button', { name: 'Edited: see the versions' }))
    fireEvent.click(edited)
    const details = screen.getByRole('dialog', { name: 'Message details' })
    await waitFor(() => expect(within(details).getByRole('region', { name: 'Read by' }).textContent).toContain('Bob'))
    expect(within(details).getByRole('region', { name: 'Delivered to' }).textContent).toContain('Carol')
    const versions = await waitFor(() => within(details).getByRole('region', { name: 'Edit history' }).querySelectorAll('li'))
    expect([...versions].map((v) => v.querySelector('.version-body')!.textContent)).toEqual(['dinner at 7?', 'dinner at 8?'])
    expect(versions[1]!.textContent).toContain('(current)')
  })

  it("details of someone else's message say who sent it and when, without receipts", async () => {
    const api = setup([message({ body: 'from Bob', author: BOB })])
    fireEvent.click(within(await openMenu('from Bob')).getByRole('menuitem', { name: 'Details' }))
    const details = screen.getByRole('dialog', { name: 'Message details' })
    expect(details.textContent).toContain('From Bob,')
    expect(within(details).queryByRole('region', { name: 'Read by' })).toBeNull()
    expect(api.calls.some((c) => c.method === 'messages.seenBy')).toBe(false)
  })

  it('delete for everyone asks first and says what it does; then only "delete for me" is left; delete for me removes it', async () => {
    const api = setup([message({ body: 'oops', author: ME, mine: true, authorName: 'Alice', reactions: { '😂': [BOB] } }), message({ body: 'later', author: BOB })])
    fireEvent.click(within(await openMenu('oops')).getByRole('menuitem', { name: 'Delete for everyone…' }))
    const confirm = screen.getByRole('dialog', { name: 'Delete for everyone?' })
    expect(confirm.textContent).toContain('for everyone in this chat')
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(api.calls.some((c) => c.method === 'messages.delete')).toBe(false)
    fireEvent.click(within(await openMenu('oops')).getByRole('menuitem', { name: 'Delete for everyone…' }))
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete for everyone' }))
    const deleted = await waitFor(() => row('This message was deleted'))
    expect(deleted.querySelector('.body')!.className).toContain('deleted')
    expect(within(deleted).queryByRole('group', { name: 'Reactions' })).toBeNull()
    expect(within(await openMenu('This message was deleted')).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Delete for me'])
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for me' }))
    await waitFor(() => expect(screen.queryByText('This message was deleted')).toBeNull())
    expect(screen.getByText('later')).toBeTruthy()
  })

  it('a reply quotes its original; the quote follows an edit and a deletion of it', async () => {
    const original = message({ body: 'dinner at 7?', author: BOB })
    const reply = message({
      body: 'yes!',
      author: CAROL,
      authorName: 'Carol',
      replyTo: { id: original.id, author: BOB, authorName: 'Bob', body: 'dinner at 7?', deleted: false, missing: false },
    })
    const api = setup([original, reply])
    const quote = await waitFor(() => within(row('yes!')).getByRole('button', { name: /^Reply to Bob/ }))
    expect(quote.textContent).toContain('dinner at 7?')
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...original, body: 'dinner at 8?', edited: true } }))
    await waitFor(() => expect(within(row('yes!')).getByRole('button', { name: /^Reply to Bob/ }).textContent).toContain('dinner at 8?'))
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...original, body: '', deleted: true } }))
    await waitFor(() => expect(within(row('yes!')).getByRole('button', { name: /^Reply to Bob/ }).textContent).toContain('Original message deleted'))
  })

  it('a quote of a message this device does not hold says so and goes nowhere', async () => {
    setup([message({ body: 'me too', author: CAROL, replyTo: { id: 'f'.repeat(32), author: BOB, authorName: 'bbbbbbbb', body: '', deleted: false, missing: true } })])
    const r = await waitFor(() => row('me too'))
    expect(r.querySelector('.quote')!.textContent).toContain('Original message not available')
    expect(r.querySelector('.quote')!.tagName).toBe('DIV')
    // The author is named by the name they have now.
    expect(r.querySelector('.quote-author')!.textContent).toBe('Bob')
  })

  it('clicking a quote loads older pages until the original is there, then highlights it and moves focus to it', async () => {
    const start = Date.UTC(2026, 0, 15, 9)
    const make = (i: number, extra: Partial<MessageView> = {}) =>
      message({ id: i.toString(16).padStart(32, '0'), orderKey: String(i).padStart(6, '0'), sentAt: start + i * 1000, body: `message ${i}`, author: BOB, ...extra })
    const old = Array.from({ length: 5 }, (_, i) => make(i))
    const middle = Array.from({ length: 5 }, (_, i) => make(i + 5))
    const newest = [
      ...Array.from({ length: 4 }, (_, i) => make(i + 10)),
      make(14, { body: 'answering the first', replyTo: { id: old[0]!.id, author: BOB, authorName: 'Bob', body: 'message 0', deleted: false, missing: false } }),
    ]
    const api = setup([], { pages: [newest, middle, old] })
    const quote = await waitFor(() => within(row('answering the first')).getByRole('button', { name: /^Reply to Bob/ }))
    fireEvent.click(quote)
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'messages.page')).toHaveLength(3))
    const original = await waitFor(() => {
      const r = document.querySelector(`[data-message-id="${old[0]!.id}"]`) as HTMLElement
      expect(r.className).toContain('highlighted')
      return r
    })
    await waitFor(() => expect(document.activeElement).toBe(original))
  })

  it('links open outside the app (http and https only); a mention of me stands out', async () => {
    setup([
      message({ body: 'see https://example.org/menu, or javascript:alert(1)', author: BOB }),
      message({ body: '@Alice can you bring the cake?', author: BOB, mentions: [ME], mentionsMe: true }),
      message({ body: '@Carol and the candles', author: BOB, mentions: [CAROL], mentionsMe: false }),
    ])
    const r = await waitFor(() => row('see '))
    const links = r.querySelectorAll('a')
    expect(links).toHaveLength(1)
    expect(links[0]!.getAttribute('href')).toBe('https://example.org/menu')
    expect(links[0]!.getAttribute('target')).toBe('_blank')
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer')
    expect(links[0]!.textContent).toBe('https://example.org/menu')
    const mention = row('can you bring the cake')
    expect(mention.className).toContain('mentions-me')
    // The name is marked as mine once the core has said who I am.
    await waitFor(() => expect(mention.querySelector('.mention.mention-me')!.textContent).toBe('@Alice'))
    const other = row('and the candles')
    expect(other.className).not.toContain('mentions-me')
    expect(other.querySelector('.mention')!.className).toBe('mention')
  })
})

describe('admins delete others’ messages for everyone', () => {
  /** The chat as `role` in a conversation of `kind`; an admin's delete comes back marked with who deleted it. */
  function as(role: 'admin' | 'member', kind: 'group' | 'direct') {
    const shown = [message({ body: 'spam from Bob', author: BOB }), message({ body: 'mine', author: ME, mine: true, authorName: 'Alice' })]
    const api = setup(shown)
    api.handlers['conversations.get'] = () => conversationSummary({ kind, role })
    const remove = api.handlers['messages.delete']!
    api.handlers['messages.delete'] = async (p: { messageId: string; forEveryone: boolean }) => {
      await remove(p as never)
      // What the core sends for an admin's delete of someone else's message: the same message (its place in the order
      // never changes), emptied, with the deleting account.
      const original = shown.find((m) => m.id === p.messageId)!
      const deleted = { ...original, body: '', deleted: true, deletedBy: ME }
      act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: deleted }))
      return null
    }
    return api
  }
  const labels = (menu: HTMLElement) => within(menu).getAllByRole('menuitem').map((i) => i.textContent)

  it('an admin of a group is offered it on someone else’s message, confirms a warning naming the author, and the row says an admin deleted it', async () => {
    const api = as('admin', 'group')
    const menu = await openMenu('spam from Bob')
    await waitFor(() => expect(labels(menu)).toContain('Delete for everyone…'))
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Delete for everyone…' }))
    const confirm = screen.getByRole('dialog', { name: 'Delete Bob’s message for everyone?' })
    expect(confirm.textContent).toContain('for everyone in this group')
    expect(confirm.textContent).toContain('Deleted by an admin')
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }))
    expect(api.calls.some((c) => c.method === 'messages.delete')).toBe(false)

    fireEvent.click(within(await openMenu('spam from Bob')).getByRole('menuitem', { name: 'Delete for everyone…' }))
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete for everyone' }))
    const deleted = await waitFor(() => row('Deleted by an admin (Alice)'))
    expect(deleted.querySelector('.body')!.className).toContain('deleted')
    expect(screen.queryByText('spam from Bob')).toBeNull()
    expect(api.calls.find((c) => c.method === 'messages.delete')?.params).toMatchObject({ forEveryone: true })
  })

  it('a plain member of a group, and an admin of a direct chat, are not offered it on someone else’s message', async () => {
    for (const [role, kind] of [['member', 'group'], ['admin', 'direct']] as const) {
      const api = as(role, kind)
      const menu = await openMenu('spam from Bob')
      await waitFor(() => expect(api.calls.some((c) => c.method === 'conversations.get')).toBe(true))
      await act(async () => {})
      expect(labels(menu)).not.toContain('Delete for everyone…')
      expect(labels(menu)).toContain('Delete for me')
      cleanup()
    }
  })

  it('an admin’s delete whose admin the list does not name reads "Deleted by an admin"', async () => {
    const api = setup([message({ body: 'gone soon', author: BOB })])
    const [shown] = (await api.call('messages.page', { conversationId: CONVERSATION })).messages
    act(() => api.emit('message.updated', { conversation: CONVERSATION as never, message: { ...shown!, body: '', deleted: true, deletedBy: 'd'.repeat(64) } }))
    await waitFor(() => expect(screen.getByText('Deleted by an admin')).toBeTruthy())
  })
})
