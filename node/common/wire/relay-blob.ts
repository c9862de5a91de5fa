/**
 * Relay blob storage, `/hearth/relay-blob/1.0.0` (docs/PROTOCOL.md, "Relay blob storage"; ADR 0030).
 *
 * Relays keep the encrypted chunks of attachments (node/common/blob/format.ts) for members who are offline, under the
 * conversation's mailbox capability (crypto/mailbox-capability.ts): the deposit key writes, the read key reads. One
 * request per stream over net/request-response.ts; every response starts with one CBOR head frame (`v: 1`, `k`):
 *
 *   put-list    {b: blob id, p: padded size, h: hash list}   → {k: 'listed', s: 'stored'|'present', h: have bitmap}
 *   put-chunks  {b, c: [{i: index, x: cipher}] (1..16)}      → {k: 'put', r: ['stored'|'duplicate'|'corrupt', …]}
 *   get-list    {b}                                          → {k: 'list', p: padded, h: hash list}
 *   get-chunks  {b, f: first, l: count (1..16)}              → {k: 'chunks', h: have bitmap of [f, f+l)}
 *                                                               then one frame `u32be(index) ‖ cipher` per held chunk
 *   any         refused                                      → {k: 'refused', x: reason, a?: retry after, t?: relay clock}
 *
 * The relay checks the hash list against the blob id and every chunk against the hash list (content-blind, not
 * garbage-blind): it never has the key. The shape of `get-chunks` is the shape of `/hearth/blob/1.0.0` (`q: 'c'`), so
 * a fetcher reads a relay like one more peer.
 */
import { z } from 'zod'
import { CHUNK_CIPHER_BYTES, MAX_CHUNKS } from '../blob/format.js'
import { HearthError, type ErrorCode } from '../errors.js'
import { MAILBOX_NONCE_BYTES, type MailboxAuth, type MailboxParams } from '../crypto/mailbox-capability.js'
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from '../crypto/ed25519.js'
import { decodeCbor, encodeCbor } from './cbor.js'
import { bytes, parseWire, uint } from './schema.js'

export const RELAY_BLOB_PROTOCOL = '/hearth/relay-blob/1.0.0'
export const RELAY_BLOB_WIRE_VERSION = 1
export const BLOB_ID_BYTES = 32
export const CHUNK_HASH_BYTES = 32
/** Chunks in one put or get request (the same window as the peer blob protocol). */
export const MAX_CHUNKS_PER_REQUEST = 16
/** Largest hash list: one hash per chunk of the largest blob the format allows. */
export const MAX_HASH_LIST_BYTES = MAX_CHUNKS * CHUNK_HASH_BYTES
/** One request: 16 full chunks with their CBOR framing, or the largest hash list, plus the auth fields. */
export const MAX_BLOB_REQUEST_BYTES = Math.max(MAX_CHUNKS_PER_REQUEST * (CHUNK_CIPHER_BYTES + 16), MAX_HASH_LIST_BYTES) + 4096
/** One response frame: a head holding the largest hash list, or one chunk frame. */
export const MAX_BLOB_RESPONSE_FRAME_BYTES = Math.max(MAX_HASH_LIST_BYTES + 256, CHUNK_CIPHER_BYTES + 4)

/** Why a relay refused a request. Stable strings: clients switch on them. */
export const BlobRefusals = [
  'malformed',
  'unsupported',
  'too-large',
  'unauthorized',
  'stale',
  'replayed',
  'rate-limited',
  'busy',
  'shutting-down',
  'timeout',
  'internal',
  /** The relay holds no such blob in this mailbox (or it expired). */
  'not-found',
  /** The blob is larger than this relay's per-blob cap. */
  'blob-too-large',
  /** The hash list does not match the blob id and padded size (or differs from the one stored). */
  'bad-hash-list',
  /** Chunks for a blob whose hash list the relay does not have yet. */
  'no-hash-list',
  'mailbox-quota',
  'peer-quota',
  'disk-full',
] as const
export type BlobRefusal = (typeof BlobRefusals)[number]

