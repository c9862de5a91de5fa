/**
 * Safety numbers: the 60 digits two people compare (read aloud, or by scanning a QR code) to check that the account
 * key each of them sees for the other is really the other's. Signal's algorithm (libsignal's
 * NumericFingerprintGenerator, fingerprint version 0, 5,200 iterations) over Hearth's account keys; where Hearth
 * differs from Signal is in docs/adr/0031-safety-numbers.md.
 *
 * Per party, a 64-byte fingerprint hash:
 *   h = SHA-512(version ‖ key ‖ id ‖ key), then 5,199 times h = SHA-512(h ‖ key)
 * (libsignal feeds the key into every one of the 5,200 rounds, the first included). Its first 30 bytes give 30
 * digits: six 5-byte big-endian integers, each mod 100,000, zero-padded. The two halves are put in ascending order so
 * both people see the same 60 digits. The QR payload carries the first 32 bytes of both hashes, the displaying side's
 * first; the scanning side checks them crosswise (its own is the other's "remote"), in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { HearthError } from '../errors.js'
import { decodeCbor, encodeCbor } from '../wire/cbor.js'
import { bytes, parseWire } from '../wire/schema.js'

/** libsignal's fingerprint version: the two bytes the hash input starts with. */
export const FINGERPRINT_VERSION = 0
/** libsignal's work factor: about 112 bits of work to find a second key with the same 30 digits. */
export const FINGERPRINT_ITERATIONS = 5200
/** Version of Hearth's QR payload (not Signal's protobuf: nothing reads both). */
export const SAFETY_QR_VERSION = 1
/** Bytes of each party's fingerprint in the QR payload. */
const QR_FINGERPRINT_BYTES = 32
/** A payload is ~72 bytes; anything much larger is not one of ours and is refused before decoding. */
export const MAX_SAFETY_QR_BYTES = 128

/** One side of the comparison: a public key and the stable identifier it is bound to. */
export interface FingerprintParty {
  key: Uint8Array
  id: Uint8Array
}

export interface SafetyNumber {
  /** 60 digits, the same on both sides. */
  digits: string
  /** The QR payload as this side shows it (its own fingerprint first). */
  qr: Uint8Array
}

/** The 64-byte iterated hash of one party. `iterations` is a parameter only so tests can run libsignal's small vectors. */
export function fingerprintHash(party: FingerprintParty, iterations = FINGERPRINT_ITERATIONS): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new HearthError('INVALID_INPUT', 'iterations must be a positive integer')
  const version = Uint8Array.of(FINGERPRINT_VERSION >> 8, FINGERPRINT_VERSION & 0xff)
  let hash: Uint8Array = createHash('sha512').update(version).update(party.key).update(party.id).update(party.key).digest()
  for (let i = 1; i < iterations; i++) hash = createHash('sha512').update(hash).update(party.key).digest()
  return new Uint8Array(hash)
}

/** 30 digits from the first 30 bytes of a fingerprint hash: six big-endian 40-bit chunks, each mod 100,000. */
export function displayDigits(hash: Uint8Array): string {
  if (hash.length < 30) throw new HearthError('INVALID_INPUT', 'a fingerprint hash has at least 30 bytes')
  let out = ''
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0n
    for (let i = 0; i < 5; i++) n = (n << 8n) | BigInt(hash[chunk * 5 + i]!)
    out += (n % 100_000n).toString().padStart(5, '0')
  }
  return out
}

/** The 60 digits of two 30-digit halves, lower first, so the order of the two people does not matter. */
export function combineDigits(a: string, b: string): string {
  return a <= b ? a + b : b + a
}

/** The safety number between `local` (this side) and `remote`, and the QR payload this side shows. */
export function safetyNumber(local: FingerprintParty, remote: FingerprintParty, iterations = FINGERPRINT_ITERATIONS): SafetyNumber {
  const mine = fingerprintHash(local, iterations)
  const theirs = fingerprintHash(remote, iterations)
  return {
    digits: combineDigits(displayDigits(mine), displayDigits(theirs)),
    qr: encodeSafetyQr(mine.subarray(0, QR_FINGERPRINT_BYTES), theirs.subarray(0, QR_FINGERPRINT_BYTES)),
  }
}

const qrSchema = z.strictObject({
  v: z.literal(SAFETY_QR_VERSION),
  l: bytes(QR_FINGERPRINT_BYTES),
  r: bytes(QR_FINGERPRINT_BYTES),
})

/** `{ v, l, r }` in deterministic CBOR: the shower's own fingerprint (`l`) and the one it computed for the other (`r`). */
export function encodeSafetyQr(local: Uint8Array, remote: Uint8Array): Uint8Array {
  return encodeCbor({ v: SAFETY_QR_VERSION, l: local, r: remote })
}

/** Parses a scanned payload: MALFORMED when it is not a safety number code, UNSUPPORTED_VERSION for another version. */
export function decodeSafetyQr(payload: Uint8Array): { local: Uint8Array; remote: Uint8Array } {
  if (payload.length > MAX_SAFETY_QR_BYTES) throw new HearthError('MALFORMED', 'this code is too large to be a safety number code')
  const value = parseWire(qrSchema, decodeCbor(payload, MAX_SAFETY_QR_BYTES, 'safety number code'), 'safety number code')
  return { local: value.l, remote: value.r }
}

/**
 * Whether a payload scanned from the other person's screen matches ours: their own fingerprint is the one we
 * computed for them, and the one they computed for us is ours. Both are compared, in constant time, so a single
 * wrong key on either side refuses it. Throws as `decodeSafetyQr` for a payload that is not a code it reads.
 */
export function scannedMatches(ours: Uint8Array, scanned: Uint8Array): boolean {
  const mine = decodeSafetyQr(ours)
  const theirs = decodeSafetyQr(scanned)
  const a = timingSafeEqual(theirs.local, mine.remote)
  const b = timingSafeEqual(theirs.remote, mine.local)
  return a && b
}
