/**
 * The client end of the relay mailbox protocol (`/hearth/mailbox/1.0.0`, wire/mailbox.ts; ADR 0010), used by the
 * desktop core to deposit envelopes on relays and fetch them back. It knows nothing of conversations: it is given
 * `MailboxKeys` (crypto/mailbox-capability.ts) and opaque envelope bytes.
 *
 * Every refusal surfaces as a `MailboxRefusedError` (a HearthError with a stable `code` and a machine-readable
 * `reason`), so the caller can say "relay refused: mailbox quota exceeded" and decide whether to retry. Network
 * failures stay UNREACHABLE / TIMEOUT. A deposit answer is per envelope: some may be stored while others are refused.
 *
 * Relay discovery: relays announce themselves as providers of one well-known DHT key (`relayRendezvousCid`);
 * `findRelays` lists them through any DHT node the client is connected to (ADR 0010, docs/RELAY.md).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { HearthError, isHearthError, type ErrorCode } from '../errors.js'
import { sha256 } from '../crypto/kdf.js'
import {
  READER_TAG_MAX_BYTES,
  READER_TAG_MIN_BYTES,
  signMailboxRequest,
  type MailboxAuth,
  type MailboxKeys,
  type MailboxParams,
} from '../crypto/mailbox-capability.js'
import { utf8 } from '../util/bytes.js'
import {
  DEFAULT_PAGE_ITEMS,
  ENVELOPE_HASH_BYTES,
  MAILBOX_PROTOCOL,
  MAX_DEPOSIT_ENVELOPES,
  MAX_MAILBOX_ENVELOPE_BYTES,
  MAX_PAGE_ITEMS,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_WAIT_MS,
  MIN_ENVELOPE_ID_BYTES,
  MailboxRefusedError,
  decodeMailboxResponse,
  encodeMailboxRequest,
  isMailboxCursor,
  refusalCode,
  refusalForError,
  refusalText,
  type EnvelopeRefusal,
  type MailboxRequest,
  type MailboxResponse,
  type PageItem,
} from '../wire/mailbox.js'
import { requestOne, type ProtocolLimits } from './request-response.js'
import type { HearthNode } from './create-node.js'
import type { PeerId } from '@libp2p/interface'

export interface MailboxClientOptions {
  /** Deadline for one exchange; a fetch that waits adds its `waitMs`. Default 20 s. */
  timeoutMs?: number
  /** Wall clock in ms (request timestamps). Default `Date.now`. */
  now?: () => number
  /** Envelopes per deposit request; a larger deposit is split into several requests. Default 128. */
  maxBatchEnvelopes?: number
  /** Approximate bytes per deposit request. Default 1 MiB (the protocol allows 2 MiB). */
  maxBatchBytes?: number
}

/** A relay: its PeerId, or a multiaddr ending in `/p2p/<PeerId>` (dialed when not connected). */
export type RelayTarget = PeerId | string

export interface Envelope {
  /** SHA-256 of `bytes`, or a prefix of it of 16..32 bytes (the core's `envelopeId`). The idempotency key. */
  id: Uint8Array
  bytes: Uint8Array
}

export type DepositResult =
  | { id: Uint8Array; status: 'stored' | 'duplicate' }
  | { id: Uint8Array; status: 'refused'; reason: EnvelopeRefusal; code: ErrorCode; message: string }

export interface FetchOptions {
  /**
   * Cursor from a previous page's `next`. `null` or absent: from the oldest envelope the relay holds, or, when
   * `readerTag` is given, from the position last acknowledged with that tag.
   */
  after?: string | null
  readerTag?: Uint8Array
  /** Items per page, 1..1000. Default 500. */
  limit?: number
  /** When nothing is there yet, let the relay hold the request up to this long for new deposits (≤ 25 s). */
  waitMs?: number
  signal?: AbortSignal
}

export interface FetchPage {
  items: PageItem[]
  /** Pass as `after` to continue. Opaque; valid on this relay only. */
  next: string
  /** More items are already waiting: fetch again at once. */
  more: boolean
}

export interface WatchOptions extends Omit<FetchOptions, 'waitMs' | 'signal'> {
  /** Stops the watch (the returned promise then resolves). Required: a watch otherwise runs forever. */
  signal: AbortSignal
  /** Called with each non-empty page, in order; the next fetch waits for it (back-pressure). */
  onPage: (page: FetchPage) => void | Promise<void>
  /** Told about each failed fetch before the watch backs off and retries. */
  onError?: (err: unknown) => void
  /** Long-poll length. Default 25 s. */
  waitMs?: number
}

/** Refusals a retry cannot fix: a watch gives up on them instead of retrying forever. */
const FATAL_REASONS = new Set(['unauthorized', 'unsupported', 'malformed'])

