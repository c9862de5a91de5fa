import { createHmac, hkdfSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { fromHex, toHex, utf8 } from '../util/bytes.js'
import {
  checkCommitment,
  checkE,
  checkN,
  commitNonce,
  confirmationCode,
  openAccount,
  pairingKeys,
  pairSecretBytes,
  pairTranscript,
  proveE,
  proveN,
  sealAccount,
} from './pairing.js'

/** Computed once by this implementation (and checked against node:crypto below), then frozen. */
interface PairVector {
  name: string
  secret: string
  secretBytes: string
  peerE: string
  peerN: string
  proofKeyE: string
  proofKeyN: string
  sasKey: string
  boxKey: string
  proofE: string
  proofN: string
  nonceE: string
  nonceN: string
  commitment: string
  code: string
  payload: string
  box: string
}
const vectors = JSON.parse(readFileSync(new URL('./pairing.vectors.json', import.meta.url), 'utf8')) as PairVector[]

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const PEER_A = '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2'
const PEER_B = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const secretArb = fc.array(fc.constantFrom(...ALPHABET), { minLength: 19, maxLength: 19 }).map((a) => a.join(''))
const peerArb = fc.stringMatching(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/)
const nonceArb = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe('pairing crypto', () => {
  it('matches the frozen vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(3)
    for (const v of vectors) {
      const k = pairingKeys(v.secret, v.peerE, v.peerN)
      expect(toHex(pairSecretBytes(v.secret)), v.name).toBe(v.secretBytes)
      expect([toHex(k.proofE), toHex(k.proofN), toHex(k.sasKey), toHex(k.boxKey)], v.name).toEqual([v.proofKeyE, v.proofKeyN, v.sasKey, v.boxKey])
      expect(toHex(proveE(k)), v.name).toBe(v.proofE)
      expect(toHex(proveN(k)), v.name).toBe(v.proofN)
      expect(toHex(commitNonce(k, fromHex(v.nonceE))), v.name).toBe(v.commitment)
      expect(confirmationCode(k, fromHex(v.nonceE), fromHex(v.nonceN)), v.name).toBe(v.code)
      expect(toHex(openAccount(k, fromHex(v.box))), v.name).toBe(v.payload)
    }
  })

  it('is HKDF-SHA-256 and HMAC-SHA-256 as PROTOCOL.md spells them (checked against node:crypto)', () => {
    for (const v of vectors) {
      const transcript = Buffer.from(`hearth/v1/pair\0${v.peerE}\0${v.peerN}`)
      expect(Buffer.from(pairTranscript(v.peerE, v.peerN))).toEqual(transcript)
      const key = (label: string) =>
        Buffer.from(hkdfSync('sha256', fromHex(v.secretBytes), Buffer.alloc(0), Buffer.concat([Buffer.from(label), Buffer.of(0), transcript]), 32)).toString('hex')
      expect(key('hearth/v1/pair-proof-e')).toBe(v.proofKeyE)
      expect(key('hearth/v1/pair-proof-n')).toBe(v.proofKeyN)
      expect(key('hearth/v1/pair-sas')).toBe(v.sasKey)
      expect(key('hearth/v1/pair-box')).toBe(v.boxKey)
      expect(createHmac('sha256', fromHex(v.proofKeyE)).update(transcript).digest('hex')).toBe(v.proofE)
      const h = createHmac('sha256', fromHex(v.sasKey)).update(Buffer.of(2)).update(fromHex(v.nonceE)).update(fromHex(v.nonceN)).digest()
      const digits = String(Number(h.readBigUInt64BE(0) >> 24n) % 1_000_000).padStart(6, '0')
      expect(v.code).toBe(`${digits.slice(0, 3)} ${digits.slice(3)}`)
    }
  })

  it('decodes the secret as short invites encode it: 95 bits, the 96th zero', () => {
    expect(toHex(pairSecretBytes('0'.repeat(19)))).toBe('00'.repeat(12))
    expect(toHex(pairSecretBytes('Z'.repeat(19)))).toBe(`${'ff'.repeat(11)}fe`)
    for (const bad of ['', 'z'.repeat(19), 'I'.repeat(19), 'Z'.repeat(18), 'Z'.repeat(20), 'U'.repeat(19)]) {
      expect(() => pairSecretBytes(bad)).toThrow(/19 canonical symbols/)
    }
  })

  it('accepts each side’s own proof and nothing else', () => {
    fc.assert(
      fc.property(secretArb, peerArb, peerArb, (secret, e, n) => {
        const k = pairingKeys(secret, e, n)
        expect(checkE(k, proveE(k))).toBe(true)
        expect(checkN(k, proveN(k))).toBe(true)
        // One side's proof is not the other's, even in the same pairing.
        expect(checkE(k, proveN(k))).toBe(false)
        expect(checkN(k, proveE(k))).toBe(false)
        expect(checkE(k, proveE(k).subarray(0, 31))).toBe(false)
      }),
    )
  })

  it('refuses proofs made with a wrong secret', () => {
    fc.assert(
      fc.property(secretArb, secretArb, peerArb, peerArb, (secret, other, e, n) => {
        fc.pre(secret !== other)
        const right = pairingKeys(secret, e, n)
        const wrong = pairingKeys(other, e, n)
        expect(checkE(right, proveE(wrong))).toBe(false)
        expect(checkN(right, proveN(wrong))).toBe(false)
        expect(() => openAccount(right, sealAccount(wrong, utf8('account')))).toThrow(/decryption failed/)
      }),
    )
  })

  it('refuses proofs, boxes and codes of another connection: swapped or other PeerIds', () => {
    fc.assert(
      fc.property(secretArb, peerArb, peerArb, peerArb, nonceArb, (secret, e, n, m, nonceE) => {
        fc.pre(e !== n && m !== e && m !== n)
        const k = pairingKeys(secret, e, n)
        for (const other of [pairingKeys(secret, n, e), pairingKeys(secret, e, m), pairingKeys(secret, m, n)]) {
          expect(checkE(k, proveE(other))).toBe(false)
          expect(checkN(k, proveN(other))).toBe(false)
          expect(checkCommitment(k, commitNonce(other, nonceE), nonceE)).toBe(false)
          let opened = true
          try {
            openAccount(k, sealAccount(other, utf8('account')))
          } catch (err) {
            opened = !isHearthError(err, 'DECRYPT_FAILED')
          }
          expect(opened).toBe(false)
        }
      }),
    )
  })

  it('binds the commitment to the nonce and the code to both nonces', () => {
    fc.assert(
      fc.property(secretArb, nonceArb, nonceArb, nonceArb, (secret, nonceE, nonceN, other) => {
        fc.pre(toHex(other) !== toHex(nonceE))
        const k = pairingKeys(secret, PEER_A, PEER_B)
        expect(checkCommitment(k, commitNonce(k, nonceE), nonceE)).toBe(true)
        expect(checkCommitment(k, commitNonce(k, nonceE), other)).toBe(false)
        expect(confirmationCode(k, nonceE, nonceN)).toMatch(/^\d{3} \d{3}$/)
      }),
    )
  })

  it('spreads confirmation codes evenly (no digit position stuck)', () => {
    const k = pairingKeys('K7Q29XHM4RTWPKZ3G8N', PEER_A, PEER_B)
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0))
    const runs = 5_000
    for (let i = 0; i < runs; i++) {
      const nonceN = new Uint8Array(32)
      new DataView(nonceN.buffer).setUint32(0, i)
      const digits = confirmationCode(k, new Uint8Array(32), nonceN).replace(' ', '')
      for (let p = 0; p < 6; p++) counts[p]![Number(digits[p])]!++
    }
    // Each digit value is expected 500 times per position; 5 standard deviations is about ±106.
    for (const position of counts) for (const c of position) expect(Math.abs(c - runs / 10)).toBeLessThan(110)
  })

  it('refuses malformed inputs instead of deriving from them', () => {
    expect(() => pairingKeys('K7Q29XHM4RTWPKZ3G8N', '', PEER_B)).toThrow(/PeerId/)
    expect(() => pairingKeys('K7Q29XHM4RTWPKZ3G8N', `${PEER_A}\0x`, PEER_B)).toThrow(/PeerId/)
    const k = pairingKeys('K7Q29XHM4RTWPKZ3G8N', PEER_A, PEER_B)
    expect(() => confirmationCode(k, new Uint8Array(31), new Uint8Array(32))).toThrow(/32 bytes/)
    expect(() => commitNonce(k, new Uint8Array(33))).toThrow(/32 bytes/)
    expect(checkCommitment(k, commitNonce(k, new Uint8Array(32)), new Uint8Array(31))).toBe(false)
  })
})
