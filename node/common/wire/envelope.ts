import { z } from 'zod'
import { open, seal } from '../crypto/aead.js'
import { signWithLabel, verifyWithLabel, verifyWithLabelAsync } from '../crypto/ed25519.js'
import { sha256 } from '../crypto/kdf.js'
import { Labels } from '../crypto/labels.js'
import { HearthError } from '../errors.js'
import { concatBytes, equalBytes } from '../util/bytes.js'
import { decodeCbor, encodeCbor } from './cbor.js'
import { Limits } from './limits.js'
import { bytes, parseWire, uint } from './schema.js'

/**
 * The envelope: the unit that is gossiped, synced between members and stored on relays.
 *
 *   offset  size  field
 *   0       1     version (2)
 *   1       8     epoch tag: names the conversation epoch to members; opaque to everyone else
 *   9       2     header box length H (big-endian)
 *   11      H     header box: AEAD(headerKey, CBOR header, AD = bytes 0..9)
 *   11+H    N     body box:   AEAD(bodyKey, body, AD = bytes 0..11+H)
 *   end-64  64    Ed25519 signature by the sending device over the label and everything before it
 *
 * The header (sending device, sequence number, kind, SHA-256 of the body plaintext) is encrypted so that a relay or a
 * gossip forwarder that is not a member learns neither who wrote an envelope nor how many it wrote. Only members hold
 * the epoch's header key; a member decrypts the header, checks the device belongs to the conversation, verifies the
 * signature and only then spends anything on the body.
 *
 * Why the body hash: XChaCha20-Poly1305 is not key-committing, and body keys reach each member device separately
 * (sealed chain grants), so a sender could hand two members two keys under which one body box opens to two different
 * texts. The signed header names exactly one plaintext; a body that opens to anything else is refused. Every member
 * opens the same header (the header key derives from the epoch secret, which the epoch id is a hash of), so one
 * envelope reads the same for every member or not at all (docs/adr/0017).
 *
 * Version 3 adds a strippable part after the signature, for secrets a member must be able to forget later (the
 * per-message content keys of docs/adr/0020):
 *
 *   …      …     the version 2 layout above, with version byte 3; the header also holds `x`, the SHA-256 of the
 *                secrets box
 *   end-S-2 S    secrets box: AEAD(bodyKey, secrets, AD = everything before the signature)
 *   end-2  2     S (big-endian); 0 once stripped
 *
 * The signature does not cover the secrets box, the header's `x` does: a stripped envelope (box removed, S = 0) still
 * verifies and can be synced and applied, and its secrets are gone. An envelope is identified by everything but that
 * part (`envelopeId`, `sameEnvelope`), so a stripped copy is the same envelope, never a second version of its position.
 *
 * Version 1 (no body hash) is refused: nobody holds data in it.
 */
export const ENVELOPE_VERSION = 2
/** An envelope with a strippable secrets part (present or stripped). */
export const ENVELOPE_VERSION_SECRETS = 3
const SECRETS_LENGTH_BYTES = 2
export const EPOCH_TAG_BYTES = 8
const FIXED_PREFIX = 11
const SIGNATURE_BYTES = 64
const AEAD_OVERHEAD = 24 + 16

export const EnvelopeKind = {
  /** A history operation (an Automerge change), encrypted with the sender chain's message key. */
  content: 1,
  /** A membership-log operation, encrypted with the epoch control key. */
  membership: 2,
  /** Sender-chain keys for member devices, each sealed to one device, inside the control key. */
  keys: 3,
  /** Ephemeral state (receipts, typing): not part of the durable stream, seq is 0. */
  signal: 4,
} as const
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind]
const kinds = new Set<number>(Object.values(EnvelopeKind))

export interface EnvelopeHeader {
  /** Sending device's signing public key. */
  device: Uint8Array
  /** Position in the device's stream for this epoch; 1-based; 0 for signals. */
  seq: number
  kind: EnvelopeKind
}

/** A header as opened: what the sender wrote plus the body commitment `openEnvelopeBody` checks. */
export interface OpenedEnvelopeHeader extends EnvelopeHeader {
  /** SHA-256 of the body plaintext. */
  bodyHash: Uint8Array
  /** SHA-256 of the secrets box (version 3 only). */
  secretsHash?: Uint8Array
}

const headerSchema = z.object({
  d: bytes(32),
  s: uint,
  k: z.number().refine((k) => kinds.has(k), 'unknown envelope kind'),
  h: bytes(32),
  x: bytes(32).optional(),
})

export interface EnvelopeKeys {
  epochTag: Uint8Array
  headerKey: Uint8Array
}

/** The parts of an envelope anyone can see: enough to route and size-check it, nothing more. */
export interface EnvelopeFrame {
  bytes: Uint8Array
  /** The envelope without its secrets part: what is signed, and the signature (all of it for version 2). */
  core: Uint8Array
  /** Version 3: the secrets box, or null once stripped. Version 2: undefined. */
  secretsBox: Uint8Array | null | undefined
  epochTag: Uint8Array
  headerBox: Uint8Array
  bodyBox: Uint8Array
  signed: Uint8Array
  signature: Uint8Array
}

