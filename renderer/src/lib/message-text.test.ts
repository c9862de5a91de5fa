import { describe, expect, it } from 'vitest'
import { messageSegments, safeLink } from './message-text.js'

describe('messageSegments', () => {
  it('finds http and https links and keeps the rest as text', () => {
    expect(messageSegments('see https://example.org/a?b=1 and http://x.test')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://x.test', href: 'http://x.test/' },
    ])
  })

  it('leaves sentence punctuation and an enclosing bracket out of the link', () => {
    expect(messageSegments('(look: https://example.org/path).')).toEqual([
      { kind: 'text', text: '(look: ' },
      { kind: 'link', text: 'https://example.org/path', href: 'https://example.org/path' },
      { kind: 'text', text: ').' },
    ])
    // A bracket the address opened itself stays in it.
    const wiki = messageSegments('https://en.wikipedia.org/wiki/Hearth_(disambiguation)!')
    expect(wiki[0]).toMatchObject({ kind: 'link', text: 'https://en.wikipedia.org/wiki/Hearth_(disambiguation)' })
  })

  it('never links other schemes or a scheme glued to a word', () => {
    for (const body of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'file:///etc/passwd', 'ftp://x.test', 'xhttps://x.test', 'https://']) {
      expect(messageSegments(body).filter((s) => s.kind === 'link'), body).toEqual([])
    }
    expect(safeLink('javascript:alert(1)')).toBeNull()
    expect(safeLink('https://example.org')).toBe('https://example.org/')
  })

  it('keeps markup as plain text', () => {
    expect(messageSegments('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }])
  })

  it('marks mentions of the given names, the longest name first, and says which one is me', () => {
    const names = [
      { name: 'Ann', me: false },
      { name: 'Ann Lee', me: true },
    ]
    expect(messageSegments('@Ann Lee and @Ann, not me@Ann nor @Anna', names)).toEqual([
      { kind: 'mention', text: '@Ann Lee', me: true },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@Ann', me: false },
      { kind: 'text', text: ', not me@Ann nor @Anna' },
    ])
  })
})
