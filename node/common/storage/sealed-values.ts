/**
 * Encryption of values at rest.
 *
 * Layout: version (1 byte, 0x01) || nonce (24 bytes, random) || XChaCha20-Poly1305 ciphertext (plaintext + 16-byte tag).
 * Associated data: utf8('hearth/v1/db-record') || 0x00 || utf8(record key).
 *
 * Binding the record key as associated data means a value copied or moved to another key (by a bug or by someone
 * editing the files) fails to open instead of being read as that other record. A random 192-bit nonce is safe to pick
 * at random for any number of writes under one key.
 *
 * Failures throw DECRYPT_FAILED; a caller reading its own database should report it as CORRUPT_DATA.
 *
 * Not defended: rollback of a record to an older value that was once stored under the same key, and deletion.
 */
import { randomNonce } from '../crypto/random.js'
import { xchachaOpen, xchachaSeal } from '../crypto/xchacha20poly1305.js'
import { HearthError } from '../errors.js'
import { concatBytes, utf8 } from '../util/bytes.js'

const FORMAT_V1 = 0x01
const NONCE_BYTES = 24
const TAG_BYTES = 16
const AD_LABEL = utf8('hearth/v1/db-record')

function associatedData(recordKey: string): Uint8Array {
  if (typeof recordKey !== 'string') throw new HearthError('INVALID_INPUT', 'record key must be a string')
  return concatBytes(AD_LABEL, new Uint8Array([0x00]), utf8(recordKey))
}

export class SealedValues {
  readonly #key: Uint8Array

  constructor(key32: Uint8Array) {
    if (!(key32 instanceof Uint8Array) || key32.length !== 32) {
      throw new HearthError('INVALID_INPUT', 'a storage key must be 32 bytes')
    }
    // Own copy: the caller may zero or reuse its array.
    this.#key = new Uint8Array(key32)
  }

  seal(key: string, plaintext: Uint8Array): Uint8Array {
    if (!(plaintext instanceof Uint8Array)) throw new HearthError('INVALID_INPUT', 'plaintext must be a Uint8Array')
    const nonce = randomNonce(NONCE_BYTES)
    const ciphertext = xchachaSeal(this.#key, nonce, plaintext, associatedData(key))
    const out = new Uint8Array(1 + NONCE_BYTES + ciphertext.length)
    out[0] = FORMAT_V1
    out.set(nonce, 1)
    out.set(ciphertext, 1 + NONCE_BYTES)
    return out
  }

  open(key: string, stored: Uint8Array): Uint8Array {
    const ad = associatedData(key)
    if (!(stored instanceof Uint8Array) || stored.length < 1 + NONCE_BYTES + TAG_BYTES) {
      throw new HearthError('DECRYPT_FAILED', `sealed value for ${JSON.stringify(key)} is truncated`)
    }
    if (stored[0] !== FORMAT_V1) {
      throw new HearthError('DECRYPT_FAILED', `sealed value for ${JSON.stringify(key)} has unknown format ${String(stored[0])}`)
    }
    const nonce = stored.subarray(1, 1 + NONCE_BYTES)
    const ciphertext = stored.subarray(1 + NONCE_BYTES)
    try {
      return xchachaOpen(this.#key, nonce, ciphertext, ad)
    } catch (err) {
      throw new HearthError(
        'DECRYPT_FAILED',
        `sealed value for ${JSON.stringify(key)} does not authenticate (wrong key, moved, or tampered)`,
        { cause: err },
      )
    }
  }
}
