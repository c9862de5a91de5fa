import { x25519 } from '@noble/curves/ed25519.js'
import { HearthError } from '../errors.js'
import { randomBytes } from './random.js'

export interface DhKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export const X25519_KEY_LENGTH = 32

export function generateDhKeyPair(): DhKeyPair {
  return dhKeyPairFromSecret(randomBytes(X25519_KEY_LENGTH))
}

export function dhKeyPairFromSecret(secret: Uint8Array): DhKeyPair {
  if (secret.length !== X25519_KEY_LENGTH) throw new HearthError('INVALID_INPUT', 'X25519 secret must be 32 bytes')
  return { publicKey: x25519.getPublicKey(secret), secretKey: Uint8Array.from(secret) }
}

/**
 * X25519 that refuses an all-zero result. A low-order public key forces the shared secret to zero whatever our
 * secret is, so accepting it would let an attacker know the "shared" key; that is reported as a decryption failure
 * because it only ever happens on input someone else chose.
 */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (secretKey.length !== X25519_KEY_LENGTH) throw new HearthError('INVALID_INPUT', 'X25519 secret must be 32 bytes')
  if (publicKey.length !== X25519_KEY_LENGTH) throw new HearthError('DECRYPT_FAILED', 'X25519 public key must be 32 bytes')
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(secretKey, publicKey)
  } catch (err) {
    throw new HearthError('DECRYPT_FAILED', 'X25519 rejected the public key', { cause: err })
  }
  let acc = 0
  for (const b of shared) acc |= b
  if (acc === 0) throw new HearthError('DECRYPT_FAILED', 'X25519 shared secret is zero (low-order public key)')
  return shared
}
