import { createHash, createHmac } from 'node:crypto'
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
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

/**
 * HMAC-SHA-256 and SHA-256 on OpenSSL: both run for every received message (the sender chain steps twice, the body
 * and the envelope are hashed), where OpenSSL takes about half of noble's time. kdf.test.ts holds them to noble's.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return bytesOf(createHmac('sha256', key).update(data).digest())
}

export function sha256(data: Uint8Array): Uint8Array {
  return bytesOf(createHash('sha256').update(data).digest())
}

/** The digest as a Uint8Array of its own (a Buffer may share its memory with others; callers keep and compare it). */
function bytesOf(digest: Buffer): Uint8Array {
  return new Uint8Array(digest)
}
