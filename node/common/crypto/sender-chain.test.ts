import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toHex } from '../util/bytes.js'
import { advance, keyAt, messageKey, newChain, type ChainState } from './sender-chain.js'

const arbChain = fc
  .record({ chainKey: fc.uint8Array({ minLength: 32, maxLength: 32 }), index: fc.nat({ max: 1_000_000 }) })
  .map((s): ChainState => s)

function advanceN(state: ChainState, n: number): ChainState {
  let s = state
  for (let i = 0; i < n; i++) s = advance(s)
  return s
}

describe('sender chain', () => {
  it('starts at index 0 with a fresh 32-byte key', () => {
    const a = newChain()
    expect(a.index).toBe(0)
    expect(a.chainKey.length).toBe(32)
    expect(newChain().chainKey).not.toEqual(a.chainKey)
  })

  it('keyAt(s, s.index + n) equals n advances then messageKey, and next is one past it', () => {
    fc.assert(
      fc.property(arbChain, fc.nat({ max: 50 }), (s, n) => {
        const manual = advanceN(s, n)
        const { key, next } = keyAt(s, s.index + n)
        expect(key).toEqual(messageKey(manual))
        expect(next).toEqual(advance(manual))
        expect(next.index).toBe(s.index + n + 1)
      }),
    )
  })

  it('is deterministic and does not mutate its input', () => {
    fc.assert(
      fc.property(arbChain, fc.nat({ max: 20 }), (s, n) => {
        const before = { chainKey: Uint8Array.from(s.chainKey), index: s.index }
        const a = keyAt(s, s.index + n)
        const b = keyAt(s, s.index + n)
        expect(a).toEqual(b)
        expect(s).toEqual(before)
      }),
    )
  })

  it('reaching a key in steps or in one jump gives the same key', () => {
    fc.assert(
      fc.property(arbChain, fc.nat({ max: 20 }), fc.nat({ max: 20 }), (s, a, b) => {
        const first = keyAt(s, s.index + a)
        expect(keyAt(first.next, first.next.index + b).key).toEqual(keyAt(s, s.index + a + 1 + b).key)
      }),
    )
  })

  it('message keys and chain keys never repeat along a chain and differ from each other', () => {
    fc.assert(
      fc.property(arbChain, (s) => {
        const seen = new Set<string>()
        let cur = s
        for (let i = 0; i < 30; i++) {
          seen.add(toHex(messageKey(cur)))
          seen.add(toHex(cur.chainKey))
          cur = advance(cur)
        }
        expect(seen.size).toBe(60)
      }),
      { numRuns: 30 },
    )
  })

  it('refuses to go backwards or skip too far', () => {
    const s = advanceN(newChain(), 5)
    const invalid = expect.objectContaining({ code: 'INVALID_INPUT' })
    expect(() => keyAt(s, 4)).toThrow(invalid)
    expect(() => keyAt(s, 5.5)).toThrow(invalid)
    expect(() => keyAt(s, 5 + 11, 10)).toThrow(invalid)
    expect(keyAt(s, 5 + 10, 10).next.index).toBe(16)
    expect(() => keyAt(s, 5 + 100_001)).toThrow(invalid)
  })
})
