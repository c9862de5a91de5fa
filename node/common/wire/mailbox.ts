/**
 * The relay mailbox protocol, `/hearth/mailbox/1.0.0` (docs/PROTOCOL.md, "Relay mailbox"; ADR 0010).
 *
 * One request and one response per stream over the request/response framing of net/request-response.ts. Both are
 * versioned CBOR maps (`v: 1`) checked by zod after a size cap. Three operations:
 *
 *   deposit  envelopes `{i: id, b: bytes}` (a batch); the answer holds one result per envelope, in order:
 *            stored | duplicate | refused with a reason. A relay answers only once the batch is synced to disk.
 *   fetch    items after a cursor, in deposit order, at most `l` of them and at most MAX_PAGE_BYTES; `w` > 0 asks the
 *            relay to hold the request up to that long until something arrives (long-poll: how a connected member
 *            gets new deposits pushed).
 *   ack      remember a reader's position (reader tag + cursor) so a device may resume from the relay's memory.
 *
 * A request the relay will not serve at all is answered with a `refused` response carrying a stable reason
 * (`RefusalReason`); the framing layer's own error frames (over-size frame, slow sender) map onto the same reasons on
 * the client side. Nothing here knows what an envelope contains: the relay stores opaque bytes.
 */
import { z } from 'zod'
import { HearthError, type ErrorCode } from '../errors.js'
import {
  MAILBOX_NONCE_BYTES,
  READER_TAG_MAX_BYTES,
  READER_TAG_MIN_BYTES,
  type MailboxAuth,
  type MailboxParams,
} from '../crypto/mailbox-capability.js'
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from '../crypto/ed25519.js'
import { decodeCbor, encodeCbor } from './cbor.js'
import { Limits } from './limits.js'
import { bytes, parseWire, uint } from './schema.js'

export const MAILBOX_PROTOCOL = '/hearth/mailbox/1.0.0'
export const MAILBOX_WIRE_VERSION = 1

/** Largest envelope the protocol carries (a relay may set a lower cap; it then refuses per envelope). */
export const MAX_MAILBOX_ENVELOPE_BYTES = Limits.maxEnvelopeBytes
/** Envelopes in one deposit request. */
export const MAX_DEPOSIT_ENVELOPES = 256
/** One request frame. A deposit batch of 16 maximal envelopes fits; most batches are far smaller. */
export const MAX_REQUEST_BYTES = 2 * 1024 * 1024
/** Envelope bytes a relay puts in one page (one item always fits, whatever its size). */
export const MAX_PAGE_BYTES = 1024 * 1024
/** Items in one page. */
export const MAX_PAGE_ITEMS = 1000
export const DEFAULT_PAGE_ITEMS = 500
/** Longest a fetch may wait for new deposits. Under common idle timeouts of proxies and NATs (30 s). */
export const MAX_WAIT_MS = 25_000
/** One response frame: a full page plus the one item allowed to overflow it, plus the CBOR around them. */
export const MAX_RESPONSE_BYTES = MAX_PAGE_BYTES + MAX_MAILBOX_ENVELOPE_BYTES + 64 * 1024
/** Envelope ids are SHA-256(bytes) or a prefix of it of at least 16 bytes (the core's `envelopeId`). */
export const MIN_ENVELOPE_ID_BYTES = 16
export const ENVELOPE_HASH_BYTES = 32
/** Cursors are opaque text minted by the relay. */
export const MAX_CURSOR_CHARS = 64
const CURSOR = /^[A-Za-z0-9_.-]{1,64}$/

/** Why a relay refused a whole request. Stable strings: clients switch on them. */
export const RequestRefusals = [
  'malformed',
  'unsupported',
  'too-large',
  'unauthorized',
  'stale',
  'replayed',
  'rate-limited',
  'busy',
  'mailbox-quota',
  'shutting-down',
  'timeout',
  'internal',
] as const
export type RequestRefusal = (typeof RequestRefusals)[number]

/** Why a relay refused one envelope of a deposit. Stable strings. */
export const EnvelopeRefusals = ['too-large', 'bad-id', 'mailbox-quota', 'peer-quota', 'disk-full'] as const
export type EnvelopeRefusal = (typeof EnvelopeRefusals)[number]

export type RefusalReason = RequestRefusal | EnvelopeRefusal

