import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from '../util/bytes.js'
import type { Label } from './labels.js'

export interface HkdfOptions {
  salt?: Uint8Array | undefined
  /** Extra context appended after the label, e.g. the public keys a secret is bound to. */
  info?: Uint8Array | undefined
  length?: number | undefined
}

const SEPARATOR = new Uint8Array([0])

/**
 * HKDF-SHA-256 with the label forced into `info`, so no call site can forget domain separation. The 0x00 separator
 * keeps label and extra info unambiguous: labels never contain a NUL.
 */
export function hkdf(label: Label, ikm: Uint8Array, options: HkdfOptions = {}): Uint8Array {
  const info = concatBytes(utf8(label), SEPARATOR, options.info ?? new Uint8Array(0))
  return nobleHkdf(nobleSha256, ikm, options.salt, info, options.length ?? 32)
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data)
}

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data)
}