export function parseEnvelopeFrame(envelope: Uint8Array): EnvelopeFrame {
  if (envelope.length > Limits.maxEnvelopeBytes) {
    throw new HearthError('TOO_LARGE', `envelope is ${envelope.length} bytes, over ${Limits.maxEnvelopeBytes}`)
  }
  const version = envelope[0]
  if (version !== ENVELOPE_VERSION && version !== ENVELOPE_VERSION_SECRETS) {
    throw new HearthError('UNSUPPORTED_VERSION', `unsupported envelope version ${version} (expected ${ENVELOPE_VERSION} or ${ENVELOPE_VERSION_SECRETS})`)
  }
  const { core, secretsBox } = splitSecrets(envelope)
  if (core.length < FIXED_PREFIX + 2 * AEAD_OVERHEAD + SIGNATURE_BYTES) {
    throw new HearthError('MALFORMED', 'envelope is truncated')
  }
  const headerLength = (core[9]! << 8) | core[10]!
  const bodyStart = FIXED_PREFIX + headerLength
  const signatureStart = core.length - SIGNATURE_BYTES
  if (headerLength < AEAD_OVERHEAD || bodyStart + AEAD_OVERHEAD > signatureStart) {
    throw new HearthError('MALFORMED', 'envelope header length is inconsistent')
  }
  return {
    bytes: envelope,
    core,
    secretsBox,
    epochTag: core.subarray(1, 9),
    headerBox: core.subarray(FIXED_PREFIX, bodyStart),
    bodyBox: core.subarray(bodyStart, signatureStart),
    signed: core.subarray(0, signatureStart),
    signature: core.subarray(signatureStart),
  }
}

/** Version 3: the envelope without its secrets part, and that part (null once stripped). Version 2: all of it. */
function splitSecrets(envelope: Uint8Array): { core: Uint8Array; secretsBox: Uint8Array | null | undefined } {
  if (envelope[0] !== ENVELOPE_VERSION_SECRETS) return { core: envelope, secretsBox: undefined }
  if (envelope.length < SECRETS_LENGTH_BYTES) throw new HearthError('MALFORMED', 'envelope is truncated')
  const length = (envelope[envelope.length - 2]! << 8) | envelope[envelope.length - 1]!
  const end = envelope.length - SECRETS_LENGTH_BYTES - length
  if (end < 0 || (length > 0 && length < AEAD_OVERHEAD)) throw new HearthError('MALFORMED', 'envelope secrets length is inconsistent')
  return { core: envelope.subarray(0, end), secretsBox: length === 0 ? null : envelope.subarray(end, end + length) }
}

/**
 * The same envelope without its secrets (version 3), which then can never be read again from it; a version 2
 * envelope, or one already stripped, is returned as it is.
 */
export function stripEnvelope(envelope: Uint8Array): Uint8Array {
  if (envelope[0] !== ENVELOPE_VERSION_SECRETS) return envelope
  const { core, secretsBox } = splitSecrets(envelope)
  if (secretsBox === null) return envelope
  return concatBytes(core, new Uint8Array(SECRETS_LENGTH_BYTES))
}

/** True when two envelopes are the same signed envelope (one may be stripped of its secrets). */
export function sameEnvelope(a: Uint8Array, b: Uint8Array): boolean {
  return equalBytes(coreOf(a), coreOf(b))
}

function coreOf(envelope: Uint8Array): Uint8Array {
  try {
    return splitSecrets(envelope).core
  } catch {
    return envelope
  }
}

/**
 * A stable id for an envelope: relays deduplicate deposits by it, gossip uses the same content hash. The secrets part
 * is left out, so an envelope and its stripped copy have one id.
 */
export function envelopeId(envelope: Uint8Array): Uint8Array {
  return sha256(coreOf(envelope)).subarray(0, 16)
}

