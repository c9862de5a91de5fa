import { createCipheriv, createDecipheriv } from 'node:crypto'
import { hchacha } from '@noble/ciphers/chacha.js'
import sodium from 'libsodium-wrappers'

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, libsodium's construction), on two implementations chosen by size; every
 * stored record and every envelope goes through here, so both are picked for speed (docs/adr/0014):
 *
 * - Up to SMALL_INPUT_BYTES: libsodium itself (libsodium-wrappers, WebAssembly), 2–5 µs a call here. Most calls are
 *   this size (stored records, envelope headers and bodies), and node:crypto spends about 10 µs setting up each one.
 * - Larger (file chunks of 64 KiB): node:crypto's ChaCha20-Poly1305 (OpenSSL), where HChaCha20 (noble's) turns the key
 *   and the nonce's first 16 bytes into a subkey, and 4 zero bytes then the nonce's last 8 bytes are the 12-byte IETF
 *   nonce. OpenSSL's vector code is several times libsodium-in-WebAssembly's speed on 64 KiB.
 *
 * Until libsodium's WebAssembly is ready (`xchachaReady`, a few milliseconds after start) every size takes the second
 * path. The output is byte for byte noble's `xchacha20poly1305` either way (Wycheproof vectors and a property test
 * across the boundary against it).
 *
 * Throws RangeError on a wrong key or nonce length and an Error when a tag does not verify; aead.ts and
 * sealed-values.ts turn those into their own uniform errors.
 */
export const XCHACHA_KEY_BYTES = 32
export const XCHACHA_NONCE_BYTES = 24
export const XCHACHA_TAG_BYTES = 16
// "expand 32-byte k" as four little-endian words.
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])
/** Plaintexts up to this size go to libsodium once it is ready (about where the two implementations cost the same). */
export const SMALL_INPUT_BYTES = 2048

let small: typeof sodium | null = null
/** Resolves once small inputs take libsodium's path; until then they take node:crypto's. Never rejects. */
export const xchachaReady: Promise<void> = sodium.ready.then(
  () => {
    small = sodium
  },
  () => {
    // No WebAssembly here: node:crypto serves every size, as correctly and somewhat slower.
  },
)

function checkLengths(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== XCHACHA_KEY_BYTES) throw new RangeError('XChaCha20-Poly1305 key must be 32 bytes')
  if (nonce.length !== XCHACHA_NONCE_BYTES) throw new RangeError('XChaCha20-Poly1305 nonce must be 24 bytes')
}

function littleEndianWords(bytes: Uint8Array, count: number): Uint32Array {
  const out = new Uint32Array(count)
  const view = new DataView(bytes.buffer, bytes.byteOffset, count * 4)
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

function subkeyAndIv(key: Uint8Array, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
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
  checkLengths(key, nonce)
  if (small !== null && plaintext.length <= SMALL_INPUT_BYTES) return small.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, associatedData, null, nonce, key)
  return sealWithOpenSsl(key, nonce, plaintext, associatedData)
}

/** Opens ciphertext || tag; throws when the tag does not verify. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, ciphertextAndTag: Uint8Array, associatedData: Uint8Array): Uint8Array {
  checkLengths(key, nonce)
  if (ciphertextAndTag.length < XCHACHA_TAG_BYTES) throw new RangeError('ciphertext is shorter than its tag')
  if (small !== null && ciphertextAndTag.length <= SMALL_INPUT_BYTES + XCHACHA_TAG_BYTES) {
    return small.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertextAndTag, associatedData, nonce, key)
  }
  return openWithOpenSsl(key, nonce, ciphertextAndTag, associatedData)
}

/** The node:crypto path for any size; exported for the test that holds both paths to the same output. */
export function sealWithOpenSsl(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  checkLengths(key, nonce)
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

export function openWithOpenSsl(key: Uint8Array, nonce: Uint8Array, ciphertextAndTag: Uint8Array, associatedData: Uint8Array): Uint8Array {
  checkLengths(key, nonce)
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
