import { describe, expect, it } from 'vitest'
import type { SystemLineView } from '../../../node/src/api/types.js'
import { message } from '../testing/fake-api.js'
import { buildItems, type TimelineItem } from './items.js'

const at = (day: number, hour: number) => new Date(2026, 0, day, hour, 0, 0).getTime()
const line = (text: string, when: number): SystemLineView => ({
  id: text.replace(/\W/g, '').padEnd(8, 'x'),
  kind: 'joined',
  hlc: `${when}`,
  at: when,
  actor: 'a'.repeat(64),
  target: null,
  text,
})
const msg = (body: string, when: number, author = 'b') =>
  message({ body, sentAt: when, hlc: `${when}`, orderKey: `${when}`, author: author.repeat(64), authorName: author })
const show = (items: TimelineItem[]) =>
  items.map((i) => (i.kind === 'day' ? `[${i.label}]` : i.kind === 'system' ? `(${i.line.text})` : i.kind === 'message' ? `${i.message.body}${i.first ? '*' : ''}` : '?'))

describe('buildItems with system lines', () => {
  it('puts each line at its place in time among the messages; a line breaks a run of one author', () => {
    const now = at(15, 18)
    const items = buildItems(
      [msg('hi', at(14, 9)), msg('again', at(14, 11)), msg('today', at(15, 9))],
      [],
      now,
      'en-GB',
      { lines: [line('Alice created the group', at(14, 8)), line('Carol joined', at(14, 10)), line('Carol left', at(15, 12))], olderMessages: false },
    )
    expect(show(items)).toEqual(['[Yesterday]', '(Alice created the group)', 'hi*', '(Carol joined)', 'again*', '[Today]', 'today*', '(Carol left)'])
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length)
  })

  it('while older pages exist, lines older than the oldest loaded message wait for them', () => {
    const lines = [line('Alice created the group', at(10, 8)), line('Bob joined', at(14, 10))]
    const partial = buildItems([msg('loaded', at(14, 9)), msg('newer', at(14, 11))], [], at(15, 12), 'en-GB', { lines, olderMessages: true })
    expect(show(partial)).toEqual(['[Yesterday]', 'loaded*', '(Bob joined)', 'newer*'])
    const all = buildItems([msg('loaded', at(14, 9))], [], at(15, 12), 'en-GB', { lines, olderMessages: false })
    expect(show(all)[1]).toBe('(Alice created the group)')
  })

  it('a chat with no messages yet shows its lines alone', () => {
    expect(show(buildItems([], [], at(15, 12), 'en-GB', { lines: [line('Alice created the group', at(15, 8))], olderMessages: false }))).toEqual([
      '[Today]',
      '(Alice created the group)',
    ])
  })
})
