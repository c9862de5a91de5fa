import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { conversationSummary, fakeApi, type FakeApi } from '../testing/fake-api.js'
import { ConversationList, muteText, pinnedFirst } from './ConversationList.js'

afterEach(cleanup)

function renderList(conversations: ConversationSummary[], selectedId: string | null = null, api: FakeApi = fakeApi()) {
  const ui = (list: ConversationSummary[]) => (
    <ApiContext.Provider value={api}>
      <ConversationList conversations={list} selectedId={selectedId} onSelect={() => {}} hasDraft={() => false} now={Date.UTC(2026, 0, 15)} />
    </ApiContext.Provider>
  )
  const view = render(ui(conversations))
  return { api, rerender: (list: ConversationSummary[]) => view.rerender(ui(list)) }
}

const HOUR = 3600_000
const named = (name: string, n: number, extra: Partial<ConversationSummary> = {}) => conversationSummary({ id: n.toString(16).padStart(32, '0'), name, ...extra })
const rowNames = () => screen.queryAllByRole('button', { name: /^(?!Options)/ }).map((b) => b.querySelector('.conversation-name')?.textContent?.trim()).filter(Boolean)

describe('<ConversationList>', () => {
  it('marks a conversation with unread mentions with an @ badge, counted in words for screen readers', () => {
    renderList([conversationSummary({ unread: 3, unreadMentions: 2 })])
    const button = screen.getByRole('button', { name: /^Family/ })
    expect(button.querySelector('.unread.mentions')!.textContent).toBe('@')
    expect(button.querySelector('.unread.mentions')!.getAttribute('aria-hidden')).toBe('true')
    // The name as a screen reader hears it (the badges themselves are hidden from it).
    expect(screen.getByRole('button', { name: /^Family\s*No messages yet\s*, 2 unread mentions\s*, 3 unread$/ })).toBe(button)
  })

  it('one mention is said in the singular; no badge without mentions, nor on the open conversation', () => {
    renderList([conversationSummary({ unread: 1, unreadMentions: 1 })])
    expect(screen.getByRole('button', { name: /, 1 unread mention\s*, 1 unread$/ })).toBeTruthy()
    cleanup()
    renderList([conversationSummary({ unread: 1, unreadMentions: 0 })])
    expect(document.querySelector('.unread.mentions')).toBeNull()
    cleanup()
    renderList([conversationSummary({ unread: 1 })])
    expect(document.querySelector('.unread.mentions')).toBeNull()
    cleanup()
    const open = conversationSummary({ unread: 2, unreadMentions: 2 })
    renderList([open], open.id)
    expect(document.querySelector('.unread.mentions')).toBeNull()
  })

  it('pinned conversations come first, in the order they were pinned, marked for eyes and ears', () => {
    const list = [named('Recent', 1), named('Second pin', 2, { pinnedAt: 20 }), named('Old', 3), named('First pin', 4, { pinnedAt: 10 })]
    expect(pinnedFirst(list).map((c) => c.name)).toEqual(['First pin', 'Second pin', 'Recent', 'Old'])
    renderList(list)
    expect(rowNames()).toEqual(['First pin 📌', 'Second pin 📌', 'Recent', 'Old'])
    expect(screen.getByRole('button', { name: /^First pin\s*, pinned/ })).toBeTruthy()
  })

  it('archived conversations leave the list for "Archived (n)", which opens them with a way back', () => {
    renderList([named('Family', 1), named('Club', 2, { archived: true }), named('Work', 3, { archived: true })])
    expect(rowNames()).toEqual(['Family'])
    fireEvent.click(screen.getByRole('button', { name: 'Archived (2)' }))
    expect(screen.getByRole('heading', { name: 'Archived' })).toBeTruthy()
    expect(rowNames()).toEqual(['Club', 'Work'])
    expect(screen.queryByRole('button', { name: /^Archived \(/ })).toBeNull()
    fireEvent.click(screen.getByRole('button', { name: '← Back to chats' }))
    expect(rowNames()).toEqual(['Family'])
  })

  it('the menu works from the keyboard: arrows, a submenu for Mute with its durations, Escape back to the button', async () => {
    const { api } = renderList([named('Family', 1)], null, fakeApi({ 'conversations.setPrefs': (p) => named('Family', 1, p as never) }))
    const button = screen.getByRole('button', { name: 'Options for Family' })
    expect(button.getAttribute('aria-haspopup')).toBe('menu')
    fireEvent.keyDown(button, { key: 'ArrowDown' })
    const menu = screen.getByRole('menu', { name: 'Options for Family' })
    const items = within(menu).getAllByRole('menuitem')
    expect(items.map((i) => i.textContent)).toEqual(['Pin to top', 'Archive', 'Mute ▸', 'Mentions only ▸'])
    expect(document.activeElement).toBe(items[0])
    fireEvent.keyDown(menu, { key: 'ArrowDown' })
    fireEvent.keyDown(menu, { key: 'ArrowDown' })
    expect(document.activeElement).toBe(items[2])
    fireEvent.keyDown(menu, { key: 'ArrowRight' })
    expect(items[2]!.getAttribute('aria-expanded')).toBe('true')
    const sub = screen.getByRole('menu', { name: /^Mute/ })
    expect(within(sub).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['For 1 hour', 'For 8 hours', 'For 1 day', 'For 1 week', 'Always'])
    await waitFor(() => expect(document.activeElement?.textContent).toBe('For 1 hour'))
    fireEvent.keyDown(sub, { key: 'ArrowLeft' })
    expect(document.activeElement).toBe(items[2])
    expect(screen.queryByRole('menu', { name: /^Mute/ })).toBeNull()
    fireEvent.keyDown(menu, { key: 'ArrowRight' })
    fireEvent.keyDown(await screen.findByRole('menu', { name: /^Mute/ }), { key: 'ArrowDown' })
    fireEvent.click(document.activeElement!)
    await waitFor(() => expect(api.calls.find((c) => c.method === 'conversations.setPrefs')?.params).toEqual({ conversationId: named('x', 1).id, mute: { level: 'nothing', forMs: 8 * HOUR } }))
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)

    fireEvent.keyDown(button, { key: 'ArrowDown' })
    fireEvent.keyDown(screen.getByRole('menu', { name: 'Options for Family' }), { key: 'Escape' })
    expect(screen.queryByRole('menu')).toBeNull()
    expect(document.activeElement).toBe(button)
  })

  it('the row opens the same menu from the context menu key; Pin, Archive and Mentions only send what they say', async () => {
    const { api } = renderList([named('Family', 1)], null, fakeApi({ 'conversations.setPrefs': () => named('Family', 1) }))
    const row = screen.getByRole('button', { name: /^Family/ })
    const pick = async (path: string[]) => {
      fireEvent.keyDown(row, { key: 'F10', shiftKey: true })
      const menu = screen.getByRole('menu', { name: 'Options for Family' })
      const first = within(menu).getByRole('menuitem', { name: new RegExp(`^${path[0]}`) })
      fireEvent.click(first)
      if (path[1] !== undefined) fireEvent.click(within(await screen.findByRole('menu', { name: path[0]! })).getByRole('menuitem', { name: path[1] }))
    }
    await pick(['Pin to top'])
    await pick(['Archive'])
    await pick(['Mentions only', 'Always'])
    await waitFor(() => expect(api.calls.filter((c) => c.method === 'conversations.setPrefs')).toHaveLength(3))
    expect(api.calls.map((c) => c.params)).toEqual([
      { conversationId: named('x', 1).id, pinned: true },
      { conversationId: named('x', 1).id, archived: true },
      { conversationId: named('x', 1).id, mute: { level: 'mentions', forMs: null } },
    ])
  })

  it('says so in words when the core refuses (a sixth pin)', async () => {
    const { HearthError } = await import('../../../node/common/errors.js')
    renderList([named('Family', 1)], null, fakeApi({ 'conversations.setPrefs': () => { throw new HearthError('INVALID_INPUT', 'You can pin up to 5 conversations. Unpin one to pin this one.') } }))
    fireEvent.click(screen.getByRole('button', { name: 'Options for Family' }))
    fireEvent.click(screen.getByRole('menuitem', { name: 'Pin to top' }))
    expect((await screen.findByRole('alert')).textContent).toBe('You can pin up to 5 conversations. Unpin one to pin this one.')
  })

  it('a muted conversation is marked, keeps counting unread, offers Unmute, and stops showing as muted when its time is up', async () => {
    const until = Date.now() + 300
    renderList([named('Family', 1, { unread: 2, mute: { level: 'nothing', until } }), named('Club', 2, { mute: { level: 'mentions', until: null } })])
    expect(screen.getByRole('button', { name: /^Family\s*, muted until .*, 2 unread$/ })).toBeTruthy()
    expect(screen.getByRole('button', { name: /^Club\s*, mentions only\s*No messages yet$/ })).toBeTruthy()
    fireEvent.click(screen.getByRole('button', { name: 'Options for Family' }))
    expect(screen.getByRole('menuitem', { name: 'Unmute' })).toBeTruthy()
    await act(async () => {
      await new Promise((r) => setTimeout(r, 500))
    })
    expect(screen.getByRole('button', { name: /^Family\s*No messages yet\s*, 2 unread$/ })).toBeTruthy()
  })

  it('mute text', () => {
    expect(muteText({ level: 'all', until: null }, 0)).toBeNull()
    expect(muteText({ level: 'nothing', until: null }, 0)).toBe('Muted')
    expect(muteText({ level: 'mentions', until: null }, 0)).toBe('Mentions only')
    expect(muteText({ level: 'nothing', until: Date.UTC(2026, 0, 15, 15, 30) }, Date.UTC(2026, 0, 15, 12))).toMatch(/^Muted until /)
  })
})
