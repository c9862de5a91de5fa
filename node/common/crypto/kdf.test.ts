import fc from 'fast-check'
import { hkdf as rawHkdf } from '@noble/hashes/hkdf.js'
import { hmac as rawHmac } from '@noble/hashes/hmac.js'
import { sha256 as rawSha256 } from '@noble/hashes/sha2.js'
import { describe, expect, it } from 'vitest'
import { concatBytes, toHex, utf8 } from '../util/bytes.js'
import { hkdf, hmacSha256, sha256 } from './kdf.js'
import { Labels } from './labels.js'

describe('kdf', () => {
  const ikm = new Uint8Array(32).fill(3)

  it('binds the label into info as label || 0x00 || info', () => {
    const extra = utf8('extra')
    const expected = rawHkdf(rawSha256, ikm, undefined, concatBytes(utf8(Labels.topic), new Uint8Array([0]), extra), 32)
    expect(hkdf(Labels.topic, ikm, { info: extra })).toEqual(expected)
  })

  it('gives different keys for different labels, and honours length and salt', () => {
    expect(hkdf(Labels.topic, ikm)).not.toEqual(hkdf(Labels.mailbox, ikm))
    expect(hkdf(Labels.topic, ikm, { length: 64 }).length).toBe(64)
    expect(hkdf(Labels.topic, ikm, { salt: new Uint8Array([1]) })).not.toEqual(hkdf(Labels.topic, ikm))
  })

  it('sha256 and hmac give the answers of noble for any input, as plain byte arrays', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 100 }), (data, key) => {
        const digest = sha256(data)
        expect(digest).toEqual(rawSha256(data))
        expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype)
        expect(digest.byteOffset).toBe(0)
        expect(digest.buffer.byteLength).toBe(32)
        expect(hmacSha256(key, data)).toEqual(rawHmac(rawSha256, key, data))
      }),
    )
  })

  it('sha256 and hmac match known answers', () => {
    expect(toHex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    // RFC 4231 test case 2
    expect(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    )
  })

  it('labels are unique, versioned and NUL-free', () => {
    const values = Object.values(Labels)
    expect(new Set(values).size).toBe(values.length)
    for (const label of values) expect(label).toMatch(/^hearth\/v\d+\/[a-z0-9-]+$/)
  })
})