/**
 * Codes from the framing layer that can only mean the relay refused: its rate limit, an error in its handler, or a
 * peer that does not speak the mailbox protocol. The others (TOO_LARGE, MALFORMED, TIMEOUT) arise just as well on our
 * side from a stream that broke mid-way, so they stay plain HearthErrors: retryable network trouble, not refusals.
 */
const FRAMING_REFUSALS = new Set<ErrorCode>(['RATE_LIMITED', 'INTERNAL', 'UNSUPPORTED_VERSION'])

/** Per-envelope CBOR overhead in a deposit request (map keys, id, length headers), for splitting batches. */
const ENVELOPE_OVERHEAD_BYTES = 64

export class MailboxClient {
  readonly #node: HearthNode
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #maxBatchEnvelopes: number
  readonly #maxBatchBytes: number
  /** Relay clock minus ours, learned from `stale` refusals, so a client with a wrong clock still works. */
  readonly #offsets = new Map<string, number>()

  constructor(node: HearthNode, options: MailboxClientOptions = {}) {
    this.#node = node
    this.#timeoutMs = options.timeoutMs ?? 20_000
    this.#now = options.now ?? Date.now
    this.#maxBatchEnvelopes = Math.min(options.maxBatchEnvelopes ?? 128, MAX_DEPOSIT_ENVELOPES)
    this.#maxBatchBytes = Math.min(options.maxBatchBytes ?? 1024 * 1024, MAX_REQUEST_BYTES - 4096)
  }

  /**
   * Deposits envelopes; the answer has one result per envelope, in order. Resolves only once the relay has written
   * every stored envelope durably. Throws MailboxRefusedError when the relay refuses a whole request (rate limit,
   * capability, clock...), UNREACHABLE / TIMEOUT on network failures. Depositing the same envelope again is safe.
   */
  async deposit(relay: RelayTarget, keys: MailboxKeys, envelopes: readonly Envelope[], options: { signal?: AbortSignal } = {}): Promise<DepositResult[]> {
    const peer = await this.#resolve(relay)
    const results: Array<DepositResult | undefined> = new Array(envelopes.length)
    let batch: Array<{ index: number; envelope: Envelope }> = []
    let batchBytes = 0

    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      const sent = batch
      batch = []
      batchBytes = 0
      const params: MailboxParams = { op: 'deposit', ids: sent.map((s) => s.envelope.id) }
      const response = await this.#exchange(peer, keys, params, (auth) => ({ op: 'deposit', auth, envelopes: sent.map((s) => s.envelope) }), this.#limits(0), options.signal)
      if (response.kind !== 'deposit' || response.results.length !== sent.length) {
        throw new HearthError('PROTOCOL_ERROR', 'relay answered a deposit with something else')
      }
      response.results.forEach((outcome, i) => {
        const { index, envelope } = sent[i]!
        results[index] =
          outcome.status === 'refused'
            ? { id: envelope.id, status: 'refused', reason: outcome.reason, code: refusalCode(outcome.reason), message: `relay refused: ${refusalText(outcome.reason)}` }
            : { id: envelope.id, status: outcome.status }
      })
    }

    for (const [index, envelope] of envelopes.entries()) {
      if (!(envelope.id instanceof Uint8Array) || envelope.id.length < MIN_ENVELOPE_ID_BYTES || envelope.id.length > ENVELOPE_HASH_BYTES) {
        throw new HearthError('INVALID_INPUT', `envelope ${index}: an envelope id is 16..32 bytes`)
      }
      if (envelope.bytes.length > MAX_MAILBOX_ENVELOPE_BYTES) {
        // No relay accepts it; say so without a round trip.
        results[index] = { id: envelope.id, status: 'refused', reason: 'too-large', code: 'TOO_LARGE', message: 'envelope over the 64 KiB cap' }
        continue
      }
      const size = envelope.bytes.length + ENVELOPE_OVERHEAD_BYTES
      if (batch.length >= this.#maxBatchEnvelopes || (batch.length > 0 && batchBytes + size > this.#maxBatchBytes)) await flush()
      batch.push({ index, envelope })
      batchBytes += size
    }
    await flush()
    return results.map((r) => r!)
  }

