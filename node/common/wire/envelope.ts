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
 * Version 1 (no body hash) is refused: nobody holds data in it.
 */
export const ENVELOPE_VERSION = 2
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
}

const headerSchema = z.object({
  d: bytes(32),
  s: uint,
  k: z.number().refine((k) => kinds.has(k), 'unknown envelope kind'),
  h: bytes(32),
})

export interface EnvelopeKeys {
  epochTag: Uint8Array
  headerKey: Uint8Array
}

/** The parts of an envelope anyone can see: enough to route and size-check it, nothing more. */
export interface EnvelopeFrame {
  bytes: Uint8Array
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
  if (envelope.length < FIXED_PREFIX + 2 * AEAD_OVERHEAD + SIGNATURE_BYTES) {
    throw new HearthError('MALFORMED', 'envelope is truncated')
  }
  if (envelope[0] !== ENVELOPE_VERSION) {
    throw new HearthError('UNSUPPORTED_VERSION', `unsupported envelope version ${envelope[0]} (expected ${ENVELOPE_VERSION})`)
  }
  const headerLength = (envelope[9]! << 8) | envelope[10]!
  const bodyStart = FIXED_PREFIX + headerLength
  const signatureStart = envelope.length - SIGNATURE_BYTES
  if (headerLength < AEAD_OVERHEAD || bodyStart + AEAD_OVERHEAD > signatureStart) {
    throw new HearthError('MALFORMED', 'envelope header length is inconsistent')
  }
  return {
    bytes: envelope,
    epochTag: envelope.subarray(1, 9),
    headerBox: envelope.subarray(FIXED_PREFIX, bodyStart),
    bodyBox: envelope.subarray(bodyStart, signatureStart),
    signed: envelope.subarray(0, signatureStart),
    signature: envelope.subarray(signatureStart),
  }
}

/** A stable id for an envelope: relays deduplicate deposits by it, gossip uses the same content hash. */
export function envelopeId(envelope: Uint8Array): Uint8Array {
  return sha256(envelope).subarray(0, 16)
}

export function sealEnvelope(input: {
  keys: EnvelopeKeys
  header: EnvelopeHeader
  bodyKey: Uint8Array
  body: Uint8Array
  signingSeed: Uint8Array
}): Uint8Array {
  const { keys, header } = input
  if (keys.epochTag.length !== EPOCH_TAG_BYTES) throw new HearthError('INVALID_INPUT', 'epoch tag must be 8 bytes')
  const prefix = new Uint8Array(9)
  prefix[0] = ENVELOPE_VERSION
  prefix.set(keys.epochTag, 1)
  const headerPlain = encodeCbor({ d: header.device, s: header.seq, k: header.kind, h: sha256(input.body) })
  const headerBox = seal(keys.headerKey, headerPlain, prefix)
  if (headerBox.length > 0xffff) throw new HearthError('INTERNAL', 'envelope header too large')
  const lengthBytes = new Uint8Array([headerBox.length >> 8, headerBox.length & 0xff])
  const bodyAd = concatBytes(prefix, lengthBytes, headerBox)
  const bodyBox = seal(input.bodyKey, input.body, bodyAd)
  const signed = concatBytes(bodyAd, bodyBox)
  const signature = signWithLabel(input.signingSeed, Labels.envelopeSig, signed)
  const envelope = concatBytes(signed, signature)
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
