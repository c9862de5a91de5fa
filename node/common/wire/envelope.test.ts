import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { seal } from '../crypto/aead.js'
import { generateSigningKeyPair, signWithLabel } from '../crypto/ed25519.js'
import { sha256 } from '../crypto/kdf.js'
import { Labels } from '../crypto/labels.js'
import { randomBytes } from '../crypto/random.js'
import type { ErrorCode } from '../errors.js'
import { byteFlips, codeOf } from './codec-testing.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import { encodeCbor } from './cbor.js'
import {
  ENVELOPE_VERSION,
  EnvelopeKind,
  envelopeId,
  openEnvelopeBody,
  openEnvelopeHeader,
  parseEnvelopeFrame,
  sealEnvelope,
  type EnvelopeHeader,
  type EnvelopeKeys,
} from './envelope.js'
import { Limits } from './limits.js'

const signer = generateSigningKeyPair()
const keys: EnvelopeKeys = { epochTag: randomBytes(8), headerKey: randomBytes(32) }
const bodyKey = randomBytes(32)
const body = utf8('hello, hearth')

function make(opts: { header?: Partial<EnvelopeHeader>; body?: Uint8Array; seed?: Uint8Array; keys?: EnvelopeKeys } = {}) {
  return sealEnvelope({
    keys: opts.keys ?? keys,
    header: { device: signer.publicKey, seq: 1, kind: EnvelopeKind.content, ...opts.header },
    bodyKey,
    body: opts.body ?? body,
    signingSeed: opts.seed ?? signer.seed,
  })
}

/** Everything a member does with an envelope, in order. */
function openAll(envelope: Uint8Array, headerKey = keys.headerKey, key = bodyKey) {
  const frame = parseEnvelopeFrame(envelope)
  const header = openEnvelopeHeader(frame, headerKey)
  return { frame, header, body: openEnvelopeBody(frame, header, key) }
}


