/**
 * The mailbox client against a scripted relay on the memory transport: batching, result order, refusal mapping, the
 * clock-offset retry and the watch loop. The real relay is exercised in test/integration/relay-*.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HearthError } from '../errors.js'
import { ReplayGuard, deriveMailboxKeys, verifyMailboxRequest } from '../crypto/mailbox-capability.js'
import { toHex } from '../util/bytes.js'
import {
  MAILBOX_PROTOCOL,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MailboxRefusedError,
  decodeMailboxRequest,
  encodeMailboxResponse,
  paramsOf,
  type MailboxRequest,
  type MailboxResponse,
} from '../wire/mailbox.js'
import { createHearthNode, type HearthNode } from './create-node.js'
import { MailboxClient, relayRendezvousCid } from './mailbox-client.js'
import { handleProtocol } from './request-response.js'

const keys = deriveMailboxKeys(new Uint8Array(32).fill(9))
const LIMITS = { maxRequestBytes: MAX_REQUEST_BYTES, maxResponseBytes: MAX_RESPONSE_BYTES, timeoutMs: 5_000 }

describe('MailboxClient', () => {
  let relay: HearthNode
  let node: HearthNode
  let client: MailboxClient
  const seen: MailboxRequest[] = []
  let answer: (req: MailboxRequest) => MailboxResponse | Promise<MailboxResponse>
  let relayClockOffset = 0

  beforeEach(async () => {
    seen.length = 0
    relayClockOffset = 0
    relay = await createHearthNode({ transports: 'memory' })
    node = await createHearthNode({ transports: 'memory' })
    const guard = new ReplayGuard()
    await handleProtocol(relay, MAILBOX_PROTOCOL, LIMITS, async (bytes) => {
      const req = decodeMailboxRequest(bytes)
      seen.push(req)
      const now = Date.now() + relayClockOffset
      const check = verifyMailboxRequest(req.auth, relay.peerId, paramsOf(req), guard, now)
      if (!check.ok) return encodeMailboxResponse({ kind: 'refused', reason: check.reason, relayTime: now })
      return encodeMailboxResponse(await answer(req))
    })
    client = new MailboxClient(node, { maxBatchEnvelopes: 3 })
    await node.dial(relay.addresses()[0]!)
  })

  afterEach(async () => {
    await Promise.all([relay.stop(), node.stop()])
  })

  const envelope = (n: number, size = 10) => ({ id: new Uint8Array(32).fill(n), bytes: new Uint8Array(size).fill(n) })

  it('splits a deposit into batches and returns one result per envelope, in order', async () => {
    answer = (req) => ({
      kind: 'deposit',
      results: (req as Extract<MailboxRequest, { op: 'deposit' }>).envelopes.map((e) =>
        e.id[0]! % 3 === 0 ? { status: 'refused', reason: 'mailbox-quota' } : e.id[0]! % 2 === 0 ? { status: 'duplicate' } : { status: 'stored' },
      ),
    })
    const envelopes = [1, 2, 3, 4, 5, 6, 7].map((n) => envelope(n))
    envelopes.splice(3, 0, envelope(8, 70_000))
    const results = await client.deposit(relay.peerId, keys, envelopes)
    expect(results.map((r) => [r.id[0], r.status, r.status === 'refused' ? r.reason : ''])).toEqual([
      [1, 'stored', ''],
      [2, 'duplicate', ''],
      [3, 'refused', 'mailbox-quota'],
      [8, 'refused', 'too-large'],
      [4, 'duplicate', ''],
      [5, 'stored', ''],
      [6, 'refused', 'mailbox-quota'],
      [7, 'stored', ''],
    ])
    const refused = results[2]
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'relay refused: mailbox quota exceeded' })
    // 7 sendable envelopes in batches of 3; the oversized one never left.
    expect(seen.map((r) => (r.op === 'deposit' ? r.envelopes.length : 0))).toEqual([3, 3, 1])
  })

  it('signs each request for this relay with a fresh nonce', async () => {
    answer = () => ({ kind: 'ack' })
    await client.ack(relay.peerId, keys, new Uint8Array(16), 'c.1')
    await client.ack(relay.peerId, keys, new Uint8Array(16), 'c.1')
    expect(seen).toHaveLength(2)
    expect(toHex(seen[0]!.auth.nonce)).not.toBe(toHex(seen[1]!.auth.nonce))
  })

  it('turns a refused request into MailboxRefusedError with reason, code and retry hint', async () => {
    answer = () => ({ kind: 'refused', reason: 'rate-limited', retryAfterMs: 1500 })
    const err = await client.fetch(relay.peerId, keys).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailboxRefusedError)
    expect(err).toMatchObject({ reason: 'rate-limited', code: 'RATE_LIMITED', retryAfterMs: 1500 })
  })

  it('learns the relay clock from a stale refusal and retries once', async () => {
    relayClockOffset = 60 * 60_000
    answer = () => ({ kind: 'page', items: [], next: 'g.0', more: false })
    const page = await client.fetch(relay.peerId, keys)
    expect(page).toEqual({ items: [], next: 'g.0', more: false })
    expect(seen).toHaveLength(2)
    // The offset is remembered: the next request is right the first time.
    await client.fetch(relay.peerId, keys)
    expect(seen).toHaveLength(3)
  })

  it('maps the relay framing layer errors to refusals and leaves network errors alone', async () => {
    await relay.libp2p.unhandle(MAILBOX_PROTOCOL)
    await handleProtocol(relay, MAILBOX_PROTOCOL, LIMITS, () => {
      throw new HearthError('RATE_LIMITED', 'slow down')
    })
    await expect(client.fetch(relay.peerId, keys)).rejects.toMatchObject({ reason: 'rate-limited', code: 'RATE_LIMITED' })
    await relay.libp2p.unhandle(MAILBOX_PROTOCOL)
    await expect(client.fetch(relay.peerId, keys)).rejects.toMatchObject({ reason: 'unsupported', code: 'UNSUPPORTED_VERSION' })
  })

  it('accepts a multiaddr with /p2p/ and refuses one without', async () => {
    answer = () => ({ kind: 'ack' })
    await client.ack(relay.addresses()[0]!, keys, new Uint8Array(16), 'c.1')
    await expect(client.ack('/memory/nowhere', keys, new Uint8Array(16), 'c.1')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(client.ack(relay.peerId, keys, new Uint8Array(8), 'c.1')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(client.fetch(relay.peerId, keys, { limit: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('watch: pages in order, long-polls when caught up, stops on abort, gives up on fatal refusals', async () => {
    let served = 0
    answer = async (req) => {
      const r = req as Extract<MailboxRequest, { op: 'fetch' }>
      served++
      if (r.after === null) return { kind: 'page', items: [{ cursor: 'c.1', id: new Uint8Array(32).fill(1), bytes: new Uint8Array(1) }], next: 'c.1', more: true }
      if (r.after === 'c.1') return { kind: 'page', items: [{ cursor: 'c.2', id: new Uint8Array(32).fill(2), bytes: new Uint8Array(1) }], next: 'c.2', more: false }
      expect(r.waitMs).toBe(100)
      await new Promise((resolve) => setTimeout(resolve, 20))
      return { kind: 'page', items: [], next: 'c.2', more: false }
    }
    const controller = new AbortController()
    const pages: string[] = []
    const watching = client.watch(relay.peerId, keys, {
      signal: controller.signal,
      waitMs: 100,
      onPage: (page) => {
        pages.push(page.next)
      },
    })
    while (served < 4) await new Promise((resolve) => setTimeout(resolve, 10))
    controller.abort()
    await watching
    expect(pages).toEqual(['c.1', 'c.2'])

    answer = () => ({ kind: 'refused', reason: 'unauthorized' })
    await expect(client.watch(relay.peerId, keys, { signal: new AbortController().signal, onPage: () => {} })).rejects.toMatchObject({ reason: 'unauthorized' })
  })
})

describe('relay rendezvous key', () => {
  it('is a stable CIDv1 (raw, sha2-256)', () => {
    const cid = relayRendezvousCid()
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(cid.toString()).toBe(relayRendezvousCid().toString())
  })
})
