import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { createRef } from 'react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import type { MessageView } from '../../../node/src/api/types.js'
import { ApiContext } from '../api/context.js'
import { composerKeyAction } from '../lib/composer-keys.js'
import { localDraftStorage } from '../lib/draft-storage.js'
import { Drafts } from '../state/drafts.js'
import { CONVERSATION, conversationSummary, fakeApi, message } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { Chat } from './Chat.js'
import { ANNOUNCE_AFTER_MS, Composer, type ComposerHandle, type ComposerProps } from './Composer.js'

afterEach(cleanup)

const key = (k: string, extra: Partial<Parameters<typeof composerKeyAction>[0]> = {}) => ({
  key: k,
  shiftKey: false,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  isComposing: false,
  ...extra,
})

describe('composerKeyAction', () => {
  it('sends on Enter, makes a new line on Shift+Enter, leaves other keys and IME composition alone', () => {
    expect(composerKeyAction(key('Enter'))).toBe('send')
    expect(composerKeyAction(key('Enter', { ctrlKey: true }))).toBe('send')
    expect(composerKeyAction(key('Enter', { shiftKey: true }))).toBe('newline')
    expect(composerKeyAction(key('Enter', { altKey: true }))).toBe('newline')
    expect(composerKeyAction(key('Enter', { isComposing: true }))).toBe('none')
    expect(composerKeyAction(key('a'))).toBe('none')
  })
})

