/**
 * The relay end of `/hearth/relay-blob/1.0.0` (wire/relay-blob.ts; ADR 0030): decode, check the mailbox capability
 * (the deposit key puts, the read key gets), apply the request rate, hand the work to the blob store, answer.
 *
 * Checks run cheapest first, as for mailboxes: shutting down, the peer's request rate, decoding, the timestamp window
 * and signature and nonce (`verifyMailboxRequest`, with a replay guard of its own). Garbage, forgeries and corrupt
 * chunks count against the peer in PeerPenalties (an honest client never sends a chunk that fails its hash: it made
 * the hash list from the same bytes), which bans a peer that keeps at it.
 */
import { performance } from 'node:perf_hooks'
import { isHearthError } from '../../../node/common/errors.js'
import { ReplayGuard, verifyMailboxRequest } from '../../../node/common/crypto/mailbox-capability.js'
import { RateLimiter } from '../../../node/common/net/rate-limiter.js'
import type { HandlerContext } from '../../../node/common/net/request-response.js'
import type { PeerPenalties } from '../../../node/common/net/peer-penalties.js'
import {
  blobParamsOf,
  blobRefusalForError,
  decodeBlobRequest,
  encodeBlobHead,
  encodeChunkFrame,
  type BlobRefusal,
  type BlobResponseHead,
  type RelayBlobRequest,
} from '../../../node/common/wire/relay-blob.js'
import type { Logger } from '../ops/logger.js'
import type { RelayMetrics } from '../ops/metrics.js'
import type { RelayBlobStore } from './relay-blob-store.js'

export interface BlobServiceOptions {
  relayPeerId: string
  /** Undefined when the relay does not store blobs: every request is then refused `unsupported`. */
  store: RelayBlobStore | undefined
  metrics: RelayMetrics
  penalties: PeerPenalties
  logger: Logger
  requestsPerSecond: number
  requestBurst: number
  clockSkewMs: number
  replayGuard?: { maxEntries?: number; maxPerMailbox?: number }
  now?: () => number
}

/**
 * Uploads handled at once across the relay. Each holds its request (up to 1 MiB) until its chunks are synced; beyond
 * this the relay answers `busy` rather than let slow disks pile requests up in memory.
 */
const MAX_UPLOADS_IN_FLIGHT = 64
const BUSY_RETRY_MS = 1_000

/** Penalty weights (PeerPenalties bans at 100). */
const PENALTY: Partial<Record<BlobRefusal | 'corrupt', number>> = {
  malformed: 10,
  'too-large': 20,
  unauthorized: 10,
  replayed: 10,
  unsupported: 2,
  'bad-hash-list': 10,
  corrupt: 10,
}

export class BlobService {
  readonly #o: BlobServiceOptions
  readonly #guard: ReplayGuard
  readonly #limiter: RateLimiter
  readonly #now: () => number
  #inFlight = 0
  #uploads = 0
  #idle: (() => void) | undefined
  #stopping = false

  constructor(options: BlobServiceOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#guard = new ReplayGuard({ windowMs: options.clockSkewMs, ...options.replayGuard })
    this.#limiter = new RateLimiter({ ratePerSecond: options.requestsPerSecond, burst: options.requestBurst })
  }

  get inFlight(): number {
    return this.#inFlight
  }

  get replayGuardLoad(): number {
    return this.#guard.units
  }

  /** The protocol handler (for handleProtocol): a head frame, then chunk frames for `get-chunks`. */
  readonly handle = (bytes: Uint8Array, ctx: HandlerContext): AsyncIterable<Uint8Array> => this.#respond(bytes, ctx)

  stopAccepting(): void {
    this.#stopping = true
  }

