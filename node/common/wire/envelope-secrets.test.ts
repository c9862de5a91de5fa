import { describe, expect, it } from 'vitest'
import { generateSigningKeyPair } from '../crypto/ed25519.js'
import { randomBytes } from '../crypto/random.js'
import { utf8 } from '../util/bytes.js'
import { codeOf } from './codec-testing.js'
import {
  ENVELOPE_VERSION,
  ENVELOPE_VERSION_SECRETS,
  EnvelopeKind,
  envelopeId,
  openEnvelopeBody,
  openEnvelopeHeader,
  openEnvelopeSecrets,
  parseEnvelopeFrame,
  sameEnvelope,
  sealEnvelope,
  stripEnvelope,
  type EnvelopeKeys,
} from './envelope.js'

const signer = generateSigningKeyPair()
const keys: EnvelopeKeys = { epochTag: randomBytes(8), headerKey: randomBytes(32) }
const bodyKey = randomBytes(32)
const secrets = utf8('a content key, 32 bytes of it....')
const make = (withSecrets: boolean) =>
  sealEnvelope({
    keys,
    header: { device: signer.publicKey, seq: 3, kind: EnvelopeKind.content },
    bodyKey,
    body: utf8('the change'),
    signingSeed: signer.seed,
    secrets: withSecrets ? secrets : undefined,
  })

function read(envelope: Uint8Array) {
  const frame = parseEnvelopeFrame(envelope)
  const header = openEnvelopeHeader(frame, keys.headerKey)
  return { body: new TextDecoder().decode(openEnvelopeBody(frame, header, bodyKey)), secrets: openEnvelopeSecrets(frame, header, bodyKey) }
}

describe('envelope secrets (version 3)', () => {
  it('carries secrets a member reads with the body key', () => {
    const env = make(true)
    expect(env[0]).toBe(ENVELOPE_VERSION_SECRETS)
    expect(read(env)).toEqual({ body: 'the change', secrets })
  })

  it('stripped, it still verifies and its body still opens; the secrets are gone; it is the same envelope', () => {
    const env = make(true)
    const stripped = stripEnvelope(env)
    expect(stripped.length).toBeLessThan(env.length)
    expect(read(stripped)).toEqual({ body: 'the change', secrets: null })
    expect(sameEnvelope(env, stripped)).toBe(true)
    expect(envelopeId(env)).toEqual(envelopeId(stripped))
    expect(stripEnvelope(stripped)).toEqual(stripped)
    // Another envelope at all is not the same.
    expect(sameEnvelope(env, make(true))).toBe(false)
  })

  it('refuses a secrets box that is not the one the signed header commits to', () => {
    const env = make(true)
    const swapped = make(true)
    // Graft the secrets part of another envelope (same keys, so it would even open) onto this one.
    const box = (e: Uint8Array) => {
      const frame = parseEnvelopeFrame(e)
      return frame.secretsBox!
    }
    const core = parseEnvelopeFrame(env).core
    const other = box(swapped)
    const grafted = new Uint8Array([...core, ...other, other.length >> 8, other.length & 0xff])
    const frame = parseEnvelopeFrame(grafted)
    const header = openEnvelopeHeader(frame, keys.headerKey)
    expect(codeOf(() => openEnvelopeSecrets(frame, header, bodyKey))).toBe('BAD_SIGNATURE')
    // A flipped bit in the box likewise.
    const flipped = env.slice()
    flipped[flipped.length - 5]! ^= 1
    const f2 = parseEnvelopeFrame(flipped)
    expect(codeOf(() => openEnvelopeSecrets(f2, openEnvelopeHeader(f2, keys.headerKey), bodyKey))).toBe('BAD_SIGNATURE')
  })

  it('a length that does not fit, or a version 2 envelope passed off as version 3, is malformed', () => {
    const env = make(true)
    const badLength = env.slice()
    badLength[badLength.length - 2] = 0xff
    expect(codeOf(() => parseEnvelopeFrame(badLength))).toBe('MALFORMED')
    const v2 = make(false)
    expect(v2[0]).toBe(ENVELOPE_VERSION)
    expect(read(v2).secrets).toBeNull()
    // Its version byte changed to 3 with an empty secrets part: the prefix is authenticated, so the header no longer opens.
    const relabelled = new Uint8Array([...v2, 0, 0])
    relabelled[0] = ENVELOPE_VERSION_SECRETS
    expect(['DECRYPT_FAILED', 'MALFORMED']).toContain(codeOf(() => openEnvelopeHeader(parseEnvelopeFrame(relabelled), keys.headerKey)))
  })
})
