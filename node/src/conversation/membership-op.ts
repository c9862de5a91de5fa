import { z } from 'zod'
import { isEncodedHlc } from '../../../crdt/src/index.js'
import { signWithLabel, verifyWithLabel } from '../../common/crypto/ed25519.js'
import { sha256 } from '../../common/crypto/kdf.js'
import { Labels } from '../../common/crypto/labels.js'
import { HearthError } from '../../common/errors.js'
import { equalBytes, toHex } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'
import { decodeDeviceCert, MAX_DISPLAY_NAME, type DeviceCert } from '../identity/device-cert.js'
import { MAX_GROUP_DESCRIPTION, MAX_GROUP_NAME } from './group-about.js'
import { type AccountId, type ConversationId, type DeviceId, type EpochId, type OpHash } from '../ids.js'

/**
 * One signed operation of a conversation's membership log. Operations form a hash-linked DAG (`prev` names the heads
 * the author had seen); membership-log.ts orders them deterministically and decides which are valid.
 */
export type Role = 'admin' | 'member'
export type ConversationKind = 'direct' | 'group'

/** An epoch secret sealed to one device's X25519 key. */
export interface SealedSecret {
  device: DeviceId
  box: Uint8Array
}

export interface NewEpoch {
  id: EpochId
  seals: SealedSecret[]
}

export interface InviteGrant {
  id: string
  /** Ed25519 public key derived from the invite secret; the joiner proves it holds the secret by signing with it. */
  key: Uint8Array
  /** Milliseconds since the epoch; 0 means never. */
  expiresAt: number
  singleUse: boolean
}

export type OpBody =
  | { type: 'create'; kind: ConversationKind; name: string; epoch: NewEpoch }
  | { type: 'invite'; invite: InviteGrant }
  | { type: 'revoke-invite'; inviteId: string }
  | { type: 'add'; certs: DeviceCert[]; role: Role; via: string | null; epoch: EpochId; seals: SealedSecret[] }
  | { type: 'remove'; account: AccountId; cutoffs: Record<string, number>; epoch: NewEpoch }
  | { type: 'role'; account: AccountId; role: Role }
  /** The author's account takes a new display name (any member, for themselves only). */
  | { type: 'profile'; name: string }
  /** A fresh epoch for exactly the current members: heals concurrent adds and removes (membership-log.ts). */
  | { type: 'rotate'; epoch: NewEpoch }
  /** No effect: names more heads than one operation may (any member), so heads can always be merged. */
  | { type: 'merge' }
  /** A group's new name and/or description (admins; group-about.ts says what each may be). */
  | { type: 'about'; name?: string; description?: string }
  /**
   * The author's account leaves (any member, for itself only). `cutoffs` as for `remove`: how far each of the
   * account's devices had written, so nothing it writes later is accepted. No new epoch: the leaver must not know
   * it; the remaining admins rotate (membership-log.ts `needsRotation`).
   */
  | { type: 'leave'; cutoffs: Record<string, number> }
  /**
   * Another device of the author's own account joins (any member, for its own account only): the account key signed
   * `cert`; `seals` give it the secret of every epoch the author holds, so it reads the history the author reads.
   */
  | { type: 'add-device'; cert: DeviceCert; seals: EpochSeal[] }
  /**
   * One of the author's own account's other devices is revoked: its envelopes count only up to `cutoffs` and `epoch`,
   * sealed to every remaining member device, is one it never learns.
   */
  | { type: 'revoke-device'; device: DeviceId; cutoffs: Record<string, number>; epoch: NewEpoch }
  /**
   * Epoch secrets sealed to a member device that lacks them (any member device that reads them): a device restored from
   * the recovery phrase gets back the history its account read. Only epochs some device of its account read.
   */
  | { type: 'reseal'; device: DeviceId; seals: EpochSeal[] }

/** An epoch secret sealed to the device an `add-device` admits. */
export interface EpochSeal {
  epoch: EpochId
  box: Uint8Array
}

export interface MembershipOp {
  hash: OpHash
  conversation: ConversationId
  prev: OpHash[]
  /** Encoded HLC from crdt/hlc: orders concurrent operations. */
  hlc: string
  author: DeviceCert
  body: OpBody
  bytes: Uint8Array
}

/** Parents one operation may name; more heads than this are merged first (`merge` operations). */
export const MAX_PARENTS = 64
/** Epoch secrets one `add-device` may carry: the conversation's whole history of epochs (LIMITS.md). */
export const MAX_EPOCH_SEALS = 1024

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))
const sealSchema = z.strictObject({ d: hex(64), b: bytes().refine((b) => b.length <= 256, 'sealed box too large') })
const epochSchema = z.strictObject({ i: hex(16), s: z.array(sealSchema).max(Limits.maxMembers * Limits.maxDevicesPerMember) })
const roleSchema = z.enum(['admin', 'member'])
const cutoffsSchema = z
  .record(z.string().regex(/^[0-9a-f]{16}\/[0-9a-f]{64}$/), uint)
  .refine((o) => Object.keys(o).length <= 1024, 'too many cutoffs')

