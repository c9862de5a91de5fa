import { describe, expect, it } from 'vitest'
import { Drafts } from '../state/drafts.js'
import { localDraftStorage } from './draft-storage.js'

/** A Storage like the browser's, with a quota in UTF-16 units. */
function memoryStorage(quota = Infinity): Storage {
  const items = new Map<string, string>()
  const used = () => [...items].reduce((n, [k, v]) => n + k.length + v.length, 0)
  return {
    get length() {
      return items.size
    },
    key: (i) => [...items.keys()][i] ?? null,
    getItem: (k) => items.get(k) ?? null,
    setItem(k, v) {
      if (used() - (items.get(k)?.length ?? 0) + v.length > quota) throw new DOMException('full', 'QuotaExceededError')
      items.set(k, v)
    },
    removeItem: (k) => void items.delete(k),
    clear: () => items.clear(),
  }
}

describe('drafts kept in the page’s storage', () => {
  it('come back in a new run (a reload, a restart), per conversation; a sent one is gone', () => {
    const storage = memoryStorage()
    storage.setItem('unrelated', 'kept as it is')
    const first = new Drafts(localDraftStorage(storage))
    first.set('a'.repeat(32), 'half a thought')
    first.set('b'.repeat(32), 'another')
    first.set('b'.repeat(32), '')

    const second = new Drafts(localDraftStorage(storage))
    expect(second.get('a'.repeat(32))).toBe('half a thought')
    expect(second.has('b'.repeat(32))).toBe(false)
    expect(storage.getItem('unrelated')).toBe('kept as it is')
  })

  it('keep a draft over the quota for this run only, never an older copy of it', () => {
    const storage = memoryStorage(1_000)
    const drafts = new Drafts(localDraftStorage(storage))
    const save = localDraftStorage(storage)
    drafts.set('c'.repeat(32), 'short')
    expect(save.save('c'.repeat(32), 'x'.repeat(2_000))).toBe(false)
    drafts.set('c'.repeat(32), 'x'.repeat(2_000))
    expect(drafts.get('c'.repeat(32))).toHaveLength(2_000)
    expect(new Drafts(localDraftStorage(storage)).has('c'.repeat(32))).toBe(false)
  })

  it('work without a storage (memory only)', () => {
    const drafts = new Drafts(localDraftStorage(null))
    drafts.set('d'.repeat(32), 'still here while the app runs')
    expect(drafts.get('d'.repeat(32))).toBe('still here while the app runs')
  })
})
