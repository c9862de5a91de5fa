/**
 * `/hearth/blob/1.0.0`: fetching a blob's hash list and ciphertext chunks from a member's device (docs/PROTOCOL.md,
 * "Blob transfer"). One request per stream over net/request-response.ts:
 *
 *   request   CBOR `{ c: conversation (32 hex), b: blob id (32 bytes), q: 'h' }`            the hash list
 *             CBOR `{ c, b, q: 'c', f: first chunk, n: count 1..16 }`                       a window of chunks
 *   response  q 'h': one data frame, the hash list (32 bytes per chunk).
 *             q 'c': one data frame CBOR `{ have: bitmap of the asked range }` (bit k of byte j, least significant
 *             first, is chunk f + 8j + k), then one data frame per held chunk, ascending: `u32be(index) ‖ cipher`.
 *
 * The same response shapes are used by relays (H-relay), so the decoders here are shared by every blob source.
 * Nothing here trusts a byte: requests and responses are size-capped before decoding and checked field by field.
 * Whether a chunk is the right one is not this file's job: the store checks it against the verified hash list.
 */
import { z } from 'zod'
import { CHUNK_CIPHER_BYTES, HASH_BYTES, MAX_CHUNKS } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import type { ProtocolLimits } from '../../../common/net/request-response.js'
import { fromHex, toHex } from '../../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { bytes, parseWire } from '../../../common/wire/schema.js'

export const BLOB_PROTOCOL = '/hearth/blob/1.0.0'

/** Chunks one request may ask for: the fetcher's window, and the most a responder reads for one request. */
export const MAX_WINDOW_CHUNKS = 16
/** Largest request; the largest valid one is under 100 bytes. */
export const MAX_BLOB_REQUEST_BYTES = 256
/** Bytes before the ciphertext in a chunk frame: the chunk index, u32 big-endian. */
export const CHUNK_FRAME_HEADER_BYTES = 4
/** The largest hash list (a blob of MAX_CHUNKS chunks, 1 GiB of plaintext): about 545 KB. */
export const MAX_HASH_LIST_BYTES = MAX_CHUNKS * HASH_BYTES
/** Largest response frame: the hash list, a chunk frame, or the have frame, whichever is largest. */
export const MAX_BLOB_FRAME_BYTES = Math.max(MAX_HASH_LIST_BYTES, CHUNK_FRAME_HEADER_BYTES + CHUNK_CIPHER_BYTES)
/** The have frame: CBOR around a bitmap of at most two bytes. */
const MAX_HAVE_FRAME_BYTES = 32

/**
 * Limits for both sides. A request is a window of at most 1 MiB, so 30 s is generous even on a slow link; the read
 * deadline (15 s of silence) is the stall rule of docs/PROTOCOL.md, enforced again by the fetcher for every source.
 */
export const BLOB_LIMITS: ProtocolLimits = {
  maxRequestBytes: MAX_BLOB_REQUEST_BYTES,
  maxResponseBytes: MAX_BLOB_FRAME_BYTES,
  timeoutMs: 30_000,
  readTimeoutMs: 15_000,
  // A fetcher keeps at most 3 windows in flight per blob and the core fetches 2 blobs at once: 16 leaves room for a
  // few more (a stream over the limit is reset, which the requester takes for an unreachable source). Each costs us
  // one chunk of memory at a time.
  maxInboundStreams: 16,
  // One window is 1 MiB read from disk and hashed: at 100 a second one peer may pull 100 MiB/s from us, no more.
  ratePerSecond: 100,
  burst: 200,
  // A relayed (limited) connection carries a few hundred KiB at most before the relay cuts it: blobs between peers
  // that only meet through a relay go through the relay's blob store instead (docs/PROTOCOL.md).
  runOnLimitedConnection: false,
}

export type BlobRequest =
  | { conversation: string; id: string; q: 'h' }
  | { conversation: string; id: string; q: 'c'; first: number; count: number }

