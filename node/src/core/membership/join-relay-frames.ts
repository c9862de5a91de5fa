/**
 * Joining through a relay (docs/adr/0027-joining-through-a-relay.md): the keys and the items of the two mailboxes it
 * uses on the conversation's relays.
 *
 *  - The invite mailbox, one per invite. Its secret derives from the invite's secret, so whoever holds the invite
 *    (the joiner) can deposit a join request there and read the answer. Members learn the same secret from a
 *    directory record (below) and so can read requests and deposit answers.
 *  - The invite directory, one per epoch. Its secret and the key that seals its records derive from the epoch
 *    secret, so only the epoch's members can read it. The device that made an invite deposits there, sealed, the
 *    invite mailbox's secret with a proof by the invite key, so every admin can serve the invite while it sleeps.
 *
 * Every item is hostile until checked: it comes from anyone holding the invite (requests) or the mailbox secret.
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { z } from 'zod'
import { open, sealWithNonce, AEAD_NONCE_LENGTH } from '../../../common/crypto/aead.js'
import { sign, verify } from '../../../common/crypto/ed25519.js'
import { HearthError } from '../../../common/errors.js'
import { concatBytes, fromHex, toHex, utf8 } from '../../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { Limits } from '../../../common/wire/limits.js'
import { boundedBytes, bytes, parseWire } from '../../../common/wire/schema.js'
import type { EpochKeys } from '../../conversation/epoch-keys.js'
import type { ConversationId, DeviceId } from '../../ids.js'

/** Labels of this construction (HKDF info and signature prefixes; each ends in a NUL before its data). */
export const RelayJoinLabels = {
  inviteMailbox: 'hearth/v1/invite-mailbox',
  directory: 'hearth/v1/invite-directory',
  directorySeal: 'hearth/v1/invite-directory-seal',
  directoryNonce: 'hearth/v1/invite-directory-nonce',
  mailboxProof: 'hearth/v1/invite-mailbox-proof',
  deviceProof: 'hearth/v1/relay-join-device',
  itemSeal: 'hearth/v1/invite-mailbox-seal',
  itemNonce: 'hearth/v1/invite-mailbox-nonce',
} as const

/** A join request as deposited: the /hearth/join request bytes are at most this long (sync-frames.ts). */
export const MAX_REQUEST_BYTES = 16 * 1024
/** One mailbox item is one relay envelope. */
export const MAX_ITEM_BYTES = Limits.maxEnvelopeBytes
/** Membership operations per answer envelope (room left for the seal): the log travels in as many as it needs. */
const ANSWER_BUDGET_BYTES = MAX_ITEM_BYTES - 2048

function derive(label: string, ikm: Uint8Array, info: Uint8Array = new Uint8Array(0), length = 32): Uint8Array {
  return nobleHkdf(nobleSha256, ikm, undefined, concatBytes(utf8(label), Uint8Array.of(0), info), length)
}

function labelled(label: string, message: Uint8Array): Uint8Array {
  return concatBytes(utf8(label), Uint8Array.of(0), message)
}

/** The invite mailbox's secret, from the invite's secret (the seed of its key). */
export const inviteMailboxSecret = (inviteSeed: Uint8Array): Uint8Array => derive(RelayJoinLabels.inviteMailbox, inviteSeed)

/** The directory mailbox's secret and sealing key of one epoch. */
export function directoryKeys(epoch: EpochKeys): { mailboxSecret: Uint8Array; sealKey: Uint8Array } {
  return {
    mailboxSecret: derive(RelayJoinLabels.directory, epoch.mailboxSecret),
    sealKey: derive(RelayJoinLabels.directorySeal, epoch.controlKey),
  }
}

/**
 * The "responder" a relay join request is signed for (the /hearth/join request names the device it is sent to): the
 * invite mailbox, so a request deposited there cannot be replayed to a device over /hearth/join, nor the other way.
 */
export const relayResponder = (mailboxId: Uint8Array): string => `hearth-relay-join:${toHex(mailboxId)}`

// ------------------------------------------------------------------------------------------------ directory

export interface DirectoryEntry {
  inviteId: string
  mailboxSecret: Uint8Array
  /** By the invite key over (conversation, invite id, secret): a member cannot point admins at another mailbox. */
  proof: Uint8Array
}

const entrySchema = z.object({ v: z.literal(1), i: z.string().regex(/^[0-9a-f]{32,64}$/), m: bytes(32), s: bytes(64) })

const proofBytes = (conversation: ConversationId, inviteId: string, secret: Uint8Array) =>
  labelled(RelayJoinLabels.mailboxProof, encodeCbor([conversation, inviteId, secret]))

export function directoryEntry(conversation: ConversationId, inviteId: string, inviteSeed: Uint8Array): DirectoryEntry {
  const mailboxSecret = inviteMailboxSecret(inviteSeed)
  return { inviteId, mailboxSecret, proof: sign(inviteSeed, proofBytes(conversation, inviteId, mailboxSecret)) }
}

/**
 * Seals an entry for the epoch's members. The nonce derives from the key and the invite id, so the same entry always
 * seals to the same bytes: a deposit repeated on every pass is a duplicate the relay drops.
 */
