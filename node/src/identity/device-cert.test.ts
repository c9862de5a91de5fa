import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateSigningKeyPair, signWithLabel } from '../../common/crypto/ed25519.js'
import { Labels } from '../../common/crypto/labels.js'
import { generateDhKeyPair } from '../../common/crypto/x25519.js'
import { codeOf } from '../../common/wire/codec-testing.js'
import { toHex } from '../../common/util/bytes.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { decodeDeviceCert, issueDeviceCert, MAX_DISPLAY_NAME, type DeviceCert } from './device-cert.js'

const account = generateSigningKeyPair()
const device = generateSigningKeyPair()
const dh = generateDhKeyPair()
const PEER = '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2'

const issue = (over: Partial<Parameters<typeof issueDeviceCert>[0]> = {}): DeviceCert =>
  issueDeviceCert({
    accountSeed: account.seed,
    accountPublic: account.publicKey,
    devicePublic: device.publicKey,
    dhPublic: dh.publicKey,
    peerId: PEER,
    displayName: 'Alice',
    createdAt: 1_700_000_000_000,
    ...over,
  })


/** Re-signs a hand-made body, as an attacker holding the account key (or not) could. */
const wrap = (body: unknown, seed = account.seed, label: (typeof Labels)[keyof typeof Labels] = Labels.deviceCert) => {
  const b = encodeCbor(body)
  return encodeCbor({ b, s: signWithLabel(seed, label, b) })
}
const goodBody = () => ({ v: 1, a: account.publicKey, d: device.publicKey, x: dh.publicKey, p: PEER, n: 'Alice', t: 5 })

describe('device certificate', () => {
  it('round trips: issue → decode gives the same fields and bytes', () => {
    const cert = issue()
    expect(cert).toMatchObject({
      account: toHex(account.publicKey),
      device: toHex(device.publicKey),
      dhPublic: dh.publicKey,
      peerId: PEER,
      displayName: 'Alice',
      createdAt: 1_700_000_000_000,
    })
    expect(decodeDeviceCert(cert.bytes)).toEqual(cert)
    expect(decodeDeviceCert(wrap(goodBody())).createdAt).toBe(5)
  })

  it('a certificate not signed by the account key it names → BAD_SIGNATURE', () => {
    const other = generateSigningKeyPair()
    expect(codeOf(() => issue({ accountSeed: other.seed }))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => decodeDeviceCert(wrap(goodBody(), other.seed)))).toBe('BAD_SIGNATURE')
    // the account's signature made for another purpose does not count
    expect(codeOf(() => decodeDeviceCert(wrap(goodBody(), account.seed, Labels.membershipOp)))).toBe('BAD_SIGNATURE')
  })

  it('rejects malformed bodies even when properly signed', () => {
    // a newer version says so
    expect(codeOf(() => decodeDeviceCert(wrap({ ...goodBody(), v: 2 })))).toBe('UNSUPPORTED_VERSION')
    const bad: Array<Record<string, unknown>> = [
      { ...goodBody(), v: '1' },
      { ...goodBody(), a: account.publicKey.subarray(1) },
      { ...goodBody(), d: 'not bytes' },
      { ...goodBody(), x: new Uint8Array(33) },
      { ...goodBody(), p: '' },
      { ...goodBody(), p: 'p'.repeat(129) },
      { ...goodBody(), n: 'n'.repeat(MAX_DISPLAY_NAME * 4 + 1) },
      { ...goodBody(), t: -1 },
      { ...goodBody(), t: 1.5 },
      { v: 1 },
    ]
    for (const body of bad) expect(codeOf(() => decodeDeviceCert(wrap(body)))).toBe('MALFORMED')
    expect(codeOf(() => decodeDeviceCert(encodeCbor({ b: new Uint8Array([0xff]), s: new Uint8Array(64) })))).toBe('MALFORMED')
    expect(codeOf(() => decodeDeviceCert(encodeCbor({ b: encodeCbor(goodBody()), s: new Uint8Array(63) })))).toBe('MALFORMED')
  })

  it('oversized: TOO_LARGE before parsing', () => {
    expect(codeOf(() => decodeDeviceCert(new Uint8Array(1025)))).toBe('TOO_LARGE')
    // a name of 256 four-byte characters is within the schema but makes the certificate too big
    expect(codeOf(() => issue({ displayName: '😀'.repeat(256) }))).toBe('TOO_LARGE')
  })

  it('every single-byte change is rejected or decodes to the same certificate', () => {
    const cert = issue()
    const codes = new Set<string>()
    for (let i = 0; i < cert.bytes.length; i++) {
      for (const flip of [0x01, 0x20, 0x80, 0xff]) {
        const m = new Uint8Array(cert.bytes)
        m[i] = m[i]! ^ flip
        const code = codeOf(() => decodeDeviceCert(m))
        codes.add(code)
        if (code === 'ok') expect({ ...decodeDeviceCert(m), bytes: cert.bytes }).toEqual(cert)
      }
    }
    expect(codes.has('ok')).toBe(false)
    // (UNSUPPORTED_VERSION when the flip lands on the version number)
    expect([...codes].sort()).toEqual(['BAD_SIGNATURE', 'MALFORMED', 'UNSUPPORTED_VERSION'])
  })

  it('every truncation is rejected', () => {
    const cert = issue()
    for (let n = 0; n < cert.bytes.length; n++) {
      expect(codeOf(() => decodeDeviceCert(cert.bytes.subarray(0, n)))).toBe('MALFORMED')
    }
  })

  it('random bytes are rejected with MALFORMED or TOO_LARGE (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        expect(codeOf(() => decodeDeviceCert(b))).toBe(b.length > 1024 ? 'TOO_LARGE' : 'MALFORMED')
      }),
      { numRuns: 500, seed: 21 },
    )
  })

  it('random well-formed CBOR that is not a certificate is MALFORMED (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        const encoded = encodeCbor(v)
        if (encoded.length > 1024) return
        expect(codeOf(() => decodeDeviceCert(encoded))).toBe('MALFORMED')
      }),
      { numRuns: 300, seed: 22 },
    )
  })
})
