import { HearthError } from '../errors.js'
import { concatBytes, equalBytes, utf8 } from '../util/bytes.js'
import { open, seal } from './aead.js'
import { hkdf, hmacSha256 } from './kdf.js'
import { Labels } from './labels.js'

/**
 * The cryptography of linking a device (core/devices/pair-protocol.ts), pure. The new device N shows a 95-bit secret
 * (a link code, identity/link-code.ts); the existing device E dials N over libp2p, so Noise has authenticated both
 * PeerIds. Everything below is bound to the transcript `hearth/v1/pair\0<peerE>\0<peerN>`:
 *
 *  - four keys, HKDF-SHA-256 of the secret with one label each and the transcript as info: the two proof keys, the
 *    confirmation key and the box key. A secret used over another connection (another PeerId on either end, as a
 *    man in the middle must have) gives unrelated keys;
 *  - proofs: HMAC-SHA-256 of the transcript under each side's proof key, checked in constant time. E proves first; N
 *    answers only a good proof, so a dialer without the secret learns nothing and costs N one of its 5 attempts;
 *  - the confirmation code both screens show: 6 digits from the confirmation key and two 32-byte nonces, E's
 *    committed to before N's is sent (see `commitNonce`), so a man in the middle who knows the secret cannot search
 *    for PeerIds or nonces that make the two codes agree: they do by chance only, one time in a million;
 *  - the account box: XChaCha20-Poly1305 under the box key, associated data the transcript.
 */
export interface PairingKeys {
  proofE: Uint8Array
  proofN: Uint8Array
  sasKey: Uint8Array
  boxKey: Uint8Array
  /** `hearth/v1/pair\0<peerE>\0<peerN>`: HKDF info, the proofs' message and the box's associated data. */
  transcript: Uint8Array
}

export const PAIR_SECRET_SYMBOLS = 19
export const PAIR_NONCE_BYTES = 32
export const PAIR_PROOF_BYTES = 32

// The short invites' alphabet (conversation/short-invite.ts); node/common cannot import from node/src.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const CANONICAL_SECRET = /^[0-9A-HJKMNP-TV-Z]{19}$/
const COMMIT = Uint8Array.of(1)
const CODE = Uint8Array.of(2)

/**
 * The secret's bytes: the 19 symbols decoded 5 bits each, as short invites decode symbols, with the 96th bit zero
 * (the 12 bytes `secretFromBytes` was given, its last bit dropped). Canonical symbols only: parse the code first.
 */
export function pairSecretBytes(secret: string): Uint8Array {
  if (!CANONICAL_SECRET.test(secret)) throw new HearthError('INVALID_INPUT', 'a link secret is 19 canonical symbols')
  const out = new Uint8Array(12)
  let acc = 0
  let bits = 0
  let at = 0
  for (const c of secret) {
    acc = (acc << 5) | ALPHABET.indexOf(c)
    bits += 5
    if (bits >= 8) {
      out[at++] = (acc >> (bits - 8)) & 255
      bits -= 8
    }
    acc &= (1 << bits) - 1
  }
  out[at] = (acc << (8 - bits)) & 255
  return out
}

function peerText(peer: string): Uint8Array {
  // A NUL would make the transcript ambiguous; PeerIds are base58/base32 text and never hold one.
  if (peer.length === 0 || peer.length > 128 || peer.includes('\0')) throw new HearthError('INVALID_INPUT', 'not a PeerId')
  return utf8(peer)
}

export function pairTranscript(peerE: string, peerN: string): Uint8Array {
  const nul = Uint8Array.of(0)
  return concatBytes(utf8(Labels.pair), nul, peerText(peerE), nul, peerText(peerN))
}

/** The keys of one pairing: secret symbols, the dialer's (E) PeerId, the listener's (N) PeerId. */
export function pairingKeys(secret: string, peerE: string, peerN: string): PairingKeys {
  const ikm = pairSecretBytes(secret)
  const transcript = pairTranscript(peerE, peerN)
  const key = (label: Parameters<typeof hkdf>[0]) => hkdf(label, ikm, { info: transcript })
  return {
    proofE: key(Labels.pairProofE),
    proofN: key(Labels.pairProofN),
    sasKey: key(Labels.pairSas),
    boxKey: key(Labels.pairBox),
    transcript,
  }
}

export const proveE = (keys: PairingKeys): Uint8Array => hmacSha256(keys.proofE, keys.transcript)
export const proveN = (keys: PairingKeys): Uint8Array => hmacSha256(keys.proofN, keys.transcript)
/** Constant time (equalBytes looks at every byte of equal-length input). */
export const checkE = (keys: PairingKeys, proof: Uint8Array): boolean => proof.length === PAIR_PROOF_BYTES && equalBytes(proveE(keys), proof)
export const checkN = (keys: PairingKeys, proof: Uint8Array): boolean => proof.length === PAIR_PROOF_BYTES && equalBytes(proveN(keys), proof)

/** E's commitment to its nonce, sent with its proof before N chooses its own nonce. */
export function commitNonce(keys: PairingKeys, nonceE: Uint8Array): Uint8Array {
  if (nonceE.length !== PAIR_NONCE_BYTES) throw new HearthError('INVALID_INPUT', 'a pairing nonce is 32 bytes')
  return hmacSha256(keys.sasKey, concatBytes(COMMIT, nonceE))
}

export const checkCommitment = (keys: PairingKeys, commitment: Uint8Array, nonceE: Uint8Array): boolean =>
  nonceE.length === PAIR_NONCE_BYTES && commitment.length === 32 && equalBytes(commitNonce(keys, nonceE), commitment)

/**
 * The 6 digits both people compare, as "123 456": the first 40 bits of HMAC(sasKey, 2 ‖ nonceE ‖ nonceN), big-endian,
 * mod 10⁶. 2⁴⁰ mod 10⁶ = 627,776, so those lowest values are one in 1,099,511 more likely than the rest: a relative
 * bias under 10⁻⁶, negligible next to the one-in-a-million chance itself (no rejection loop needed).
 */
export function confirmationCode(keys: PairingKeys, nonceE: Uint8Array, nonceN: Uint8Array): string {
  if (nonceE.length !== PAIR_NONCE_BYTES || nonceN.length !== PAIR_NONCE_BYTES) {
    throw new HearthError('INVALID_INPUT', 'a pairing nonce is 32 bytes')
  }
  const h = hmacSha256(keys.sasKey, concatBytes(CODE, nonceE, nonceN))
  let n = 0
  for (let i = 0; i < 5; i++) n = n * 256 + h[i]!
  const digits = String(n % 1_000_000).padStart(6, '0')
  return `${digits.slice(0, 3)} ${digits.slice(3)}`
}

/** The account payload (encoded by the caller) sealed to this pairing: nonce ‖ ciphertext ‖ tag. */
export function sealAccount(keys: PairingKeys, payload: Uint8Array): Uint8Array {
  return seal(keys.boxKey, payload, keys.transcript)
}

/** Opens `sealAccount`; any failure is DECRYPT_FAILED. */
export function openAccount(keys: PairingKeys, box: Uint8Array): Uint8Array {
  return open(keys.boxKey, box, keys.transcript)
}
