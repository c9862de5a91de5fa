import { describe, expect, it } from 'vitest'
import { joinStateText } from './join-state.js'

describe('joinStateText', () => {
  it('says a join is waiting, why one was refused, and nothing for a conversation we are in', () => {
    expect(joinStateText({ joinState: 'waiting' })).toBe('Waiting for the group to let you in (asked through the relay)')
    expect(joinStateText({ joinState: 'refused', joinRefusal: 'You were removed from this conversation.' })).toBe('You were removed from this conversation.')
    expect(joinStateText({ joinState: 'refused' })).toMatch(/new invite/)
    expect(joinStateText({})).toBeNull()
  })
})
