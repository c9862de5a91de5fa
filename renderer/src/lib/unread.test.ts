import { describe, expect, it } from 'vitest'
import { message } from '../testing/fake-api.js'
import { firstUnreadId, lastEditable } from './unread.js'

describe('firstUnreadId', () => {
  const mine = (body: string) => message({ body, mine: true })
  const theirs = (body: string) => message({ body })

  it('is the unread-th newest message of someone else, skipping ours and withdrawn ones', () => {
    const list = [theirs('old'), theirs('first unread'), mine('my answer'), { ...theirs('withdrawn'), withdrawn: 'conflict' as const }, theirs('newest')]
    expect(firstUnreadId(list, 2)).toBe(list[1]!.id)
    expect(firstUnreadId(list, 1)).toBe(list[4]!.id)
    expect(firstUnreadId(list, 0)).toBeNull()
  })

  it('with more unread than loaded, is the oldest loaded message of someone else; null when there is none', () => {
    const list = [mine('mine'), theirs('a'), theirs('b')]
    expect(firstUnreadId(list, 50)).toBe(list[1]!.id)
    expect(firstUnreadId([mine('only mine')], 3)).toBeNull()
    expect(firstUnreadId([], 3)).toBeNull()
  })
})

describe('lastEditable', () => {
  it('is our newest message that is not deleted or withdrawn', () => {
    const older = message({ body: 'older', mine: true })
    const deleted = message({ body: '', mine: true, deleted: true })
    const list = [older, message({ body: 'theirs' }), deleted]
    expect(lastEditable(list)).toBe(older)
    expect(lastEditable([message({ body: 'theirs' })])).toBeUndefined()
  })
})
