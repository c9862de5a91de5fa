import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ConversationId } from '../../ids.js'
import { filesToRemove, LOW_WATER, type ReceivedFile } from './file-budget.js'

const CONV = 'c'.repeat(32) as ConversationId
const file = (blob: string, bytes: number, usedAt: number): ReceivedFile => ({ conversation: CONV, blob, bytes, usedAt })
const none = (): boolean => false
const total = (files: readonly ReceivedFile[]): number => files.reduce((n, f) => n + f.bytes, 0)

describe('filesToRemove', () => {
  it('removes nothing within the budget, or with no limit', () => {
    const files = [file('a', 400, 1), file('b', 600, 2)]
    expect(filesToRemove(files, 1_000, none)).toEqual([])
    expect(filesToRemove(files, 0, none)).toEqual([])
  })

  it('removes the least recently used first, down to the low-water mark, not one more', () => {
    const files = [file('new', 300, 30), file('old', 300, 10), file('mid', 300, 20), file('newest', 300, 40)]
    // 1,200 bytes in a budget of 1,000: down to 900 takes one file, the oldest.
    expect(filesToRemove(files, 1_000, none).map((f) => f.blob)).toEqual(['old'])
    // In a budget of 700 (low water 630): the two oldest.
    expect(filesToRemove(files, 700, none).map((f) => f.blob)).toEqual(['old', 'mid'])
  })

  it('never removes a file the caller keeps, even when that leaves the budget exceeded', () => {
    const files = [file('open', 800, 1), file('other', 300, 2)]
    expect(filesToRemove(files, 500, (f) => f.blob === 'open').map((f) => f.blob)).toEqual(['other'])
  })

  it('holds for any files: over the budget it gets to low water or removes every file it may, oldest first', () => {
    const arbFiles = fc.uniqueArray(fc.record({ blob: fc.nat(1_000).map((n) => `b${n}`), bytes: fc.nat(10_000), usedAt: fc.nat(1_000) }), { selector: (f) => f.blob, maxLength: 30 })
    fc.assert(
      fc.property(arbFiles, fc.nat(200_000), fc.func(fc.boolean()), (raw, budget, keepFn) => {
        const files = raw.map((f) => file(f.blob, f.bytes, f.usedAt))
        const keep = (f: ReceivedFile): boolean => keepFn(f.blob)
        const removed = filesToRemove(files, budget, keep)
        const removedSet = new Set(removed.map((f) => f.blob))
        expect(removedSet.size).toBe(removed.length)
        for (const f of removed) expect(keep(f)).toBe(false)
        if (budget === 0 || total(files) <= budget) {
          expect(removed).toEqual([])
          return
        }
        const left = total(files) - total(removed)
        const removable = files.filter((f) => !keep(f) && f.bytes > 0)
        if (left > Math.floor(budget * LOW_WATER)) expect(removed.length).toBe(removable.length)
        // Not one more than needed: without the last one removed, the files would still be above low water.
        if (removed.length > 0) expect(left + removed.at(-1)!.bytes).toBeGreaterThan(Math.floor(budget * LOW_WATER))
        // Oldest first: nothing left that may go is older than something removed.
        const newestRemoved = Math.max(...removed.map((f) => f.usedAt), -1)
        for (const f of removable) if (!removedSet.has(f.blob)) expect(f.usedAt).toBeGreaterThanOrEqual(newestRemoved)
      }),
    )
  })
})
