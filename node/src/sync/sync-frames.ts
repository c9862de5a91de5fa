import { z } from 'zod'
import { signWithLabel, verifyWithLabel } from '../../common/crypto/ed25519.js'
import { Labels } from '../../common/crypto/labels.js'
import { HearthError } from '../../common/errors.js'
import { fromHex } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { bytes, parseWire, uint } from '../../common/wire/schema.js'
import type { ConversationId, DeviceId, EpochId } from '../ids.js'

/**
 * `/hearth/sync/1`: catch-up between members. The requester sends what it holds (a version vector over the
 * per-device streams, and its membership-log heads); the responder streams back what the requester lacks. Both sides
 * run it when they meet, so each pulls what it misses and nothing is pushed unasked.
 *
 * The request is signed by the requesting device over both PeerIds of the Noise session and a timestamp, so it proves
 * membership to the responder and cannot be replayed over another connection.
 */
export const SYNC_PROTOCOL = '/hearth/sync/1.0.0'
export const JOIN_PROTOCOL = '/hearth/join/1.0.0'
/** How far a request's timestamp may be from the responder's clock. */
export const AUTH_WINDOW_MS = 5 * 60 * 1000

export interface StreamPosition {
  epoch: EpochId
  device: DeviceId
  seq: number
}

export interface SyncRequest {
  conversation: ConversationId
  device: DeviceId
  at: number
  heads: string[]
  vector: StreamPosition[]
  /**
   * Streams the requester is pacing (their device flooded it over gossip): send at most `max` envelopes of each in
   * this response. Absent streams are not limited.
   */
  paced?: Array<{ epoch: EpochId; device: DeviceId; max: number }>
}

