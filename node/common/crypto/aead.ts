import { HearthError } from '../errors.js'
import { concatBytes } from '../util/bytes.js'
import { randomNonce } from './random.js'
import { xchachaOpen, xchachaSeal } from './xchacha20poly1305.js'

export const AEAD_KEY_LENGTH = 32
export const AEAD_NONCE_LENGTH = 24
export const AEAD_TAG_LENGTH = 16

/**
 * XChaCha20-Poly1305 with a random 24-byte nonce: the nonce is large enough that random choice never collides in
 * practice, so callers never have to keep a counter that could be reset by a crash or a restored backup.
 * Returns nonce || ciphertext || tag.
 */
export function seal(key: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  const nonce = randomNonce(AEAD_NONCE_LENGTH)
  return concatBytes(nonce, sealWithNonce(key, nonce, plaintext, associatedData))
}

/** Opens a `seal` box; every failure is the same DECRYPT_FAILED so callers cannot leak which check failed. */
export function open(key: Uint8Array, box: Uint8Array, associatedData: Uint8Array): Uint8Array {
  if (box.length < AEAD_NONCE_LENGTH + AEAD_TAG_LENGTH) throw decryptFailed()
  return openWithNonce(key, box.subarray(0, AEAD_NONCE_LENGTH), box.subarray(AEAD_NONCE_LENGTH), associatedData)
}

/** Only for test vectors and constructions that derive a unique nonce themselves; returns ciphertext || tag. */
export function sealWithNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array {
  if (key.length !== AEAD_KEY_LENGTH) throw new HearthError('INVALID_INPUT', 'AEAD key must be 32 bytes')
  if (nonce.length !== AEAD_NONCE_LENGTH) throw new HearthError('INVALID_INPUT', 'AEAD nonce must be 24 bytes')
  return xchachaSeal(key, nonce, plaintext, associatedData)
}

export function openWithNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertextAndTag: Uint8Array,
  associatedData: Uint8Array,
): Uint8Array {
  if (
    key.length !== AEAD_KEY_LENGTH ||
    nonce.length !== AEAD_NONCE_LENGTH ||
    ciphertextAndTag.length < AEAD_TAG_LENGTH
  ) {
    throw decryptFailed()
  }
  try {
    return xchachaOpen(key, nonce, ciphertextAndTag, associatedData)
  } catch (err) {
    throw decryptFailed(err)
  }
}

function decryptFailed(cause?: unknown): HearthError {
  return new HearthError('DECRYPT_FAILED', 'decryption failed', cause === undefined ? undefined : { cause })
}