export interface BlobChunk {
  index: number
  cipher: Uint8Array
}

const conversationHex = z.string().regex(/^[0-9a-f]{32}$/)
const requestSchema = z.discriminatedUnion('q', [
  z.strictObject({ c: conversationHex, b: bytes(HASH_BYTES), q: z.literal('h') }),
  z.strictObject({
    c: conversationHex,
    b: bytes(HASH_BYTES),
    q: z.literal('c'),
    f: z.number().int().nonnegative().max(MAX_CHUNKS - 1),
    n: z.number().int().min(1).max(MAX_WINDOW_CHUNKS),
  }),
])
const haveSchema = z.strictObject({ have: bytes() })

function checkRequest(r: BlobRequest): void {
  if (!/^[0-9a-f]{32}$/.test(r.conversation)) throw new HearthError('INVALID_INPUT', 'a conversation id is 32 hex digits')
  if (!/^[0-9a-f]{64}$/.test(r.id)) throw new HearthError('INVALID_INPUT', 'a blob id is 64 lowercase hex digits')
  if (r.q === 'c') {
    if (!Number.isSafeInteger(r.first) || r.first < 0 || r.first >= MAX_CHUNKS) {
      throw new HearthError('INVALID_INPUT', `first chunk must be in 0..${MAX_CHUNKS - 1}`)
    }
    if (!Number.isSafeInteger(r.count) || r.count < 1 || r.count > MAX_WINDOW_CHUNKS) {
      throw new HearthError('INVALID_INPUT', `a window holds 1..${MAX_WINDOW_CHUNKS} chunks`)
    }
  }
}

export function encodeBlobRequest(r: BlobRequest): Uint8Array {
  checkRequest(r)
  const base = { c: r.conversation, b: fromHex(r.id) }
  return encodeCbor(r.q === 'h' ? { ...base, q: 'h' } : { ...base, q: 'c', f: r.first, n: r.count })
}

/** Decodes a request from a peer; anything but a well-formed request is MALFORMED (TOO_LARGE over the cap). */
export function decodeBlobRequest(input: Uint8Array): BlobRequest {
  const raw = parseWire(requestSchema, decodeCbor(input, MAX_BLOB_REQUEST_BYTES, 'blob request'), 'blob request')
  const base = { conversation: raw.c, id: toHex(raw.b) }
  return raw.q === 'h' ? { ...base, q: 'h' } : { ...base, q: 'c', first: raw.f, count: raw.n }
}

/** Bit k of the range [first, first + count) set when chunk first + k is held. */
export function encodeHaveFrame(held: readonly boolean[]): Uint8Array {
  if (held.length < 1 || held.length > MAX_WINDOW_CHUNKS) throw new HearthError('INVALID_INPUT', 'a have bitmap covers 1..16 chunks')
  const bitmap = new Uint8Array(Math.ceil(held.length / 8))
  held.forEach((h, k) => {
    if (h) bitmap[k >> 3]! |= 1 << (k & 7)
  })
  return encodeCbor({ have: bitmap })
}

/** The held flags of a `count`-chunk range; a bitmap of the wrong length or with bits past the range is MALFORMED. */
export function decodeHaveFrame(frame: Uint8Array, count: number): boolean[] {
  const { have } = parseWire(haveSchema, decodeCbor(frame, MAX_HAVE_FRAME_BYTES, 'blob have frame'), 'blob have frame')
  if (have.length !== Math.ceil(count / 8)) {
    throw new HearthError('MALFORMED', `blob have bitmap is ${have.length} bytes for ${count} chunks`, { publicMessage: 'malformed blob have frame' })
  }
  const held: boolean[] = []
  for (let k = 0; k < have.length * 8; k++) {
    const bit = (have[k >> 3]! >> (k & 7)) & 1
    if (k < count) held.push(bit === 1)
    else if (bit === 1) throw new HearthError('MALFORMED', 'blob have bitmap claims chunks outside the range', { publicMessage: 'malformed blob have frame' })
  }
  return held
}

