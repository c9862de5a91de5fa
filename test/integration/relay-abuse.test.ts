/**
 * Abuse against a real relay process with small limits: oversized envelopes and frames, quota exhaustion, garbage and
 * truncated frames, a slow-loris stream, request floods, a connection flood. Each is refused or cut off, the refusal
 * shows in /metrics under its reason, and an honest client is still served afterwards.
 */
import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveMailboxKeys, signMailboxRequest } from '../../node/common/crypto/mailbox-capability.js'
import { decodeErrorFrame, FRAME_DATA, FRAME_ERROR, lengthPrefixed } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { MAILBOX_PROTOCOL, decodeMailboxResponse, type MailboxResponse } from '../../node/common/wire/mailbox.js'
import { clientNode, randomEnvelope, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'
import type { Stream } from '@libp2p/interface'

const keys = deriveMailboxKeys(new Uint8Array(32).fill(0xab))
const mailbox = (n: number) => deriveMailboxKeys(new Uint8Array(32).fill(n))

describe('relay abuse (real relay process, small limits)', () => {
  let relay: RelayProcess
  let honest: ClientNode
  const abusers: ClientNode[] = []

  beforeAll(async () => {
    relay = await spawnRelay({
      flags: {
        'max-envelope-bytes': '1KiB',
        'mailbox-max-envelopes': '20',
        'peer-max-envelopes-per-day': '50',
        'request-timeout': '1s',
        'max-connections': '30',
        'requests-per-second': '20',
        'request-burst': '20',
      },
    })
    honest = await clientNode()
  })

  afterAll(async () => {
    await Promise.allSettled([honest?.stop(), ...abusers.map((a) => a.stop())])
    await relay?.stop()
    await removeRelayDir(relay)
  })

  async function abuser(): Promise<ClientNode> {
    const c = await clientNode()
    abusers.push(c)
    await c.node.dial(relay.address)
    return c
  }

  /** The honest client deposits and reads back: the relay still serves. */
  async function stillServed(): Promise<void> {
    const probe = randomEnvelope(300)
    const box = deriveMailboxKeys(new Uint8Array(randomBytes(32)))
    expect(await honest.client.deposit(relay.address, box, [probe])).toEqual([{ id: probe.id, status: 'stored' }])
    expect((await honest.client.fetch(relay.address, box)).items).toHaveLength(1)
  }

  async function openRaw(c: ClientNode): Promise<Stream> {
    return c.node.libp2p.dialProtocol(peerIdFromString(relay.peerId), MAILBOX_PROTOCOL)
  }

  /** Reads the relay's answer on a raw stream: a decoded data frame, or the error frame's code. */
  async function answer(stream: Stream): Promise<MailboxResponse | { error: string }> {
    const frame = (await lpStream(stream).read({ signal: AbortSignal.timeout(10_000) })).subarray()
    if (frame[0] === FRAME_ERROR) return { error: decodeErrorFrame(frame.subarray(1)).code }
    expect(frame[0]).toBe(FRAME_DATA)
    return decodeMailboxResponse(frame.subarray(1))
  }

  it('refuses oversized envelopes and oversized frames', async () => {
    const results = await honest.client.deposit(relay.address, keys, [randomEnvelope(2000), randomEnvelope(500)])
    expect(results.map((r) => (r.status === 'refused' ? r.reason : r.status))).toEqual(['too-large', 'stored'])

    // A frame claiming 3 MiB is refused from its length prefix, before the body is buffered.
    const a = await abuser()
    const big = await openRaw(a)
    big.send(lengthPrefixed(new Uint8Array(3 * 1024 * 1024)).subarray(0, 64 * 1024))
    expect(await answer(big)).toEqual({ error: 'TOO_LARGE' })

    // A signed request carrying an envelope over the protocol's 64 KiB cap.
    const ids = [new Uint8Array(32)]
    const auth = signMailboxRequest(keys, relay.peerId, { op: 'deposit', ids })
    const body = encodeCbor({ v: 1, o: 'deposit', d: auth.depositPublic, r: auth.readPublic, t: auth.timestamp, n: auth.nonce, s: auth.signature, e: [{ i: ids[0], b: new Uint8Array(70_000) }] })
    const s = await openRaw(a)
    s.send(lengthPrefixed(body))
    await s.close()
    expect(await answer(s)).toEqual({ kind: 'refused', reason: 'too-large' })
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'too-large' })).toBeGreaterThanOrEqual(3)
    await stillServed()
  })

  it('refuses deposits over the mailbox quota and over a peer daily quota', async () => {
    const full = await honest.client.deposit(relay.address, mailbox(1), Array.from({ length: 25 }, () => randomEnvelope(100)))
    expect(full.filter((r) => r.status === 'stored')).toHaveLength(20)
    expect(full.slice(20).every((r) => r.status === 'refused' && r.reason === 'mailbox-quota' && r.code === 'QUOTA_EXCEEDED')).toBe(true)

    const greedy = await abuser()
    const outcomes = []
    for (const n of [2, 3, 4]) outcomes.push(...(await greedy.client.deposit(relay.address, mailbox(n), Array.from({ length: 20 }, () => randomEnvelope(100)))))
    expect(outcomes.filter((r) => r.status === 'stored')).toHaveLength(50)
    expect(outcomes.filter((r) => r.status === 'refused' && r.reason === 'peer-quota')).toHaveLength(10)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'mailbox-quota' })).toBe(5)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'peer-quota' })).toBe(10)
    await stillServed()
  })

  it('answers garbage and truncated frames with typed errors, and bans a peer that keeps sending garbage', async () => {
    const a = await abuser()
    const garbage = await openRaw(a)
    garbage.send(lengthPrefixed(new Uint8Array(randomBytes(500))))
    await garbage.close()
    expect(await answer(garbage)).toEqual({ kind: 'refused', reason: 'malformed' })

    const truncated = await openRaw(a)
    truncated.send(Uint8Array.of(100, ...randomBytes(50)))
    await truncated.close()
    expect(await answer(truncated)).toEqual({ error: 'MALFORMED' })

    // Ten more garbage requests cross the ban threshold: the abuser is disconnected and refused.
    for (let i = 0; i < 10; i++) {
      try {
        const s = await openRaw(a)
        s.send(lengthPrefixed(new Uint8Array(randomBytes(100))))
        await s.close()
        await answer(s)
      } catch {
        break
      }
    }
    await waitFor(async () => (await relay.metric('hearth_relay_bans_total')) >= 1, { message: 'a ban' })
    await expect(a.client.fetch(relay.address, keys)).rejects.toMatchObject({ code: 'UNREACHABLE' })
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'malformed' })).toBeGreaterThanOrEqual(3)
    await stillServed()
  })

  it('cuts off a slow-loris stream while serving others', async () => {
    const a = await abuser()
    const slow = await openRaw(a)
    const started = Date.now()
    slow.send(Uint8Array.of(0x80)) // the first byte of a length prefix; the rest never comes
    const served = stillServed()
    const result = await answer(slow)
    expect(result).toEqual({ error: 'TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(5_000)
    await served
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'timeout' })).toBeGreaterThanOrEqual(1)
  })

  it('rate-limits a request flood from one peer with a retry hint', async () => {
    const a = await abuser()
    const box = mailbox(9)
    const settled = await Promise.allSettled(Array.from({ length: 40 }, () => a.client.fetch(relay.address, box)))
    const limited = settled.filter((s) => s.status === 'rejected' && (s.reason as { reason?: string }).reason === 'rate-limited')
    expect(limited.length).toBeGreaterThan(0)
    expect(settled.filter((s) => s.status === 'fulfilled').length).toBeGreaterThanOrEqual(15)
    expect((limited[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'RATE_LIMITED' })
    expect(((limited[0] as PromiseRejectedResult).reason as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0)
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'rate-limited' })).toBeGreaterThan(0)
    await stillServed()
  })

  it('refuses connections over the limit, counts them, and serves a newcomer once the flood is gone', async () => {
    const flood = await Promise.all(Array.from({ length: 40 }, () => clientNode()))
    await Promise.allSettled(flood.map((c) => c.node.dial(relay.address)))
    // Refused at the door, or accepted by a racing handshake and closed right after: either way, counted.
    await waitFor(async () => (await relay.metric('hearth_relay_connections')) <= 30, { message: 'the relay to shed connections' })
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'connection-limit' })).toBeGreaterThanOrEqual(10)
    const connected = flood.filter((c) => c.node.connectedPeers().includes(relay.peerId)).length
    expect(connected).toBeLessThan(40)
    await Promise.all(flood.map((c) => c.stop()))
    await waitFor(async () => (await relay.metric('hearth_relay_connections')) < 20, { message: 'the flood to disconnect' })
    const newcomer = await clientNode()
    abusers.push(newcomer)
    const probe = randomEnvelope()
    expect(await newcomer.client.deposit(relay.address, mailbox(42), [probe])).toEqual([{ id: probe.id, status: 'stored' }])
    await stillServed()
  })
})
