import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HLC_MAX_COUNTER, compareHlc, type Hlc } from './hlc.js'
import { MAX_ORDER_SEQ, compareOrderKeys, orderKey } from './order.js'

// Small pools next to the full ranges so that ties in the leading fields are common.
const hlc: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4_000_000_000_000 })),
  counter: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: HLC_MAX_COUNTER })),
})
const device = fc.oneof(fc.constantFrom('aa'.repeat(16), 'ab'.repeat(16)), fc.stringMatching(/^[0-9a-f]{32}$/))
const seq = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_ORDER_SEQ }))
const entry = fc.tuple(hlc, device, seq)

function compareTuples([h1, d1, s1]: [Hlc, string, number], [h2, d2, s2]: [Hlc, string, number]): number {
  return compareHlc(h1, h2) || (d1 < d2 ? -1 : d1 > d2 ? 1 : 0) || Math.sign(s1 - s2)
}

describe('orderKey', () => {
  it('sorting keys equals sorting (hlc, device, seq) tuples', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 50 }), (entries) => {
        const byTuple = [...entries].sort(compareTuples).map((e) => orderKey(...e))
        const byKey = entries.map((e) => orderKey(...e)).sort(compareOrderKeys)
        expect(byKey).toEqual(byTuple)
      }),
    )
  })

  it('is injective: equal keys only for equal tuples', () => {
    fc.assert(
      fc.property(entry, entry, (a, b) => {
        expect(orderKey(...a) === orderKey(...b)).toBe(compareTuples(a, b) === 0)
      }),
    )
  })

  it('has a fixed width', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(orderKey(...e)).toHaveLength(64)
      }),
    )
  })

  it('rejects bad devices and seqs', () => {
    const h = { wall: 1, counter: 0 }
    expect(() => orderKey(h, 'AB'.repeat(16), 0)).toThrow()
    expect(() => orderKey(h, 'ab'.repeat(15), 0)).toThrow()
    expect(() => orderKey(h, 'ab'.repeat(16), -1)).toThrow()
    expect(() => orderKey(h, 'ab'.repeat(16), MAX_ORDER_SEQ + 1)).toThrow()
  })
})
