import { describe, expect, it } from 'vitest'
import { throttle, typingAt, typingStarted, typingStopped, typingText } from './typing.js'

const alice = { account: 'a', displayName: 'Alice', until: 1_000 }
const bob = { account: 'b', displayName: 'Bob', until: 2_000 }

describe('typing indicators', () => {
  it('adds typists in the order they start; a refresh extends the time without reordering', () => {
    let list = typingStarted([], alice)
    list = typingStarted(list, bob)
    list = typingStarted(list, { ...alice, until: 5_000 })
    expect(list).toEqual([{ ...alice, until: 5_000 }, bob])
    // An older event arriving late does not shorten it.
    expect(typingStarted(list, alice)[0]!.until).toBe(5_000)
  })

  it('drops one who sent a message, and those whose time ran out', () => {
    const list = [alice, bob]
    expect(typingStopped(list, 'a')).toEqual([bob])
    expect(typingStopped(list, 'nobody')).toBe(list)
    expect(typingAt(list, 999)).toBe(list)
    expect(typingAt(list, 1_000)).toEqual([bob])
    expect(typingAt(list, 2_000)).toEqual([])
  })

  it('says one name, two names, or several people', () => {
    expect(typingText([])).toBe('')
    expect(typingText(['Alice'])).toBe('Alice is typing…')
    expect(typingText(['Alice', 'Bob'])).toBe('Alice and Bob are typing…')
    expect(typingText(['Alice', 'Bob', 'Carol'])).toBe('Several people are typing…')
  })

  it('throttles: at most one call per interval', () => {
    let now = 0
    const allowed = throttle(1_000, () => now)
    expect(allowed()).toBe(true)
    now = 500
    expect(allowed()).toBe(false)
    now = 999
    expect(allowed()).toBe(false)
    now = 1_000
    expect(allowed()).toBe(true)
    now = 1_500
    expect(allowed()).toBe(false)
  })
})
