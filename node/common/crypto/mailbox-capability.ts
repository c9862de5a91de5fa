/**
 * Relay mailbox capabilities (docs/adr/0010-relay-mailbox.md).
 *
 * Every member of a conversation epoch holds the same 32-byte mailbox secret. From it each derives, deterministically,
 * two Ed25519 key pairs: a deposit key and a read key. The mailbox id is a hash of the two public keys. A request to a
 * relay carries both public keys and a signature by the key its operation needs, so the relay can check that the
 * requester holds the capability (recompute the id, verify the signature) without ever learning the secret, the
 * conversation, or who the members are: every member signs with the same keys, so they are indistinguishable.
 *
 * A signature covers the protocol label, the operation, the relay's own PeerId (a request cannot be replayed to another
 * relay), the mailbox id, the operation's parameters (envelope ids, cursor, limit...), a timestamp and a random nonce.
 * The relay accepts timestamps within ±30 seconds of its clock and remembers, per mailbox, the nonces it has seen in
 * that window (`ReplayGuard`, replay-guard.ts), so a captured request cannot be replayed. A client whose clock is
 * further off learns the relay's from the `stale` refusal and signs again.
 *
 * The relay never holds a secret key: a relay that is compromised can refuse service or delete, but cannot deposit
 * into a mailbox (it has no deposit key) nor read anything (envelopes are end-to-end encrypted by the members).
 */
import { createHash } from 'node:crypto'
import { HearthError } from '../errors.js'
import { concatBytes, toBase64Url, utf8 } from '../util/bytes.js'
import { encodeCbor } from '../wire/cbor.js'
import {
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  signWithLabel,
  signingKeyPairFromSeed,
  verifyWithLabel,
  type SigningKeyPair,
} from './ed25519.js'
import { hkdf } from './kdf.js'
import { Labels } from './labels.js'
import { randomBytes } from './random.js'
import type { ReplayGuard, ReplayVerdict } from './replay-guard.js'

export { MAILBOX_CLOCK_WINDOW_MS, ReplayGuard, type ReplayGuardOptions } from './replay-guard.js'

export const MAILBOX_SECRET_BYTES = 32
export const MAILBOX_ID_BYTES = 32
export const MAILBOX_NONCE_BYTES = 16
/** Reader tags are opaque to the relay; long enough not to collide, short enough to stay cheap. */
export const READER_TAG_MIN_BYTES = 16
export const READER_TAG_MAX_BYTES = 32
/** A relay PeerId as text (base58btc or CIDv1); generous bound for the signed bytes. */
export const MAX_RELAY_PEER_ID_CHARS = 128

const MAILBOX_ID_PREFIX = concatBytes(utf8(Labels.mailboxId), Uint8Array.of(0))

/** What a member derives from the mailbox secret. Hold it like the secret: the seeds are capabilities. */
export interface MailboxKeys {
  readonly mailboxId: Uint8Array
  readonly deposit: SigningKeyPair
  readonly read: SigningKeyPair
}

export type MailboxOperation = MailboxParams['op']

/**
 * The parameters of an operation that the signature covers. Everything a relay acts on is here, so a man in the
 * middle (or a relay operator) cannot reuse a signature for different envelopes, another page or another cursor.
 */
export type MailboxParams =
  | { op: 'deposit'; ids: readonly Uint8Array[] }
  | { op: 'fetch'; after: string | null; reader: Uint8Array | null; limit: number; waitMs: number }
  | { op: 'ack'; reader: Uint8Array; cursor: string }
  // Relay blob storage (wire/relay-blob.ts, ADR 0030): the same capability, its own operation names.
  | { op: 'blob-put-list'; blob: Uint8Array; padded: number }
  | { op: 'blob-put-chunks'; blob: Uint8Array; indices: readonly number[] }
  | { op: 'blob-get-list'; blob: Uint8Array }
  | { op: 'blob-get-chunks'; blob: Uint8Array; first: number; count: number }

/** Operations that write (signed with the deposit key); every other one reads (signed with the read key). */
export function isWriteOperation(op: MailboxOperation): boolean {
  return op === 'deposit' || op === 'blob-put-list' || op === 'blob-put-chunks'
}