const REFUSAL_CODES: Record<RefusalReason, ErrorCode> = {
  malformed: 'MALFORMED',
  unsupported: 'UNSUPPORTED_VERSION',
  'too-large': 'TOO_LARGE',
  unauthorized: 'UNAUTHORIZED',
  stale: 'CLOCK_SKEW',
  replayed: 'REPLAYED',
  'rate-limited': 'RATE_LIMITED',
  busy: 'RATE_LIMITED',
  'mailbox-quota': 'QUOTA_EXCEEDED',
  'peer-quota': 'QUOTA_EXCEEDED',
  'disk-full': 'STORAGE_FULL',
  'bad-id': 'INVALID_INPUT',
  'shutting-down': 'UNREACHABLE',
  timeout: 'TIMEOUT',
  internal: 'INTERNAL',
}

/** The HearthError code a refusal surfaces as. */
export function refusalCode(reason: RefusalReason): ErrorCode {
  return REFUSAL_CODES[reason]
}

const REFUSAL_TEXT: Record<RefusalReason, string> = {
  malformed: 'malformed request',
  unsupported: 'operation or version not supported by this relay',
  'too-large': 'too large',
  unauthorized: 'no valid capability for this mailbox',
  stale: 'request timestamp too far from the relay clock',
  replayed: 'request was already seen',
  'rate-limited': 'too many requests; slow down',
  busy: 'relay busy; retry later',
  'mailbox-quota': 'mailbox quota exceeded',
  'peer-quota': 'quota for this peer exceeded',
  'disk-full': 'relay storage is full',
  'bad-id': 'envelope id does not match its bytes',
  'shutting-down': 'relay is shutting down',
  timeout: 'request timed out',
  internal: 'relay internal error',
}

/** A relay said no. `reason` is the machine-readable part; `code` (a HearthError code) the coarse class. */
export class MailboxRefusedError extends HearthError {
  readonly reason: RefusalReason
  /** When the relay suggests retrying (rate limits). */
  readonly retryAfterMs: number | undefined
  /** The relay's clock at refusal time, for `stale` (the client corrects its offset and retries). */
  readonly relayTime: number | undefined

  constructor(reason: RefusalReason, options: { message?: string; retryAfterMs?: number; relayTime?: number; cause?: unknown } = {}) {
    const text = `relay refused: ${options.message ?? REFUSAL_TEXT[reason]}`
    super(refusalCode(reason), text, { publicMessage: text, ...(options.cause === undefined ? {} : { cause: options.cause }) })
    this.reason = reason
    this.retryAfterMs = options.retryAfterMs
    this.relayTime = options.relayTime
  }
}

export function refusalText(reason: RefusalReason): string {
  return REFUSAL_TEXT[reason]
}

// ------------------------------------------------------------------------------------------------------ requests

export interface DepositEnvelope {
  /** SHA-256 of `bytes`, or a prefix of it (16..32 bytes): the idempotency key. */
  id: Uint8Array
  bytes: Uint8Array
}

export type MailboxRequest =
  | { op: 'deposit'; auth: MailboxAuth; envelopes: DepositEnvelope[] }
  | { op: 'fetch'; auth: MailboxAuth; after: string | null; reader: Uint8Array | null; limit: number; waitMs: number }
  | { op: 'ack'; auth: MailboxAuth; reader: Uint8Array; cursor: string }

const cursor = z.string().max(MAX_CURSOR_CHARS).regex(CURSOR, 'not a cursor')
const readerTag = z
  .instanceof(Uint8Array)
  .refine((b) => b.length >= READER_TAG_MIN_BYTES && b.length <= READER_TAG_MAX_BYTES, 'reader tag of 16..32 bytes')
const envelopeIdSchema = z
  .instanceof(Uint8Array)
  .refine((b) => b.length >= MIN_ENVELOPE_ID_BYTES && b.length <= ENVELOPE_HASH_BYTES, 'envelope id of 16..32 bytes')

const authShape = {
  v: z.literal(MAILBOX_WIRE_VERSION),
  d: bytes(ED25519_PUBLIC_KEY_LENGTH),
  r: bytes(ED25519_PUBLIC_KEY_LENGTH),
  t: uint,
  n: bytes(MAILBOX_NONCE_BYTES),
  s: bytes(ED25519_SIGNATURE_LENGTH),
}

const requestSchema = z.discriminatedUnion('o', [
  z
    .object({
      ...authShape,
      o: z.literal('deposit'),
      e: z
        .array(z.object({ i: envelopeIdSchema, b: z.instanceof(Uint8Array) }).strict())
        .min(1)
        .max(MAX_DEPOSIT_ENVELOPES),
    })
    .strict(),
  z
    .object({
      ...authShape,
      o: z.literal('fetch'),
      a: cursor.nullable(),
      g: readerTag.nullable(),
      l: z.number().int().min(1).max(MAX_PAGE_ITEMS),
      w: z.number().int().min(0).max(MAX_WAIT_MS),
    })
    .strict(),
  z.object({ ...authShape, o: z.literal('ack'), g: readerTag, c: cursor }).strict(),
])

