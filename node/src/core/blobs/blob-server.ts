/**
 * The answering side of /hearth/blob/1.0.0 (blob-frames.ts): serves a blob's hash list and chunk windows to devices of
 * the conversation's current members. Everything else, a stranger, a removed member, a blob we do not hold, a blob of
 * another conversation, gets the same NOT_FOUND, so the protocol is no oracle for which blobs we hold.
 *
 * A window's held chunks are read from disk with one read per run of consecutive held chunks (usually one for the
 * whole window), the next run read ahead while one is sent (the store re-hashes each chunk before it is sent, so a
 * chunk damaged on our disk is never passed on): one request costs at most one window (16 chunks, 1 MiB) of memory,
 * however many peers ask.
 */
import { HearthError } from '../../../common/errors.js'
import type { HearthNode } from '../../../common/net/create-node.js'
import { handleProtocol, type FrameParts, type HandleOptions } from '../../../common/net/request-response.js'
import {
  BLOB_LIMITS,
  BLOB_PROTOCOL,
  decodeBlobRequest,
  chunkFrameParts,
  encodeHaveFrame,
  MAX_WINDOW_CHUNKS,
  type BlobRequest,
} from './blob-frames.js'

/** What the server reads of a blob's record (BlobStore's record satisfies it). */
export interface ServedBlobRecord {
  conversation: string
  chunks: number
  complete: boolean
  /** Bitmap of held chunks: bit (i & 7) of byte (i >> 3) for chunk i. */
  have: Uint8Array
}

/** The part of BlobStore the server uses. */
export interface ServingStore {
  get(id: string): Promise<ServedBlobRecord | undefined>
  hashList(id: string): Promise<Uint8Array | undefined>
  /** The chunk's ciphertext, re-hashed against the hash list; undefined when not held or damaged on disk. */
  readChunk(id: string, index: number): Promise<Uint8Array | undefined>
  /** Several consecutive chunks as readChunk gives each, read together (fewer disk round trips); optional. */
  readChunks?(id: string, first: number, count: number): Promise<Array<Uint8Array | undefined>>
}

/**
 * Chunks read from disk together when the store can: a whole window. Each read costs a file-handle check and a read
 * on the thread pool, and waking a pool thread costs the busy event loop a fraction of a millisecond; four reads per
 * window showed up at about 7 % of a download's profile (both cores in one process). Runs of a window never add up to
 * more than the window, so a request holds at most 16 chunks.
 */
export const SERVE_READ_CHUNKS = MAX_WINDOW_CHUNKS

export interface BlobServerDeps {
  node: HearthNode
  store: ServingStore
  /** Whether `peer` is a device of a current member of `conversation` (the core's membership view). */
  isMemberDevice(conversation: string, peer: string): boolean
  /** Counts refusals ('blob-unauthorized'), as the core's SecurityCounters do. */
  counters?: { count(reason: string): void }
  onError?: HandleOptions['onError']
  /**
   * A chunk of a blob (of `chunks` chunks) went out to an authorised `peer`: called once the frame was handed to the
   * stream, never for a refused request. Delivery receipts for our own files are built from it (file-receipts.ts).
   */
  onServed?(conversation: string, blob: string, peer: string, index: number, chunks: number): void
}

const notFound = (): HearthError => new HearthError('NOT_FOUND', 'blob not found')

function holds(record: ServedBlobRecord, index: number): boolean {
  return record.complete || ((record.have[index >> 3] ?? 0) >> (index & 7)) & 1 ? true : false
}

export class BlobServer {
  private stopServing: (() => Promise<void>) | undefined

  constructor(private readonly deps: BlobServerDeps) {}

  async start(): Promise<void> {
    if (this.stopServing !== undefined) return
    const options: HandleOptions = this.deps.onError === undefined ? {} : { onError: this.deps.onError }
    this.stopServing = await handleProtocol(
      this.deps.node,
      BLOB_PROTOCOL,
      BLOB_LIMITS,
      (request, ctx) => this.serve(request, ctx.peer, ctx.signal),
      options,
    )
  }

  async stop(): Promise<void> {
    const stop = this.stopServing
    this.stopServing = undefined
    await stop?.()
  }

  /** One exchange: the response frames for `requestBytes` from `peer`. Throws HearthError (sent as an error frame). */
  async *serve(requestBytes: Uint8Array, peer: string, signal: AbortSignal): AsyncGenerator<Uint8Array | FrameParts> {
    const req = decodeBlobRequest(requestBytes)
    const record = await this.authorised(req, peer)
    if (req.q === 'h') {
      const hashList = await this.deps.store.hashList(req.id)
      if (hashList === undefined) throw notFound()
      yield hashList
      return
    }
    // A window past the end is a requester bug or a probe: the same answer as a blob we lack says nothing new.
    if (req.first + req.count > record.chunks) throw notFound()
    const held: boolean[] = []
    for (let k = 0; k < req.count; k++) held.push(holds(record, req.first + k))
    yield encodeHaveFrame(held)
    const groups = this.readGroups(req.id, req.first, held)
    // One group read ahead: the disk reads and hashes of the next overlap sending this one.
    let next = 0
    let pending = groups.length > 0 ? groups[0]!() : undefined
    try {
      while (pending !== undefined) {
        const group = await pending
        next++
        pending = next < groups.length && !signal.aborted ? groups[next]!() : undefined
        for (const { index, cipher } of group) {
          if (signal.aborted) return
          // Damaged on our disk (the store refused it): leave it out; the requester fetches it elsewhere.
          if (cipher === undefined) continue
          yield chunkFrameParts(index, cipher)
          // The consumer asks for the next frame only once this one was written: it left us.
          if (!signal.aborted) this.deps.onServed?.(req.conversation, req.id, peer, index, record.chunks)
        }
      }
    } finally {
      // Stopped early (the requester went away): the read ahead must not become an unhandled rejection.
      pending?.catch(() => {})
    }
  }

  /** The held chunks of a window as reads to run in order: a few consecutive ones at a time, or one by one. */
  private readGroups(id: string, first: number, held: readonly boolean[]): Array<() => Promise<Array<{ index: number; cipher: Uint8Array | undefined }>>> {
    const store = this.deps.store
    const groups: Array<() => Promise<Array<{ index: number; cipher: Uint8Array | undefined }>>> = []
    for (let k = 0; k < held.length; ) {
      if (!held[k]) {
        k++
        continue
      }
      let end = k + 1
      if (store.readChunks !== undefined) while (end < held.length && end - k < SERVE_READ_CHUNKS && held[end]) end++
      const [from, n] = [first + k, end - k]
      groups.push(async () => {
        const ciphers = store.readChunks !== undefined ? await store.readChunks(id, from, n) : [await store.readChunk(id, from)]
        return ciphers.map((cipher, j) => ({ index: from + j, cipher }))
      })
      k = end
    }
    return groups
  }

  private async authorised(req: BlobRequest, peer: string): Promise<ServedBlobRecord> {
    if (!this.deps.isMemberDevice(req.conversation, peer)) {
      this.deps.counters?.count('blob-unauthorized')
      throw notFound()
    }
    const record = await this.deps.store.get(req.id)
    if (record === undefined || record.conversation !== req.conversation) throw notFound()
    return record
  }
}