  /** One page of a mailbox after a cursor. See `FetchOptions`. */
  async fetch(relay: RelayTarget, keys: MailboxKeys, options: FetchOptions = {}): Promise<FetchPage> {
    const peer = await this.#resolve(relay)
    const limit = options.limit ?? DEFAULT_PAGE_ITEMS
    const waitMs = options.waitMs ?? 0
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_ITEMS) throw new HearthError('INVALID_INPUT', `limit must be 1..${MAX_PAGE_ITEMS}`)
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) throw new HearthError('INVALID_INPUT', `waitMs must be 0..${MAX_WAIT_MS}`)
    const after = options.after ?? null
    if (after !== null && !isMailboxCursor(after)) throw new HearthError('INVALID_INPUT', 'not a mailbox cursor')
    const reader = options.readerTag ?? null
    if (reader !== null) checkReaderTag(reader)
    const params: MailboxParams = { op: 'fetch', after, reader, limit, waitMs }
    const response = await this.#exchange(peer, keys, params, (auth) => ({ op: 'fetch', auth, after, reader, limit, waitMs }), this.#limits(waitMs), options.signal)
    if (response.kind !== 'page') throw new HearthError('PROTOCOL_ERROR', 'relay answered a fetch with something else')
    return { items: response.items, next: response.next, more: response.more }
  }

  /**
   * Tells the relay this reader has everything up to `cursor`, so a later fetch with the same `readerTag` and no
   * `after` resumes there. Positions only move forward. It deletes nothing: in a group mailbox the relay cannot know
   * who else still needs an envelope; retention and the relay's disk budget remove envelopes.
   */
  async ack(relay: RelayTarget, keys: MailboxKeys, readerTag: Uint8Array, cursor: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const peer = await this.#resolve(relay)
    checkReaderTag(readerTag)
    if (!isMailboxCursor(cursor)) throw new HearthError('INVALID_INPUT', 'not a mailbox cursor')
    const params: MailboxParams = { op: 'ack', reader: readerTag, cursor }
    const response = await this.#exchange(peer, keys, params, (auth) => ({ op: 'ack', auth, reader: readerTag, cursor }), this.#limits(0), options.signal)
    if (response.kind !== 'ack') throw new HearthError('PROTOCOL_ERROR', 'relay answered an ack with something else')
  }

  /**
   * Follows a mailbox: fetches what is there, then long-polls so new deposits arrive as the relay stores them. Network
   * failures and temporary refusals are reported to `onError` and retried with backoff (1 s doubling to 30 s);
   * refusals a retry cannot fix (no capability, unsupported, malformed) reject the returned promise. Resolves when `signal`
   * aborts. Resume after a restart by passing the last page's `next` (or a reader tag) as `after`.
   */
  async watch(relay: RelayTarget, keys: MailboxKeys, options: WatchOptions): Promise<void> {
    const { signal } = options
    let after = options.after ?? null
    let waitMs = 0
    let backoffMs = 1000
    while (!signal.aborted) {
      try {
        const page = await this.fetch(relay, keys, {
          after,
          ...(after === null && options.readerTag !== undefined ? { readerTag: options.readerTag } : {}),
          ...(options.limit === undefined ? {} : { limit: options.limit }),
          waitMs,
          signal,
        })
        backoffMs = 1000
        if (page.items.length > 0) await options.onPage(page)
        after = page.next
        waitMs = page.more ? 0 : Math.min(options.waitMs ?? MAX_WAIT_MS, MAX_WAIT_MS)
      } catch (err) {
        if (signal.aborted) return
        if (err instanceof MailboxRefusedError && FATAL_REASONS.has(err.reason)) throw err
        options.onError?.(err)
        const delay = err instanceof MailboxRefusedError && err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 100) : backoffMs
        backoffMs = Math.min(backoffMs * 2, 30_000)
        await sleep(delay, signal)
      }
    }
  }

  #limits(waitMs: number): ProtocolLimits {
    return {
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      timeoutMs: this.#timeoutMs + waitMs,
      // The relay answers a long-poll only when something arrives or the wait ends.
      readTimeoutMs: this.#timeoutMs + waitMs,
    }
  }

  async #resolve(relay: RelayTarget): Promise<string> {
    if (typeof relay !== 'string') return relay.toString()
    if (!relay.startsWith('/')) {
      try {
        return peerIdFromString(relay).toString()
      } catch (err) {
        throw new HearthError('INVALID_INPUT', `not a relay PeerId or multiaddr: ${relay}`, { cause: err })
      }
    }
    let address: Multiaddr
    try {
      address = multiaddr(relay)
    } catch (err) {
      throw new HearthError('INVALID_INPUT', `not a multiaddr: ${relay}`, { cause: err })
    }
    // The last /p2p/ component names the relay (a circuit address names the hop relay first).
    const peer = address.getComponents().filter((c) => c.code === CODE_P2P).at(-1)?.value
    if (peer === undefined) throw new HearthError('INVALID_INPUT', `relay multiaddr needs /p2p/<PeerId>: ${relay}`)
    if (this.#node.libp2p.getConnections(peerIdFromString(peer)).length === 0) await this.#node.dial(relay)
    return peer
  }

  async #exchange(
    peer: string,
    keys: MailboxKeys,
    params: MailboxParams,
    build: (auth: MailboxAuth) => MailboxRequest,
    limits: ProtocolLimits,
    signal: AbortSignal | undefined,
  ): Promise<Exclude<MailboxResponse, { kind: 'refused' }>> {
    for (let attempt = 0; ; attempt++) {
      const timestamp = this.#now() + (this.#offsets.get(peer) ?? 0)
      const body = encodeMailboxRequest(build(signMailboxRequest(keys, peer, params, { timestamp })))
      let raw: Uint8Array
      try {
        raw = await requestOne(this.#node, peer, MAILBOX_PROTOCOL, body, limits, signal === undefined ? {} : { signal })
      } catch (err) {
        if (isHearthError(err) && FRAMING_REFUSALS.has(err.code) && !(err instanceof MailboxRefusedError)) {
          throw new MailboxRefusedError(refusalForError(err.code), { message: err.publicMessage, cause: err })
        }
        throw err
      }
      const response = decodeMailboxResponse(raw)
      if (response.kind !== 'refused') return response
      // Our clock is off: learn the relay's and try once more (a fresh nonce, so this is no replay).
      if (response.reason === 'stale' && response.relayTime !== undefined && attempt === 0) {
        this.#offsets.set(peer, response.relayTime - this.#now())
        continue
      }
      throw new MailboxRefusedError(response.reason, {
        ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
        ...(response.relayTime === undefined ? {} : { relayTime: response.relayTime }),
      })
    }
  }
}

