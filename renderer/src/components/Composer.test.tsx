import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { ApiContext } from '../api/context.js'
import { composerKeyAction } from '../lib/composer-keys.js'
import { localDraftStorage } from '../lib/draft-storage.js'
import { Drafts } from '../state/drafts.js'
import { CONVERSATION, conversationSummary, fakeApi } from '../testing/fake-api.js'
import { fakeLayout } from '../testing/layout.js'
import { Chat } from './Chat.js'
import { ANNOUNCE_AFTER_MS, Composer } from './Composer.js'

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
    expect(screen.getByRole('alert').textContent).toBe('Not sent: message is 12000 bytes; the limit is 10000 bytes. Your text is back in the box.')
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
