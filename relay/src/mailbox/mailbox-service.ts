/**
 * The relay end of `/hearth/mailbox/1.0.0` (wire/mailbox.ts; ADR 0010): decode, check the capability, apply limits,
 * hand the work to the store, answer. Every refusal is typed to the client and counted in metrics; nothing is dropped
 * silently. Abuse seen here (garbage, forged or replayed requests) also counts against the peer in PeerPenalties,
 * which bans a peer that keeps at it.
 *
 * Order of checks, cheapest first: shutting down, the peer's request rate, decoding, the timestamp window, the
 * signature, the nonce (remembered per mailbox in bounded memory: replay-guard.ts says who pays when it is full). A
 * request refused early costs the relay almost nothing.
 */
import { performance } from 'node:perf_hooks'
import { isHearthError } from '../../../node/common/errors.js'
import { ReplayGuard, verifyMailboxRequest } from '../../../node/common/crypto/mailbox-capability.js'
import { RateLimiter } from '../../../node/common/net/rate-limiter.js'
import type { HandlerContext } from '../../../node/common/net/request-response.js'
import type { PeerPenalties } from '../../../node/common/net/peer-penalties.js'
import { toBase64Url } from '../../../node/common/util/bytes.js'
import {
  MAX_PAGE_BYTES,
  decodeMailboxRequest,
  encodeMailboxResponse,
  paramsOf,
  refusalForError,
  type MailboxRequest,
  type MailboxResponse,
  type RequestRefusal,
} from '../../../node/common/wire/mailbox.js'
import type { RelayMetrics } from '../ops/metrics.js'
import type { Logger } from '../ops/logger.js'
import type { MailboxStore } from '../store/mailbox-store.js'
import { WaitingFetches } from './waiting-fetches.js'

export interface MailboxServiceOptions {
  relayPeerId: string
  store: MailboxStore
  metrics: RelayMetrics
  penalties: PeerPenalties
  logger: Logger
  requestsPerSecond: number
  requestBurst: number
  maxWaitingFetches: number
  maxWaitingFetchesPerPeer: number
  clockSkewMs: number
  /** Bounds of the replay guard (defaults: ReplayGuard's). */
  replayGuard?: { maxEntries?: number; maxPerMailbox?: number }
  now?: () => number
}

/** Penalty weights (PeerPenalties bans at 100): garbage and forgeries are never sent by an honest client. */
const PENALTY: Partial<Record<RequestRefusal, number>> = { malformed: 10, 'too-large': 20, unauthorized: 10, replayed: 10, unsupported: 2 }
/** What a client is told to wait when the relay holds too many waiting fetches. */
const BUSY_RETRY_MS = 5_000

export class MailboxService {
  readonly #o: MailboxServiceOptions
  readonly #guard: ReplayGuard
  readonly #limiter: RateLimiter
  readonly #waiting: WaitingFetches
  readonly #now: () => number
  #inFlight = 0
  #idle: (() => void) | undefined
  #stopping = false

  constructor(options: MailboxServiceOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#guard = new ReplayGuard({ windowMs: options.clockSkewMs, ...options.replayGuard })
    this.#limiter = new RateLimiter({ ratePerSecond: options.requestsPerSecond, burst: options.requestBurst })
    this.#waiting = new WaitingFetches(options.maxWaitingFetches, options.maxWaitingFetchesPerPeer)
  }

  get waitingFetches(): number {
    return this.#waiting.size
  }

  /** The replay guard's memory in use, in nonces, each remembered mailbox counting as 5 (a gauge in /metrics). */
  get replayGuardLoad(): number {
    return this.#guard.units
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** Called by the store once deposits for a mailbox are durable: wakes fetches waiting on it. */
  stored(mailbox: string): void {
    this.#waiting.wake(mailbox)
  }

  /** The protocol handler (for handleProtocol). */
  readonly handle = async (bytes: Uint8Array, ctx: HandlerContext): Promise<Uint8Array> => {
    const started = performance.now()
    this.#inFlight++
    let op = 'unknown'
    try {
      const response = await this.#serve(bytes, ctx, (name) => {
        op = name
      })
      this.#o.metrics.requests.inc({ op, outcome: response.kind === 'refused' ? 'refused' : 'ok' })
      return encodeMailboxResponse(response)
    } catch (err) {
      this.#o.metrics.requests.inc({ op, outcome: 'error' })
      this.#o.metrics.refusals.inc({ reason: 'internal' })
      this.#o.logger.error({ op, err: describe(err) }, 'mailbox request failed')
      return encodeMailboxResponse({ kind: 'refused', reason: 'internal' })
    } finally {
      this.#o.metrics.requestDuration.observe({ op }, (performance.now() - started) / 1000)
      if (--this.#inFlight === 0) this.#idle?.()
    }
  }