/** A chunk frame as its two parts, the index and the cipher (not copied): what the blob server hands its writer. */
export function chunkFrameParts(index: number, cipher: Uint8Array): [Uint8Array, Uint8Array] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_CHUNKS) throw new HearthError('INVALID_INPUT', 'chunk index out of range')
  if (cipher.length > CHUNK_CIPHER_BYTES) throw new HearthError('INVALID_INPUT', 'chunk over the ciphertext size')
  const header = new Uint8Array(CHUNK_FRAME_HEADER_BYTES)
  new DataView(header.buffer).setUint32(0, index)
  return [header, cipher]
}

/** The same frame in one buffer: the server sends the parts; tests and fuzzers build frames with this. */
export function encodeChunkFrame(index: number, cipher: Uint8Array): Uint8Array {
  const [header, body] = chunkFrameParts(index, cipher)
  const frame = new Uint8Array(header.length + body.length)
  frame.set(header)
  frame.set(body, header.length)
  return frame
}

/** Splits a chunk frame; the cipher is a view into `frame`. Length and hash are the store's to check. */
export function decodeChunkFrame(frame: Uint8Array): BlobChunk {
  if (frame.length <= CHUNK_FRAME_HEADER_BYTES + 16 || frame.length > CHUNK_FRAME_HEADER_BYTES + CHUNK_CIPHER_BYTES) {
    throw new HearthError('MALFORMED', `blob chunk frame of ${frame.length} bytes`, { publicMessage: 'malformed blob chunk frame' })
  }
  const index = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0)
  return { index, cipher: frame.subarray(CHUNK_FRAME_HEADER_BYTES) }
}

/** The answer to a window request: which chunks the source holds, then those chunks as they arrive. */
export interface ChunkReply {
  held: boolean[]
  chunks: AsyncIterable<BlobChunk>
}

/**
 * Reads a window response (from a peer or a relay): the have frame, then chunk frames strictly ascending, each inside
 * the range and claimed by the bitmap. A source may send fewer chunks than it claimed (a chunk it found damaged on its
 * own disk); any other deviation is PROTOCOL_ERROR, which the fetcher holds against the source.
 */
export async function readChunkReply(frames: AsyncIterable<Uint8Array>, first: number, count: number): Promise<ChunkReply> {
  const it = frames[Symbol.asyncIterator]()
  const head = await it.next()
  if (head.done === true) throw new HearthError('PROTOCOL_ERROR', 'blob source answered with no have frame')
  let held: boolean[]
  try {
    held = decodeHaveFrame(head.value, count)
  } catch (err) {
    await it.return?.()
    throw new HearthError('PROTOCOL_ERROR', 'blob source sent a malformed have frame', { cause: err })
  }
  async function* chunks(): AsyncGenerator<BlobChunk> {
    let next = first
    try {
      for (;;) {
        const r = await it.next()
        if (r.done === true) return
        let chunk: BlobChunk
        try {
          chunk = decodeChunkFrame(r.value)
        } catch (err) {
          throw new HearthError('PROTOCOL_ERROR', 'blob source sent a malformed chunk frame', { cause: err })
        }
        if (chunk.index < next || chunk.index >= first + count || held[chunk.index - first] !== true) {
          throw new HearthError('PROTOCOL_ERROR', `blob source sent chunk ${chunk.index} out of order or unclaimed`)
        }
        next = chunk.index + 1
        yield chunk
      }
    } finally {
      await it.return?.()
    }
  }
  return { held, chunks: chunks() }
}

/** Checks a hash-list response's shape (its content is verified against the blob id by the store). */
export function checkHashListFrame(frame: Uint8Array): Uint8Array {
  if (frame.length === 0 || frame.length % HASH_BYTES !== 0 || frame.length > MAX_HASH_LIST_BYTES) {
    throw new HearthError('PROTOCOL_ERROR', `blob hash list of ${frame.length} bytes`)
  }
  return frame
}
