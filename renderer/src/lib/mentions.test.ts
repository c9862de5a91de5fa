import { describe, expect, it } from 'vitest'
import { activeMention, insertMention, MAX_SUGGESTIONS, mentionsInText, suggestMentions } from './mentions.js'

const member = (displayName: string, n: number) => ({ displayName, account: n.toString(16).repeat(64).slice(0, 64) })
const ann = member('Ann Lee', 1)
const bob = member('Bob', 2)
const bobby = member('Bobby Tables', 3)
const zoe = member('Zoë', 4)
const members = [bobby, zoe, ann, bob]

describe('activeMention', () => {
  it('finds the @name being typed at the caret', () => {
    expect(activeMention('@', 1)).toEqual({ start: 0, query: '' })
    expect(activeMention('hi @Bo', 6)).toEqual({ start: 3, query: 'Bo' })
    expect(activeMention('hi @Ann L and more', 9)).toEqual({ start: 3, query: 'Ann L' })
    expect(activeMention('(@bo', 4)).toEqual({ start: 1, query: 'bo' })
  })

  it('is not fooled by an e-mail address, a lone @, a line break or a caret before the @', () => {
    expect(activeMention('mail me at ann@example.org', 26)).toBeNull()
    expect(activeMention('meet @ 5', 8)).toBeNull()
    expect(activeMention('@Bob\nhello', 10)).toBeNull()
    expect(activeMention('hi @Bob', 2)).toBeNull()
    expect(activeMention('no mention here', 15)).toBeNull()
    expect(activeMention(`@${'x'.repeat(60)}`, 61)).toBeNull()
  })
})

describe('suggestMentions', () => {
  it('matches the start of the name or of any word, ignoring case and accents, names that start with it first', () => {
    expect(suggestMentions(members, 'bo')).toEqual([bob, bobby])
    expect(suggestMentions(members, 'lee')).toEqual([ann])
    expect(suggestMentions(members, 'ZOE')).toEqual([zoe])
    expect(suggestMentions(members, 'ta')).toEqual([bobby])
    expect(suggestMentions(members, 'x')).toEqual([])
    expect(suggestMentions(members, '')).toEqual([ann, bob, bobby, zoe])
  })

  it('offers a handful, not a whole large group', () => {
    const many = Array.from({ length: 30 }, (_, i) => member(`Person ${i}`, i))
    expect(suggestMentions(many, 'p')).toHaveLength(MAX_SUGGESTIONS)
  })
})

describe('insertMention', () => {
  it('replaces the query with @Name and a space, caret after it', () => {
    expect(insertMention('hi @bo', { start: 3, query: 'bo' }, 'Bob')).toEqual({ text: 'hi @Bob ', caret: 8 })
    // In the middle of the text, a space that was already there is reused.
    expect(insertMention('hi @bo how are you', { start: 3, query: 'bo' }, 'Bob')).toEqual({ text: 'hi @Bob how are you', caret: 8 })
    expect(insertMention('@a, hi', { start: 0, query: 'a' }, 'Ann Lee')).toEqual({ text: '@Ann Lee , hi', caret: 9 })
  })
})

describe('mentionsInText', () => {
  const all = new Set(members.map((m) => m.account))
  const picked = [
    { account: bob.account, name: 'Bob' },
    { account: ann.account, name: 'Ann Lee' },
  ]

  it('keeps the picked mentions still in the text, each once', () => {
    expect(mentionsInText('@Bob and @Ann Lee, and @Bob again', picked, all)).toEqual([bob.account, ann.account])
    expect(mentionsInText('@Ann Lee only', picked, all)).toEqual([ann.account])
  })

  it('drops a mention deleted or changed in the text, and one of someone no longer a member', () => {
    expect(mentionsInText('nobody now', picked, all)).toEqual([])
    expect(mentionsInText('@Bobby is not @Bob', [{ account: bob.account, name: 'Bob' }], all)).toEqual([bob.account])
    expect(mentionsInText('@Bobby', [{ account: bob.account, name: 'Bob' }], all)).toEqual([])
    expect(mentionsInText('@Bob', picked, new Set([ann.account]))).toEqual([])
  })

  it('takes names with characters that mean something in a pattern literally', () => {
    const odd = { account: zoe.account, name: 'J. (Jo) Smith+' }
    expect(mentionsInText('hi @J. (Jo) Smith+!', [odd], all)).toEqual([zoe.account])
    expect(mentionsInText('hi @J. xJox Smith+', [odd], all)).toEqual([])
  })
})
