import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { expandEmojiData, resolveEmojiData } from '../lib/emoji-data.js'
import { ReactionPicker } from './ReactionPicker.js'

afterEach(cleanup)

describe('<ReactionPicker>', () => {
  it('offers the usual reactions; mine is pressed and picking it again takes it away', () => {
    const onPick = vi.fn()
    render(<ReactionPicker current="❤️" onPick={onPick} onClose={() => {}} />)
    const dialog = screen.getByRole('dialog', { name: 'React' })
    const quick = within(dialog).getByRole('group', { name: 'Frequent reactions' })
    expect(within(quick).getByRole('button', { name: 'Red heart' }).getAttribute('aria-pressed')).toBe('true')
    fireEvent.click(within(quick).getByRole('button', { name: 'Red heart' }))
    expect(onPick).toHaveBeenLastCalledWith(null)
    fireEvent.click(within(quick).getByRole('button', { name: 'Thumbs up' }))
    expect(onPick).toHaveBeenLastCalledWith('👍')
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove my reaction (❤️)' }))
    expect(onPick).toHaveBeenLastCalledWith(null)
  })

  it('searches every emoji from the data shipped with the app (nothing is fetched)', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch')
    const onPick = vi.fn()
    render(<ReactionPicker current={null} onPick={onPick} onClose={() => {}} />)
    const search = screen.getByRole('searchbox', { name: 'Search emoji' })
    expect(document.activeElement).toBe(search)
    fireEvent.change(search, { target: { value: 'avocado' } })
    const cell = await waitFor(() => screen.getByRole('gridcell', { name: 'Avocado' }), { timeout: 5000 })
    fireEvent.click(cell)
    expect(onPick).toHaveBeenCalledWith('🥑')
    expect(fetch).not.toHaveBeenCalled()
    fetch.mockRestore()
  })

  it('the shipped data has every group, skin tones, and search tags', async () => {
    const data = await resolveEmojiData('en', {})
    expect(data.categories.map((c) => c.label)).toContain('Smileys & emotion')
    expect(data.emojis.length).toBeGreaterThan(1800)
    const wave = data.emojis.find((e) => e.emoji === '👋')!
    expect(wave.skins?.dark).toBe('👋🏿')
    expect(expandEmojiData({ source: '', categories: [[0, 'A']], skinTones: data.skinTones, emojis: [['x', 'X', 0, 'a b']] }).emojis[0]!.tags).toEqual(['a', 'b'])
  })
})
