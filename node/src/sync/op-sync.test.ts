import { describe, expect, it } from 'vitest'
import type { MembershipOp } from '../conversation/membership-op.js'
import type { OpHash } from '../ids.js'
import { opPages, opsMissing } from './op-sync.js'

/** A stand-in op: only the hash, the parents and the encoded size matter here. */
const op = (hash: string, prev: string[], size = 10): MembershipOp =>
  ({ hash: hash as OpHash, prev: prev as OpHash[], bytes: new Uint8Array(size) }) as unknown as MembershipOp

//   r ─ a ─ b ─ d
//        └─ c ─┘   e (pending: its parent x is unknown)
const ops = [op('r', []), op('a', ['r']), op('b', ['a']), op('c', ['a']), op('d', ['b', 'c']), op('e', ['x'])]
const byHash = new Map(ops.map((o) => [o.hash, o]))
const order = ['r', 'a', 'b', 'c', 'd'] as OpHash[]
const hashes = (list: MembershipOp[]) => list.map((o) => o.hash)

describe('opsMissing', () => {
  it('sends everything below none of the peer’s known heads, parents first, pending ones last', () => {
    expect(hashes(opsMissing(byHash, [], order))).toEqual(['r', 'a', 'b', 'c', 'd', 'e'])
    expect(hashes(opsMissing(byHash, ['b'], order))).toEqual(['c', 'd', 'e'])
    expect(hashes(opsMissing(byHash, ['b', 'c'], order))).toEqual(['d', 'e'])
    expect(hashes(opsMissing(byHash, ['d', 'e'], order))).toEqual([])
  })

  it('heads we do not hold only mean the peer has more: they exclude nothing', () => {
    expect(hashes(opsMissing(byHash, ['zz', 'c'], order))).toEqual(['b', 'd', 'e'])
  })
})

describe('opPages', () => {
  it('cuts pages by count and bytes, and stops at the response budget', () => {
    const many = Array.from({ length: 10 }, (_, i) => op(`o${i}`, [], 100))
    expect(opPages(many, { maxBytes: 1_000, maxCount: 3, totalBytes: 10_000 }).map((p) => p.length)).toEqual([3, 3, 3, 1])
    expect(opPages(many, { maxBytes: 250, maxCount: 100, totalBytes: 10_000 }).map((p) => p.length)).toEqual([2, 2, 2, 2, 2])
    expect(opPages(many, { maxBytes: 1_000, maxCount: 100, totalBytes: 450 }).flat().length).toBe(4)
    expect(opPages([], { maxBytes: 1, maxCount: 1, totalBytes: 1 })).toEqual([])
  })
})