const REFUSALS: Record<BlobRefusal, { code: ErrorCode; text: string }> = {
  malformed: { code: 'MALFORMED', text: 'malformed request' },
  unsupported: { code: 'UNSUPPORTED_VERSION', text: 'this relay does not store blobs, or not this version' },
  'too-large': { code: 'TOO_LARGE', text: 'request too large' },
  unauthorized: { code: 'UNAUTHORIZED', text: 'no valid capability for this mailbox' },
  stale: { code: 'CLOCK_SKEW', text: 'request timestamp too far from the relay clock' },
  replayed: { code: 'REPLAYED', text: 'request was already seen' },
  'rate-limited': { code: 'RATE_LIMITED', text: 'too many requests; slow down' },
  busy: { code: 'RATE_LIMITED', text: 'relay busy; retry later' },
  'shutting-down': { code: 'UNREACHABLE', text: 'relay is shutting down' },
  timeout: { code: 'TIMEOUT', text: 'request timed out' },
  internal: { code: 'INTERNAL', text: 'relay internal error' },
  'not-found': { code: 'NOT_FOUND', text: 'the relay does not hold this file' },
  'blob-too-large': { code: 'TOO_LARGE', text: 'file larger than this relay stores' },
  'bad-hash-list': { code: 'INVALID_INPUT', text: 'the chunk hashes do not match the file id' },
  'no-hash-list': { code: 'INVALID_INPUT', text: 'chunks sent before the chunk hashes' },
  'mailbox-quota': { code: 'QUOTA_EXCEEDED', text: 'file storage quota of this conversation exceeded' },
  'peer-quota': { code: 'QUOTA_EXCEEDED', text: 'daily file upload quota exceeded' },
  'disk-full': { code: 'STORAGE_FULL', text: 'relay file storage is full' },
}

/** A relay refused a blob request. `reason` is the machine-readable part; `code` (a HearthError code) the coarse class. */
export class BlobRefusedError extends HearthError {
  readonly reason: BlobRefusal
  readonly retryAfterMs: number | undefined
  readonly relayTime: number | undefined

  constructor(reason: BlobRefusal, options: { retryAfterMs?: number; relayTime?: number; cause?: unknown } = {}) {
    const text = `relay refused: ${REFUSALS[reason].text}`
    super(REFUSALS[reason].code, text, { publicMessage: text, ...(options.cause === undefined ? {} : { cause: options.cause }) })
    this.reason = reason
    this.retryAfterMs = options.retryAfterMs
    this.relayTime = options.relayTime
  }
}

export function blobRefusalCode(reason: BlobRefusal): ErrorCode {
  return REFUSALS[reason].code
}

/** The refusal a HearthError from a decoder or the framing layer stands for. */
export function blobRefusalForError(code: ErrorCode): BlobRefusal {
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
    case 'NOT_RUNNING':
      return 'shutting-down'
    default:
      return 'internal'
  }
}

// ------------------------------------------------------------------------------------------------------ requests

export interface BlobChunk {
  index: number
  cipher: Uint8Array
}

/** What a request asks, before it is signed. */
export type RelayBlobRequestBody =
  | { op: 'put-list'; blob: Uint8Array; padded: number; hashList: Uint8Array }
  | { op: 'put-chunks'; blob: Uint8Array; chunks: BlobChunk[] }
  | { op: 'get-list'; blob: Uint8Array }
  | { op: 'get-chunks'; blob: Uint8Array; first: number; count: number }

export type RelayBlobRequest = RelayBlobRequestBody & { auth: MailboxAuth }

const authShape = {
  v: z.literal(RELAY_BLOB_WIRE_VERSION),
  d: bytes(ED25519_PUBLIC_KEY_LENGTH),
  r: bytes(ED25519_PUBLIC_KEY_LENGTH),
  t: uint,
  n: bytes(MAILBOX_NONCE_BYTES),
  s: bytes(ED25519_SIGNATURE_LENGTH),
  b: bytes(BLOB_ID_BYTES),
}
const chunkIndex = z.number().int().min(0).max(MAX_CHUNKS - 1)

const requestSchema = z.discriminatedUnion('o', [
  z
    .object({
      ...authShape,
      o: z.literal('put-list'),
      p: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      h: z
        .instanceof(Uint8Array)
        .refine((h) => h.length > 0 && h.length <= MAX_HASH_LIST_BYTES && h.length % CHUNK_HASH_BYTES === 0, 'a hash list is 1.. chunk hashes'),
    })
    .strict(),
  z
    .object({
      ...authShape,
      o: z.literal('put-chunks'),
      c: z
        .array(z.object({ i: chunkIndex, x: z.instanceof(Uint8Array).refine((x) => x.length > 0 && x.length <= CHUNK_CIPHER_BYTES, 'a chunk') }).strict())
        .min(1)
        .max(MAX_CHUNKS_PER_REQUEST)
        // Ascending and distinct: one outcome per index, and no way to make the relay hash one chunk twice.
        .refine((c) => c.every((x, k) => k === 0 || x.i > c[k - 1]!.i), 'chunk indices must ascend'),
    })
    .strict(),
  z.object({ ...authShape, o: z.literal('get-list') }).strict(),
  z
    .object({
      ...authShape,
      o: z.literal('get-chunks'),
      f: chunkIndex,
      l: z.number().int().min(1).max(MAX_CHUNKS_PER_REQUEST),
    })
    .strict(),
])