const epochSealsSchema = z.array(z.strictObject({ e: hex(16), b: bytes().refine((b) => b.length <= 256, 'sealed box too large') })).max(MAX_EPOCH_SEALS)

const bodySchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('create'), k: z.enum(['direct', 'group']), n: z.string().max(400), e: epochSchema }),
  z.strictObject({
    t: z.literal('invite'),
    i: z.strictObject({ i: hex(32), k: bytes(32), x: uint, u: z.boolean() }),
  }),
  z.strictObject({ t: z.literal('revoke-invite'), i: hex(32) }),
  z.strictObject({
    t: z.literal('add'),
    c: z.array(bytes()).min(1).max(Limits.maxDevicesPerMember),
    r: roleSchema,
    v: z.union([hex(32), z.null()]),
    e: hex(16),
    s: z.array(sealSchema).max(Limits.maxDevicesPerMember),
  }),
  z.strictObject({
    t: z.literal('remove'),
    a: hex(64),
    o: cutoffsSchema,
    e: epochSchema,
  }),
  z.strictObject({ t: z.literal('role'), a: hex(64), r: roleSchema }),
  z.strictObject({ t: z.literal('profile'), n: z.string().max(MAX_DISPLAY_NAME * 4) }),
  z.strictObject({ t: z.literal('rotate'), e: epochSchema }),
  z.strictObject({ t: z.literal('merge') }),
  // Bounds on the wire only (UTF-8 worst case); the log applies the real rule (group-about.ts).
  z
    .strictObject({ t: z.literal('about'), n: z.string().max(MAX_GROUP_NAME * 4).optional(), d: z.string().max(MAX_GROUP_DESCRIPTION * 4).optional() })
    .refine((b) => b.n !== undefined || b.d !== undefined, 'an about operation changes the name, the description or both'),
  z.strictObject({ t: z.literal('leave'), o: cutoffsSchema }),
  z.strictObject({
    t: z.literal('add-device'),
    c: bytes(),
    s: epochSealsSchema,
  }),
  z.strictObject({ t: z.literal('revoke-device'), d: hex(64), o: cutoffsSchema, e: epochSchema }),
  z.strictObject({ t: z.literal('reseal'), d: hex(64), s: epochSealsSchema.min(1) }),
])

const opSchema = z.strictObject({
  v: z.literal(1),
  c: hex(32),
  // Parents sorted and distinct: one operation has one encoding.
  p: z
    .array(hex(64))
    .max(MAX_PARENTS)
    .refine((p) => p.every((h, i) => i === 0 || p[i - 1]! < h), 'parents must be sorted and distinct'),
  // The HLC orders concurrent ops and dates invite use: it must be a real encoded HLC, never free text.
  h: z.string().refine(isEncodedHlc, 'not an encoded hybrid logical clock'),
  a: bytes(),
  b: bodySchema,
})
const signedSchema = z.strictObject({ o: bytes(), s: bytes(64) })

function encodeEpoch(e: NewEpoch) {
  return { i: e.id, s: e.seals.map((s) => ({ d: s.device, b: s.box })) }
}
function decodeEpoch(e: z.infer<typeof epochSchema>): NewEpoch {
  return { id: e.i as EpochId, seals: e.s.map((s) => ({ device: s.d as DeviceId, box: s.b })) }
}

function encodeBody(body: OpBody): unknown {
  switch (body.type) {
    case 'create':
      return { t: 'create', k: body.kind, n: body.name, e: encodeEpoch(body.epoch) }
    case 'invite':
      return { t: 'invite', i: { i: body.invite.id, k: body.invite.key, x: body.invite.expiresAt, u: body.invite.singleUse } }
    case 'revoke-invite':
      return { t: 'revoke-invite', i: body.inviteId }
    case 'add':
      return {
        t: 'add',
        c: body.certs.map((c) => c.bytes),
        r: body.role,
        v: body.via,
        e: body.epoch,
        s: body.seals.map((s) => ({ d: s.device, b: s.box })),
      }
    case 'remove':
      return { t: 'remove', a: body.account, o: body.cutoffs, e: encodeEpoch(body.epoch) }
    case 'role':
      return { t: 'role', a: body.account, r: body.role }
    case 'profile':
      return { t: 'profile', n: body.name }
    case 'rotate':
      return { t: 'rotate', e: encodeEpoch(body.epoch) }
    case 'merge':
      return { t: 'merge' }
    case 'about':
      return { t: 'about', ...(body.name === undefined ? {} : { n: body.name }), ...(body.description === undefined ? {} : { d: body.description }) }
    case 'leave':
      return { t: 'leave', o: body.cutoffs }
    case 'add-device':
      return { t: 'add-device', c: body.cert.bytes, s: body.seals.map((x) => ({ e: x.epoch, b: x.box })) }
    case 'revoke-device':
      return { t: 'revoke-device', d: body.device, o: body.cutoffs, e: encodeEpoch(body.epoch) }
    case 'reseal':
      return { t: 'reseal', d: body.device, s: body.seals.map((x) => ({ e: x.epoch, b: x.box })) }
  }
}

