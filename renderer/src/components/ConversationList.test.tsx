import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { conversationSummary } from '../testing/fake-api.js'
import { ConversationList } from './ConversationList.js'

afterEach(cleanup)

function renderList(conversations: ReturnType<typeof conversationSummary>[], selectedId: string | null = null) {
  render(<ConversationList conversations={conversations} selectedId={selectedId} onSelect={() => {}} hasDraft={() => false} now={Date.UTC(2026, 0, 15)} />)
}

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
})