/** The authorisation part of a request, as it travels. */
export interface MailboxAuth {
  depositPublic: Uint8Array
  readPublic: Uint8Array
  /** Milliseconds since the Unix epoch on the requester's clock (corrected by its estimate of the relay's offset). */
  timestamp: number
  nonce: Uint8Array
  signature: Uint8Array
}

export function deriveMailboxKeys(mailboxSecret: Uint8Array): MailboxKeys {
  if (!(mailboxSecret instanceof Uint8Array) || mailboxSecret.length !== MAILBOX_SECRET_BYTES) {
    throw new HearthError('INVALID_INPUT', `a mailbox secret is ${MAILBOX_SECRET_BYTES} bytes`)
  }
  const deposit = signingKeyPairFromSeed(hkdf(Labels.mailboxDepositKey, mailboxSecret))
  const read = signingKeyPairFromSeed(hkdf(Labels.mailboxReadKey, mailboxSecret))
  return { mailboxId: mailboxIdOf(deposit.publicKey, read.publicKey), deposit, read }
}

/** `SHA-256(utf8(label) || 0x00 || depositPublic || readPublic)`: what the relay recomputes from a request. */
export function mailboxIdOf(depositPublic: Uint8Array, readPublic: Uint8Array): Uint8Array {
  if (depositPublic.length !== ED25519_PUBLIC_KEY_LENGTH || readPublic.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new HearthError('INVALID_INPUT', 'mailbox public keys are 32 bytes each')
  }
  // node:crypto rather than noble: the relay computes this for every request.
  return new Uint8Array(createHash('sha256').update(MAILBOX_ID_PREFIX).update(depositPublic).update(readPublic).digest())
}

/**
 * A device's reader tag for one mailbox: 16 bytes, stable for that device and mailbox, unlinkable by the relay across
 * mailboxes (it needs `deviceSecret`, which never leaves the device) and distinct between devices sharing a mailbox.
 */
export function deriveReaderTag(deviceSecret: Uint8Array, mailboxId: Uint8Array): Uint8Array {
  if (deviceSecret.length < 32) throw new HearthError('INVALID_INPUT', 'a reader tag needs a device secret of 32+ bytes')
  if (mailboxId.length !== MAILBOX_ID_BYTES) throw new HearthError('INVALID_INPUT', 'a mailbox id is 32 bytes')
  return hkdf(Labels.mailboxReaderTag, deviceSecret, { info: mailboxId, length: READER_TAG_MIN_BYTES })
}

/** The key pair whose signature an operation needs. */
function signerOf(keys: MailboxKeys, op: MailboxOperation): SigningKeyPair {
  return isWriteOperation(op) ? keys.deposit : keys.read
}

function paramsArray(params: MailboxParams): unknown[] {
  switch (params.op) {
    case 'deposit':
      return ['deposit', [...params.ids]]
    case 'fetch':
      return ['fetch', params.after, params.reader, params.limit, params.waitMs]
    case 'ack':
      return ['ack', params.reader, params.cursor]
    case 'blob-put-list':
      return ['blob-put-list', params.blob, params.padded]
    case 'blob-put-chunks':
      return ['blob-put-chunks', params.blob, [...params.indices]]
    case 'blob-get-list':
      return ['blob-get-list', params.blob]
    case 'blob-get-chunks':
      return ['blob-get-chunks', params.blob, params.first, params.count]
  }
}

/**
 * The bytes a request signature covers (before the label prefix `signWithLabel` adds): deterministic CBOR of
 * `[1, relayPeerId, mailboxId, [op, ...params], timestamp, nonce]`. The leading 1 versions the construction.
 */
export function mailboxSigningBytes(
  relayPeerId: string,
  mailboxId: Uint8Array,
  params: MailboxParams,
  timestamp: number,
  nonce: Uint8Array,
): Uint8Array {
  return encodeCbor([1, relayPeerId, mailboxId, paramsArray(params), timestamp, nonce])
}

export interface SignOptions {
  /** Timestamp to put in the request. Default `Date.now()`. */
  timestamp?: number
  /** Test hook; default 16 fresh random bytes. */
  nonce?: Uint8Array
}

