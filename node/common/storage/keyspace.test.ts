import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { utf8 } from '../util/bytes.js'
import { decodeNumber, encodeNumber, key, prefixRange, splitKey, type KeyPart } from './keyspace.js'
import { openDatabase } from './database.js'

/** LevelDB's order: bytes of the UTF-8 encoding. */
const byteCompare = (a: string, b: string): number => Buffer.compare(utf8(a), utf8(b))
const inRange = (k: string, r: { gte: string; lt: string }): boolean => byteCompare(k, r.gte) >= 0 && byteCompare(k, r.lt) < 0

const safeNat = fc.maxSafeNat()
// Well-formed strings (full Unicode, including astral) without the separator.
const part = fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => !s.includes('\x00'))
const keyPart: fc.Arbitrary<KeyPart> = fc.oneof(part, safeNat)

function compareTuples(a: KeyPart[], b: KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!
    const y = b[i]!
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return x < y ? -1 : 1
    } else {
      const c = byteCompare(typeof x === 'number' ? encodeNumber(x) : x, typeof y === 'number' ? encodeNumber(y) : y)
      if (c !== 0) return c
    }
  }
  return a.length - b.length
}

describe('keyspace', () => {
  it('encodes numbers as 16 hex digits and decodes them back', () => {
    expect(encodeNumber(0)).toBe('0000000000000000')
    expect(encodeNumber(255)).toBe('00000000000000ff')
    expect(encodeNumber(Number.MAX_SAFE_INTEGER)).toBe('001fffffffffffff')
    fc.assert(fc.property(safeNat, (n) => decodeNumber(encodeNumber(n)) === n))
  })

  it('sorts numbers numerically', () => {
    fc.assert(
      fc.property(safeNat, safeNat, (a, b) => {
        const c = byteCompare(key('m', a), key('m', b))
        return Math.sign(c) === Math.sign(a - b)
      }),
    )
  })

  it('sorts keys in tuple order', () => {
    fc.assert(
      fc.property(fc.array(keyPart, { minLength: 1, maxLength: 4 }), fc.array(keyPart, { minLength: 1, maxLength: 4 }), (a, b) => {
        return Math.sign(byteCompare(key(...a), key(...b))) === Math.sign(compareTuples(a, b))
      }),
    )
  })

  it('prefixRange includes exactly the strict descendants of the prefix', () => {
    fc.assert(
      fc.property(
        fc.array(keyPart, { minLength: 1, maxLength: 3 }),
        fc.array(keyPart, { minLength: 1, maxLength: 4 }),
        (prefix, other) => {
          const r = prefixRange(...prefix)
          // A child of the prefix is inside.
          if (!inRange(key(...prefix, ...other), r)) return false
          // Any key is inside iff its parts start with the prefix parts and it has more parts.
          const isChild =
            other.length > prefix.length && prefix.every((p, i) => key(p) === key(other[i]!))
          return inRange(key(...other), r) === isChild
        },
      ),
    )
    const r = prefixRange('a')
    expect(inRange(key('a'), r)).toBe(false)
    expect(inRange(key('ab'), r)).toBe(false)
    expect(inRange(key('a', ''), r)).toBe(true)
    expect(inRange(key('a', 'b', 3), r)).toBe(true)
    expect(inRange('a\x01', r)).toBe(false)
  })

  it('prefixRange selects exactly the children in a real database', async () => {
    const db = await openDatabase({ memory: true })
    try {
      const keys = [
        key('conv'),
        key('conv', 'x', 1),
        key('conv', 'x', 2),
        key('conv', 'x', 10),
        key('conv', 'x'),
        key('conv', 'xy', 1),
        key('conv', 'y', 0),
        key('conva', 'x', 1),
      ]
      await db.batch(keys.map((k) => ({ type: 'put' as const, key: k, value: new Uint8Array(0) })))
      const got: string[] = []
      for await (const k of db.keys(prefixRange('conv', 'x'))) got.push(k)
      expect(got.map(splitKey)).toEqual([
        ['conv', 'x', encodeNumber(1)],
        ['conv', 'x', encodeNumber(2)],
        ['conv', 'x', encodeNumber(10)],
      ])
      expect(await db.count(prefixRange('conv'))).toBe(6)
    } finally {
      await db.close()
    }
  })

  it('splits keys into their parts', () => {
    expect(splitKey(key('a', 5, ''))).toEqual(['a', '0000000000000005', ''])
  })

  it('rejects parts that would break the order or the encoding', () => {
    const bad: Array<() => unknown> = [
      () => key(),
      () => key('a\x00b'),
      () => key(-1),
      () => key(1.5),
      () => key(Number.MAX_SAFE_INTEGER + 1),
      () => key(Number.NaN),
      () => key('\ud800'),
      () => key({} as unknown as string),
      () => prefixRange(),
    ]
    for (const f of bad) expect(f).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    for (const s of ['', 'xyz', '000000000000000G', '0020000000000000'.slice(1), 'FFFFFFFFFFFFFFFF']) {
      let err: unknown
      try {
        decodeNumber(s)
      } catch (e) {
        err = e
      }
      expect(isHearthError(err, 'CORRUPT_DATA'), s).toBe(true)
    }
  })
})
