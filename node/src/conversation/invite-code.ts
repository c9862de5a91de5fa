import { z } from 'zod'
import { HearthError } from '../../common/errors.js'
import { fromBase64Url, toBase64Url } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'
import type { ConversationId, OpHash } from '../ids.js'

/**
 * An invite is self-contained text that fits a link and a QR code: the conversation, the root of its membership log
 * (so the joiner cannot be handed a forged history), the invite secret that proves admission, when it expires, and
 * where to reach the member who made it.
 */
export const INVITE_PREFIX = 'hearth://join/'
const MAX_ADDRESSES = 6
const MAX_RELAYS = 3

export interface InviteCode {
  conversation: ConversationId
  root: OpHash
  name: string
  inviteId: string
  /** Seed of the invite's Ed25519 key; the membership log holds the public half. */
  secret: Uint8Array
  expiresAt: number
  /** Multiaddrs of the inviting device, each ending in /p2p/<peerId>. */
  addresses: string[]
  peerId: string
  /** Relays (multiaddrs with /p2p/) whose mailboxes the conversation uses; optional, so older codes still decode. */
  relays: string[]
}

const schema = z.object({
  v: z.literal(1),
  c: z.string().regex(/^[0-9a-f]{32}$/),
  r: z.string().regex(/^[0-9a-f]{64}$/),
  n: z.string().max(200),
  i: z.string().regex(/^[0-9a-f]{32}$/),
  k: bytes(32),
  x: uint,
  a: z.array(z.string().max(300)).max(MAX_ADDRESSES),
  p: z.string().min(1).max(128),
  y: z.array(z.string().max(300)).max(MAX_RELAYS).optional(),
})

/**
 * Encodes an invite that `decodeInvite` will accept: addresses are dropped from the end (the most useful come first)
 * until the code fits; if even none fit, the name is too long for an invite and that is a clear error.
 */
export function encodeInvite(invite: InviteCode): string {
  // Relays come first: they also reach the inviter once it is offline or behind NAT. Then as many addresses as fit.
  for (let r = Math.min(invite.relays.length, MAX_RELAYS); r >= 0; r--) {
    for (let n = Math.min(invite.addresses.length, MAX_ADDRESSES); n >= 0; n--) {
      const code = encodeWithAddresses(invite, invite.addresses.slice(0, n), invite.relays.slice(0, r))
      if (code.length <= Limits.maxInviteChars) return code
    }
  }
  throw new HearthError('TOO_LARGE', 'the conversation name is too long to fit in an invite')
}

function encodeWithAddresses(invite: InviteCode, addresses: string[], relays: string[]): string {
  const body = encodeCbor({
    v: 1,
    c: invite.conversation,
    r: invite.root,
    n: invite.name,
    i: invite.inviteId,
    k: invite.secret,
    x: invite.expiresAt,
    a: addresses,
    p: invite.peerId,
    ...(relays.length > 0 ? { y: relays } : {}),
  })
  return INVITE_PREFIX + toBase64Url(body)
}

/** Accepts the full link or just the code after the prefix, with surrounding whitespace. */
export function decodeInvite(text: string): InviteCode {
  const trimmed = text.trim()
  if (trimmed.length > Limits.maxInviteChars) throw new HearthError('INVITE_INVALID', 'invite is too long')
  const code = trimmed.startsWith(INVITE_PREFIX) ? trimmed.slice(INVITE_PREFIX.length) : trimmed
  let raw: z.infer<typeof schema>
  try {
    raw = parseWire(schema, decodeCbor(fromBase64Url(code), Limits.maxInviteChars, 'invite'), 'invite')
  } catch (err) {
    throw new HearthError('INVITE_INVALID', 'this is not a valid Hearth invite (was it copied completely?)', { cause: err })
  }
  return {
    conversation: raw.c as ConversationId,
    root: raw.r as OpHash,
    name: raw.n,
    inviteId: raw.i,
    secret: raw.k,
    expiresAt: raw.x,
    addresses: raw.a,
    peerId: raw.p,
    relays: raw.y ?? [],
  }
}
