import { describe, expect, it } from 'vitest'
import { message } from '../testing/fake-api.js'
import { buildItems } from './items.js'

const at = (day: number, hour: number) => new Date(2026, 0, day, hour, 0, 0).getTime()

describe('buildItems', () => {
  it('puts a day separator wherever the local day changes, and the author once per run', () => {
    const now = at(15, 18)
    const items = buildItems(
      [
        message({ sentAt: at(10, 9), orderKey: 'a', authorName: 'Bob', author: 'b'.repeat(64) }),
        message({ sentAt: at(10, 10), orderKey: 'b', authorName: 'Bob', author: 'b'.repeat(64) }),
        message({ sentAt: at(14, 23), orderKey: 'c', authorName: 'Alice', author: 'a'.repeat(64), mine: true }),
        message({ sentAt: at(15, 0), orderKey: 'd', authorName: 'Alice', author: 'a'.repeat(64), mine: true }),
        message({ sentAt: at(15, 1), orderKey: 'e', authorName: 'Bob', author: 'b'.repeat(64) }),
      ],
      [],
      now,
      'en-GB',
    )
    expect(items.map((i) => (i.kind === 'day' ? `[${i.label}]` : i.kind === 'message' ? `${i.message.orderKey}${i.first ? '*' : ''}` : '?'))).toEqual([
      '[Saturday 10 January]',
      'a*',
      'b',
      '[Yesterday]',
      'c*',
      '[Today]',
      'd*',
      'e*',
    ])
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length)
  })

  it('labels another year with the year, and gives a day seen twice (skewed clocks) a unique key', () => {
    const items = buildItems(
      [message({ sentAt: new Date(2025, 5, 1, 12).getTime(), orderKey: 'a' }), message({ sentAt: at(2, 12), orderKey: 'b' }), message({ sentAt: new Date(2025, 5, 1, 13).getTime(), orderKey: 'c' })],
      [],
      at(15, 12),
      'en-GB',
    )
    const days = items.filter((i) => i.kind === 'day')
    expect(days.map((d) => d.label)).toEqual(['Sunday, 1 June 2025', 'Friday 2 January', 'Sunday, 1 June 2025'])
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length)
  })

  it('puts optimistic rows last, under today, grouped with my last message', () => {
    const now = at(15, 12)
    const items = buildItems(
      [message({ sentAt: at(15, 11), orderKey: 'a', mine: true })],
      [
        { localId: '1', body: 'x', at: now, status: 'sending', error: null },
        { localId: '2', body: 'y', at: now, status: 'failed', error: 'no' },
      ],
      now,
    )
    expect(items.map((i) => `${i.kind}${'first' in i && i.first ? '*' : ''}`)).toEqual(['day', 'message*', 'optimistic', 'optimistic'])
    const yesterdayOnly = buildItems([message({ sentAt: at(14, 11), orderKey: 'a', mine: true })], [{ localId: '1', body: 'x', at: now, status: 'sending', error: null }], now)
    expect(yesterdayOnly.map((i) => (i.kind === 'day' ? i.label : i.kind))).toEqual(['Yesterday', 'message', 'Today', 'optimistic'])
  })

  it('builds 100k rows', () => {
    const start = at(1, 0)
    const messages = Array.from({ length: 100_000 }, (_, i) => message({ sentAt: start + i * 60_000, orderKey: String(i).padStart(8, '0') }))
    const items = buildItems(messages, [], at(15, 0))
    // 100k minutes are about 70 days.
    expect(items.length).toBeGreaterThan(100_000)
    expect(items.length).toBeLessThan(100_100)
  })
})
