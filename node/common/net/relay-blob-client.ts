/**
 * The client end of relay blob storage (`/hearth/relay-blob/1.0.0`, wire/relay-blob.ts; ADR 0030): upload a blob's
 * hash list and chunks to a relay so members who are offline now can fetch it later, and read it back as one more
 * source for the blob fetcher.
 *
 * It knows nothing of conversations: it is given `MailboxKeys` (the conversation epoch's mailbox capability) and
 * encrypted chunks. Refusals surface as `BlobRefusedError` (a HearthError with a stable `reason`), network failures
 * as UNREACHABLE / TIMEOUT. A client whose clock is off learns the relay's from a `stale` refusal and signs again once.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { CHUNK_CIPHER_BYTES, chunkCount } from '../blob/format.js'
import { HearthError, isHearthError, type ErrorCode } from '../errors.js'
import { signMailboxRequest, type MailboxKeys } from '../crypto/mailbox-capability.js'
import { fromHex } from '../util/bytes.js'
import {
  BlobRefusedError,
  MAX_BLOB_REQUEST_BYTES,
  MAX_BLOB_RESPONSE_FRAME_BYTES,
  MAX_CHUNKS_PER_REQUEST,
  RELAY_BLOB_PROTOCOL,
  bitAt,
  blobParamsOf,
  blobRefusalForError,
  decodeBlobHead,
  decodeChunkFrame,
  encodeBlobRequest,
  type BlobChunk,
  type BlobResponseHead,
  type ChunkOutcome,
  type RelayBlobRequestBody,
} from '../wire/relay-blob.js'
import { request, type ProtocolLimits } from './request-response.js'
import type { HearthNode } from './create-node.js'
import type { PeerId } from '@libp2p/interface'

/** A relay: its PeerId, or a multiaddr ending in `/p2p/<PeerId>` (dialed when not connected). */
export type RelayTarget = PeerId | string

export interface RelayBlobClientOptions {
  /** Deadline for one exchange. Default 30 s (one window of 16 chunks, about 1 MiB). */
  timeoutMs?: number
  /** Longest silence while a response is coming. Default 15 s. */
  readTimeoutMs?: number
  now?: () => number
}

/** Framing-layer codes that can only mean the relay refused (see mailbox-client.ts). */
const FRAMING_REFUSALS = new Set<ErrorCode>(['RATE_LIMITED', 'INTERNAL', 'UNSUPPORTED_VERSION'])

/** The blob a request is about, as the blob fetcher names it: conversation (32 hex) and blob id (64 hex). */
export interface BlobTarget {
  conversation: string
  id: string
}

/** A window answer, in the fetcher's shape (node/src/core/blobs/blob-sources.ts `ChunkReply`). */
export interface RelayChunkReply {
  held: boolean[]
  chunks: AsyncIterable<BlobChunk>
}

/**
 * A relay as a source for the blob fetcher: the same shape as node/src/core/blobs/blob-sources.ts `BlobSource`
 * (`key`, `kind`, `hashList`, `chunks`), so the fetcher treats a relay as one more peer.
 */
export interface RelayBlobSource {
  readonly key: string
  readonly kind: 'relay'
  hashList(target: BlobTarget, signal: AbortSignal): Promise<Uint8Array>
  chunks(target: BlobTarget, first: number, count: number, signal: AbortSignal): Promise<RelayChunkReply>
}

/** What `uploadBlob` needs to know of a blob (the store's record: id, padded size, hash list). */
export interface UploadableBlob {
  /** 32 bytes, or 64 hex. */
  id: Uint8Array | string
  padded: number
  hashList: Uint8Array
}

export interface UploadOptions {
  signal?: AbortSignal
  /** After each window the relay stored: chunks the relay holds, of `total`. */
  onProgress?: (progress: { held: number; total: number }) => void
  /** Windows in flight at once. Default 2. */
  concurrency?: number
}

export interface UploadResult {
  /** The relay already had the blob listed (a resumed or repeated upload). */
  resumed: boolean
  /** Chunks sent in this call. */
  sent: number
  /** Chunks the relay holds now (all of them, unless a chunk was missing locally). */
  held: number
  total: number
}