/** Signs a request to `relayPeerId` with the key the operation needs. */
export function signMailboxRequest(
  keys: MailboxKeys,
  relayPeerId: string,
  params: MailboxParams,
  options: SignOptions = {},
): MailboxAuth {
  if (relayPeerId.length === 0 || relayPeerId.length > MAX_RELAY_PEER_ID_CHARS) {
    throw new HearthError('INVALID_INPUT', 'not a relay PeerId')
  }
  const timestamp = Math.round(options.timestamp ?? Date.now())
  const nonce = options.nonce ?? randomBytes(MAILBOX_NONCE_BYTES)
  const bytes = mailboxSigningBytes(relayPeerId, keys.mailboxId, params, timestamp, nonce)
  const signature = signWithLabel(signerOf(keys, params.op).seed, Labels.mailboxRequest, bytes)
  return { depositPublic: keys.deposit.publicKey, readPublic: keys.read.publicKey, timestamp, nonce, signature }
}

/** Why a relay refuses a request's authorisation. Each is a stable wire reason (see wire/mailbox.ts). */
export type AuthRefusal = 'unauthorized' | 'stale' | 'replayed' | 'busy'

export type AuthCheck =
  | { ok: true; mailboxId: Uint8Array }
  | { ok: false; reason: AuthRefusal; detail: string; /** With `busy`: when the guard expects room. */ retryAfterMs?: number }

const REPLAY_DETAIL: Record<Exclude<ReplayVerdict, 'fresh'>, string> = {
  replayed: 'request already seen',
  stale: 'request stamped at or before one this mailbox had to forget',
  busy: 'too many recent requests to remember another mailbox',
}

/**
 * Checks a request on the relay: well-formed public keys, timestamp within the window, a valid signature by the key
 * the operation needs over this relay's PeerId and these parameters, and a nonce not seen before. The nonce is
 * recorded only once everything else holds, so forged requests cannot fill the guard or burn a future nonce.
 */
export function verifyMailboxRequest(
  auth: MailboxAuth,
  relayPeerId: string,
  params: MailboxParams,
  guard: ReplayGuard,
  now: number = Date.now(),
): AuthCheck {
  // The signer's key is checked by `verify` (Hearth's rule, cached per key; a small-order key never verifies). The
  // other key needs no check of its own: it is bound into the mailbox id the signature covers, so changing it only
  // names another mailbox, and decompressing it here would cost more than the signature check.
  if (auth.depositPublic.length !== ED25519_PUBLIC_KEY_LENGTH || auth.readPublic.length !== ED25519_PUBLIC_KEY_LENGTH) {
    return { ok: false, reason: 'unauthorized', detail: 'mailbox public keys are 32 bytes' }
  }
  if (auth.nonce.length !== MAILBOX_NONCE_BYTES || auth.signature.length !== ED25519_SIGNATURE_LENGTH) {
    return { ok: false, reason: 'unauthorized', detail: 'nonce or signature of the wrong length' }
  }
  if (!guard.isFresh(auth.timestamp, now)) {
    return { ok: false, reason: 'stale', detail: 'request timestamp outside the accepted window' }
  }
  const mailboxId = mailboxIdOf(auth.depositPublic, auth.readPublic)
  const signer = isWriteOperation(params.op) ? auth.depositPublic : auth.readPublic
  const bytes = mailboxSigningBytes(relayPeerId, mailboxId, params, auth.timestamp, auth.nonce)
  if (!verifyWithLabel(signer, Labels.mailboxRequest, bytes, auth.signature)) {
    return { ok: false, reason: 'unauthorized', detail: `no valid ${isWriteOperation(params.op) ? 'deposit' : 'read'} capability` }
  }
  const verdict = guard.record(toBase64Url(mailboxId), toBase64Url(auth.nonce), auth.timestamp, now)
  if (verdict === 'busy') return { ok: false, reason: verdict, detail: REPLAY_DETAIL[verdict], retryAfterMs: guard.retryAfterMs(now) }
  if (verdict !== 'fresh') return { ok: false, reason: verdict, detail: REPLAY_DETAIL[verdict] }
  return { ok: true, mailboxId }
}
