import { z } from 'zod'
import { open, seal } from '../../common/crypto/aead.js'
import { signingKeyPairFromSeed } from '../../common/crypto/ed25519.js'
import { hkdf } from '../../common/crypto/kdf.js'
import { Labels } from '../../common/crypto/labels.js'
import { HearthError } from '../../common/errors.js'
import { concatBytes, fromHex, toHex, utf8 } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { parseWire, uint } from '../../common/wire/schema.js'
import type { ConversationId, OpHash } from '../ids.js'
import type { InviteCode } from './invite-code.js'
import { secretFromBytes } from './short-invite.js'

/**
 * What a short invite's secret proves and unlocks. From the 95-bit secret come three independent values:
 *  - the lookup id, which a joiner sends to find the invite (one-way: it reveals nothing of the secret);
 *  - the answer key, under which a device holding the invite answers with the rest of it (AEAD, bound to the lookup
 *    id and to who answers), so an answer from anyone who does not hold the secret fails to open;
 *  - the invite seed, the Ed25519 key whose public half the membership log's invite operation holds. A joiner checks
 *    that the log it is sent has that invite in it, so an answer can only lead into the conversation the secret was
 *    made for.
 * The inviting device derives the secret itself from its device key, the conversation and the invite id, so it keeps
 * nothing new and can show the code again later (the list of active invites).
 */
export interface ShortInviteKeys {
  lookupId: Uint8Array
  answerKey: Uint8Array
  inviteSeed: Uint8Array
}

export const LOOKUP_ID_BYTES = 16
/** The largest encrypted answer accepted: the rest of an invite (name, 6 addresses, 3 relays) with room to spare. */
export const MAX_ANSWER_BYTES = 4096

const derive = (secret: string, what: string, length: number) => hkdf(Labels.invite, utf8(secret), { info: utf8(`short/${what}`), length })

export function shortInviteKeys(secret: string): ShortInviteKeys {
  return {
    lookupId: derive(secret, 'lookup-id', LOOKUP_ID_BYTES),
    answerKey: derive(secret, 'answer-key', 32),
    inviteSeed: derive(secret, 'invite-seed', 32),
  }
}

/** The secret of the invite `inviteId` that this device made: the same every time it is asked. */
export function deviceInviteSecret(deviceSeed: Uint8Array, conversation: ConversationId, inviteId: string): string {
  const info = concatBytes(utf8('short/device-secret/'), fromHex(conversation), fromHex(inviteId))
  return secretFromBytes(hkdf(Labels.invite, deviceSeed, { info, length: 12 }))
}

/** The public key the membership log holds for a short invite with this secret. */
export const invitePublicKey = (keys: ShortInviteKeys) => signingKeyPairFromSeed(keys.inviteSeed).publicKey

/** The rest of an invite, as the answer to a lookup carries it (the secret never travels). */
export type InviteDetails = Omit<InviteCode, 'secret'>

const detailsSchema = z.object({
  v: z.literal(1),
  c: z.string().regex(/^[0-9a-f]{32}$/),
  r: z.string().regex(/^[0-9a-f]{64}$/),
  n: z.string().max(200),
  i: z.string().regex(/^[0-9a-f]{32}$/),
  x: uint,
  a: z.array(z.string().max(300)).max(6),
  p: z.string().min(1).max(128),
  y: z.array(z.string().max(300)).max(3),
})

/** Binds an answer to its lookup and to the peer that gives it: it cannot be replayed by another device. */
const answerAad = (lookupId: Uint8Array, responder: string) => concatBytes(utf8('hearth short-invite answer'), lookupId, utf8(responder))

export function sealInviteDetails(keys: ShortInviteKeys, responder: string, d: InviteDetails): Uint8Array {
  const body = encodeCbor({ v: 1, c: d.conversation, r: d.root, n: d.name, i: d.inviteId, x: d.expiresAt, a: d.addresses, p: d.peerId, y: d.relays })
  return seal(keys.answerKey, body, answerAad(keys.lookupId, responder))
}

/**
 * Opens an answer and rebuilds the full invite (with the seed derived from the secret). Anything that does not open
 * or does not parse is the answering device's fault, never the person's: PROTOCOL_ERROR.
 */
export function openInviteDetails(keys: ShortInviteKeys, responder: string, box: Uint8Array): InviteCode {
  const wrong = (cause: unknown) =>
    new HearthError('PROTOCOL_ERROR', 'The device at this address answered with something that is not this invite.', { cause })
  if (box.length > MAX_ANSWER_BYTES) throw wrong(undefined)
  let raw: z.infer<typeof detailsSchema>
  try {
    raw = parseWire(detailsSchema, decodeCbor(open(keys.answerKey, box, answerAad(keys.lookupId, responder)), MAX_ANSWER_BYTES, 'invite answer'), 'invite answer')
  } catch (err) {
    throw wrong(err)
  }
  return {
    conversation: raw.c as ConversationId,
    root: raw.r as OpHash,
    name: raw.n,
    inviteId: raw.i,
    secret: keys.inviteSeed,
    expiresAt: raw.x,
    addresses: raw.a,
    peerId: raw.p,
    relays: raw.y,
  }
}

export const lookupIdHex = (keys: ShortInviteKeys) => toHex(keys.lookupId)
