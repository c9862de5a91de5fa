/**
 * The relay mailbox end to end against a real `hearth-relay` process: deposit, fetch, ack and resume, long-poll push,
 * capability negatives (no read capability, no deposit capability, forged, replayed, for another relay, stale),
 * content-blindness of what the relay stores and logs, /healthz and /metrics, and a graceful SIGTERM.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveMailboxKeys, signMailboxRequest, type MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { generateSigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { requestOne } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { toBase64Url } from '../../node/common/util/bytes.js'
import {
  MAILBOX_PROTOCOL,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MailboxRefusedError,
  decodeMailboxResponse,
  encodeMailboxRequest,
  type MailboxRequest,
} from '../../node/common/wire/mailbox.js'
import { clientNode, hex, randomEnvelope, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'

const LIMITS = { maxRequestBytes: MAX_REQUEST_BYTES, maxResponseBytes: MAX_RESPONSE_BYTES, timeoutMs: 10_000 }
const secret = new Uint8Array(32).fill(0x5e)
const keys = deriveMailboxKeys(secret)

describe('relay mailbox (real relay process)', () => {
  let relay: RelayProcess
  let alice: ClientNode
  let bob: ClientNode
  const deposited: Array<{ id: Uint8Array; bytes: Uint8Array }> = []

  beforeAll(async () => {
    relay = await spawnRelay()
    alice = await clientNode()
    bob = await clientNode()
  })

  afterAll(async () => {
    await Promise.allSettled([alice?.stop(), bob?.stop()])
    await relay?.stop()
    await removeRelayDir(relay)
  })

  /** Sends a hand-built request (for forged and replayed cases) and decodes the answer. */
  async function raw(node: ClientNode, request: MailboxRequest) {
    return decodeMailboxResponse(await requestOne(node.node, relay.peerId, MAILBOX_PROTOCOL, encodeMailboxRequest(request), LIMITS))
  }

  it('prints its PeerId and multiaddrs with /p2p/, and answers /healthz', async () => {
    expect(relay.peerId).toMatch(/^12D3KooW/)
    expect(relay.multiaddrs.length).toBeGreaterThanOrEqual(2)
    for (const a of relay.multiaddrs) expect(a.endsWith(`/p2p/${relay.peerId}`)).toBe(true)
    expect(relay.multiaddrs.some((a) => a.includes('/ws/'))).toBe(true)
    await waitFor(() => relay.stderr.join('').includes(`hearth-relay ${relay.peerId}`), { message: 'the banner on stderr' })
    const health = await fetch(`${relay.httpUrl}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
  })

  it('round trip: deposit (idempotent), fetch in pages, ack, resume from the relay memory', async () => {
    for (let i = 0; i < 25; i++) deposited.push(randomEnvelope(200 + i))
    const results = await alice.client.deposit(relay.address, keys, deposited)
    expect(results.every((r) => r.status === 'stored')).toBe(true)
    // Depositing again (a retry from the outbox, or a second member holding the same envelope) is harmless.
    const again = await bob.client.deposit(relay.address, keys, deposited.slice(0, 5).map((e) => ({ id: e.id.subarray(0, 16), bytes: e.bytes })))
    expect(again.map((r) => r.status)).toEqual(Array(5).fill('duplicate'))

    const seen: string[] = []
    let after: string | null = null
    let pages = 0
    for (;;) {
      const page = await bob.client.fetch(relay.address, keys, { after, limit: 10 })
      seen.push(...page.items.map((i) => hex(i.id)))
      after = page.next
      pages++
      if (!page.more) break
    }
    expect(pages).toBe(3)
    expect(seen).toEqual(deposited.map((e) => hex(e.id)))

    const reader = new Uint8Array(16).fill(0xb0)
    const firstTen = await bob.client.fetch(relay.peerId, keys, { limit: 10 })
    await bob.client.ack(relay.peerId, keys, reader, firstTen.next)
    const resumed = await bob.client.fetch(relay.peerId, keys, { readerTag: reader, limit: 100 })
    expect(resumed.items.map((i) => hex(i.id))).toEqual(deposited.slice(10).map((e) => hex(e.id)))
    // Acks do not delete: another member (another reader) still gets everything.
    const other = await alice.client.fetch(relay.peerId, keys, { readerTag: new Uint8Array(16).fill(0xa0), limit: 100 })
    expect(other.items).toHaveLength(25)
  })

  it('pushes a new deposit to a member waiting on the mailbox (long-poll)', async () => {
    const head = await bob.client.fetch(relay.peerId, keys, { limit: 1000 })
    const started = Date.now()
    const waiting = bob.client.fetch(relay.peerId, keys, { after: head.next, waitMs: 20_000 })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const fresh = randomEnvelope()
    await alice.client.deposit(relay.peerId, keys, [fresh])
    const page = await waiting
    expect(page.items.map((i) => hex(i.id))).toEqual([hex(fresh.id)])
    expect(Date.now() - started).toBeLessThan(10_000)
    deposited.push(fresh)
  })

  it('refuses a fetch without the read capability and a deposit without the deposit capability', async () => {
    // An observer who knows the mailbox id and both public keys (everything a request shows), but not the secret.
    const stranger = generateSigningKeyPair()
    const noRead: MailboxKeys = { ...keys, read: { publicKey: keys.read.publicKey, seed: stranger.seed } }
    await expect(bob.client.fetch(relay.peerId, noRead)).rejects.toMatchObject({ reason: 'unauthorized', code: 'UNAUTHORIZED' })
    // A member's read key does not let anyone deposit.
    const readOnly: MailboxKeys = { ...keys, deposit: { publicKey: keys.deposit.publicKey, seed: keys.read.seed } }
    await expect(bob.client.deposit(relay.peerId, readOnly, [randomEnvelope()])).rejects.toMatchObject({ reason: 'unauthorized' })
    // Keys of another mailbox read another (empty) mailbox, never this one.
    const other = await bob.client.fetch(relay.peerId, deriveMailboxKeys(new Uint8Array(32).fill(1)))
    expect(other.items).toEqual([])
  })

  it('refuses forged, replayed, misdirected and stale requests with typed reasons', async () => {
    const params = { op: 'fetch' as const, after: null, reader: null, limit: 10, waitMs: 0 }
    const request = (auth = signMailboxRequest(keys, relay.peerId, params)): MailboxRequest => ({ op: 'fetch', auth, after: null, reader: null, limit: 10, waitMs: 0 })

    const good = request()
    expect(await raw(bob, good)).toMatchObject({ kind: 'page' })
    expect(await raw(bob, good)).toEqual({ kind: 'refused', reason: 'replayed' })
    // Replayed by someone else, on another connection: still refused.
    expect(await raw(alice, good)).toEqual({ kind: 'refused', reason: 'replayed' })

    const forged = request()
    forged.auth.signature = new Uint8Array(64).fill(7)
    expect(await raw(bob, forged)).toEqual({ kind: 'refused', reason: 'unauthorized' })
    // The parameters are signed: a changed limit breaks the signature.
    expect(await raw(bob, { ...request(), limit: 11 } as MailboxRequest)).toEqual({ kind: 'refused', reason: 'unauthorized' })

    const elsewhere = request(signMailboxRequest(keys, '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo', params))
    expect(await raw(bob, elsewhere)).toEqual({ kind: 'refused', reason: 'unauthorized' })

    const stale = await raw(bob, request(signMailboxRequest(keys, relay.peerId, params, { timestamp: Date.now() - 10 * 60_000 })))
    expect(stale).toMatchObject({ kind: 'refused', reason: 'stale' })
    expect(Math.abs((stale as { relayTime: number }).relayTime - Date.now())).toBeLessThan(5_000)

    // A client whose clock is 10 minutes off still works: it learns the relay's clock from the refusal.
    const skewed = await clientNode({}, { now: () => Date.now() - 10 * 60_000 })
    try {
      expect((await skewed.client.fetch(relay.address, keys, { limit: 1 })).items).toHaveLength(1)
    } finally {
      await skewed.stop()
    }

    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'replayed' })).toBe(2)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'unauthorized' })).toBeGreaterThanOrEqual(5)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'stale' })).toBe(2)
  })

  it('MailboxRefusedError says what the relay refused', async () => {
    const err = await bob.client.fetch(relay.peerId, { ...keys, read: generateSigningKeyPair() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MailboxRefusedError)
    expect((err as Error).message).toBe('relay refused: no valid capability for this mailbox')
  })

  it('exports the counters an operator watches', async () => {
    const text = await relay.metrics()
    for (const name of [
      'hearth_relay_connections',
      'hearth_relay_requests_total',
      'hearth_relay_deposits_total',
      'hearth_relay_refusals_total',
      'hearth_relay_stored_bytes',
      'hearth_relay_stored_envelopes',
      'hearth_relay_evictions_total',
      'hearth_relay_request_duration_seconds_bucket',
      'hearth_relay_write_batch_duration_seconds_bucket',
      'hearth_relay_process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name)
    }
    expect(await relay.metric('hearth_relay_stored_envelopes')).toBe(deposited.length)
    expect(await relay.metric('hearth_relay_deposits_total', { result: 'stored' })).toBe(deposited.length)
    expect(await relay.metric('hearth_relay_deposits_total', { result: 'duplicate' })).toBe(5)
    expect(await relay.metric('hearth_relay_connections')).toBeGreaterThanOrEqual(2)
  })

  it('stores and logs nothing that reveals the mailbox secret, keys, mailbox id in logs, client identities or contents', async () => {
    // Flush LevelDB's log to files we can read: a clean stop (SIGTERM) closes the database.
    const exit = await relay.stop()
    expect(exit).toBe(0)
    const logs = relay.logs.join('\n')
    expect(logs).toContain('relay stopped')
    const files: Buffer[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else files.push(await readFile(path))
      }
    }
    await walk(relay.dataDir)
    const disk = Buffer.concat(files)
    // The envelopes are on disk (that is the relay's job) and prove the search below works.
    expect(disk.includes(Buffer.from(deposited[0]!.bytes))).toBe(true)
    const mustNotBeOnDisk: Array<[string, Uint8Array | string]> = [
      ['mailbox secret', secret],
      ['deposit seed', keys.deposit.seed],
      ['read seed', keys.read.seed],
      ['alice PeerId', alice.node.peerId],
      ['bob PeerId', bob.node.peerId],
    ]
    for (const [what, needle] of mustNotBeOnDisk) {
      expect(disk.includes(typeof needle === 'string' ? Buffer.from(needle) : Buffer.from(needle)), what).toBe(false)
    }
    const mustNotBeLogged: Array<[string, string]> = [
      ['mailbox secret (hex)', hex(secret)],
      ['mailbox secret (base64url)', toBase64Url(secret)],
      ['deposit seed', hex(keys.deposit.seed)],
      ['read seed', hex(keys.read.seed)],
      ['mailbox id (hex)', hex(keys.mailboxId)],
      ['mailbox id (base64url)', toBase64Url(keys.mailboxId)],
      ['envelope bytes (hex)', hex(deposited[0]!.bytes.subarray(0, 24))],
      ['envelope bytes (base64)', Buffer.from(deposited[0]!.bytes.subarray(0, 24)).toString('base64')],
      ['envelope id', hex(deposited[0]!.id)],
    ]
    for (const [what, needle] of mustNotBeLogged) expect(logs.includes(needle), what).toBe(false)
  })
})