function checkReaderTag(tag: Uint8Array): void {
  if (!(tag instanceof Uint8Array) || tag.length < READER_TAG_MIN_BYTES || tag.length > READER_TAG_MAX_BYTES) {
    throw new HearthError('INVALID_INPUT', `a reader tag is ${READER_TAG_MIN_BYTES}..${READER_TAG_MAX_BYTES} bytes`)
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

// -------------------------------------------------------------------------------------------------- discovery

/** The text whose SHA-256 is the DHT key relays provide. Versioned: another scheme gets another key. */
export const RELAY_RENDEZVOUS_NAMESPACE = 'hearth/v1/relay-rendezvous'

/**
 * The well-known DHT key of Hearth relays: CIDv1, codec raw (0x55), multihash sha2-256 of
 * `utf8("hearth/v1/relay-rendezvous")`. Relays `provide` it on Hearth's DHT (`/hearth/kad/1.0.0`); clients
 * `findProviders` it to learn relays' PeerIds and addresses.
 */
export function relayRendezvousCid(): CID {
  return CID.createV1(raw.code, createDigest(0x12, sha256(utf8(RELAY_RENDEZVOUS_NAMESPACE))))
}

export interface DiscoveredRelay {
  peerId: string
  /** Multiaddrs ending in /p2p/<peerId>. */
  addresses: string[]
}

/**
 * Relays found on the DHT (the node needs `dht: 'client'` or `'server'` and a connection to at least one DHT server,
 * such as a relay it bootstrapped from). Stops after `max` relays or when `signal` aborts (default 10 s), returning
 * what it found; never throws for lack of results.
 */
export async function findRelays(node: HearthNode, options: { max?: number; signal?: AbortSignal } = {}): Promise<DiscoveredRelay[]> {
  const max = options.max ?? 20
  const signal = options.signal ?? AbortSignal.timeout(10_000)
  const found = new Map<string, DiscoveredRelay>()
  try {
    for await (const provider of node.libp2p.contentRouting.findProviders(relayRendezvousCid(), { signal })) {
      const peerId = provider.id.toString()
      if (peerId === node.peerId) continue
      const addresses = provider.multiaddrs.map((ma) =>
        ma.getComponents().some((c) => c.code === CODE_P2P) ? ma.toString() : `${ma.toString()}/p2p/${peerId}`,
      )
      const known = found.get(peerId)
      if (known === undefined) found.set(peerId, { peerId, addresses })
      else for (const a of addresses) if (!known.addresses.includes(a)) known.addresses.push(a)
      if (found.size >= max) break
    }
  } catch (err) {
    // A timeout or an empty routing table ends the search; what was found so far is the answer.
    if (!signal.aborted && !isQueryExhausted(err)) throw new HearthError('UNREACHABLE', 'relay discovery failed', { cause: err })
  }
  return [...found.values()]
}

function isQueryExhausted(err: unknown): boolean {
  const name = err instanceof Error ? err.name : ''
  return name === 'NotFoundError' || name === 'NoPeersError' || name === 'AbortError'
}