describe('envelope', () => {
  it('round trips every kind, with the documented layout', () => {
    for (const kind of [EnvelopeKind.content, EnvelopeKind.membership, EnvelopeKind.keys]) {
      const env = make({ header: { kind, seq: 42 } })
      const { frame, header, body: out } = openAll(env)
      expect(header).toEqual({ device: signer.publicKey, seq: 42, kind, bodyHash: sha256(body) })
      expect(out).toEqual(body)
      expect(env[0]).toBe(ENVELOPE_VERSION)
      expect(frame.epochTag).toEqual(keys.epochTag)
      expect((env[9]! << 8) | env[10]!).toBe(frame.headerBox.length)
      expect(frame.signature.length).toBe(64)
      expect(frame.signed.length + 64).toBe(env.length)
      expect(11 + frame.headerBox.length + frame.bodyBox.length + 64).toBe(env.length)
    }
    const signal = openAll(make({ header: { kind: EnvelopeKind.signal, seq: 0 } }))
    expect(signal.header.seq).toBe(0)
    expect(openAll(make({ body: new Uint8Array(0) })).body).toEqual(new Uint8Array(0))
  })

  it('seals with a fresh nonce each time; the id is a 16-byte content hash', () => {
    const a = make()
    const b = make()
    expect(a).not.toEqual(b)
    expect(envelopeId(a)).toEqual(envelopeId(new Uint8Array(a)))
    expect(envelopeId(a)).not.toEqual(envelopeId(b))
    expect(envelopeId(a).length).toBe(16)
  })

  it('signals carry seq 0, durable envelopes seq >= 1', () => {
    expect(codeOf(() => openAll(make({ header: { kind: EnvelopeKind.signal, seq: 1 } })))).toBe('MALFORMED')
    for (const kind of [EnvelopeKind.content, EnvelopeKind.membership, EnvelopeKind.keys]) {
      expect(codeOf(() => openAll(make({ header: { kind, seq: 0 } })))).toBe('MALFORMED')
    }
  })

  it('rejects an unknown kind inside a correctly sealed header', () => {
    expect(codeOf(() => openAll(make({ header: { kind: 9 as EnvelopeKind } })))).toBe('MALFORMED')
  })

  it('unknown version → UNSUPPORTED_VERSION; version 1 (no body commitment) is refused with a clear message', () => {
    expect(ENVELOPE_VERSION).toBe(2)
    // 3 is the version with a secrets part (envelope-secrets.test.ts).
    for (const v of [0, 1, 4, 255]) {
      const env = make()
      env[0] = v
      expect(codeOf(() => parseEnvelopeFrame(env))).toBe('UNSUPPORTED_VERSION')
    }
    const v1 = make()
    v1[0] = 1
    expect(() => parseEnvelopeFrame(v1)).toThrow(/unsupported envelope version 1/)
  })

  it('wrong header key → DECRYPT_FAILED; wrong body key → DECRYPT_FAILED', () => {
    const env = make()
    expect(codeOf(() => openEnvelopeHeader(parseEnvelopeFrame(env), randomBytes(32)))).toBe('DECRYPT_FAILED')
    expect(codeOf(() => openAll(env, keys.headerKey, randomBytes(32)))).toBe('DECRYPT_FAILED')
  })

  it('tampered body: the signature check refuses it; the body box alone fails to decrypt', () => {
    const env = make()
    const frame = parseEnvelopeFrame(env)
    const bodyStart = 11 + frame.headerBox.length
    env[bodyStart + 30] = env[bodyStart + 30]! ^ 0x01
    const tampered = parseEnvelopeFrame(env)
    expect(codeOf(() => openEnvelopeHeader(tampered, keys.headerKey))).toBe('BAD_SIGNATURE')
    const header = openEnvelopeHeader(tampered, keys.headerKey, { verifySignature: false })
    expect(codeOf(() => openEnvelopeBody(tampered, header, bodyKey))).toBe('DECRYPT_FAILED')
  })

  it('signed by a key other than the device in the header → BAD_SIGNATURE', () => {
    const env = make({ seed: generateSigningKeyPair().seed })
    expect(codeOf(() => openAll(env))).toBe('BAD_SIGNATURE')
  })

  it('an envelope moved to another epoch (epoch tag rewritten) fails to decrypt', () => {
    const env = make()
    env[3] = env[3]! ^ 0x80
    expect(codeOf(() => openAll(env))).toBe('DECRYPT_FAILED')
  })

  it('every single-byte change is rejected, with the code of the region it hit', () => {
    const env = make({ body: utf8('x'.repeat(100)) })
    const frame = parseEnvelopeFrame(env)
    const bodyStart = 11 + frame.headerBox.length
    const sigStart = env.length - 64
    const seen = new Map<string, Set<string>>()
    for (const [m, i] of byteFlips(env)) {
      const code = codeOf(() => openAll(m))
      const region = i === 0 ? 'version' : i < 9 ? 'tag' : i < 11 ? 'length' : i < bodyStart ? 'header' : i < sigStart ? 'body' : 'sig'
      const set = seen.get(region) ?? new Set()
      set.add(code)
      seen.set(region, set)
    }
    // 0x02 ^ 0x01 is 3, the version with a secrets part: this one has none, so its trailer reads as malformed.
    for (const c of seen.get('version')!) expect(['UNSUPPORTED_VERSION', 'MALFORMED']).toContain(c)
    expect(seen.get('version')!.has('UNSUPPORTED_VERSION')).toBe(true)
    expect([...seen.get('tag')!]).toEqual(['DECRYPT_FAILED'])
    expect([...seen.get('header')!]).toEqual(['DECRYPT_FAILED'])
    expect([...seen.get('body')!]).toEqual(['BAD_SIGNATURE'])
    expect([...seen.get('sig')!]).toEqual(['BAD_SIGNATURE'])
    for (const c of seen.get('length')!) expect(['MALFORMED', 'DECRYPT_FAILED']).toContain(c)
  })

  it('every truncation is rejected', () => {
    const env = make()
    for (let n = 0; n < env.length; n++) {
      expect(['MALFORMED', 'DECRYPT_FAILED', 'BAD_SIGNATURE', 'UNSUPPORTED_VERSION']).toContain(codeOf(() => openAll(env.subarray(0, n))))
    }
    // a prefix too short to hold the fixed parts is MALFORMED before anything else is read
    expect(codeOf(() => parseEnvelopeFrame(env.subarray(0, 11 + 80 + 63)))).toBe('MALFORMED')
  })

  it('an inconsistent header length is MALFORMED', () => {
    const env = make()
    for (const len of [0, 39, 0xffff, env.length]) {
      const m = new Uint8Array(env)
      m[9] = len >> 8
      m[10] = len & 0xff
      expect(codeOf(() => parseEnvelopeFrame(m))).toBe('MALFORMED')
    }
  })

  it('oversized: TOO_LARGE before anything is parsed, on both sides', () => {
    const big = new Uint8Array(Limits.maxEnvelopeBytes + 1) // all zero: version 0 would be UNSUPPORTED_VERSION if parsed
    expect(codeOf(() => parseEnvelopeFrame(big))).toBe('TOO_LARGE')
    expect(codeOf(() => make({ body: new Uint8Array(Limits.maxEnvelopeBytes) }))).toBe('TOO_LARGE')
    // the largest body that fits is accepted
    const overhead = make({ body: new Uint8Array(0) }).length
    const fits = make({ body: new Uint8Array(Limits.maxEnvelopeBytes - overhead) })
    expect(fits.length).toBe(Limits.maxEnvelopeBytes)
    expect(openAll(fits).body.length).toBe(Limits.maxEnvelopeBytes - overhead)
  })

  it('refuses an epoch tag that is not 8 bytes', () => {
    expect(codeOf(() => make({ keys: { epochTag: new Uint8Array(7), headerKey: keys.headerKey } }))).toBe('INVALID_INPUT')
  })

  it('random bytes are rejected with a HearthError (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, v1) => {
        if (v1 && bytes.length > 0) bytes[0] = ENVELOPE_VERSION // half the time, get past the version check
        const code = codeOf(() => openAll(bytes))
        expect(['MALFORMED', 'UNSUPPORTED_VERSION', 'DECRYPT_FAILED']).toContain(code)
      }),
      { numRuns: 300, seed: 7 },
    )
  })

  it('a correctly sealed and signed header with bad contents is rejected cleanly', () => {
    // Built by hand, as a member with the epoch keys could: only the header plaintext is wrong.
    const forge = (headerPlain: Uint8Array) => {
      const prefix = concatBytes(new Uint8Array([ENVELOPE_VERSION]), keys.epochTag)
      const headerBox = seal(keys.headerKey, headerPlain, prefix)
      const bodyAd = concatBytes(prefix, new Uint8Array([headerBox.length >> 8, headerBox.length & 0xff]), headerBox)
      const signed = concatBytes(bodyAd, seal(bodyKey, body, bodyAd))
      return concatBytes(signed, signWithLabel(signer.seed, Labels.envelopeSig, signed))
    }
    const good = { d: signer.publicKey, s: 3, k: 1, h: sha256(body) }
    expect(openAll(forge(encodeCbor(good))).header.seq).toBe(3)
    const bad: Array<[unknown, ErrorCode]> = [
      [{ ...good, d: signer.publicKey.subarray(0, 31) }, 'MALFORMED'],
      [{ ...good, s: -1 }, 'MALFORMED'],
      [{ ...good, s: 1.5 }, 'MALFORMED'],
      [{ ...good, s: 2 ** 60 }, 'MALFORMED'],
      [{ ...good, k: '1' }, 'MALFORMED'],
      [{ d: signer.publicKey, s: 3, h: good.h }, 'MALFORMED'],
      [{ d: signer.publicKey, s: 3, k: 1 }, 'MALFORMED'],
      [{ ...good, h: good.h.subarray(0, 31) }, 'MALFORMED'],
      [[1, 2, 3], 'MALFORMED'],
      [{ ...good, pad: 'x'.repeat(300) }, 'TOO_LARGE'],
    ]
    for (const [plain, code] of bad) expect(codeOf(() => openAll(forge(encodeCbor(plain))))).toBe(code)
    expect(codeOf(() => openAll(forge(new Uint8Array([0xff, 0x00]))))).toBe('MALFORMED')
    expect(codeOf(() => openAll(forge(new Uint8Array(0))))).toBe('MALFORMED')
    // a header naming another device than the signer's
    expect(codeOf(() => openAll(forge(encodeCbor({ ...good, d: generateSigningKeyPair().publicKey })))))
      .toBe('BAD_SIGNATURE')
    // the decoder is strict CBOR: trailing bytes after the header map are refused
    expect(codeOf(() => openAll(forge(concatBytes(encodeCbor(good), new Uint8Array([0]))))))
      .toBe('MALFORMED')
  })

  it('commits to its plaintext: a body that opens under a second key to other bytes is refused', () => {
    // What a sender could do without the commitment: one envelope, two chain keys sealed to two members, each opening
    // the body to a different text. Built by hand: the header commits to the text under K1, the body is sealed under K2.
    const k1 = randomBytes(32)
    const k2 = randomBytes(32)
    const meant = utf8('meet at noon')
    const other = utf8('meet at midnight')
    const prefix = concatBytes(new Uint8Array([ENVELOPE_VERSION]), keys.epochTag)
    const headerBox = seal(keys.headerKey, encodeCbor({ d: signer.publicKey, s: 5, k: EnvelopeKind.content, h: sha256(meant) }), prefix)
    const bodyAd = concatBytes(prefix, new Uint8Array([headerBox.length >> 8, headerBox.length & 0xff]), headerBox)
    const signed = concatBytes(bodyAd, seal(k2, other, bodyAd))
    const env = concatBytes(signed, signWithLabel(signer.seed, Labels.envelopeSig, signed))
    const frame = parseEnvelopeFrame(env)
    const header = openEnvelopeHeader(frame, keys.headerKey) // validly signed: the header itself is fine
    expect(codeOf(() => openEnvelopeBody(frame, header, k2))).toBe('BAD_SIGNATURE')
    expect(() => openEnvelopeBody(frame, header, k2)).toThrow(/does not match the hash/)
    expect(codeOf(() => openEnvelopeBody(frame, header, k1))).toBe('DECRYPT_FAILED')
  })

  it('the body hash is checked against the header it came with, not any header', () => {
    const a = make({ body: utf8('a') })
    const b = make({ body: utf8('b') })
    const fa = parseEnvelopeFrame(a)
    const hb = openEnvelopeHeader(parseEnvelopeFrame(b), keys.headerKey)
    expect(codeOf(() => openEnvelopeBody(fa, hb, bodyKey))).toBe('BAD_SIGNATURE')
  })
})
