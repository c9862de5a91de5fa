import {
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { HearthError } from '../errors.js'
import { concatBytes, fromHex, toHex, utf8 } from '../util/bytes.js'
import type { Label } from './labels.js'
import { randomBytes } from './random.js'

export interface SigningKeyPair {
  /** 32-byte RFC 8032 public key. */
  publicKey: Uint8Array
  /** 32-byte RFC 8032 secret seed; the scalar is derived from it on each use. */
  seed: Uint8Array
}

export const ED25519_PUBLIC_KEY_LENGTH = 32
export const ED25519_SEED_LENGTH = 32
export const ED25519_SIGNATURE_LENGTH = 64

// node:crypto only takes keys as DER; these fixed prefixes turn a raw 32-byte key into PKCS#8 / SPKI.
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420')
const SPKI_PREFIX = fromHex('302a300506032b6570032100')

/**
 * Building a KeyObject costs about as much as a verification, and a receiver verifies many messages from few
 * senders, so recent keys are cached. Bounded so a flood of distinct keys cannot grow memory; insertion order makes
 * the Map a cheap LRU.
 */
class KeyCache<T> {
  readonly #entries = new Map<string, T>()
  constructor(readonly limit: number) {}

  get(raw: Uint8Array, build: () => T): T {
    const id = toHex(raw)
    const hit = this.#entries.get(id)
    if (hit !== undefined) {
      this.#entries.delete(id)
      this.#entries.set(id, hit)
      return hit
    }
    const key = build()
    this.#entries.set(id, key)
    if (this.#entries.size > this.limit) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    return key
  }
}

/** `null` records a key that can never verify, so a flood of signatures under a bad key stays cheap too. */
const publicKeys = new KeyCache<KeyObject | null>(1024)
// A device signs with only a handful of keys (account, device); a small cache keeps fewer secrets resident.
const privateKeys = new KeyCache<KeyObject>(16)

function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== ED25519_SEED_LENGTH) throw new HearthError('INVALID_INPUT', 'Ed25519 seed must be 32 bytes')
  return privateKeys.get(seed, () =>
    createPrivateKey({ key: Buffer.from(concatBytes(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' }),
  )
}

function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  return publicKeys.get(publicKey, () =>
    isAcceptablePublicKey(publicKey)
      ? createPublicKey({ key: Buffer.from(concatBytes(SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' })
      : null,
  )
}

/**
 * RFC 8032 lets implementations differ: OpenSSL checks [S]B = R + [k]A exactly and accepts low-order keys, noble's
 * strict mode checks the cofactored equation and rejects low-order keys. Measured here, they disagree on signatures
 * under a low-order key, with a torsion component in R, or under a key with a torsion component. Two peers must
 * never disagree on whether an envelope is signed, so Hearth fixes one rule for both verifiers: canonical
 * encodings, S < L, the cofactorless equation, and a public key that is not of small order (for which anyone can
 * make a signature). Keys with a torsion component are not rejected: only their owner can make one, the two
 * verifiers agree on them, and the check would cost a full scalar multiplication per new key.
 */
export function isAcceptablePublicKey(publicKey: Uint8Array): boolean {
  try {
    if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false
    const point = ed25519.Point.fromBytes(publicKey, false)
    return !point.isSmallOrder()
  } catch {
    return false
  }
}

export function generateSigningKeyPair(): SigningKeyPair {
  return signingKeyPairFromSeed(randomBytes(ED25519_SEED_LENGTH))
}

export function signingKeyPairFromSeed(seed: Uint8Array): SigningKeyPair {
  const spki = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' })
  return {
    publicKey: new Uint8Array(spki.subarray(spki.length - ED25519_PUBLIC_KEY_LENGTH)),
    seed: Uint8Array.from(seed),
  }
}

export function sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(nodeSign(null, message, privateKeyObject(seed)))
}

/**
 * Hearth's Ed25519 rule (see `isAcceptablePublicKey`) on OpenSSL, about 16x faster than noble. Never throws: bytes
 * from the network are not trusted to be well formed, and a verifier that can throw invites a caller that treats
 * "threw" as "didn't check".
 */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false
    const key = publicKeyObject(publicKey)
    return key !== null && nodeVerify(null, message, key, signature)
  } catch {
    return false
  }
}

/**
 * `verify` on libuv's thread pool: the same rule and the same answers, but the main thread is free while OpenSSL
 * works, so a batch of envelopes (a sync page) is verified on every core at once. Never rejects.
 */
export function verifyAsync(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return resolve(false)
      const key = publicKeyObject(publicKey)
      if (key === null) return resolve(false)
      nodeVerify(null, message, key, signature, (err, ok) => resolve(err === null && ok))
    } catch {
      resolve(false)
    }
  })
}

/** Pure-JS reference signer, for cross-checking node:crypto and for environments without it. */
export function nobleSign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  if (seed.length !== ED25519_SEED_LENGTH) throw new HearthError('INVALID_INPUT', 'Ed25519 seed must be 32 bytes')
  return ed25519.sign(message, seed)
}

/**
 * The same rule as `verify`, on noble's strict (zip215: false) decoding and point arithmetic: for environments
 * without node:crypto and for cross-checking it. It is not `ed25519.verify`, whose cofactored equation accepts
 * signatures `verify` rejects (see `isAcceptablePublicKey`). Also never throws.
 */
export function nobleVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (signature.length !== ED25519_SIGNATURE_LENGTH || !isAcceptablePublicKey(publicKey)) return false
    const Point = ed25519.Point
    const order = Point.Fn.ORDER
    const r = signature.subarray(0, 32)
    const s = bytesToNumberLE(signature.subarray(32))
    if (s >= order) return false
    const R = Point.fromBytes(r, false)
    const A = Point.fromBytes(publicKey, false)
    const k = bytesToNumberLE(sha512(concatBytes(r, publicKey, message))) % order
    return Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)))
  } catch {
    return false
  }
}

const SEPARATOR = new Uint8Array([0])

function labelled(label: Label, message: Uint8Array): Uint8Array {
  return concatBytes(utf8(label), SEPARATOR, message)
}

/** Signs `utf8(label) || 0x00 || message`, so a signature made for one purpose never verifies for another. */
export function signWithLabel(seed: Uint8Array, label: Label, message: Uint8Array): Uint8Array {
  return sign(seed, labelled(label, message))
}

export function verifyWithLabel(publicKey: Uint8Array, label: Label, message: Uint8Array, signature: Uint8Array): boolean {
  return verify(publicKey, labelled(label, message), signature)
}

export function verifyWithLabelAsync(publicKey: Uint8Array, label: Label, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return verifyAsync(publicKey, labelled(label, message), signature)
}
