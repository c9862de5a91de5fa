import { describe, expect, it } from 'vitest'
import { utf8 } from '../util/bytes.js'
import { open, seal } from './aead.js'
import { openSealed, sealTo } from './sealed-box.js'
import { dh, dhKeyPairFromSecret, generateDhKeyPair } from './x25519.js'

const code = (c: string) => expect.objectContaining({ code: c })

describe('x25519', () => {
  it('agrees in both directions', () => {
    const a = generateDhKeyPair()
    const b = generateDhKeyPair()
    expect(dh(a.secretKey, b.publicKey)).toEqual(dh(b.secretKey, a.publicKey))
    expect(dhKeyPairFromSecret(a.secretKey).publicKey).toEqual(a.publicKey)
  })

  it('rejects low-order public keys', () => {
    const a = generateDhKeyPair()
    const zero = new Uint8Array(32)
    const one = new Uint8Array(32)
    one[0] = 1
    expect(() => dh(a.secretKey, zero)).toThrow(code('DECRYPT_FAILED'))
    expect(() => dh(a.secretKey, one)).toThrow(code('DECRYPT_FAILED'))
    expect(() => dh(a.secretKey, new Uint8Array(31))).toThrow(code('DECRYPT_FAILED'))
  })
})

describe('aead', () => {
  it('round trips and rejects tampering, wrong AD, wrong key and short input', () => {
    const key = new Uint8Array(32).fill(7)
    const ad = utf8('ad')
    const box = seal(key, utf8('secret'), ad)
    expect(box.length).toBe(24 + 6 + 16)
    expect(open(key, box, ad)).toEqual(utf8('secret'))
    for (let i = 0; i < box.length; i++) {
      const bad = Uint8Array.from(box)
      bad[i]! ^= 0x80
      expect(() => open(key, bad, ad)).toThrow(code('DECRYPT_FAILED'))
    }
    expect(() => open(key, box, utf8('other'))).toThrow(code('DECRYPT_FAILED'))
    expect(() => open(new Uint8Array(32), box, ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => open(key, box.subarray(0, 39), ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => open(key, new Uint8Array(0), ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => seal(new Uint8Array(16), utf8('x'), ad)).toThrow(code('INVALID_INPUT'))
  })

  it('uses a fresh nonce every time', () => {
    const key = new Uint8Array(32)
    expect(seal(key, utf8('same'), utf8(''))).not.toEqual(seal(key, utf8('same'), utf8('')))
  })
})

describe('sealed box', () => {
  const recipient = generateDhKeyPair()
  const ad = utf8('conversation-id|device-id')
  const message = utf8('chain key for you')

  it('round trips with layout version || ephemeral key || aead box', () => {
    const box = sealTo(recipient.publicKey, message, ad)
    expect(box[0]).toBe(1)
    expect(box.length).toBe(1 + 32 + 24 + message.length + 16)
    expect(openSealed(recipient, box, ad)).toEqual(message)
  })

  it('fails for the wrong recipient, the wrong AD, or any tampered byte', () => {
    const box = sealTo(recipient.publicKey, message, ad)
    expect(() => openSealed(generateDhKeyPair(), box, ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => openSealed(recipient, box, utf8('another conversation'))).toThrow(code('DECRYPT_FAILED'))
    for (let i = 1; i < box.length; i++) {
      const bad = Uint8Array.from(box)
      bad[i]! ^= 0x01
      expect(() => openSealed(recipient, bad, ad), `byte ${i}`).toThrow(code('DECRYPT_FAILED'))
    }
  })

  it('fails when the recipient public key in the key pair does not match (key binding)', () => {
    const box = sealTo(recipient.publicKey, message, ad)
    const mismatched = { secretKey: recipient.secretKey, publicKey: generateDhKeyPair().publicKey }
    expect(() => openSealed(mismatched, box, ad)).toThrow(code('DECRYPT_FAILED'))
  })

  it('reports unknown versions and short input distinctly', () => {
    const box = sealTo(recipient.publicKey, message, ad)
    const v2 = Uint8Array.from(box)
    v2[0] = 2
    expect(() => openSealed(recipient, v2, ad)).toThrow(code('UNSUPPORTED_VERSION'))
    expect(() => openSealed(recipient, new Uint8Array(0), ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => openSealed(recipient, box.subarray(0, 20), ad)).toThrow(code('DECRYPT_FAILED'))
    expect(() => openSealed(recipient, box.subarray(0, 33 + 39), ad)).toThrow(code('DECRYPT_FAILED'))
  })

  it('rejects a low-order ephemeral key as a decryption failure', () => {
    const box = sealTo(recipient.publicKey, message, ad)
    const bad = Uint8Array.from(box)
    bad.fill(0, 1, 33)
    expect(() => openSealed(recipient, bad, ad)).toThrow(code('DECRYPT_FAILED'))
  })
})
