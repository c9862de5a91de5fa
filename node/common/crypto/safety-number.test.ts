import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { encodeCbor } from '../wire/cbor.js'
import { fromHex, toHex, utf8 } from '../util/bytes.js'
import { generateSigningKeyPair, signingKeyPairFromSeed } from './ed25519.js'
import {
  combineDigits,
  decodeSafetyQr,
  displayDigits,
  encodeSafetyQr,
  fingerprintHash,
  safetyNumber,
  scannedMatches,
  type FingerprintParty,
} from './safety-number.js'

/**
 * libsignal's known answer (signalapp/libsignal-protocol-c tests/test_fingerprint.c `DISPLAYABLE_FINGERPRINT`; the same
 * values are in libsignal's rust/protocol/src/fingerprint.rs and the Java NumericFingerprintGeneratorTest): two
 * Curve25519 identity keys in Signal's 33-byte encoding, phone numbers as stable identifiers, 5,200 iterations. Only
 * the values are used here.
 */
const LIBSIGNAL = {
  alice: { key: '0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868', id: '+14152222222' },
  bob: { key: '05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b', id: '+14153333333' },
  digits: '300354477692869396892869876765458257569162576843440918079131',
}

/** Hearth's own vectors, computed once by this implementation (after it matched libsignal's) and frozen. */
interface HearthVector {
  name: string
  accountA: string
  accountB: string
  digits: string
  qrA: string
  qrB: string
}
const vectors = JSON.parse(readFileSync(new URL('./safety-number.vectors.json', import.meta.url), 'utf8')) as HearthVector[]

const party = (account: string): FingerprintParty => ({ key: fromHex(account), id: fromHex(account) })
const libsignalParty = (p: { key: string; id: string }): FingerprintParty => ({ key: fromHex(p.key), id: utf8(p.id) })

describe('safety numbers', () => {
  it("reproduce libsignal's known answer, whichever side computes", () => {
    const a = libsignalParty(LIBSIGNAL.alice)
    const b = libsignalParty(LIBSIGNAL.bob)
    expect(safetyNumber(a, b).digits).toBe(LIBSIGNAL.digits)
    expect(safetyNumber(b, a).digits).toBe(LIBSIGNAL.digits)
    expect(combineDigits(displayDigits(fingerprintHash(a)), displayDigits(fingerprintHash(b)))).toBe(LIBSIGNAL.digits)
  })

  it('depend on the number of rounds, the key in every round included', () => {
    const a = libsignalParty(LIBSIGNAL.alice)
    const b = libsignalParty(LIBSIGNAL.bob)
    expect(safetyNumber(a, b, 5199).digits).not.toBe(LIBSIGNAL.digits)
    // Leaving the key out of the first round (a tempting misreading of libsignal) gives another number.
    const keyNotInFirstRound = (p: FingerprintParty): string => {
      let h: Uint8Array = createHash('sha512').update(Uint8Array.of(0, 0)).update(p.key).update(p.id).digest()
      for (let i = 1; i < 5200; i++) h = createHash('sha512').update(h).update(p.key).digest()
      return displayDigits(h)
    }
    expect(combineDigits(keyNotInFirstRound(a), keyNotInFirstRound(b))).not.toBe(LIBSIGNAL.digits)
  })

  it('match the frozen Hearth vectors (account keys as Hearth encodes them)', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(3)
    for (const v of vectors) {
      const fromA = safetyNumber(party(v.accountA), party(v.accountB))
      const fromB = safetyNumber(party(v.accountB), party(v.accountA))
      expect(fromA.digits, v.name).toBe(v.digits)
      expect(fromB.digits, v.name).toBe(v.digits)
      expect(toHex(fromA.qr), v.name).toBe(v.qrA)
      expect(toHex(fromB.qr), v.name).toBe(v.qrB)
    }
  })

  it('are 60 decimal digits, the same on both sides, and change with either key', () => {
    for (let i = 0; i < 8; i++) {
      const a = toHex(generateSigningKeyPair().publicKey)
      const b = toHex(generateSigningKeyPair().publicKey)
      const c = toHex(generateSigningKeyPair().publicKey)
      const ab = safetyNumber(party(a), party(b), 50).digits
      expect(ab).toMatch(/^[0-9]{60}$/)
      expect(safetyNumber(party(b), party(a), 50).digits).toBe(ab)
      expect(safetyNumber(party(a), party(c), 50).digits).not.toBe(ab)
      expect(safetyNumber(party(c), party(b), 50).digits).not.toBe(ab)
    }
  })

  it('change when a single bit of a key changes', () => {
    const a = signingKeyPairFromSeed(new Uint8Array(32).fill(1)).publicKey
    const b = signingKeyPairFromSeed(new Uint8Array(32).fill(2)).publicKey
    const base = safetyNumber({ key: a, id: a }, { key: b, id: b }).digits
    for (const bit of [0, 77, 255]) {
      const flipped = Uint8Array.from(b)
      flipped[bit >> 3]! ^= 1 << (bit & 7)
      expect(safetyNumber({ key: a, id: a }, { key: flipped, id: flipped }).digits).not.toBe(base)
    }
  })

  it('zero-pad each group of five', () => {
    // 00 00 00 00 00 → 0, and 00 00 01 86 a0 (100,000) → 0 too; ff×5 = 1,099,511,627,775 → 27775.
    const hash = new Uint8Array(64)
    hash.set([0, 0, 1, 0x86, 0xa0], 5)
    hash.set([0xff, 0xff, 0xff, 0xff, 0xff], 10)
    hash.set([0, 0, 0, 0, 42], 15)
    expect(displayDigits(hash)).toBe('000000000027775000420000000000')
  })
})

