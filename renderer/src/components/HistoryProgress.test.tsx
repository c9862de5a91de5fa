import { cleanup, render, screen, within } from '@testing-library/react'
import axe from 'axe-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { ConversationSummary } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { Drafts } from '../state/drafts.js'
import { conversationSummary, fakeApi, message } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { Chat } from './Chat.js'
import { ConversationList } from './ConversationList.js'
import { HistoryBanner, historyPercent, waitingText } from './HistoryProgress.js'

afterEach(cleanup)
let restoreLayout: () => void
beforeAll(() => {
  restoreLayout = fakeLayout()
})
afterAll(() => restoreLayout())

const bob = { account: 'b'.repeat(64), displayName: 'Bob' }
const carol = { account: 'c'.repeat(64), displayName: 'Carol' }
/** The summary once caught up: the field is absent. */
const caughtUp = ({ history: _, ...rest }: ConversationSummary): ConversationSummary => rest

function renderList(conversations: ConversationSummary[]) {
  return render(
    <ApiContext.Provider value={fakeApi()}>
      <ConversationList conversations={conversations} selectedId={null} onSelect={() => {}} hasDraft={() => false} now={Date.UTC(2026, 0, 15)} />
    </ApiContext.Provider>,
  )
}

function renderChat(conversation: ConversationSummary, messages = [message({ body: 'hi', orderKey: 'a1' })]) {
  const api = fakeApi({ 'messages.page': () => ({ messages, nextBefore: null }), 'messages.markRead': () => conversation })
  const ui = (c: ConversationSummary) => (
    <ApiContext.Provider value={api}>
      <Chat conversation={c} drafts={new Drafts()} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
    </ApiContext.Provider>
  )
  const view = render(ui(conversation))
  return { rerender: (c: ConversationSummary) => view.rerender(ui(c)) }
}

describe('history progress', () => {
  it('a percentage only while something is being fetched, never 100 before it is all there', () => {
    expect(historyPercent(undefined)).toBeNull()
    expect(historyPercent({ have: 120, total: 300 })).toBe(40)
    expect(historyPercent({ have: 299, total: 300 })).toBe(99)
    expect(historyPercent({ have: 0, total: 0, waiting: 4 })).toBeNull()
  })

  it('says whose keys earlier messages wait for, in plain words, with the names this screen knows', () => {
    expect(waitingText({ have: 0, total: 0, waiting: 3, waitingFor: [bob] })).toBe('Some earlier messages will appear when Bob is online.')
    expect(waitingText({ have: 0, total: 0, waiting: 3, waitingFor: [bob, carol] }, new Map([[carol.account, 'Caz']]))).toBe(
      'Some earlier messages will appear when Bob or Caz are online.',
    )
    expect(waitingText({ have: 1, total: 2 })).toBeNull()
  })

  it('the list row says "Getting history… 40%" with a progress bar while behind, and its last message once caught up', () => {
    const behind = conversationSummary({ history: { have: 120, total: 300 }, lastMessage: { body: 'see you', authorName: 'Bob', at: 1 } })
    const view = renderList([behind])
    const row = screen.getByRole('button', { name: /^Family/ })
    expect(row.textContent).toContain('Getting history… 40%')
    const bar = screen.getByRole('progressbar', { name: 'History of Family arriving' })
    expect(bar.getAttribute('value')).toBe('40')
    expect(bar.getAttribute('max')).toBe('100')

    view.rerender(
      <ApiContext.Provider value={fakeApi()}>
        <ConversationList conversations={[caughtUp(behind)]} selectedId={null} onSelect={() => {}} hasDraft={() => false} now={Date.UTC(2026, 0, 15)} />
      </ApiContext.Provider>,
    )
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(screen.getByRole('button', { name: /^Family/ }).textContent).toContain('Bob: see you')
  })

  it('the open chat shows a slim banner above the messages that goes once caught up; the composer stays usable', async () => {
    const behind = conversationSummary({ history: { have: 30, total: 120 } })
    const chat = renderChat(behind)
    await screen.findByText('hi')
    expect(screen.getByText(/Getting history… 25%/)).toBeTruthy()
    expect(screen.getByRole('progressbar', { name: 'History arriving' }).getAttribute('value')).toBe('25')
    expect((screen.getByRole('textbox') as HTMLTextAreaElement).disabled).toBe(false)

    chat.rerender(caughtUp(behind))
    expect(screen.queryByText(/Getting history/)).toBeNull()
    expect(screen.queryByRole('progressbar')).toBeNull()
  })

  it('an empty chat whose history is coming does not say "No messages yet"', async () => {
    renderChat(conversationSummary({ history: { have: 0, total: 50 } }), [])
    expect(await screen.findByText('The messages of this conversation are on their way.')).toBeTruthy()
    expect(screen.queryByText(/No messages yet/)).toBeNull()
  })

  it('messages waiting for a sender’s keys are a sentence, not a percentage that never moves', () => {
    render(<HistoryBanner history={{ have: 0, total: 0, waiting: 7, waitingFor: [bob] }} />)
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(within(screen.getByRole('status')).getByText('Some earlier messages will appear when Bob is online.')).toBeTruthy()
  })

  it('the row and the banner pass axe (names, roles, the bar outside the row’s button)', async () => {
    const history = { have: 120, total: 300, waiting: 7, waitingFor: [bob] }
    // Colour contrast needs a layout engine; the e2e run checks it in Chromium.
    const violations = async () =>
      (await axe.run(document.body, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } })).violations.map(
        (v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`,
      )
    renderChat(conversationSummary({ history }))
    await screen.findByText('hi')
    expect(screen.getByText('Some earlier messages will appear when Bob is online.')).toBeTruthy()
    expect(await violations()).toEqual([])
    cleanup()
    renderList([conversationSummary({ history })])
    expect(await violations()).toEqual([])
  })
})