describe('<Composer>', () => {
  function setup(initialDraft = '') {
    const onSend = vi.fn<(body: string) => void>()
    const onDraftChange = vi.fn<(text: string) => void>()
    render(<Composer conversationName="Family" initialDraft={initialDraft} onDraftChange={onDraftChange} onSend={onSend} />)
    const input = screen.getByLabelText('Message to Family') as HTMLTextAreaElement
    return { onSend, onDraftChange, input }
  }

  it('sends with Enter and clears at once, keeping the field usable', () => {
    const { onSend, onDraftChange, input } = setup()
    fireEvent.change(input, { target: { value: 'hello there' } })
    expect(onDraftChange).toHaveBeenLastCalledWith('hello there')
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenCalledWith('hello there')
    expect(input.value).toBe('')
    expect(input.disabled).toBe(false)
    expect(onDraftChange).toHaveBeenLastCalledWith('')
  })

  it('does not send with Shift+Enter, nor an empty or blank message', () => {
    const { onSend, input } = setup()
    fireEvent.change(input, { target: { value: 'line one' } })
    fireEvent.keyDown(input, { key: 'Enter', shiftKey: true })
    expect(onSend).not.toHaveBeenCalled()
    fireEvent.change(input, { target: { value: '   ' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).not.toHaveBeenCalled()
    expect((screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement).disabled).toBe(true)
  })

  it('starts from the saved draft and sends with the button too', () => {
    const { onSend, input } = setup('half written')
    expect(input.value).toBe('half written')
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    expect(onSend).toHaveBeenCalledWith('half written')
  })

  it('says how to send and make new lines, for screen readers', () => {
    const { input } = setup()
    const hint = document.getElementById(input.getAttribute('aria-describedby')!)
    expect(hint?.textContent).toMatch(/Enter sends, Shift\+Enter/)
  })
})

describe('<Composer> near and over the length limit', () => {
  function setup(onSend: (body: string) => void | Promise<string | null> = () => {}) {
    const send = vi.fn(onSend)
    const onDraftChange = vi.fn<(text: string) => void>()
    render(<Composer conversationName="Family" initialDraft="" onDraftChange={onDraftChange} onSend={send} />)
    const input = screen.getByLabelText('Message to Family') as HTMLTextAreaElement
    return { onSend: send, onDraftChange, input }
  }

  it('shows no counter far from the limit, then the room left, then how far over', () => {
    const { input } = setup()
    fireEvent.change(input, { target: { value: 'x'.repeat(14_399) } })
    expect(screen.queryByText(/characters? left/)).toBeNull()
    fireEvent.change(input, { target: { value: 'x'.repeat(14_400) } })
    expect(screen.getByText('1,600 characters left')).toBeTruthy()
    fireEvent.change(input, { target: { value: 'x'.repeat(15_999) } })
    expect(screen.getByText('1 character left')).toBeTruthy()
    expect(input.getAttribute('aria-invalid')).toBe('false')
    fireEvent.change(input, { target: { value: 'x'.repeat(16_250) } })
    expect(screen.getByText('250 characters over the limit')).toBeTruthy()
    expect(input.getAttribute('aria-invalid')).toBe('true')
  })

  it('refuses to send over the limit in place: the text stays, and it says what to do', () => {
    const { onSend, onDraftChange, input } = setup()
    const pasted = 'a pasted essay '.repeat(70_000) // about 1 MB
    fireEvent.change(input, { target: { value: pasted } })
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).not.toHaveBeenCalled()
    expect(input.value).toBe(pasted)
    expect(onDraftChange).toHaveBeenLastCalledWith(pasted)
    const alert = screen.getByRole('alert')
    expect(alert.textContent).toBe(`This message is too long to send: ${(pasted.length - 16_000).toLocaleString('en-US')} characters over the limit of 16,000. Shorten it, or send it in several parts.`)
    expect(input.getAttribute('aria-describedby')).toContain(alert.id)
    // The button refuses the same way.
    fireEvent.click(screen.getByRole('button', { name: 'Send' }))
    expect(onSend).not.toHaveBeenCalled()

    // The message follows the text as it is shortened, and goes once it fits; then the text sends.
    fireEvent.change(input, { target: { value: 'y'.repeat(16_010) } })
    expect(screen.getByRole('alert').textContent).toMatch(/: 10 characters over the limit of 16,000\./)
    fireEvent.change(input, { target: { value: 'y'.repeat(16_000) } })
    expect(screen.queryByRole('alert')).toBeNull()
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenCalledWith('y'.repeat(16_000))
    expect(input.value).toBe('')
  })

  it('counts what the core counts: Chinese text meets the byte bound before 16,000 characters', () => {
    const { onSend, input } = setup()
    fireEvent.change(input, { target: { value: '字'.repeat(10_930) } })
    expect(screen.getByText('8 characters over the limit')).toBeTruthy()
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).not.toHaveBeenCalled()
    expect(screen.getByRole('alert').textContent).toMatch(/about 8 characters over the limit\./)
  })

  it('tells a screen reader the room left once typing pauses, not on every key press', () => {
    vi.useFakeTimers()
    try {
      const { input } = setup()
      const live = document.querySelector('.composer [aria-live="polite"]')!
      fireEvent.change(input, { target: { value: 'x'.repeat(15_000) } })
      expect(live.textContent).toBe('')
      act(() => {
        vi.advanceTimersByTime(ANNOUNCE_AFTER_MS)
      })
      expect(live.textContent).toBe('1,000 characters left')
      // The visible counter is not read twice.
      expect(screen.getByText('1,000 characters left', { selector: '.composer-counter' }).getAttribute('aria-hidden')).toBe('true')
    } finally {
      vi.useRealTimers()
    }
  })

  it('gives back a text the core refused for good, with why, keeping anything typed since', async () => {
    let refuse!: (error: string | null) => void
    const { onSend, onDraftChange, input } = setup(() => new Promise((resolve) => (refuse = resolve)))
    fireEvent.change(input, { target: { value: 'the long story' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenCalledWith('the long story')
    expect(input.value).toBe('')
    fireEvent.change(input, { target: { value: 'and a P.S.' } })
    await act(async () => refuse('message is 20000 characters; the limit is 16000'))
    expect(input.value).toBe('the long story\nand a P.S.')
    expect(onDraftChange).toHaveBeenLastCalledWith('the long story\nand a P.S.')
    expect(screen.getByRole('alert').textContent).toBe('Not sent: message is 20000 characters; the limit is 16000. Your text is back in the box.')
    // Editing the text puts the message away.
    fireEvent.change(input, { target: { value: 'the short story' } })
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('lands a late refusal in the draft when the person has already left the conversation', async () => {
    let refuse!: (error: string | null) => void
    const drafts = new Drafts()
    const { unmount } = render(
      <Composer
        conversationName="Family"
        initialDraft=""
        onDraftChange={(text) => drafts.set(CONVERSATION, text)}
        onSend={() => new Promise((resolve) => (refuse = resolve))}
      />,
    )
    const input = screen.getByLabelText('Message to Family')
    fireEvent.change(input, { target: { value: 'sent just before leaving' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    unmount()
    await act(async () => refuse('too large'))
    expect(drafts.get(CONVERSATION)).toBe('sent just before leaving')
  })
})

describe('<Chat> with a send the core refuses for good', () => {
  let restoreLayout: () => void
  beforeAll(() => {
    restoreLayout = fakeLayout()
  })
  afterAll(() => restoreLayout())

  it('puts the text back in the composer and leaves no row with a Retry that cannot work', async () => {
    // The composer's own check normally stops this first; a core with a smaller limit must not lose the words either.
    const api = fakeApi({
      'messages.page': () => ({ messages: [], nextBefore: null }),
      'messages.send': () => {
        throw new HearthError('TOO_LARGE', 'message is 12000 bytes; the limit is 10000 bytes')
      },
    })
    const drafts = new Drafts()
    render(
      <ApiContext.Provider value={api}>
        <Chat conversation={conversationSummary()} drafts={drafts} onInvite={() => {}} onMembers={() => {}} focusComposer={false} now={Date.UTC(2026, 0, 15, 13)} />
      </ApiContext.Provider>,
    )
    const input = (await screen.findByLabelText('Message to Family')) as HTMLTextAreaElement
    fireEvent.change(input, { target: { value: 'a long letter' } })
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(input.value).toBe('a long letter'))
    expect(screen.getByRole('alert').textContent).toBe('Not sent: This message is 12,000 bytes, over the limit of 10,000. Shorten it, or send it in several parts. Your text is back in the box.')
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull()
    expect(document.querySelector('.message.optimistic')).toBeNull()
    expect(drafts.get(CONVERSATION)).toBe('a long letter')
  })
})

describe('drafts across conversations and runs', () => {
  it('keeps each conversation’s unsent text through a switch and a reload', () => {
    localStorage.clear()
    const first = new Drafts(localDraftStorage(localStorage))
    const composer = (drafts: Drafts, conversationId: string, name: string) =>
      render(<Composer key={conversationId} conversationName={name} initialDraft={drafts.get(conversationId)} onDraftChange={(text) => drafts.set(conversationId, text)} onSend={() => {}} />)
    let view = composer(first, 'a'.repeat(32), 'Family')
    fireEvent.change(screen.getByLabelText('Message to Family'), { target: { value: 'for the family' } })
    view.unmount()
    view = composer(first, 'b'.repeat(32), 'Bob')
    fireEvent.change(screen.getByLabelText('Message to Bob'), { target: { value: 'for Bob' } })
    view.unmount()
    view = composer(first, 'a'.repeat(32), 'Family')
    expect((screen.getByLabelText('Message to Family') as HTMLTextAreaElement).value).toBe('for the family')
    view.unmount()

    // A reload: nothing survives in memory, the page's storage does.
    const afterReload = new Drafts(localDraftStorage(localStorage))
    composer(afterReload, 'b'.repeat(32), 'Bob')
    expect((screen.getByLabelText('Message to Bob') as HTMLTextAreaElement).value).toBe('for Bob')
    localStorage.clear()
  })
})

describe('<Composer> replying, editing and mentioning', () => {
  const bob = { account: 'b'.repeat(64), displayName: 'Bob' }
  const bobby = { account: 'c'.repeat(64), displayName: 'Bobby Tables' }
  const ann = { account: 'e'.repeat(64), displayName: 'Ann' }

  function setup(options: { draft?: string; last?: MessageView; onEdit?: (id: string, body: string) => Promise<string | null>; onSend?: ComposerProps['onSend'] } = {}) {
    const ref = createRef<ComposerHandle>()
    const onSend = vi.fn<ComposerProps['onSend']>(options.onSend ?? (() => {}))
    const onEdit = vi.fn(options.onEdit ?? (async () => null))
    const onDraftChange = vi.fn<(text: string) => void>()
    const onTyping = vi.fn()
    render(
      <Composer
        ref={ref}
        conversationName="Family"
        initialDraft={options.draft ?? ''}
        onDraftChange={onDraftChange}
        onSend={onSend}
        onEdit={onEdit}
        onTyping={onTyping}
        lastEditable={() => options.last}
        members={[bob, bobby, ann]}
      />,
    )
    const input = screen.getByLabelText('Message to Family') as HTMLTextAreaElement
    return { ref, onSend, onEdit, onDraftChange, onTyping, input }
  }
  const type = (input: HTMLTextAreaElement, value: string) => fireEvent.change(input, { target: { value, selectionStart: value.length, selectionEnd: value.length } })
  const described = (input: HTMLTextAreaElement) =>
    input
      .getAttribute('aria-describedby')!
      .split(' ')
      .map((id) => document.getElementById(id)?.textContent)
      .join(' | ')

  it('reply: shows whom and what it answers, sends with replyTo, then writes normally again', () => {
    const { ref, onSend, input } = setup()
    const original = message({ body: 'Dinner at 7?\nOr 8?', authorName: 'Bob' })
    act(() => ref.current!.reply(original, 'Robert'))
    expect(screen.getByText('Replying to Robert:')).toBeTruthy()
    expect(screen.getByText('Dinner at 7?')).toBeTruthy()
    expect(described(input)).toMatch(/^Replying to Robert: Dinner at 7\? \| .*Escape cancels the reply/)
    expect(document.activeElement).toBe(input)
    type(input, 'Yes!')
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenCalledWith('Yes!', { replyTo: original.id })
    expect(screen.queryByText(/Replying to/)).toBeNull()
    type(input, 'plain')
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenLastCalledWith('plain')
  })

  it('reply: Escape or the close button cancels it and keeps the text', () => {
    const { ref, input } = setup()
    act(() => ref.current!.reply(message({ body: 'hi' }), 'Bob'))
    type(input, 'half an answer')
    fireEvent.keyDown(input, { key: 'Escape' })
    expect(screen.queryByText(/Replying to/)).toBeNull()
    expect(input.value).toBe('half an answer')
    act(() => ref.current!.reply(message({ body: 'hi' }), 'Bob'))
    fireEvent.click(screen.getByRole('button', { name: 'Cancel reply' }))
    expect(screen.queryByText(/Replying to/)).toBeNull()
  })

  it('reply: a send refused for good comes back as the same reply', async () => {
    const { ref, input } = setup({ onSend: async () => 'too large' })
    const original = message({ body: 'hi' })
    act(() => ref.current!.reply(original, 'Bob'))
    type(input, 'an answer')
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(input.value).toBe('an answer'))
    expect(screen.getByText('Replying to Bob:')).toBeTruthy()
  })

  it('edit: loads the text, Enter saves with the message id, and the draft that was there comes back', async () => {
    const { ref, onEdit, onDraftChange, input, onSend, onTyping } = setup({ draft: 'a draft' })
    const mine = message({ body: 'dinner at 7', mine: true })
    act(() => ref.current!.edit(mine))
    expect(input.value).toBe('dinner at 7')
    expect(screen.getByText('Editing message')).toBeTruthy()
    expect(screen.getByRole('button', { name: 'Save' })).toBeTruthy()
    onDraftChange.mockClear()
    type(input, 'dinner at 8')
    // The edited text is not the draft, and editing is not typing a new message.
    expect(onDraftChange).not.toHaveBeenCalled()
    expect(onTyping).not.toHaveBeenCalled()
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onEdit).toHaveBeenCalledWith(mine.id, 'dinner at 8')
    expect(onSend).not.toHaveBeenCalled()
    expect(input.value).toBe('a draft')
    expect(screen.queryByText('Editing message')).toBeNull()
    await act(async () => {})
  })

  it('edit: Escape cancels and restores the draft; the same text saved again changes nothing', () => {
    const { ref, onEdit, input } = setup({ draft: 'a draft' })
    const mine = message({ body: 'dinner at 7', mine: true })
    act(() => ref.current!.edit(mine))
    type(input, 'dinner at 9')
    fireEvent.keyDown(input, { key: 'Escape' })
    expect(input.value).toBe('a draft')
    expect(screen.queryByText('Editing message')).toBeNull()
    act(() => ref.current!.edit(mine))
    fireEvent.click(screen.getByRole('button', { name: 'Cancel editing' }))
    expect(input.value).toBe('a draft')
    act(() => ref.current!.edit(mine))
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onEdit).not.toHaveBeenCalled()
    expect(input.value).toBe('a draft')
  })

  it('edit: a refused edit comes back with why, the draft still waiting', async () => {
    const { ref, input } = setup({ draft: 'a draft', onEdit: async () => 'only the author can edit a message' })
    act(() => ref.current!.edit(message({ body: 'old', mine: true })))
    type(input, 'new')
    fireEvent.keyDown(input, { key: 'Enter' })
    await waitFor(() => expect(input.value).toBe('new'))
    expect(screen.getByText('Editing message')).toBeTruthy()
    expect(screen.getByRole('alert').textContent).toBe('Not saved: only the author can edit a message. Your edit is back in the box.')
    fireEvent.keyDown(input, { key: 'Escape' })
    expect(input.value).toBe('a draft')
  })

  it('Arrow-Up in an empty composer edits our last message; not when there is text', () => {
    const last = message({ body: 'my last one', mine: true })
    const { input } = setup({ last })
    type(input, 'something')
    fireEvent.keyDown(input, { key: 'ArrowUp' })
    expect(screen.queryByText('Editing message')).toBeNull()
    type(input, '')
    fireEvent.keyDown(input, { key: 'ArrowUp' })
    expect(screen.getByText('Editing message')).toBeTruthy()
    expect(input.value).toBe('my last one')
  })

  it('mentions: @ opens a filtered list, the arrows move through it, Enter picks, and the send carries the account', () => {
    const { input, onSend } = setup()
    type(input, 'hi @')
    const list = screen.getByRole('listbox', { name: 'Mention a member' })
    expect(screen.getAllByRole('option').map((o) => o.textContent)).toEqual(['AAnn', 'BBob', 'BTBobby Tables'])
    type(input, 'hi @bo')
    const options = screen.getAllByRole('option')
    expect(options.map((o) => o.textContent)).toEqual(['BBob', 'BTBobby Tables'])
    expect(input.getAttribute('aria-controls')).toBe(list.id)
    expect(input.getAttribute('aria-autocomplete')).toBe('list')
    expect(input.getAttribute('aria-activedescendant')).toBe(options[0]!.id)
    expect(options[0]!.getAttribute('aria-selected')).toBe('true')
    fireEvent.keyDown(input, { key: 'ArrowDown' })
    expect(input.getAttribute('aria-activedescendant')).toBe(options[1]!.id)
    fireEvent.keyDown(input, { key: 'ArrowDown' })
    expect(input.getAttribute('aria-activedescendant')).toBe(options[0]!.id)
    fireEvent.keyDown(input, { key: 'ArrowUp' })
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).not.toHaveBeenCalled()
    expect(input.value).toBe('hi @Bobby Tables ')
    expect(screen.queryByRole('listbox')).toBeNull()
    expect(input.getAttribute('aria-activedescendant')).toBeNull()
    type(input, 'hi @Bobby Tables and @Bob')
    fireEvent.click(screen.getByRole('option', { name: /^B Bob$|Bob$/ }))
    expect(input.value).toBe('hi @Bobby Tables and @Bob ')
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenCalledWith('hi @Bobby Tables and @Bob ', { mentions: [bobby.account, bob.account] })
  })

  it('mentions: Escape closes the list; a name typed by hand or deleted after picking mentions nobody', () => {
    const { input, onSend } = setup()
    type(input, '@An')
    fireEvent.keyDown(input, { key: 'Escape' })
    expect(screen.queryByRole('listbox')).toBeNull()
    type(input, '@Ann')
    expect(screen.queryByRole('listbox')).toBeNull()
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenLastCalledWith('@Ann')

    type(input, '@b')
    fireEvent.keyDown(input, { key: 'Tab' })
    expect(input.value).toBe('@Bob ')
    type(input, 'never mind')
    fireEvent.keyDown(input, { key: 'Enter' })
    expect(onSend).toHaveBeenLastCalledWith('never mind')
  })

  it('tells the chat the person is typing, but not for clearing the box', () => {
    const { input, onTyping } = setup()
    type(input, 'h')
    type(input, 'hi')
    expect(onTyping).toHaveBeenCalledTimes(2)
    type(input, '')
    expect(onTyping).toHaveBeenCalledTimes(2)
  })
})