export function sealEnvelope(input: {
  keys: EnvelopeKeys
  header: EnvelopeHeader
  bodyKey: Uint8Array
  body: Uint8Array
  signingSeed: Uint8Array
  /** Secrets a member may have to forget later (version 3): sealed with the body key, strippable. */
  secrets?: Uint8Array | undefined
}): Uint8Array {
  const { keys, header } = input
  if (keys.epochTag.length !== EPOCH_TAG_BYTES) throw new HearthError('INVALID_INPUT', 'epoch tag must be 8 bytes')
  const prefix = new Uint8Array(9)
  prefix[0] = input.secrets === undefined ? ENVELOPE_VERSION : ENVELOPE_VERSION_SECRETS
  prefix.set(keys.epochTag, 1)
  // The secrets box is sealed before the header, which commits to it; its AD is the prefix (the header is not known
  // yet), and the header's commitment binds it to the rest.
  const secretsBox = input.secrets === undefined ? undefined : seal(input.bodyKey, input.secrets, concatBytes(prefix, SECRETS_AD))
  const headerFields: Record<string, unknown> = { d: header.device, s: header.seq, k: header.kind, h: sha256(input.body) }
  if (secretsBox !== undefined) headerFields['x'] = sha256(secretsBox)
  const headerPlain = encodeCbor(headerFields)
  const headerBox = seal(keys.headerKey, headerPlain, prefix)
  if (headerBox.length > 0xffff) throw new HearthError('INTERNAL', 'envelope header too large')
  const lengthBytes = new Uint8Array([headerBox.length >> 8, headerBox.length & 0xff])
  const bodyAd = concatBytes(prefix, lengthBytes, headerBox)
  const bodyBox = seal(input.bodyKey, input.body, bodyAd)
  const signed = concatBytes(bodyAd, bodyBox)
  const signature = signWithLabel(input.signingSeed, Labels.envelopeSig, signed)
  if (secretsBox !== undefined && secretsBox.length > 0xffff) throw new HearthError('TOO_LARGE', 'envelope secrets too large')
  const envelope =
    secretsBox === undefined
      ? concatBytes(signed, signature)
      : concatBytes(signed, signature, secretsBox, new Uint8Array([secretsBox.length >> 8, secretsBox.length & 0xff]))
  if (envelope.length > Limits.maxEnvelopeBytes) {
    throw new HearthError('TOO_LARGE', `message is too large to send (${envelope.length} bytes encrypted)`)
  }
  return envelope
}

/** Decrypts the header and checks the signature. Throws DECRYPT_FAILED, MALFORMED or BAD_SIGNATURE. */
export function openEnvelopeHeader(
  frame: EnvelopeFrame,
  headerKey: Uint8Array,
  options: { verifySignature?: boolean } = {},
): OpenedEnvelopeHeader {
  const prefix = frame.bytes.subarray(0, 9)
  const plain = open(headerKey, frame.headerBox, prefix)
  const raw = parseWire(headerSchema, decodeCbor(plain, 256, 'envelope header'), 'envelope header')
  const header: OpenedEnvelopeHeader = { device: raw.d, seq: raw.s, kind: raw.k as EnvelopeKind, bodyHash: raw.h }
  if (raw.x !== undefined) header.secretsHash = raw.x
  if ((raw.x !== undefined) !== (frame.secretsBox !== undefined)) {
    throw new HearthError('MALFORMED', 'a version 3 envelope header commits to its secrets, and only a version 3 one')
  }
  if ((header.kind === EnvelopeKind.signal) !== (header.seq === 0)) {
    throw new HearthError('MALFORMED', 'signals carry seq 0 and durable envelopes seq >= 1')
  }
  if (options.verifySignature !== false && !verifyEnvelopeSignature(frame, header)) {
    throw new HearthError('BAD_SIGNATURE', 'envelope signature does not verify')
  }
  return header
}

/** The signature check `openEnvelopeHeader` does, for a header opened without it. */
export function verifyEnvelopeSignature(frame: EnvelopeFrame, header: EnvelopeHeader): boolean {
  return verifyWithLabel(header.device, Labels.envelopeSig, frame.signed, frame.signature)
}

/** `verifyEnvelopeSignature` on the thread pool, so a batch is verified on every core at once. */
export function verifyEnvelopeSignatureAsync(frame: EnvelopeFrame, header: EnvelopeHeader): Promise<boolean> {
  return verifyWithLabelAsync(header.device, Labels.envelopeSig, frame.signed, frame.signature)
}

/**
 * Decrypts the body and checks it against the hash the signed header commits to. Throws DECRYPT_FAILED when the key
 * does not open the box, BAD_SIGNATURE when it opens to bytes the sender did not sign for (a body built to read
 * differently under different keys): both mean the envelope is refused.
 */
export function openEnvelopeBody(frame: EnvelopeFrame, header: OpenedEnvelopeHeader, bodyKey: Uint8Array): Uint8Array {
  const bodyAd = frame.bytes.subarray(0, FIXED_PREFIX + frame.headerBox.length)
  const plain = open(bodyKey, frame.bodyBox, bodyAd)
  if (!equalBytes(sha256(plain), header.bodyHash)) {
    throw new HearthError('BAD_SIGNATURE', 'envelope body does not match the hash its signed header commits to')
  }
  return plain
}

/** Domain separation of the secrets box's associated data from the header box's (both start with the prefix). */
const SECRETS_AD = new TextEncoder().encode('hearth/v1/envelope-secrets')

/**
 * The secrets of a version 3 envelope: null when they were stripped (or the envelope is version 2). Throws
 * BAD_SIGNATURE when the box is not the one the signed header commits to, DECRYPT_FAILED when the key does not open it.
 */
export function openEnvelopeSecrets(frame: EnvelopeFrame, header: OpenedEnvelopeHeader, bodyKey: Uint8Array): Uint8Array | null {
  if (frame.secretsBox === undefined || frame.secretsBox === null) return null
  if (header.secretsHash === undefined || !equalBytes(sha256(frame.secretsBox), header.secretsHash)) {
    throw new HearthError('BAD_SIGNATURE', 'envelope secrets do not match the hash its signed header commits to')
  }
  return open(bodyKey, frame.secretsBox, concatBytes(frame.core.subarray(0, 9), SECRETS_AD))
}
