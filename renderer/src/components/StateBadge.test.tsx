import { cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { STATE_LABELS, StateBadge } from './StateBadge.js'

afterEach(cleanup)

describe('<StateBadge>', () => {
  it.each(Object.entries(STATE_LABELS))('shows %s in words, not only as an icon', (state, label) => {
    const { container } = render(<StateBadge state={state as keyof typeof STATE_LABELS} />)
    const badge = container.querySelector('[data-state]')!
    expect(badge.getAttribute('data-state')).toBe(state)
    expect(badge.textContent).toContain(label)
    expect(badge.querySelector('.state-icon')!.getAttribute('aria-hidden')).toBe('true')
  })

  it('tells delivered from read', () => {
    expect(STATE_LABELS.delivered).not.toBe(STATE_LABELS.read)
  })
})
