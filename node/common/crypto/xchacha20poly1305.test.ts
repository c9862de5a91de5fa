import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomNonce } from './random.js'
import { xchachaOpen, xchachaSeal } from './xchacha20poly1305.js'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

describe('XChaCha20-Poly1305 on node:crypto', () => {
  it('seals byte for byte as noble does and opens what noble sealed (property)', () => {
    fc.assert(
      fc.property(bytes(32), bytes(24), fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 100 }), (key, nonce, plaintext, ad) => {
        const reference = xchacha20poly1305(key, nonce, ad).encrypt(plaintext)
        expect(xchachaSeal(key, nonce, plaintext, ad)).toEqual(reference)
        expect(xchachaOpen(key, nonce, reference, ad)).toEqual(plaintext)
      }),
      { numRuns: 300, seed: 20_261_122 },
    )
  })

  it('refuses a box with any bit flipped, the wrong associated data, nonce or key, and wrong lengths', () => {
    const key = new Uint8Array(32).fill(1)
    const nonce = new Uint8Array(24).fill(2)
    const box = xchachaSeal(key, nonce, new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array([9]))
    for (let i = 0; i < box.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = box.slice()
        bad[i]! ^= bit
        expect(() => xchachaOpen(key, nonce, bad, new Uint8Array([9]))).toThrow()
      }
    }
    expect(() => xchachaOpen(key, nonce, box, new Uint8Array([8]))).toThrow()
    expect(() => xchachaOpen(key, new Uint8Array(24).fill(3), box, new Uint8Array([9]))).toThrow()
    expect(() => xchachaOpen(new Uint8Array(32), nonce, box, new Uint8Array([9]))).toThrow()
    expect(() => xchachaOpen(key, nonce, box.subarray(0, 15), new Uint8Array([9]))).toThrow(RangeError)
    expect(() => xchachaSeal(new Uint8Array(31), nonce, box, new Uint8Array())).toThrow(RangeError)
    expect(() => xchachaSeal(key, new Uint8Array(12), box, new Uint8Array())).toThrow(RangeError)
  })

  it('nonces from the pool are fresh each time, also across refills', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) seen.add(Buffer.from(randomNonce(24)).toString('hex'))
    expect(seen.size).toBe(1000)
    expect(() => randomNonce(65)).toThrow(RangeError)
  })
})