const OPS = new Set(['deposit', 'fetch', 'ack'])

function authOf(m: { d: Uint8Array; r: Uint8Array; t: number; n: Uint8Array; s: Uint8Array }): MailboxAuth {
  return { depositPublic: m.d, readPublic: m.r, timestamp: m.t, nonce: m.n, signature: m.s }
}

function authFields(auth: MailboxAuth): Record<string, unknown> {
  return { v: MAILBOX_WIRE_VERSION, d: auth.depositPublic, r: auth.readPublic, t: auth.timestamp, n: auth.nonce, s: auth.signature }
}

export function encodeMailboxRequest(request: MailboxRequest): Uint8Array {
  let map: Record<string, unknown>
  switch (request.op) {
    case 'deposit':
      map = { ...authFields(request.auth), o: 'deposit', e: request.envelopes.map((e) => ({ i: e.id, b: e.bytes })) }
      break
    case 'fetch':
      map = { ...authFields(request.auth), o: 'fetch', a: request.after, g: request.reader, l: request.limit, w: request.waitMs }
      break
    case 'ack':
      map = { ...authFields(request.auth), o: 'ack', g: request.reader, c: request.cursor }
      break
  }
  const out = encodeCbor(map)
  if (out.length > MAX_REQUEST_BYTES) {
    throw new HearthError('TOO_LARGE', `mailbox request of ${out.length} bytes over the ${MAX_REQUEST_BYTES} cap`)
  }
  return out
}

/**
 * Decodes a request: TOO_LARGE over the frame cap or with an envelope over the protocol's envelope cap,
 * UNSUPPORTED_VERSION for another version or an unknown operation, MALFORMED for anything else that is off.
 */
export function decodeMailboxRequest(data: Uint8Array): MailboxRequest {
  const value = decodeCbor(data, MAX_REQUEST_BYTES, 'mailbox request')
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const m = value as Record<string, unknown>
    // An operation from a newer protocol deserves "unsupported", not "malformed" (same for `v`, in parseWire).
    if (m.v === MAILBOX_WIRE_VERSION && typeof m.o === 'string' && !OPS.has(m.o)) {
      throw new HearthError('UNSUPPORTED_VERSION', `mailbox operation ${JSON.stringify(m.o.slice(0, 32))} is not supported`)
    }
    if (Array.isArray(m.e)) {
      for (const e of m.e as unknown[]) {
        const b = (e as { b?: unknown } | null)?.b
        if (b instanceof Uint8Array && b.length > MAX_MAILBOX_ENVELOPE_BYTES) {
          throw new HearthError('TOO_LARGE', `envelope of ${b.length} bytes over the ${MAX_MAILBOX_ENVELOPE_BYTES} cap`)
        }
      }
    }
  }
  const m = parseWire(requestSchema, value, 'mailbox request')
  const auth = authOf(m)
  switch (m.o) {
    case 'deposit':
      return { op: 'deposit', auth, envelopes: m.e.map((e) => ({ id: e.i, bytes: e.b })) }
    case 'fetch':
      return { op: 'fetch', auth, after: m.a, reader: m.g, limit: m.l, waitMs: m.w }
    case 'ack':
      return { op: 'ack', auth, reader: m.g, cursor: m.c }
  }
}

/** The signed parameters of a request (what `signMailboxRequest` and `verifyMailboxRequest` cover). */
export function paramsOf(r: MailboxRequest): MailboxParams {
  switch (r.op) {
    case 'deposit':
      return { op: 'deposit', ids: r.envelopes.map((e) => e.id) }
    case 'fetch':
      return { op: 'fetch', after: r.after, reader: r.reader, limit: r.limit, waitMs: r.waitMs }
    case 'ack':
      return { op: 'ack', reader: r.reader, cursor: r.cursor }
  }
}

// ----------------------------------------------------------------------------------------------------- responses

export type DepositOutcome = { status: 'stored' } | { status: 'duplicate' } | { status: 'refused'; reason: EnvelopeRefusal }

export interface PageItem {
  cursor: string
  /** SHA-256 of `bytes` (32 bytes), whatever id prefix the depositor used. */
  id: Uint8Array
  bytes: Uint8Array
}

export type MailboxResponse =
  | { kind: 'deposit'; results: DepositOutcome[] }
  | { kind: 'page'; items: PageItem[]; next: string; more: boolean }
  | { kind: 'ack' }
  | { kind: 'refused'; reason: RequestRefusal; retryAfterMs?: number; relayTime?: number }