export class RelayBlobClient {
  readonly #node: HearthNode
  readonly #limits: ProtocolLimits
  readonly #now: () => number
  readonly #offsets = new Map<string, number>()

  constructor(node: HearthNode, options: RelayBlobClientOptions = {}) {
    this.#node = node
    this.#now = options.now ?? Date.now
    this.#limits = {
      maxRequestBytes: MAX_BLOB_REQUEST_BYTES,
      maxResponseBytes: MAX_BLOB_RESPONSE_FRAME_BYTES,
      timeoutMs: options.timeoutMs ?? 30_000,
      readTimeoutMs: options.readTimeoutMs ?? 15_000,
    }
  }

  /** Lists a blob on the relay (reserving its size there); answers what the relay already holds of it. */
  async putHashList(relay: RelayTarget, keys: MailboxKeys, blob: UploadableBlob, signal?: AbortSignal): Promise<{ status: 'stored' | 'present'; held: boolean[] }> {
    const id = idBytes(blob.id)
    const head = await this.#single(relay, keys, { op: 'put-list', blob: id, padded: blob.padded, hashList: blob.hashList }, signal)
    if (head.kind !== 'listed') throw protocolError('put-list')
    const total = chunkCount(blob.padded)
    return { status: head.status, held: Array.from({ length: total }, (_, i) => bitAt(head.have, i)) }
  }

  /** Sends up to 16 chunks (ascending indices); one outcome per chunk. */
  async putChunks(relay: RelayTarget, keys: MailboxKeys, id: Uint8Array | string, chunks: readonly BlobChunk[], signal?: AbortSignal): Promise<ChunkOutcome[]> {
    if (chunks.length === 0 || chunks.length > MAX_CHUNKS_PER_REQUEST) throw new HearthError('INVALID_INPUT', `1..${MAX_CHUNKS_PER_REQUEST} chunks per request`)
    const head = await this.#single(relay, keys, { op: 'put-chunks', blob: idBytes(id), chunks: [...chunks] }, signal)
    if (head.kind !== 'put' || head.results.length !== chunks.length) throw protocolError('put-chunks')
    return head.results
  }

  /** The blob's padded size and hash list as the relay holds them (not verified here: the caller checks the id). */
  async getHashList(relay: RelayTarget, keys: MailboxKeys, id: Uint8Array | string, signal?: AbortSignal): Promise<{ padded: number; hashList: Uint8Array }> {
    const head = await this.#single(relay, keys, { op: 'get-list', blob: idBytes(id) }, signal)
    if (head.kind !== 'list' || head.hashList.length === 0 || head.hashList.length % 32 !== 0) throw protocolError('get-list')
    return { padded: head.padded, hashList: head.hashList }
  }

  /**
   * Chunks `[first, first + count)` the relay holds: which ones, then the chunks ascending as they arrive (each
   * still to be checked against the hash list by the caller). Stop iterating to abandon the rest.
   */
  async getChunks(relay: RelayTarget, keys: MailboxKeys, id: Uint8Array | string, first: number, count: number, signal?: AbortSignal): Promise<RelayChunkReply> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_CHUNKS_PER_REQUEST) throw new HearthError('INVALID_INPUT', `count must be 1..${MAX_CHUNKS_PER_REQUEST}`)
    const { head, rest } = await this.#exchange(relay, keys, { op: 'get-chunks', blob: idBytes(id), first, count }, signal)
    if (head.kind !== 'chunks' || head.have.length !== Math.ceil(count / 8)) {
      await rest.return(undefined)
      throw protocolError('get-chunks')
    }
    const held = Array.from({ length: count }, (_, k) => bitAt(head.have, k))
    for (let k = count; k < head.have.length * 8; k++) {
      if (bitAt(head.have, k)) {
        await rest.return(undefined)
        throw protocolError('get-chunks')
      }
    }
    return { held, chunks: readChunks(rest, first, count, held) }
  }

  /**
   * Uploads a blob: lists it, then sends what the relay lacks, 16 chunks a request, `concurrency` requests at once.
   * Resumes: chunks the relay already holds are not sent again. `readChunk` gives a chunk's ciphertext from the local
   * store (undefined when not held locally: skipped, so a member holding part of a blob may upload that part).
   */
  async uploadBlob(
    relay: RelayTarget,
    keys: MailboxKeys,
    blob: UploadableBlob,
    readChunk: (index: number) => Promise<Uint8Array | undefined>,
    options: UploadOptions = {},
  ): Promise<UploadResult> {
    const id = idBytes(blob.id)
    const listed = await this.putHashList(relay, keys, blob, options.signal)
    const held = listed.held
    const total = held.length
    let heldCount = held.filter(Boolean).length
    let sent = 0
    const missing = held.flatMap((h, i) => (h ? [] : [i]))
    let next = 0
    let failed = false
    // Windows of up to 16 consecutive missing chunks, taken in order by `concurrency` workers; none after a failure.
    const takeWindow = (): number[] => {
      const window: number[] = []
      while (!failed && next < missing.length && window.length < MAX_CHUNKS_PER_REQUEST) window.push(missing[next++]!)
      return window
    }
    const worker = async (): Promise<void> => {
      try {
        await work()
      } catch (err) {
        failed = true
        throw err
      }
    }
    const work = async (): Promise<void> => {
      for (let window = takeWindow(); window.length > 0; window = takeWindow()) {
        options.signal?.throwIfAborted()
        const chunks: BlobChunk[] = []
        for (const index of window) {
          const cipher = await readChunk(index)
          if (cipher !== undefined) chunks.push({ index, cipher })
        }
        if (chunks.length === 0) continue
        const results = await this.putChunks(relay, keys, id, chunks, options.signal)
        const bad = results.indexOf('corrupt')
        if (bad >= 0) {
          // Our own store gave a chunk that does not match the hash list: never keep going as if uploaded.
          throw new HearthError('CORRUPT_DATA', `chunk ${chunks[bad]!.index} of the local copy does not match its hash list`)
        }
        sent += results.filter((r) => r === 'stored').length
        heldCount += results.length
        options.onProgress?.({ held: heldCount, total })
      }
    }
    const workers = Math.max(1, Math.min(options.concurrency ?? 2, 4))
    await Promise.all(Array.from({ length: workers }, () => worker()))
    return { resumed: listed.status === 'present', sent, held: heldCount, total }
  }

  /**
   * A relay as a blob fetcher source. `keysFor` gives the mailbox capability the blob was stored under (the
   * conversation epoch the message was sent in), or undefined when there is none: the source then answers NOT_FOUND.
   */
  source(relay: string, keysFor: (target: BlobTarget) => MailboxKeys | undefined | Promise<MailboxKeys | undefined>): RelayBlobSource {
    const peer = relayPeerOf(relay)
    const keysOf = async (target: BlobTarget): Promise<MailboxKeys> => {
      const keys = await keysFor(target)
      if (keys === undefined) throw new BlobRefusedError('not-found')
      return keys
    }
    return {
      key: `relay:${peer}`,
      kind: 'relay',
      hashList: async (target, signal) => (await this.getHashList(relay, await keysOf(target), target.id, signal)).hashList,
      chunks: async (target, first, count, signal) => this.getChunks(relay, await keysOf(target), target.id, first, count, signal),
    }
  }

  async #resolve(relay: RelayTarget): Promise<string> {
    const peer = relayPeerOf(relay)
    if (typeof relay === 'string' && relay.startsWith('/') && this.#node.libp2p.getConnections(peerIdFromString(peer)).length === 0) {
      await this.#node.dial(relay)
    }
    return peer
  }

  /**
   * An exchange answered by its head alone: reads on to the end frame, so the stream closes cleanly on both sides
   * (an abandoned stream would linger until libp2p's inactivity timeout and hold up the node's stop).
   */
  async #single(relay: RelayTarget, keys: MailboxKeys, body: RelayBlobRequestBody, signal: AbortSignal | undefined): Promise<Exclude<BlobResponseHead, { kind: 'refused' }>> {
    const { head, rest } = await this.#exchange(relay, keys, body, signal)
    const extra = await rest.next()
    if (extra.done !== true) {
      await rest.return(undefined)
      throw protocolError(body.op)
    }
    return head
  }

  /** Signs and sends one request; returns the head frame and the frames after it. Refusals throw BlobRefusedError. */
  async #exchange(
    relay: RelayTarget,
    keys: MailboxKeys,
    body: RelayBlobRequestBody,
    signal: AbortSignal | undefined,
  ): Promise<{ head: Exclude<BlobResponseHead, { kind: 'refused' }>; rest: AsyncGenerator<Uint8Array, void, undefined> }> {
    const peer = await this.#resolve(relay)
    const params = blobParamsOf(body)
    for (let attempt = 0; ; attempt++) {
      const auth = signMailboxRequest(keys, peer, params, { timestamp: this.#now() + (this.#offsets.get(peer) ?? 0) })
      const frames = request(this.#node, peer, RELAY_BLOB_PROTOCOL, encodeBlobRequest({ ...body, auth }), this.#limits, signal === undefined ? {} : { signal })
      let head: BlobResponseHead
      try {
        const first = await frames.next()
        if (first.done === true) throw protocolError(body.op)
        head = decodeBlobHead(first.value)
      } catch (err) {
        await frames.return(undefined)
        if (isHearthError(err) && FRAMING_REFUSALS.has(err.code) && !(err instanceof BlobRefusedError)) {
          throw new BlobRefusedError(blobRefusalForError(err.code), { cause: err })
        }
        throw err
      }
      if (head.kind !== 'refused') return { head, rest: frames }
      await frames.return(undefined)
      if (head.reason === 'stale' && head.relayTime !== undefined && attempt === 0) {
        this.#offsets.set(peer, head.relayTime - this.#now())
        continue
      }
      throw new BlobRefusedError(head.reason, {
        ...(head.retryAfterMs === undefined ? {} : { retryAfterMs: head.retryAfterMs }),
        ...(head.relayTime === undefined ? {} : { relayTime: head.relayTime }),
      })
    }
  }
}

/** Chunk frames strictly ascending, inside the range and claimed by the bitmap; anything else is PROTOCOL_ERROR. */
async function* readChunks(frames: AsyncGenerator<Uint8Array, void, undefined>, first: number, count: number, held: boolean[]): AsyncGenerator<BlobChunk, void, undefined> {
  let next = first
  try {
    for (;;) {
      const r = await frames.next()
      if (r.done === true) return
      let chunk: BlobChunk
      try {
        chunk = decodeChunkFrame(r.value)
      } catch (err) {
        throw new HearthError('PROTOCOL_ERROR', 'relay sent a malformed chunk frame', { cause: err })
      }
      if (chunk.index < next || chunk.index >= first + count || held[chunk.index - first] !== true || chunk.cipher.length > CHUNK_CIPHER_BYTES) {
        throw new HearthError('PROTOCOL_ERROR', `relay sent chunk ${chunk.index} out of order or unclaimed`)
      }
      next = chunk.index + 1
      yield chunk
    }
  } finally {
    await frames.return(undefined)
  }
}

function protocolError(op: string): HearthError {
  return new HearthError('PROTOCOL_ERROR', `relay answered a blob ${op} with something else`)
}

function idBytes(id: Uint8Array | string): Uint8Array {
  if (typeof id === 'string') {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new HearthError('INVALID_INPUT', 'a blob id is 64 lowercase hex digits')
    return fromHex(id)
  }
  if (!(id instanceof Uint8Array) || id.length !== 32) throw new HearthError('INVALID_INPUT', 'a blob id is 32 bytes')
  return id
}

/** The relay's PeerId from a PeerId or a multiaddr ending in /p2p/<PeerId>. */
function relayPeerOf(relay: RelayTarget): string {
  if (typeof relay !== 'string') return relay.toString()
  if (!relay.startsWith('/')) {
    try {
      return peerIdFromString(relay).toString()
    } catch (err) {
      throw new HearthError('INVALID_INPUT', `not a relay PeerId or multiaddr: ${relay}`, { cause: err })
    }
  }
  let peer: string | undefined
  try {
    peer = multiaddr(relay).getComponents().filter((c) => c.code === CODE_P2P).at(-1)?.value
  } catch (err) {
    throw new HearthError('INVALID_INPUT', `not a multiaddr: ${relay}`, { cause: err })
  }
  if (peer === undefined) throw new HearthError('INVALID_INPUT', `relay multiaddr needs /p2p/<PeerId>: ${relay}`)
  return peer
}