export type SyncFrame =
  | { kind: 'ops'; ops: Uint8Array[] }
  | { kind: 'envelopes'; envelopes: Uint8Array[] }
  /** Equivocation evidence: every stored version of each position a device signed twice (docs/PROTOCOL.md). */
  | { kind: 'evidence'; envelopes: Uint8Array[] }
  | { kind: 'done'; vector: StreamPosition[] }

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`))
const vectorSchema = z
  .array(z.object({ e: hex(16), d: hex(64), s: uint }))
  .max(Limits.maxMembers * Limits.maxDevicesPerMember * 16)
const requestSchema = z.object({
  v: z.literal(1),
  c: hex(32),
  d: hex(64),
  t: uint,
  h: z.array(hex(64)).max(256),
  w: vectorSchema,
  l: z.array(z.object({ e: hex(16), d: hex(64), n: uint })).max(256).optional(),
  s: bytes(64),
})
const frameSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('ops'), o: z.array(bytes()).max(4096) }),
  z.object({ k: z.literal('env'), e: z.array(bytes()).max(Limits.maxEnvelopesPerPage) }),
  z.object({ k: z.literal('evid'), e: z.array(bytes()).max(Limits.maxEnvelopesPerPage) }),
  z.object({ k: z.literal('done'), w: vectorSchema }),
])

const encodeVector = (v: StreamPosition[]) => v.map((p) => ({ e: p.epoch, d: p.device, s: p.seq }))
const decodeVector = (v: z.infer<typeof vectorSchema>): StreamPosition[] =>
  v.map((p) => ({ epoch: p.e as EpochId, device: p.d as DeviceId, seq: p.s }))

function authBytes(r: Omit<SyncRequest, 'vector' | 'heads'>, requesterPeer: string, responderPeer: string) {
  return encodeCbor({ c: r.conversation, d: r.device, t: r.at, a: requesterPeer, b: responderPeer })
}

export function encodeSyncRequest(
  r: SyncRequest,
  deviceSeed: Uint8Array,
  peers: { requester: string; responder: string },
): Uint8Array {
  const s = signWithLabel(deviceSeed, Labels.syncAuth, authBytes(r, peers.requester, peers.responder))
  const paced = r.paced === undefined || r.paced.length === 0 ? {} : { l: r.paced.map((p) => ({ e: p.epoch, d: p.device, n: p.max })) }
  return encodeCbor({ v: 1, c: r.conversation, d: r.device, t: r.at, h: r.heads, w: encodeVector(r.vector), ...paced, s })
}

/** Decodes and authenticates a request that arrived on a connection from `requester` to us (`responder`). */
export function decodeSyncRequest(
  bytesIn: Uint8Array,
  peers: { requester: string; responder: string },
  now: number,
): SyncRequest {
  const raw = parseWire(requestSchema, decodeCbor(bytesIn, Limits.maxFrameBytes, 'sync request'), 'sync request')
  const request: SyncRequest = {
    conversation: raw.c as ConversationId,
    device: raw.d as DeviceId,
    at: raw.t,
    heads: raw.h,
    vector: decodeVector(raw.w),
    ...(raw.l === undefined || raw.l.length === 0 ? {} : { paced: raw.l.map((p) => ({ epoch: p.e as EpochId, device: p.d as DeviceId, max: p.n })) }),
  }
  if (Math.abs(now - raw.t) > AUTH_WINDOW_MS) {
    throw new HearthError('UNAUTHORIZED', 'sync request timestamp is outside the allowed window (check the clock)')
  }
  if (!verifyWithLabel(fromHex(raw.d), Labels.syncAuth, authBytes(request, peers.requester, peers.responder), raw.s)) {
    throw new HearthError('UNAUTHORIZED', 'sync request is not signed by the device it names')
  }
  return request
}

export function encodeSyncFrame(f: SyncFrame): Uint8Array {
  switch (f.kind) {
    case 'ops':
      return encodeCbor({ k: 'ops', o: f.ops })
    case 'envelopes':
      return encodeCbor({ k: 'env', e: f.envelopes })
    case 'evidence':
      return encodeCbor({ k: 'evid', e: f.envelopes })
    case 'done':
      return encodeCbor({ k: 'done', w: encodeVector(f.vector) })
  }
}

export function decodeSyncFrame(b: Uint8Array): SyncFrame {
  const raw = parseWire(frameSchema, decodeCbor(b, Limits.maxFrameBytes, 'sync frame'), 'sync frame')
  switch (raw.k) {
    case 'ops':
      return { kind: 'ops', ops: raw.o }
    case 'env':
      return { kind: 'envelopes', envelopes: raw.e }
    case 'evid':
      return { kind: 'evidence', envelopes: raw.e }
    case 'done':
      return { kind: 'done', vector: decodeVector(raw.w) }
  }
}

/** `/hearth/join/1`: a joiner proves it holds an invite's secret and presents its device certificate. */
export interface JoinRequest {
  conversation: ConversationId
  inviteId: string
  cert: Uint8Array
}

const joinSchema = z.object({ v: z.literal(1), c: hex(32), i: hex(32), a: bytes(), s: bytes(64) })
const joinResponseSchema = z.object({ o: z.array(bytes()).max(4096) })

function joinAuth(r: JoinRequest, responderPeer: string) {
  return encodeCbor({ c: r.conversation, i: r.inviteId, a: r.cert, b: responderPeer })
}

export function encodeJoinRequest(r: JoinRequest, inviteSeed: Uint8Array, responderPeer: string): Uint8Array {
  const s = signWithLabel(inviteSeed, Labels.joinRequest, joinAuth(r, responderPeer))
  return encodeCbor({ v: 1, c: r.conversation, i: r.inviteId, a: r.cert, s })
}

export function decodeJoinRequest(b: Uint8Array): { request: JoinRequest; signature: Uint8Array } {
  const raw = parseWire(joinSchema, decodeCbor(b, 16 * 1024, 'join request'), 'join request')
  return { request: { conversation: raw.c as ConversationId, inviteId: raw.i, cert: raw.a }, signature: raw.s }
}

export function verifyJoinRequest(r: JoinRequest, signature: Uint8Array, inviteKey: Uint8Array, responderPeer: string) {
  return verifyWithLabel(inviteKey, Labels.joinRequest, joinAuth(r, responderPeer), signature)
}

export const encodeJoinResponse = (ops: Uint8Array[]) => encodeCbor({ o: ops })
export const decodeJoinResponse = (b: Uint8Array): Uint8Array[] =>
  parseWire(joinResponseSchema, decodeCbor(b, Limits.maxFrameBytes, 'join response'), 'join response').o
