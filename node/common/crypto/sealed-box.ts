import { HearthError } from '../errors.js'
import { concatBytes } from '../util/bytes.js'
import { open, seal } from './aead.js'
import { hkdf } from './kdf.js'
import { Labels } from './labels.js'
import { dh, generateDhKeyPair, X25519_KEY_LENGTH, type DhKeyPair } from './x25519.js'

export const SEALED_BOX_VERSION = 1
const HEADER_LENGTH = 1 + X25519_KEY_LENGTH

/**
 * Anonymous encryption to an X25519 public key: the sender is unauthenticated by design (callers sign the envelope
 * separately). Both public keys go into the KDF so the box is bound to this exact recipient and cannot be
 * re-targeted by swapping the ephemeral key for an equivalent encoding.
 */
export function sealTo(recipientPublic: Uint8Array, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  if (recipientPublic.length !== X25519_KEY_LENGTH) {
    throw new HearthError('INVALID_INPUT', 'recipient public key must be 32 bytes')
  }
  const ephemeral = generateDhKeyPair()
  const key = boxKey(dh(ephemeral.secretKey, recipientPublic), ephemeral.publicKey, recipientPublic)
  return concatBytes(
    new Uint8Array([SEALED_BOX_VERSION]),
    ephemeral.publicKey,
    seal(key, plaintext, associatedData),
  )
}

export function openSealed(recipient: DhKeyPair, box: Uint8Array, associatedData: Uint8Array): Uint8Array {
  if (box.length === 0) throw new HearthError('DECRYPT_FAILED', 'empty sealed box')
  if (box[0] !== SEALED_BOX_VERSION) {
    throw new HearthError('UNSUPPORTED_VERSION', `unsupported sealed box version ${box[0]}`)
  }
  if (box.length < HEADER_LENGTH) throw new HearthError('DECRYPT_FAILED', 'sealed box too short')
  const ephemeralPublic = box.subarray(1, HEADER_LENGTH)
  const key = boxKey(dh(recipient.secretKey, ephemeralPublic), ephemeralPublic, recipient.publicKey)
  return open(key, box.subarray(HEADER_LENGTH), associatedData)
}

function boxKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  return hkdf(Labels.sealedBox, shared, { info: concatBytes(ephemeralPublic, recipientPublic) })
}