const OPS = new Set(['put-list', 'put-chunks', 'get-list', 'get-chunks'])

function authFields(auth: MailboxAuth): Record<string, unknown> {
  return { v: RELAY_BLOB_WIRE_VERSION, d: auth.depositPublic, r: auth.readPublic, t: auth.timestamp, n: auth.nonce, s: auth.signature }
}

export function encodeBlobRequest(request: RelayBlobRequest): Uint8Array {
  const base = { ...authFields(request.auth), o: request.op, b: request.blob }
  let map: Record<string, unknown>
  switch (request.op) {
    case 'put-list':
      map = { ...base, p: request.padded, h: request.hashList }
      break
    case 'put-chunks':
      map = { ...base, c: request.chunks.map((c) => ({ i: c.index, x: c.cipher })) }
      break
    case 'get-list':
      map = base
      break
    case 'get-chunks':
      map = { ...base, f: request.first, l: request.count }
      break
  }
  const out = encodeCbor(map)
  if (out.length > MAX_BLOB_REQUEST_BYTES) throw new HearthError('TOO_LARGE', `relay blob request of ${out.length} bytes over the cap`)
  return out
}

/** Decodes a request: TOO_LARGE over the cap, UNSUPPORTED_VERSION for another version or operation, else MALFORMED. */
export function decodeBlobRequest(data: Uint8Array): RelayBlobRequest {
  const value = decodeCbor(data, MAX_BLOB_REQUEST_BYTES, 'relay blob request')
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const m = value as Record<string, unknown>
    if (m.v === RELAY_BLOB_WIRE_VERSION && typeof m.o === 'string' && !OPS.has(m.o)) {
      throw new HearthError('UNSUPPORTED_VERSION', `relay blob operation ${JSON.stringify(m.o.slice(0, 32))} is not supported`)
    }
  }
  const m = parseWire(requestSchema, value, 'relay blob request')
  const auth: MailboxAuth = { depositPublic: m.d, readPublic: m.r, timestamp: m.t, nonce: m.n, signature: m.s }
  switch (m.o) {
    case 'put-list':
      return { op: 'put-list', auth, blob: m.b, padded: m.p, hashList: m.h }
    case 'put-chunks':
      return { op: 'put-chunks', auth, blob: m.b, chunks: m.c.map((c) => ({ index: c.i, cipher: c.x })) }
    case 'get-list':
      return { op: 'get-list', auth, blob: m.b }
    case 'get-chunks':
      return { op: 'get-chunks', auth, blob: m.b, first: m.f, count: m.l }
  }
}

/** The signed parameters of a request (covered by the mailbox request signature). */
export function blobParamsOf(r: RelayBlobRequestBody): MailboxParams {
  switch (r.op) {
    case 'put-list':
      return { op: 'blob-put-list', blob: r.blob, padded: r.padded }
    case 'put-chunks':
      return { op: 'blob-put-chunks', blob: r.blob, indices: r.chunks.map((c) => c.index) }
    case 'get-list':
      return { op: 'blob-get-list', blob: r.blob }
    case 'get-chunks':
      return { op: 'blob-get-chunks', blob: r.blob, first: r.first, count: r.count }
  }
}

// ----------------------------------------------------------------------------------------------------- responses

export type ChunkOutcome = 'stored' | 'duplicate' | 'corrupt'

export type BlobResponseHead =
  | { kind: 'listed'; status: 'stored' | 'present'; have: Uint8Array }
  | { kind: 'put'; results: ChunkOutcome[] }
  | { kind: 'list'; padded: number; hashList: Uint8Array }
  | { kind: 'chunks'; have: Uint8Array }
  | { kind: 'refused'; reason: BlobRefusal; retryAfterMs?: number; relayTime?: number }

const bitmap = (maxBits: number) => z.instanceof(Uint8Array).refine((b) => b.length <= Math.ceil(maxBits / 8), 'bitmap too long')

