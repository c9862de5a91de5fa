import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hkdf } from '../../common/crypto/kdf.js'
import { Labels } from '../../common/crypto/labels.js'
import { toHex } from '../../common/util/bytes.js'
import { asEpochId } from '../ids.js'
import { deriveEpochKeys, sealContext } from './epoch-keys.js'

const secret = new Uint8Array(32).map((_, i) => i)

describe('epoch keys', () => {
  it('derives every key from the secret under its own label (pinned construction)', () => {
    const k = deriveEpochKeys(secret)
    expect(k.envelope.epochTag).toEqual(hkdf(Labels.epochTag, secret, { length: 8 }))
    expect(k.id).toBe(toHex(k.envelope.epochTag))
    expect(asEpochId(k.id)).toBe(k.id)
    expect(k.envelope.headerKey).toEqual(hkdf(Labels.headerKey, secret))
    expect(k.controlKey).toEqual(hkdf(Labels.controlKey, secret))
    expect(k.topic).toBe(`/hearth/c/${toHex(hkdf(Labels.topic, secret, { length: 20 }))}`)
    expect(k.topic).toMatch(/^\/hearth\/c\/[0-9a-f]{40}$/)
    expect(k.envelope.headerKey.length).toBe(32)
    expect(k.controlKey.length).toBe(32)
  })

  it('is deterministic, and keys for different purposes differ', () => {
    const a = deriveEpochKeys(secret)
    expect(deriveEpochKeys(new Uint8Array(secret))).toEqual(a)
    expect(a.controlKey).not.toEqual(a.envelope.headerKey)
    // the topic and the epoch id reveal nothing that equals a key prefix
    expect(toHex(a.controlKey).startsWith(a.id)).toBe(false)
    expect(a.topic.includes(toHex(a.envelope.headerKey).slice(0, 16))).toBe(false)
  })

  it('different secrets give different epochs, topics and keys (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (s1, s2) => {
        fc.pre(toHex(s1) !== toHex(s2))
        const [a, b] = [deriveEpochKeys(s1), deriveEpochKeys(s2)]
        expect(a.id).not.toBe(b.id)
        expect(a.topic).not.toBe(b.topic)
        expect(a.controlKey).not.toEqual(b.controlKey)
        expect(a.envelope.headerKey).not.toEqual(b.envelope.headerKey)
      }),
      { numRuns: 100, seed: 51 },
    )
  })

  it('seal context binds purpose, conversation and epoch unambiguously', () => {
    const ctx = sealContext('epoch', 'c1', 'e1')
    expect(new TextDecoder().decode(ctx)).toBe('hearth/v1/epoch\u0000c1\u0000e1')
    expect(sealContext('chain', 'c1', 'e1')).not.toEqual(ctx)
    expect(sealContext('epoch', 'c2', 'e1')).not.toEqual(ctx)
    expect(sealContext('epoch', 'c1', 'e2')).not.toEqual(ctx)
    expect(sealContext('epoch', 'c1e', '1')).not.toEqual(sealContext('epoch', 'c1', 'e1'))
  })
})