describe('the safety number QR payload', () => {
  const a = party(toHex(signingKeyPairFromSeed(new Uint8Array(32).fill(3)).publicKey))
  const b = party(toHex(signingKeyPairFromSeed(new Uint8Array(32).fill(4)).publicKey))
  const m = party(toHex(signingKeyPairFromSeed(new Uint8Array(32).fill(5)).publicKey))
  const fromA = safetyNumber(a, b, 100)
  const fromB = safetyNumber(b, a, 100)

  it('round-trips and is small', () => {
    const decoded = decodeSafetyQr(fromA.qr)
    expect(encodeSafetyQr(decoded.local, decoded.remote)).toEqual(fromA.qr)
    expect(decoded.local).toEqual(fingerprintHash(a, 100).subarray(0, 32))
    expect(fromA.qr.length).toBeLessThan(80)
  })

  it("matches crosswise: each side accepts the other's code, not its own, not a third person's", () => {
    expect(scannedMatches(fromA.qr, fromB.qr)).toBe(true)
    expect(scannedMatches(fromB.qr, fromA.qr)).toBe(true)
    expect(scannedMatches(fromA.qr, fromA.qr)).toBe(false)
    // Mallory in the middle: bob sees mallory's key as alice's, so his code carries mallory's fingerprint.
    expect(scannedMatches(fromA.qr, safetyNumber(b, m, 100).qr)).toBe(false)
    expect(scannedMatches(fromA.qr, safetyNumber(m, a, 100).qr)).toBe(false)
  })

  it('refuses a code with any byte changed, or a half swapped', () => {
    for (let i = 0; i < fromB.qr.length; i++) {
      const tampered = Uint8Array.from(fromB.qr)
      tampered[i]! ^= 0x01
      let ok: boolean
      try {
        ok = scannedMatches(fromA.qr, tampered)
      } catch (err) {
        // A changed version byte reads as another version; anything else as not a code at all.
        expect(isHearthError(err, 'MALFORMED') || isHearthError(err, 'UNSUPPORTED_VERSION'), `byte ${i}`).toBe(true)
        ok = false
      }
      expect(ok, `byte ${i}`).toBe(false)
    }
    const { local, remote } = decodeSafetyQr(fromB.qr)
    expect(scannedMatches(fromA.qr, encodeSafetyQr(remote, local))).toBe(false)
  })

  it('refuses what is not a payload of this version, with a typed error', () => {
    const { local, remote } = decodeSafetyQr(fromB.qr)
    const bad = [
      new Uint8Array(0),
      new Uint8Array(200),
      utf8('hearth://join/abc'),
      encodeCbor({ v: 1, l: local.subarray(0, 31), r: remote }),
      encodeCbor({ v: 1, l: local, r: remote, x: 1 }),
      encodeCbor([1, local, remote]),
    ]
    for (const payload of bad) {
      expect(() => scannedMatches(fromA.qr, payload)).toThrow(expect.objectContaining({ code: 'MALFORMED' }))
    }
    expect(() => scannedMatches(fromA.qr, encodeCbor({ v: 2, l: local, r: remote }))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }))
  })
})