  async drained(timeoutMs: number): Promise<boolean> {
    if (this.#inFlight === 0) return true
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.#idle = () => {
        clearTimeout(timer)
        resolve(true)
      }
    })
  }

  async *#respond(bytes: Uint8Array, ctx: HandlerContext): AsyncGenerator<Uint8Array, void, undefined> {
    const started = performance.now()
    const { metrics } = this.#o
    this.#inFlight++
    let op = 'unknown'
    let outcome: 'ok' | 'refused' | 'error' = 'ok'
    try {
      const { head, chunks } = await this.#serve(bytes, ctx, (name) => {
        op = name
      })
      if (head.kind === 'refused') outcome = 'refused'
      yield encodeBlobHead(head)
      if (chunks !== undefined) {
        for await (const chunk of chunks) {
          metrics.blobChunksServed.inc()
          metrics.blobBytesServed.inc(chunk.cipher.length)
          yield encodeChunkFrame(chunk.index, chunk.cipher)
        }
      }
    } catch (err) {
      outcome = 'error'
      // A chunk damaged on disk, or the store closing: the requester gets the error frame and asks elsewhere.
      if (!isHearthError(err)) this.#o.logger.error({ op, err: err instanceof Error ? err.message : String(err) }, 'relay blob request failed')
      throw err
    } finally {
      metrics.blobRequests.inc({ op, outcome })
      metrics.requestDuration.observe({ op: `blob-${op}` }, (performance.now() - started) / 1000)
      if (--this.#inFlight === 0) this.#idle?.()
    }
  }

  async #serve(
    bytes: Uint8Array,
    ctx: HandlerContext,
    setOp: (op: string) => void,
  ): Promise<{ head: BlobResponseHead; chunks?: AsyncIterable<{ index: number; cipher: Uint8Array }> }> {
    const refuse = (reason: BlobRefusal, extra: { retryAfterMs?: number; relayTime?: number } = {}) => ({ head: this.#refuse(reason, ctx.peer, extra) })
    if (this.#stopping) return refuse('shutting-down')
    if (!this.#limiter.tryTake(ctx.peer)) return refuse('rate-limited', { retryAfterMs: Math.max(1, this.#limiter.retryAfterMs(ctx.peer)) })
    let request: RelayBlobRequest
    try {
      request = decodeBlobRequest(bytes)
    } catch (err) {
      if (!isHearthError(err)) throw err
      return refuse(blobRefusalForError(err.code))
    }
    setOp(request.op)
    const store = this.#o.store
    if (store === undefined) return refuse('unsupported')
    const now = this.#now()
    const check = verifyMailboxRequest(request.auth, this.#o.relayPeerId, blobParamsOf(request), this.#guard, now)
    if (!check.ok) {
      if (check.reason === 'stale') return refuse('stale', { relayTime: now })
      return refuse(check.reason, check.retryAfterMs === undefined ? {} : { retryAfterMs: check.retryAfterMs })
    }
    const mailbox = check.mailboxId
    try {
      switch (request.op) {
        case 'put-list': {
          const result = await store.putList(mailbox, ctx.peer, request.blob, request.padded, request.hashList)
          if ('refused' in result) return refuse(result.refused)
          return { head: { kind: 'listed', status: result.status, have: result.have } }
        }
        case 'put-chunks': {
          if (this.#uploads >= MAX_UPLOADS_IN_FLIGHT) return refuse('busy', { retryAfterMs: BUSY_RETRY_MS })
          this.#uploads++
          let result
          try {
            result = await store.putChunks(mailbox, request.blob, request.chunks)
          } finally {
            this.#uploads--
          }
          if ('refused' in result) return refuse(result.refused)
          const corrupt = result.results.filter((r) => r === 'corrupt').length
          result.results.forEach((r, k) => {
            this.#o.metrics.blobChunksReceived.inc({ result: r })
            if (r === 'stored') this.#o.metrics.blobBytesReceived.inc(request.chunks[k]!.cipher.length)
          })
          if (corrupt > 0) {
            this.#o.penalties.penalise(ctx.peer, 'blob-corrupt-chunk', PENALTY.corrupt)
            this.#o.logger.debug({ peer: ctx.peer, corrupt }, 'relay blob chunks refused: they do not match the hash list')
          }
          return { head: { kind: 'put', results: result.results } }
        }
        case 'get-list': {
          const found = await store.getList(mailbox, request.blob)
          if (found === undefined) return refuse('not-found')
          return { head: { kind: 'list', padded: found.padded, hashList: found.hashList } }
        }
        case 'get-chunks': {
          const range = await store.readRange(mailbox, request.blob, request.first, request.count)
          if (range === undefined) return refuse('not-found')
          return { head: { kind: 'chunks', have: range.have }, chunks: range.chunks }
        }
      }
    } catch (err) {
      if (isHearthError(err, 'NOT_RUNNING')) return refuse('shutting-down')
      if (isDiskFull(err)) return refuse('disk-full')
      throw err
    }
  }

  #refuse(reason: BlobRefusal, peer: string, extra: { retryAfterMs?: number; relayTime?: number } = {}): BlobResponseHead {
    this.#o.metrics.refusals.inc({ reason })
    const weight = PENALTY[reason]
    if (weight !== undefined) {
      this.#o.penalties.penalise(peer, `relay-blob-${reason}`, weight)
      this.#o.logger.debug({ peer, reason }, 'relay blob request refused')
    }
    return { kind: 'refused', reason, ...extra }
  }
}

function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}
