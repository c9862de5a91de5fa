import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { composerKeyAction } from '../lib/composer-keys.js'
import { Composer } from './Composer.js'

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
