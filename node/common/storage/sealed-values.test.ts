import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { equalBytes, utf8 } from '../util/bytes.js'
import { SealedValues } from './sealed-values.js'

const keyA = new Uint8Array(32).fill(7)
const keyB = new Uint8Array(32).fill(8)
const failsToOpen = (f: () => unknown): void => {
  let err: unknown
  try {
    f()
  } catch (e) {
    err = e
  }
  expect(isHearthError(err, 'DECRYPT_FAILED')).toBe(true)
}

describe('SealedValues', () => {
  const sv = new SealedValues(keyA)

  it('round-trips, including empty and binary plaintexts', () => {
    for (const pt of [new Uint8Array(0), new Uint8Array([0, 255, 0]), utf8('hello, bob'), new Uint8Array(100_000).fill(0xff)]) {
      const sealed = sv.seal('msg\x00a\x001', pt)
      expect(sealed.length).toBe(1 + 24 + pt.length + 16)
      expect(sealed[0]).toBe(1)
      expect(equalBytes(sv.open('msg\x00a\x001', sealed), pt)).toBe(true)
    }
  })

  it('uses a fresh nonce each time', () => {
    const pt = utf8('same')
    expect(sv.seal('k', pt)).not.toEqual(sv.seal('k', pt))
  })

  it('fails with the wrong storage key', () => {
    const sealed = sv.seal('k', utf8('secret'))
    failsToOpen(() => new SealedValues(keyB).open('k', sealed))
  })

  it('fails when the value is moved to another record key', () => {
    const sealed = sv.seal('contact\x00alice', utf8('secret'))
    failsToOpen(() => sv.open('contact\x00bob', sealed))
    failsToOpen(() => sv.open('contact\x00alice\x00', sealed))
    failsToOpen(() => sv.open('', sealed))
  })

  it('fails when any byte is tampered with, or the value is truncated or extended', () => {
    const sealed = sv.seal('k', utf8('secret'))
    for (let i = 0; i < sealed.length; i++) {
      const copy = new Uint8Array(sealed)
      copy[i]! ^= 0x01
      failsToOpen(() => sv.open('k', copy))
    }
    failsToOpen(() => sv.open('k', sealed.subarray(0, sealed.length - 1)))
    failsToOpen(() => sv.open('k', new Uint8Array([...sealed, 0])))
    failsToOpen(() => sv.open('k', new Uint8Array(0)))
    failsToOpen(() => sv.open('k', sealed.subarray(0, 40)))
  })

  it('does not keep a reference to the caller key array', () => {
    const k = new Uint8Array(32).fill(3)
    const s = new SealedValues(k)
    const sealed = s.seal('k', utf8('x'))
    k.fill(0)
    expect(s.open('k', sealed)).toEqual(utf8('x'))
  })

  it('rejects keys that are not 32 bytes', () => {
    for (const k of [new Uint8Array(31), new Uint8Array(33), new Uint8Array(0)]) {
      expect(() => new SealedValues(k)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
    }
  })
})
