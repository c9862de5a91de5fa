import { createCipheriv, createDecipheriv } from 'node:crypto'
import { hchacha } from '@noble/ciphers/chacha.js'

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, libsodium's construction) on node:crypto's ChaCha20-Poly1305: HChaCha20
 * (noble's) turns the key and the nonce's first 16 bytes into a subkey, and 4 zero bytes then the nonce's last 8 bytes
 * are the 12-byte IETF nonce. The output is byte for byte noble's `xchacha20poly1305` (Wycheproof vectors and a
 * property test against it); OpenSSL's ChaCha20 and Poly1305 are faster and allocate far less than JavaScript's, and
 * every stored record and every envelope goes through here.
 *
 * Throws RangeError on a wrong key or nonce length and an Error when a tag does not verify; aead.ts and
 * sealed-values.ts turn those into their own uniform errors.
 */
export const XCHACHA_KEY_BYTES = 32
export const XCHACHA_NONCE_BYTES = 24
export const XCHACHA_TAG_BYTES = 16
// "expand 32-byte k" as four little-endian words.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

function littleEndianWords(bytes: Uint8Array, count: number): Uint32Array {
  const out = new Uint32Array(count)
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 4)
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

function subkeyAndIv(key: Uint8Array, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
  if (key.length !== XCHACHA_KEY_BYTES) throw new RangeError('XChaCha20-Poly1305 key must be 32 bytes')
  if (nonce.length !== XCHACHA_NONCE_BYTES) throw new RangeError('XChaCha20-Poly1305 nonce must be 24 bytes')
  const words = new Uint32Array(8)
  hchacha(SIGMA, littleEndianWords(key, 8), littleEndianWords(nonce, 4), words)
  const subkey = Buffer.alloc(XCHACHA_KEY_BYTES)
  for (let i = 0; i < 8; i++) subkey.writeUInt32LE(words[i]!, i * 4)
  words.fill(0)
  const iv = Buffer.alloc(12)
  iv.set(nonce.subarray(16), 4)
  return { subkey, iv }
}

/** Returns ciphertext || tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  const { subkey, iv } = subkeyAndIv(key, nonce)
  const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: XCHACHA_TAG_BYTES })
  subkey.fill(0)
  cipher.setAAD(associatedData, { plaintextLength: plaintext.length })
  const body = cipher.update(plaintext)
  const rest = cipher.final()
  // node:crypto cannot write into a buffer of ours, so the ciphertext is copied once to sit before the tag; the
  // destination is not zero-filled first (every byte is written below) and owns its memory (not Node's shared pool),
  // so a caller's `.buffer` is this output alone.
  const total = body.length + rest.length + XCHACHA_TAG_BYTES
  const raw = Buffer.allocUnsafeSlow(total)
  const out = new Uint8Array(raw.buffer, raw.byteOffset, total)
  out.set(body, 0)
  out.set(rest, body.length)
  out.set(cipher.getAuthTag(), body.length + rest.length)
  return out
}

/** Opens ciphertext || tag; throws when the tag does not verify. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, ciphertextAndTag: Uint8Array, associatedData: Uint8Array): Uint8Array {
  if (ciphertextAndTag.length < XCHACHA_TAG_BYTES) throw new RangeError('ciphertext is shorter than its tag')
  const { subkey, iv } = subkeyAndIv(key, nonce)
  const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: XCHACHA_TAG_BYTES })
  subkey.fill(0)
  const length = ciphertextAndTag.length - XCHACHA_TAG_BYTES
  decipher.setAuthTag(ciphertextAndTag.subarray(length))
  decipher.setAAD(associatedData, { plaintextLength: length })
  const body = decipher.update(ciphertextAndTag.subarray(0, length))
  const rest = decipher.final()
  if (rest.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length)
  const out = new Uint8Array(body.length + rest.length)
  out.set(body, 0)
  out.set(rest, body.length)
  return out
}
