import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HearthError } from '../errors.js'
import { codeOf } from './codec-testing.js'
import { decodeCbor, encodeCbor, MAX_CBOR_NESTING } from './cbor.js'
import { parseWire, uint, bytes } from './schema.js'
import { z } from 'zod'

const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s/g, ''), 'hex'))


describe('CBOR codec', () => {
  it('round trips the values the wire uses', () => {
    const value = { v: 1, s: 'text', b: new Uint8Array([1, 2, 3]), a: [1, 'x', null, true, false], m: { z: 0, a: -5 } }
    expect(decodeCbor(encodeCbor(value), 1024, 'test')).toEqual(value)
  })

  it('encodes deterministically: map keys sorted, whatever the insertion order', () => {
    expect(encodeCbor({ b: 1, a: 2, aa: 3 })).toEqual(encodeCbor({ aa: 3, a: 2, b: 1 }))
    expect(Buffer.from(encodeCbor({ b: 1, a: 2, aa: 3 })).toString('hex')).toBe('a3616102616201626161' + '03')
  })

  it('is strict: rejects indefinite lengths, undefined, duplicate keys, non-minimal integers, trailing bytes, tags', () => {
    const cases: Record<string, string> = {
      indefiniteArray: '9f ff',
      indefiniteMap: 'bf ff',
      undefined: 'f7',
      duplicateKey: 'a2 6161 01 6161 02',
      nonMinimalInt: '18 01',
      trailing: '01 02',
      tag: 'c1 01',
      empty: '',
      nonStringKey: 'a1 01 01',
      hugeArrayClaim: '9b 000000ffffffffff',
      hugeByteStringClaim: '5a ffffffff',
      truncatedString: '65 6162',
    }
    for (const [name, h] of Object.entries(cases)) {
      expect([name, codeOf(() => decodeCbor(hex(h), 1 << 20, 'test'))]).toEqual([name, 'MALFORMED'])
    }
  })

  it('checks the size before decoding: an oversized input is TOO_LARGE even if it would parse', () => {
    const valid = encodeCbor({ b: new Uint8Array(100) })
    expect(codeOf(() => decodeCbor(valid, valid.length, 'test'))).toBe('ok')
    expect(codeOf(() => decodeCbor(valid, valid.length - 1, 'test'))).toBe('TOO_LARGE')
    // garbage beyond the cap is never looked at
    expect(codeOf(() => decodeCbor(new Uint8Array(1_000_001).fill(0xff), 1_000_000, 'test'))).toBe('TOO_LARGE')
  })

  it('deeply nested input is a clean MALFORMED, not a crash', () => {
    const deep = new Uint8Array(20_000).fill(0x81)
    deep[deep.length - 1] = 0x01
    expect(codeOf(() => decodeCbor(deep, 1 << 20, 'test'))).toBe('MALFORMED')
  })

  it('refuses nesting deeper than MAX_CBOR_NESTING before decoding: a 3,000-deep map used to pass the decoder and overflow the stack of the next walker (RangeError from decodeOp)', () => {
    const nested = (depth: number, head: number[]) => {
      const out = new Uint8Array(depth * head.length + 1)
      for (let i = 0; i < depth; i++) out.set(head, i * head.length)
      out[out.length - 1] = 0x01
      return out
    }
    for (const head of [[0xa1, 0x61, 0x61], [0x81], [0xd8, 0x2a], [0x82, 0x00]]) {
      // (Tags are refused by the strict decoder at any depth.)
      if (head[0] !== 0xd8) expect(codeOf(() => decodeCbor(nested(MAX_CBOR_NESTING, head), 1 << 20, 'test'))).toBe('ok')
      for (const depth of [MAX_CBOR_NESTING + 1, 3_000, 100_000]) {
        expect(codeOf(() => decodeCbor(nested(depth, head), 1 << 20, 'test'))).toBe('MALFORMED')
      }
    }
    // Siblings do not add up: only depth counts.
    expect(decodeCbor(encodeCbor(Array.from({ length: 100 }, () => [[[1]]])), 1 << 20, 'test')).toHaveLength(100)
    expect(codeOf(() => decodeCbor(encodeCbor({ a: [{ b: [{ c: [{ d: [{ e: 'x' }] }] }] }] }), 1 << 20, 'test'))).toBe('ok')
  })

  it('values beyond 2^53 decode as bigint and the wire schemas refuse them', () => {
    const big = decodeCbor(hex('1b ffffffffffffffff'), 16, 'test')
    expect(typeof big).toBe('bigint')
    expect(codeOf(() => parseWire(z.object({ t: uint }), { t: big }, 'test'))).toBe('MALFORMED')
    expect(codeOf(() => parseWire(z.object({ t: uint }), { t: 2 ** 53 }, 'test'))).toBe('MALFORMED')
    expect(codeOf(() => parseWire(z.object({ t: uint }), { t: 2 ** 53 - 1 }, 'test'))).toBe('ok')
  })

  it('a "__proto__" key does not change the prototype of the decoded object', () => {
    const decoded = decodeCbor(encodeCbor(JSON.parse('{"__proto__": {"polluted": 1}}')), 64, 'test') as Record<string, unknown>
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(codeOf(() => parseWire(z.object({ b: bytes(2) }), decoded, 'test'))).toBe('MALFORMED')
  })

  it('random bytes either decode to a value that re-encodes canonically, or throw MALFORMED (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (input) => {
        let value: unknown
        try {
          value = decodeCbor(input, 4096, 'fuzz')
        } catch (err) {
          expect(err).toBeInstanceOf(HearthError)
          expect((err as HearthError).code).toBe('MALFORMED')
          return
        }
        // strict decoding accepts at most one encoding of a value... except that keys need not be sorted on input
        // and text is not UTF-8 checked, so only check that what decoded can be encoded and decodes the same again.
        expect(decodeCbor(encodeCbor(value), 1 << 20, 'again')).toEqual(value)
      }),
      { numRuns: 1000, seed: 11 },
    )
  })

  it('any JSON-like value round trips (property)', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 40 }),
    )
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 })),
    })).node
    fc.assert(
      fc.property(value, (v) => {
        expect(decodeCbor(encodeCbor(v), 1 << 20, 'prop')).toEqual(v)
      }),
      { numRuns: 300, seed: 12 },
    )
  })
})