export function sealDirectoryEntry(sealKey: Uint8Array, conversation: ConversationId, entry: DirectoryEntry): Uint8Array {
  const nonce = derive(RelayJoinLabels.directoryNonce, sealKey, utf8(entry.inviteId), AEAD_NONCE_LENGTH)
  const plain = encodeCbor({ v: 1, i: entry.inviteId, m: entry.mailboxSecret, s: entry.proof })
  return concatBytes(nonce, sealWithNonce(sealKey, nonce, plain, utf8(conversation)))
}

/** Opens an entry; undefined for anything that is not one sealed for this epoch and conversation. */
export function openDirectoryEntry(sealKey: Uint8Array, conversation: ConversationId, box: Uint8Array): DirectoryEntry | undefined {
  try {
    const raw = parseWire(entrySchema, decodeCbor(open(sealKey, box, utf8(conversation)), 1024, 'invite directory entry'), 'invite directory entry')
    return { inviteId: raw.i, mailboxSecret: raw.m, proof: raw.s }
  } catch {
    return undefined
  }
}

/** True when the entry's secret is vouched for by the invite key named in the log. */
export const entryProven = (conversation: ConversationId, entry: DirectoryEntry, inviteKey: Uint8Array): boolean =>
  verify(inviteKey, proofBytes(conversation, entry.inviteId, entry.mailboxSecret), entry.proof)

// --------------------------------------------------------------------------------------------- invite mailbox

export type InviteMailboxItem =
  | { type: 'request'; request: Uint8Array; deviceProof: Uint8Array }
  | { type: 'answer'; to: DeviceId; ops: Uint8Array[] }

const itemSchema = z.discriminatedUnion('t', [
  z.object({ v: z.literal(1), t: z.literal('q'), q: boundedBytes(MAX_REQUEST_BYTES), z: bytes(64) }),
  z.object({ v: z.literal(1), t: z.literal('a'), d: z.string().regex(/^[0-9a-f]{64}$/), o: z.array(boundedBytes(MAX_ITEM_BYTES)).max(4096) }),
])

export function encodeItem(item: InviteMailboxItem): Uint8Array {
  return item.type === 'request'
    ? encodeCbor({ v: 1, t: 'q', q: item.request, z: item.deviceProof })
    : encodeCbor({ v: 1, t: 'a', d: item.to, o: item.ops })
}

/** Throws a HearthError (MALFORMED / TOO_LARGE) on anything that is not an item. */
export function decodeItem(b: Uint8Array): InviteMailboxItem {
  const raw = parseWire(itemSchema, decodeCbor(b, MAX_ITEM_BYTES, 'invite mailbox item'), 'invite mailbox item')
  return raw.t === 'q' ? { type: 'request', request: raw.q, deviceProof: raw.z } : { type: 'answer', to: raw.d as DeviceId, ops: raw.o }
}

/**
 * The joining device's own signature over its request and the mailbox: someone else holding the invite cannot deposit
 * a request naming another person's device (whose certificate is public to every member) and pull them in.
 */
const deviceProofBytes = (request: Uint8Array, mailboxId: Uint8Array) =>
  labelled(RelayJoinLabels.deviceProof, concatBytes(nobleSha256(request), mailboxId))

export const signDeviceProof = (deviceSeed: Uint8Array, request: Uint8Array, mailboxId: Uint8Array): Uint8Array =>
  sign(deviceSeed, deviceProofBytes(request, mailboxId))

export const deviceProofValid = (device: DeviceId, request: Uint8Array, mailboxId: Uint8Array, proof: Uint8Array): boolean =>
  verify(fromHex(device), deviceProofBytes(request, mailboxId), proof)

/** The whole log for one joining device, in as many answer items as it takes. */
export function answerItems(to: DeviceId, ops: readonly Uint8Array[]): Uint8Array[] {
  const items: Uint8Array[] = []
  let page: Uint8Array[] = []
  let size = 0
  for (const op of ops) {
    if (page.length > 0 && size + op.length + 16 > ANSWER_BUDGET_BYTES) {
      items.push(encodeItem({ type: 'answer', to, ops: page }))
      page = []
      size = 0
    }
    page.push(op)
    size += op.length + 16
  }
  if (page.length > 0) items.push(encodeItem({ type: 'answer', to, ops: page }))
  return items
}

/**
 * Items are sealed under a key of the invite mailbox's secret, so the relay (which holds only the mailbox's public
 * keys) reads neither requests (conversation, device certificate) nor answers (the membership log). The nonce derives
 * from the key and the plaintext: the same item always seals to the same bytes, and a repeated deposit stays one.
 */
export const itemSealKey = (mailboxSecret: Uint8Array): Uint8Array => derive(RelayJoinLabels.itemSeal, mailboxSecret)

export function sealItem(key: Uint8Array, mailboxId: Uint8Array, plain: Uint8Array): Uint8Array {
  const nonce = derive(RelayJoinLabels.itemNonce, key, nobleSha256(plain), AEAD_NONCE_LENGTH)
  return concatBytes(nonce, sealWithNonce(key, nonce, plain, mailboxId))
}

/** Opens and decodes an item; throws on anything else. */
export function openItem(key: Uint8Array, mailboxId: Uint8Array, box: Uint8Array): InviteMailboxItem {
  if (box.length > MAX_ITEM_BYTES) throw new HearthError('TOO_LARGE', 'invite mailbox item too large')
  return decodeItem(open(key, box, mailboxId))
}

/** The id a relay stores an item under: SHA-256 of its bytes (a repeated deposit is a duplicate). */
export const itemId = (bytes: Uint8Array): Uint8Array => nobleSha256(bytes)