  /** Refuses new requests from now on and answers waiting fetches at once. */
  stopAccepting(): void {
    this.#stopping = true
    this.#waiting.wakeAll()
  }

  /** Resolves once no request is being handled, or after `timeoutMs`. */
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

  async #serve(bytes: Uint8Array, ctx: HandlerContext, setOp: (op: string) => void): Promise<MailboxResponse> {
    if (this.#stopping) return this.#refuse('shutting-down', ctx.peer)
    if (!this.#limiter.tryTake(ctx.peer)) {
      return this.#refuse('rate-limited', ctx.peer, { retryAfterMs: Math.max(1, this.#limiter.retryAfterMs(ctx.peer)) })
    }
    let request: MailboxRequest
    try {
      request = decodeMailboxRequest(bytes)
    } catch (err) {
      if (!isHearthError(err)) throw err
      return this.#refuse(refusalForError(err.code), ctx.peer)
    }
    setOp(request.op)
    const now = this.#now()
    const check = verifyMailboxRequest(request.auth, this.#o.relayPeerId, paramsOf(request), this.#guard, now)
    if (!check.ok) {
      // The relay's clock goes back with a stale refusal, so an honest client with a wrong clock can correct itself.
      if (check.reason === 'stale') return this.#refuse(check.reason, ctx.peer, { relayTime: now })
      return this.#refuse(check.reason, ctx.peer, check.retryAfterMs === undefined ? {} : { retryAfterMs: check.retryAfterMs })
    }
    try {
      switch (request.op) {
        case 'deposit':
          return await this.#deposit(check.mailboxId, request, ctx)
        case 'fetch':
          return await this.#fetch(check.mailboxId, request, ctx)
        case 'ack':
          return await this.#ack(check.mailboxId, request, ctx)
      }
    } catch (err) {
      // The store stopped taking work under us: the relay is shutting down.
      if (isHearthError(err, 'NOT_RUNNING')) return this.#refuse('shutting-down', ctx.peer)
      throw err
    }
  }

  async #deposit(mailboxId: Uint8Array, request: Extract<MailboxRequest, { op: 'deposit' }>, ctx: HandlerContext): Promise<MailboxResponse> {
    const results = await this.#o.store.deposit(mailboxId, ctx.peer, request.envelopes)
    const { metrics } = this.#o
    for (const r of results) {
      if (r.status === 'refused') {
        metrics.deposits.inc({ result: 'refused' })
        metrics.refusals.inc({ reason: r.reason })
      } else {
        metrics.deposits.inc({ result: r.status })
      }
    }
    return { kind: 'deposit', results }
  }

  async #fetch(mailboxId: Uint8Array, request: Extract<MailboxRequest, { op: 'fetch' }>, ctx: HandlerContext): Promise<MailboxResponse> {
    const { store } = this.#o
    const mailbox = toBase64Url(mailboxId)
    // Registered before the first read: a deposit landing between the read and the wait still wakes us.
    const waiter = request.waitMs > 0 ? this.#waiting.register(mailbox, ctx.peer) : undefined
    if (request.waitMs > 0 && waiter === undefined) return this.#refuse('busy', ctx.peer, { retryAfterMs: BUSY_RETRY_MS })
    try {
      let page = await store.page(mailboxId, { after: request.after, reader: request.reader }, request.limit, MAX_PAGE_BYTES)
      if (waiter !== undefined && page.items.length === 0 && !page.more && !this.#stopping) {
        await waitFor(waiter.woken, request.waitMs, ctx.signal)
        if (!ctx.signal.aborted) page = await store.page(mailboxId, { after: page.next, reader: null }, request.limit, MAX_PAGE_BYTES)
      }
      this.#o.metrics.fetchedEnvelopes.inc(page.items.length)
      return { kind: 'page', items: page.items, next: page.next, more: page.more }
    } finally {
      waiter?.release()
    }
  }

  async #ack(mailboxId: Uint8Array, request: Extract<MailboxRequest, { op: 'ack' }>, ctx: HandlerContext): Promise<MailboxResponse> {
    const outcome = await this.#o.store.ack(mailboxId, request.reader, request.cursor)
    return outcome === 'ok' ? { kind: 'ack' } : this.#refuse('mailbox-quota', ctx.peer)
  }

  #refuse(reason: RequestRefusal, peer: string, extra: { retryAfterMs?: number; relayTime?: number } = {}): MailboxResponse {
    this.#o.metrics.refusals.inc({ reason })
    const weight = PENALTY[reason]
    if (weight !== undefined) {
      this.#o.penalties.penalise(peer, `mailbox-${reason}`, weight)
      this.#o.logger.debug({ peer, reason }, 'mailbox request refused')
    }
    return { kind: 'refused', reason, ...extra }
  }
}

function waitFor(woken: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    void woken.then(done)
  })
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}