function decodeBody(raw: z.infer<typeof bodySchema>): OpBody {
  switch (raw.t) {
    case 'create':
      return { type: 'create', kind: raw.k, name: raw.n, epoch: decodeEpoch(raw.e) }
    case 'invite':
      return { type: 'invite', invite: { id: raw.i.i, key: raw.i.k, expiresAt: raw.i.x, singleUse: raw.i.u } }
    case 'revoke-invite':
      return { type: 'revoke-invite', inviteId: raw.i }
    case 'add': {
      const certs = raw.c.map(decodeDeviceCert)
      const account = certs[0]!.account
      if (certs.some((c) => c.account !== account)) {
        throw new HearthError('MALFORMED', 'an add operation names devices of more than one account')
      }
      return {
        type: 'add',
        certs,
        role: raw.r,
        via: raw.v,
        epoch: raw.e as EpochId,
        seals: raw.s.map((s) => ({ device: s.d as DeviceId, box: s.b })),
      }
    }
    case 'remove':
      return { type: 'remove', account: raw.a as AccountId, cutoffs: raw.o, epoch: decodeEpoch(raw.e) }
    case 'role':
      return { type: 'role', account: raw.a as AccountId, role: raw.r }
    case 'profile':
      return { type: 'profile', name: raw.n }
    case 'rotate':
      return { type: 'rotate', epoch: decodeEpoch(raw.e) }
    case 'merge':
      return { type: 'merge' }
    case 'about':
      return { type: 'about', ...(raw.n === undefined ? {} : { name: raw.n }), ...(raw.d === undefined ? {} : { description: raw.d }) }
    case 'leave':
      return { type: 'leave', cutoffs: raw.o }
    case 'add-device':
      return { type: 'add-device', cert: decodeDeviceCert(raw.c), seals: raw.s.map((x) => ({ epoch: x.e as EpochId, box: x.b })) }
    case 'revoke-device':
      return { type: 'revoke-device', device: raw.d as DeviceId, cutoffs: raw.o, epoch: decodeEpoch(raw.e) }
    case 'reseal':
      return { type: 'reseal', device: raw.d as DeviceId, seals: raw.s.map((x) => ({ epoch: x.e as EpochId, box: x.b })) }
  }
}

/**
 * Every operation carries its author's certificate, so a long log repeats a few certificates thousands of times:
 * each distinct one is checked once (certificates are immutable values of their bytes).
 */
const certCache = new Map<string, DeviceCert>()
function decodeAuthorCert(bytesIn: Uint8Array): DeviceCert {
  const key = toHex(bytesIn)
  const cached = certCache.get(key)
  if (cached !== undefined) return cached
  const cert = decodeDeviceCert(bytesIn)
  if (certCache.size >= 1024) certCache.delete(certCache.keys().next().value!)
  certCache.set(key, cert)
  return cert
}

/** CBOR that decodes and encodes back to the same bytes: sorted keys, shortest lengths, nothing left over. */
function canonical(bytesIn: Uint8Array, what: string): unknown {
  const value = decodeCbor(bytesIn, Limits.maxMembershipOpBytes, what)
  if (!equalBytes(encodeCbor(value), bytesIn)) throw new HearthError('MALFORMED', `${what} is not in canonical encoding`)
  return value
}

export function signOp(input: {
  conversation: ConversationId
  prev: OpHash[]
  hlc: string
  author: DeviceCert
  deviceSeed: Uint8Array
  body: OpBody
}): MembershipOp {
  const o = encodeCbor({
    v: 1,
    c: input.conversation,
    p: [...new Set(input.prev)].sort(),
    h: input.hlc,
    a: input.author.bytes,
    b: encodeBody(input.body),
  })
  const s = signWithLabel(input.deviceSeed, Labels.membershipOp, o)
  return decodeOp(encodeCbor({ o, s }))
}

/**
 * Parses an operation and checks its signature and certificate. Authority is the log's job, not this one's.
 *
 * The hash, the operation's identity, is taken over the signed bytes, which must be the one canonical encoding of a
 * value the strict schema accepts: nobody can re-encode a signed operation into a second identity.
 */
export function decodeOp(encoded: Uint8Array): MembershipOp {
  const signed = parseWire(signedSchema, canonical(encoded, 'membership operation'), 'membership operation')
  const raw = parseWire(opSchema, canonical(signed.o, 'membership operation'), 'membership operation')
  const author = decodeAuthorCert(raw.a)
  if (!verifyWithLabel(Buffer.from(author.device, 'hex'), Labels.membershipOp, signed.o, signed.s)) {
    throw new HearthError('BAD_SIGNATURE', 'membership operation is not signed by its author device')
  }
  return {
    hash: toHex(sha256(signed.o)) as OpHash,
    conversation: raw.c as ConversationId,
    prev: raw.p as OpHash[],
    hlc: raw.h,
    author,
    body: decodeBody(raw.b),
    bytes: encoded,
  }
}
