import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  HLC_MAX_COUNTER,
  HLC_MAX_DRIFT_MS,
  HLC_ZERO,
  compareHlc,
  decodeHlc,
  encodeHlc,
  hlcNow,
  hlcReceive,
  type Hlc,
} from './hlc.js'

const wall = fc.integer({ min: 0, max: 4_000_000_000_000 })
const hlc: fc.Arbitrary<Hlc> = fc.record({ wall, counter: fc.integer({ min: 0, max: HLC_MAX_COUNTER }) })

describe('hlc', () => {
  it('hlcNow is strictly monotonic whatever the physical clock does', () => {
    fc.assert(
      fc.property(fc.array(wall, { minLength: 1, maxLength: 200 }), (nows) => {
        let prev = HLC_ZERO
        for (const now of nows) {
          const next = hlcNow(prev, now)
          expect(compareHlc(next, prev)).toBe(1)
          expect(next.wall).toBeGreaterThanOrEqual(now)
          prev = next
        }
      }),
    )
  })

  it('hlcReceive is after both the local and the remote clock', () => {
    fc.assert(
      fc.property(hlc, hlc, wall, (local, remote, now) => {
        const next = hlcReceive(local, remote, now, Number.MAX_SAFE_INTEGER)
        expect(compareHlc(next, local)).toBe(1)
        expect(compareHlc(next, remote)).toBe(1)
        expect(next.wall).toBeGreaterThanOrEqual(now)
      }),
    )
  })

  it('hlcReceive ignores a remote clock too far in the future', () => {
    const now = 1_700_000_000_000
    const local = { wall: now, counter: 3 }
    const far = { wall: now + HLC_MAX_DRIFT_MS + 1, counter: 0 }
    expect(hlcReceive(local, far, now)).toEqual({ wall: now, counter: 4 })
    const near = { wall: now + 1000, counter: 7 }
    expect(hlcReceive(local, near, now)).toEqual({ wall: now + 1000, counter: 8 })
  })

  it('counter overflow moves the wall forward instead of failing', () => {
    expect(hlcNow({ wall: 5, counter: HLC_MAX_COUNTER }, 0)).toEqual({ wall: 6, counter: 0 })
  })

  it('encode/decode round-trips and string order equals clock order', () => {
    fc.assert(
      fc.property(hlc, hlc, (a, b) => {
        expect(decodeHlc(encodeHlc(a))).toEqual(a)
        const ea = encodeHlc(a)
        const eb = encodeHlc(b)
        expect(Math.sign(ea < eb ? -1 : ea > eb ? 1 : 0)).toBe(compareHlc(a, b))
      }),
    )
  })

  it('decodeHlc throws on malformed input', () => {
    for (const bad of ['', '1-1', '0000000000000-00000', '000000000000a-000000', ' 0000000000000-000000', '0000000000000-0000000']) {
      expect(() => decodeHlc(bad)).toThrow()
    }
  })

  it('rejects invalid clocks and times', () => {
    expect(() => hlcNow({ wall: -1, counter: 0 }, 0)).toThrow()
    expect(() => hlcNow({ wall: 1.5, counter: 0 }, 0)).toThrow()
    expect(() => hlcNow(HLC_ZERO, Number.NaN)).toThrow()
    expect(() => encodeHlc({ wall: 0, counter: HLC_MAX_COUNTER + 1 })).toThrow()
  })
})
