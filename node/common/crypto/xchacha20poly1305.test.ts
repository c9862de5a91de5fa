import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import fc from 'fast-check'
import sodium from 'libsodium-wrappers'
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { randomNonce } from './random.js'
import { SMALL_INPUT_BYTES, openWithOpenSsl, sealWithOpenSsl, xchachaOpen, xchachaReady, xchachaSeal } from './xchacha20poly1305.js'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

beforeAll(() => xchachaReady)
afterEach(() => {
  vi.restoreAllMocks()
})

describe('XChaCha20-Poly1305 on libsodium (small inputs) and OpenSSL (large ones)', () => {
  it('seals byte for byte as noble does and opens what noble sealed, on both paths and across the boundary (property)', () => {
    // Lengths either side of SMALL_INPUT_BYTES, where the entry points switch from libsodium to OpenSSL.
    const plaintexts = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: SMALL_INPUT_BYTES - 40, max: SMALL_INPUT_BYTES + 40 }).chain((n) => bytes(n)))
    fc.assert(
      fc.property(bytes(32), bytes(24), plaintexts, fc.uint8Array({ maxLength: 100 }), (key, nonce, plaintext, ad) => {
        const reference = xchacha20poly1305(key, nonce, ad).encrypt(plaintext)
        expect(xchachaSeal(key, nonce, plaintext, ad)).toEqual(reference)
        expect(sealWithOpenSsl(key, nonce, plaintext, ad)).toEqual(reference)
        expect(xchachaOpen(key, nonce, reference, ad)).toEqual(plaintext)
        expect(openWithOpenSsl(key, nonce, reference, ad)).toEqual(plaintext)
      }),
      { numRuns: 300, seed: 20_261_122 },
    )
  })

  it('takes libsodium up to SMALL_INPUT_BYTES of plaintext and OpenSSL above', () => {
    const seal = vi.spyOn(sodium, 'crypto_aead_xchacha20poly1305_ietf_encrypt')
    const open = vi.spyOn(sodium, 'crypto_aead_xchacha20poly1305_ietf_decrypt')
    const key = new Uint8Array(32).fill(4)
    const nonce = new Uint8Array(24).fill(5)
    const ad = new Uint8Array([1])
    const atLimit = xchachaSeal(key, nonce, new Uint8Array(SMALL_INPUT_BYTES), ad)
    expect(xchachaOpen(key, nonce, atLimit, ad)).toEqual(new Uint8Array(SMALL_INPUT_BYTES))
    expect([seal.mock.calls.length, open.mock.calls.length]).toEqual([1, 1])
    const over = xchachaSeal(key, nonce, new Uint8Array(SMALL_INPUT_BYTES + 1), ad)
    expect(xchachaOpen(key, nonce, over, ad)).toEqual(new Uint8Array(SMALL_INPUT_BYTES + 1))
    expect([seal.mock.calls.length, open.mock.calls.length]).toEqual([1, 1])
  })

  it("a sealed output owns its memory (a caller's .buffer is that output alone), on both paths", () => {
    const key = new Uint8Array(32).fill(6)
    const nonce = new Uint8Array(24).fill(7)
    for (const size of [10, SMALL_INPUT_BYTES + 10]) {
      const out = xchachaSeal(key, nonce, new Uint8Array(size), new Uint8Array())
      expect([out.byteOffset, out.buffer.byteLength]).toEqual([0, size + 16])
    }
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
