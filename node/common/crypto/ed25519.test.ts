import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import {
  generateSigningKeyPair,
  isAcceptablePublicKey,
  nobleSign,
  nobleVerify,
  sign,
  signingKeyPairFromSeed,
  signWithLabel,
  verify,
  verifyWithLabel,
} from './ed25519.js'
import { Labels } from './labels.js'

describe('ed25519', () => {
  it('signs and verifies, and node and noble produce identical signatures', () => {
    const kp = generateSigningKeyPair()
    const msg = utf8('hello hearth')
    const sig = sign(kp.seed, msg)
    expect(sig.length).toBe(64)
    expect(verify(kp.publicKey, msg, sig)).toBe(true)
    expect(nobleVerify(kp.publicKey, msg, sig)).toBe(true)
    // Ed25519 is deterministic, so the two implementations must agree byte for byte.
    expect(nobleSign(kp.seed, msg)).toEqual(sig)
  })

  it('derives the RFC 8032 test 1 public key from its seed', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
    const kp = signingKeyPairFromSeed(new Uint8Array(seed))
    expect(Buffer.from(kp.publicKey).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    )
  })

  it('detects any single-bit change to message, signature or key', () => {
    const kp = generateSigningKeyPair()
    const msg = utf8('tamper with me')
    const sig = sign(kp.seed, msg)
    fc.assert(
      fc.property(fc.constantFrom('msg', 'sig', 'pub'), fc.nat(), fc.integer({ min: 0, max: 7 }), (which, pos, bit) => {
        const m = Uint8Array.from(msg)
        const s = Uint8Array.from(sig)
        const p = Uint8Array.from(kp.publicKey)
        const target = which === 'msg' ? m : which === 'sig' ? s : p
        target[pos % target.length]! ^= 1 << bit
        expect(verify(p, m, s)).toBe(false)
        expect(nobleVerify(p, m, s)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('never throws on malformed input', () => {
    const kp = generateSigningKeyPair()
    const msg = utf8('x')
    const sig = sign(kp.seed, msg)
    const cases: Array<[Uint8Array, Uint8Array]> = [
      [new Uint8Array(0), sig],
      [new Uint8Array(31), sig],
      [new Uint8Array(33), sig],
      [kp.publicKey, new Uint8Array(0)],
      [kp.publicKey, new Uint8Array(63)],
      [kp.publicKey, new Uint8Array(65)],
      [new Uint8Array(32).fill(0xff), sig],
      [new Uint8Array(32), new Uint8Array(64)],
    ]
    for (const [pub, s] of cases) {
      expect(verify(pub, msg, s)).toBe(false)
      expect(nobleVerify(pub, msg, s)).toBe(false)
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 70 }), fc.uint8Array(), (pub, s, m) => {
        expect(verify(pub, m, s)).toBe(nobleVerify(pub, m, s))
      }),
      { numRuns: 200 },
    )
  })

  it('agrees with noble on random 32/64-byte garbage keys and signatures', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (pub, s) => {
          expect(verify(pub, utf8('m'), s)).toBe(nobleVerify(pub, utf8('m'), s))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('rejects a bad seed length when signing', () => {
    expect(() => sign(new Uint8Array(31), utf8('x'))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })

  it('labelled signatures do not verify under another label or unlabelled', () => {
    const kp = generateSigningKeyPair()
    const msg = utf8('certificate body')
    const sig = signWithLabel(kp.seed, Labels.deviceCert, msg)
    expect(verifyWithLabel(kp.publicKey, Labels.deviceCert, msg, sig)).toBe(true)
    expect(verifyWithLabel(kp.publicKey, Labels.envelopeSig, msg, sig)).toBe(false)
    expect(verify(kp.publicKey, msg, sig)).toBe(false)
  })

  it('keeps working past the key cache bound', () => {
    const pairs = Array.from({ length: 40 }, () => generateSigningKeyPair())
    for (const kp of pairs) expect(verify(kp.publicKey, utf8('a'), sign(kp.seed, utf8('a')))).toBe(true)
    expect(isHearthError(new Error('x'))).toBe(false)
  })

  describe('edge cases where RFC 8032 implementations differ (not covered by Wycheproof)', () => {
    const Point = ed25519.Point
    const L = Point.Fn.ORDER
    const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h))
    const msg = utf8('edge')
    const le32 = (n: bigint): Uint8Array => {
      const out = new Uint8Array(32)
      for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn)
      return out
    }
    /** Signs with scalar `a` under the given public point and nonce point, as a malicious key owner could. */
    const forge = (a: bigint, A: Uint8Array, r: bigint, R: Uint8Array): Uint8Array => {
      const k = bytesToNumberLE(sha512(concatBytes(R, A, msg))) % L
      return concatBytes(R, le32((r + k * a) % L))
    }
    const a = 0x1234567n
    const A = Point.BASE.multiply(a)

    it('rejects a torsion component in R in both verifiers (plain noble strict would accept)', () => {
      for (let t = 1; t < 8; t++) {
        const R = Point.BASE.multiply(777n).add(torsion[t]!).toBytes()
        const sig = forge(a, A.toBytes(), 777n, R)
        expect(ed25519.verify(sig, msg, A.toBytes(), { zip215: false })).toBe(true)
        expect(verify(A.toBytes(), msg, sig)).toBe(false)
        expect(nobleVerify(A.toBytes(), msg, sig)).toBe(false)
      }
    })

    it('agrees on keys with a torsion component (where plain noble strict accepts them all)', () => {
      let accepted = 0
      for (let t = 1; t < 8; t++) {
        const mixed = A.add(torsion[t]!).toBytes()
        for (const r of [999n, 1000n, 1001n, 1002n]) {
          const sig = forge(a, mixed, r, Point.BASE.multiply(r).toBytes())
          expect(ed25519.verify(sig, msg, mixed, { zip215: false })).toBe(true)
          const viaNode = verify(mixed, msg, sig)
          expect(nobleVerify(mixed, msg, sig)).toBe(viaNode)
          if (viaNode) accepted++
        }
      }
      // The cofactorless equation holds only when [k]T happens to vanish, so some but not all pass.
      expect(accepted).toBeLessThan(28)
    })

    it('rejects every low-order key, which node:crypto alone would accept with a trivial signature', () => {
      for (const key of torsion) {
        expect(isAcceptablePublicKey(key.toBytes())).toBe(false)
        for (const R of torsion) {
          const sig = concatBytes(R.toBytes(), new Uint8Array(32))
          expect(verify(key.toBytes(), msg, sig)).toBe(false)
          expect(nobleVerify(key.toBytes(), msg, sig)).toBe(false)
        }
      }
    })

    it('accepts honest signatures in both verifiers', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 100 }), (seed, m) => {
          const kp = signingKeyPairFromSeed(seed)
          const sig = sign(kp.seed, m)
          expect(isAcceptablePublicKey(kp.publicKey)).toBe(true)
          expect(verify(kp.publicKey, m, sig)).toBe(true)
          expect(nobleVerify(kp.publicKey, m, sig)).toBe(true)
        }),
        { numRuns: 50 },
      )
    })
  })
})
