import { describe, expect, it } from 'vitest'
import type { AccountId, OpHash } from '../ids.js'
import type { MembershipOp } from './membership-op.js'
import { unanchoredExcess } from './op-retention.js'

/** Stand-in operations: only the hash, the parents, the clock and the author's account matter here. */
const op = (hash: string, prev: string[], account: string, wall = 1): MembershipOp =>
  ({ hash: hash as OpHash, prev: prev as OpHash[], hlc: String(wall).padStart(13, '0'), author: { account: account as AccountId } }) as unknown as MembershipOp
const map = (ops: MembershipOp[]) => new Map(ops.map((o) => [o.hash, o]))
const admins = new Set(['alice' as AccountId])

describe('unanchoredExcess', () => {
  it('keeps a member’s earliest operations nobody built on, up to the limit, and forgets the rest', () => {
    const spam = Array.from({ length: 6 }, (_, i) => op(`m${i}`, ['root'], 'mallory', 10 - i))
    const excess = unanchoredExcess(map([op('root', [], 'alice'), ...spam]), admins, 4)
    // earliest by clock are kept: m5 (wall 5) … m2 (wall 8); m1 and m0 go
    expect(excess.sort()).toEqual(['m0', 'm1'])
  })

  it('an operation another account built on (directly or through the author’s own later ones) is anchored and kept', () => {
    const chain = [op('m0', ['root'], 'mallory', 2), op('m1', ['m0'], 'mallory', 3), op('m2', ['m1'], 'mallory', 4)]
    const loose = [op('m3', ['root'], 'mallory', 5), op('m4', ['root'], 'mallory', 6)]
    const aliceOnTop = op('a1', ['m2'], 'alice', 7)
    expect(unanchoredExcess(map([op('root', [], 'alice'), ...chain, ...loose, aliceOnTop]), admins, 1)).toEqual(['m4'])
    // a pending operation (its other parent unknown) anchors just the same
    const bobPending = op('b1', ['m4', 'unknown'], 'bob', 8)
    expect(unanchoredExcess(map([op('root', [], 'alice'), ...chain, ...loose, aliceOnTop, bobPending]), admins, 1)).toEqual([])
  })

  it('admins are not bounded; a 5,000-operation chain is walked without recursion', () => {
    const long: MembershipOp[] = [op('root', [], 'alice')]
    for (let i = 0; i < 5_000; i++) long.push(op(`a${i}`, [long[long.length - 1]!.hash], 'alice', i + 2))
    expect(unanchoredExcess(map(long), admins, 1)).toEqual([])
    const theirs: MembershipOp[] = [op('root', [], 'alice')]
    for (let i = 0; i < 5_000; i++) theirs.push(op(`m${i}`, [theirs[theirs.length - 1]!.hash], 'mallory', i + 2))
    expect(unanchoredExcess(map(theirs), admins, 256)).toHaveLength(5_000 - 256)
  })
})
