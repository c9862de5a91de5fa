import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Drafts, type DraftSync } from './drafts.js'

const A = 'a'.repeat(32)
const B = 'b'.repeat(32)

/** The core's drafts as another device would change them. */
function fakeSync(held: Record<string, string> = {}) {
  const sets: Array<[string, string]> = []
  let listener: ((id: string, text: string) => void) | undefined
  const sync: DraftSync = {
    get: (id) => Promise.resolve(held[id] ?? ''),
    set: (id, text) => {
      sets.push([id, text])
      held[id] = text
      return Promise.resolve(null)
    },
    onChanged: (l) => {
      listener = l
      return () => (listener = undefined)
    },
  }
  return { sync, sets, fromElsewhere: (id: string, text: string) => listener?.(id, text) }
}

describe('drafts in step with the core', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('keeps each change here at once and sends it 800 ms after typing stops; a cleared one at once', () => {
    const drafts = new Drafts()
    const { sync, sets } = fakeSync()
    drafts.connect(sync)
    drafts.set(A, 'h')
    drafts.set(A, 'half')
    expect(drafts.get(A)).toBe('half')
    vi.advanceTimersByTime(799)
    expect(sets).toEqual([])
    vi.advanceTimersByTime(1)
    expect(sets).toEqual([[A, 'half']])
    drafts.set(A, '')
    expect(sets).toEqual([
      [A, 'half'],
      [A, ''],
    ])
    vi.advanceTimersByTime(1000)
    expect(sets).toHaveLength(2)
  })

  it('sends what waits when the composer closes or the app disconnects', () => {
    const drafts = new Drafts()
    const { sync, sets } = fakeSync()
    const disconnect = drafts.connect(sync)
    const close = drafts.open(A)
    drafts.set(A, 'typed just now')
    close()
    expect(sets).toEqual([[A, 'typed just now']])
    drafts.set(B, 'and here')
    disconnect()
    expect(sets).toEqual([
      [A, 'typed just now'],
      [B, 'and here'],
    ])
  })

  it('takes a draft from another device for a closed composer', () => {
    const drafts = new Drafts()
    const { sync, sets, fromElsewhere } = fakeSync()
    drafts.connect(sync)
    fromElsewhere(A, 'from the phone')
    expect(drafts.get(A)).toBe('from the phone')
    fromElsewhere(A, '')
    expect(drafts.has(A)).toBe(false)
    // Taken, not sent back.
    vi.advanceTimersByTime(1000)
    expect(sets).toEqual([])
  })

  it('never overwrites the open composer: a draft from elsewhere waits, and is dropped if the person typed', () => {
    const drafts = new Drafts()
    const { sync, fromElsewhere } = fakeSync()
    drafts.connect(sync)
    drafts.set(A, 'mine')
    const close = drafts.open(A)
    fromElsewhere(A, 'from the phone')
    expect(drafts.get(A)).toBe('mine')
    drafts.set(A, 'mine, longer')
    close()
    expect(drafts.get(A)).toBe('mine, longer')

    // Open but untouched: the other device's draft is taken once it closes.
    const again = drafts.open(A)
    fromElsewhere(A, 'from the laptop')
    expect(drafts.get(A)).toBe('mine, longer')
    again()
    expect(drafts.get(A)).toBe('from the laptop')
  })

  it('fetches the core\'s draft on opening a conversation with none here, unless the person typed first', async () => {
    const drafts = new Drafts()
    const { sync } = fakeSync({ [A]: 'typed on the phone', [B]: 'also on the phone' })
    const replaced: string[] = []
    drafts.onReplaced((id) => replaced.push(id))
    drafts.connect(sync)
    const close = drafts.open(A)
    await vi.runAllTimersAsync()
    expect(drafts.get(A)).toBe('typed on the phone')
    expect(replaced).toEqual([A])
    close()

    drafts.open(B)
    drafts.set(B, 'x')
    await vi.runAllTimersAsync()
    expect(drafts.get(B)).toBe('x')
    expect(replaced).toEqual([A])
  })

  it('works offline: without the core, or when it refuses, the draft stays here', async () => {
    const drafts = new Drafts()
    drafts.set(A, 'offline')
    const close = drafts.open(A)
    close()
    expect(drafts.get(A)).toBe('offline')
    drafts.connect({ get: () => Promise.reject(new Error('down')), set: () => Promise.reject(new Error('down')), onChanged: () => () => {} })
    drafts.set(B, 'still here')
    drafts.open(A)
    await vi.runAllTimersAsync()
    expect(drafts.get(B)).toBe('still here')
    expect(drafts.get(A)).toBe('offline')
  })
})