const headSchema = z.discriminatedUnion('k', [
  z.object({ v: z.literal(RELAY_BLOB_WIRE_VERSION), k: z.literal('listed'), s: z.enum(['stored', 'present']), h: bitmap(MAX_CHUNKS) }).strict(),
  z
    .object({
      v: z.literal(RELAY_BLOB_WIRE_VERSION),
      k: z.literal('put'),
      r: z.array(z.enum(['stored', 'duplicate', 'corrupt'])).min(1).max(MAX_CHUNKS_PER_REQUEST),
    })
    .strict(),
  z
    .object({
      v: z.literal(RELAY_BLOB_WIRE_VERSION),
      k: z.literal('list'),
      p: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
      h: z.instanceof(Uint8Array).refine((h) => h.length <= MAX_HASH_LIST_BYTES, 'hash list too long'),
    })
    .strict(),
  z.object({ v: z.literal(RELAY_BLOB_WIRE_VERSION), k: z.literal('chunks'), h: bitmap(MAX_CHUNKS_PER_REQUEST) }).strict(),
  z
    .object({
      v: z.literal(RELAY_BLOB_WIRE_VERSION),
      k: z.literal('refused'),
      // A reason this build does not know is read as 'internal' rather than failing the whole response.
      x: z.string().max(64),
      a: uint.optional(),
      t: uint.optional(),
    })
    .strict(),
])

export function encodeBlobHead(head: BlobResponseHead): Uint8Array {
  const v = RELAY_BLOB_WIRE_VERSION
  switch (head.kind) {
    case 'listed':
      return encodeCbor({ v, k: 'listed', s: head.status, h: head.have })
    case 'put':
      return encodeCbor({ v, k: 'put', r: head.results })
    case 'list':
      return encodeCbor({ v, k: 'list', p: head.padded, h: head.hashList })
    case 'chunks':
      return encodeCbor({ v, k: 'chunks', h: head.have })
    case 'refused':
      return encodeCbor({
        v,
        k: 'refused',
        x: head.reason,
        ...(head.retryAfterMs === undefined ? {} : { a: Math.max(0, Math.round(head.retryAfterMs)) }),
        ...(head.relayTime === undefined ? {} : { t: Math.round(head.relayTime) }),
      })
  }
}

export function decodeBlobHead(data: Uint8Array): BlobResponseHead {
  const m = parseWire(headSchema, decodeCbor(data, MAX_BLOB_RESPONSE_FRAME_BYTES, 'relay blob response'), 'relay blob response')
  switch (m.k) {
    case 'listed':
      return { kind: 'listed', status: m.s, have: m.h }
    case 'put':
      return { kind: 'put', results: m.r }
    case 'list':
      return { kind: 'list', padded: m.p, hashList: m.h }
    case 'chunks':
      return { kind: 'chunks', have: m.h }
    case 'refused': {
      const reason = (BlobRefusals as readonly string[]).includes(m.x) ? (m.x as BlobRefusal) : 'internal'
      return { kind: 'refused', reason, ...(m.a === undefined ? {} : { retryAfterMs: m.a }), ...(m.t === undefined ? {} : { relayTime: m.t }) }
    }
  }
}

/** One chunk frame of a `get-chunks` answer: `u32be(index) ‖ cipher`. */
export function encodeChunkFrame(index: number, cipher: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + cipher.length)
  new DataView(out.buffer).setUint32(0, index)
  out.set(cipher, 4)
  return out
}

export function decodeChunkFrame(frame: Uint8Array): BlobChunk {
  if (frame.length < 5 || frame.length > CHUNK_CIPHER_BYTES + 4) throw new HearthError('MALFORMED', 'chunk frame of a wrong length')
  const index = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0)
  return { index, cipher: frame.subarray(4) }
}

// ------------------------------------------------------------------------------------------------------- bitmaps

/** Bit `i` of a bitmap: byte `i >> 3`, bit `i & 7` counted from the least significant. */
export function bitAt(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >> 3] ?? 0) & (1 << (i & 7))) !== 0
}

export function setBit(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3]! |= 1 << (i & 7)
}

export function clearBit(bitmap: Uint8Array, i: number): void {
  bitmap[i >> 3]! &= ~(1 << (i & 7))
}

/** Bits `[first, first + count)` of `bitmap` as a bitmap of their own (bit 0 = `first`). */
export function bitRange(bitmap: Uint8Array, first: number, count: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(count / 8))
  for (let k = 0; k < count; k++) if (bitAt(bitmap, first + k)) setBit(out, k)
  return out
}