const outcomeSchema = z.union([
  z.object({ s: z.literal('stored') }).strict(),
  z.object({ s: z.literal('duplicate') }).strict(),
  z.object({ s: z.literal('refused'), x: z.enum(EnvelopeRefusals) }).strict(),
])

const responseSchema = z.discriminatedUnion('k', [
  z.object({ v: z.literal(MAILBOX_WIRE_VERSION), k: z.literal('deposit'), r: z.array(outcomeSchema).max(MAX_DEPOSIT_ENVELOPES) }).strict(),
  z
    .object({
      v: z.literal(MAILBOX_WIRE_VERSION),
      k: z.literal('page'),
      i: z
        .array(z.object({ c: cursor, i: bytes(ENVELOPE_HASH_BYTES), b: z.instanceof(Uint8Array) }).strict())
        .max(MAX_PAGE_ITEMS),
      n: cursor,
      m: z.boolean(),
    })
    .strict(),
  z.object({ v: z.literal(MAILBOX_WIRE_VERSION), k: z.literal('ack') }).strict(),
  z
    .object({
      v: z.literal(MAILBOX_WIRE_VERSION),
      k: z.literal('refused'),
      // A reason this build does not know is read as 'internal' below rather than failing the whole response.
      x: z.string().max(64),
      a: uint.optional(),
      t: uint.optional(),
    })
    .strict(),
])

export function encodeMailboxResponse(response: MailboxResponse): Uint8Array {
  const v = MAILBOX_WIRE_VERSION
  switch (response.kind) {
    case 'deposit':
      return encodeCbor({
        v,
        k: 'deposit',
        r: response.results.map((o) => (o.status === 'refused' ? { s: 'refused', x: o.reason } : { s: o.status })),
      })
    case 'page':
      return encodeCbor({ v, k: 'page', i: response.items.map((it) => ({ c: it.cursor, i: it.id, b: it.bytes })), n: response.next, m: response.more })
    case 'ack':
      return encodeCbor({ v, k: 'ack' })
    case 'refused':
      return encodeCbor({
        v,
        k: 'refused',
        x: response.reason,
        ...(response.retryAfterMs === undefined ? {} : { a: Math.max(0, Math.round(response.retryAfterMs)) }),
        ...(response.relayTime === undefined ? {} : { t: Math.round(response.relayTime) }),
      })
  }
}

export function decodeMailboxResponse(data: Uint8Array): MailboxResponse {
  const m = parseWire(responseSchema, decodeCbor(data, MAX_RESPONSE_BYTES, 'mailbox response'), 'mailbox response')
  switch (m.k) {
    case 'deposit':
      return {
        kind: 'deposit',
        results: m.r.map((o): DepositOutcome => (o.s === 'refused' ? { status: 'refused', reason: o.x } : { status: o.s })),
      }
    case 'page':
      return { kind: 'page', items: m.i.map((it) => ({ cursor: it.c, id: it.i, bytes: it.b })), next: m.n, more: m.m }
    case 'ack':
      return { kind: 'ack' }
    case 'refused': {
      const reason = (RequestRefusals as readonly string[]).includes(m.x) ? (m.x as RequestRefusal) : 'internal'
      return {
        kind: 'refused',
        reason,
        ...(m.a === undefined ? {} : { retryAfterMs: m.a }),
        ...(m.t === undefined ? {} : { relayTime: m.t }),
      }
    }
  }
}

/** The request-refusal reason a HearthError from a decoder or the framing layer stands for. */
export function refusalForError(code: ErrorCode): RequestRefusal {
  switch (code) {
    case 'TOO_LARGE':
      return 'too-large'
    case 'UNSUPPORTED_VERSION':
      return 'unsupported'
    case 'MALFORMED':
    case 'PROTOCOL_ERROR':
    case 'INVALID_INPUT':
      return 'malformed'
    case 'RATE_LIMITED':
      return 'rate-limited'
    case 'TIMEOUT':
      return 'timeout'
    case 'UNAUTHORIZED':
    case 'BAD_SIGNATURE':
      return 'unauthorized'
    case 'REPLAYED':
      return 'replayed'
    case 'CLOCK_SKEW':
      return 'stale'
    case 'QUOTA_EXCEEDED':
      return 'mailbox-quota'
    case 'NOT_RUNNING':
      return 'shutting-down'
    default:
      return 'internal'
  }
}

export function isMailboxCursor(text: string): boolean {
  return CURSOR.test(text)
}
