/**
 * startRelay in this process (the programmatic API the CLI and the tests use): what the process-level integration
 * tests cannot reach cheaply — a second relay on a locked data directory, the waiting-fetch bound, the metrics token,
 * and a graceful stop answering a fetch that is waiting.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deriveMailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { MailboxClient } from '../../node/common/net/mailbox-client.js'
import { createLogger } from './ops/logger.js'
import { startRelay, type RunningRelay } from './relay.js'

const keys = deriveMailboxKeys(new Uint8Array(32).fill(0x42))
const TOKEN = 'a-metrics-token-of-some-length'

describe('startRelay', () => {
  let dir: string
  let relay: RunningRelay
  let node: HearthNode
  let client: MailboxClient

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-relay-unit-'))
    relay = await startRelay(
      { dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], httpPort: 0, dht: false, maxWaitingFetchesPerPeer: 1, metricsToken: TOKEN, shutdownGrace: '5s' },
      { logger: createLogger('silent') },
    )
    node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {} })
    client = new MailboxClient(node)
  })

  afterAll(async () => {
    await node?.stop()
    await relay?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('returns its identity and addresses', () => {
    expect(relay.peerId).toMatch(/^12D3KooW/)
    expect(relay.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127.0.0.1/tcp/\\d+/p2p/${relay.peerId}$`))
    expect(relay.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('refuses to share its data directory with a second relay', async () => {
    await expect(startRelay({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], httpPort: 0, dht: false }, { logger: createLogger('silent') })).rejects.toMatchObject({
      code: 'STORAGE_LOCKED',
    })
  })

  it('refuses invalid configuration before touching anything', async () => {
    await expect(startRelay({ dataDir: dir, retention: 'soon' }, { logger: createLogger('silent') })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('protects /metrics with the token when one is set', async () => {
    expect((await fetch(`${relay.httpUrl}/metrics`)).status).toBe(401)
    expect((await fetch(`${relay.httpUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const ok = await fetch(`${relay.httpUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('hearth_relay_stored_envelopes')
    expect((await fetch(`${relay.httpUrl}/healthz`)).status).toBe(200)
    expect((await fetch(`${relay.httpUrl}/elsewhere`)).status).toBe(404)
  })

  it('refuses a waiting fetch over the per-peer bound as busy, with a retry hint', async () => {
    const first = client.fetch(relay.multiaddrs[0]!, keys, { waitMs: 1_000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    await expect(client.fetch(relay.multiaddrs[0]!, keys, { waitMs: 3_000 })).rejects.toMatchObject({ reason: 'busy', code: 'RATE_LIMITED', retryAfterMs: 5_000 })
    expect((await first).items).toEqual([])
  })

  it('stops gracefully: a waiting fetch is answered, then the relay is gone', async () => {
    const waiting = client.fetch(relay.multiaddrs[0]!, keys, { waitMs: 20_000 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    const started = Date.now()
    await relay.stop()
    expect(Date.now() - started).toBeLessThan(4_000)
    expect(await waiting).toMatchObject({ items: [], more: false })
    await expect(fetch(`${relay.httpUrl}/healthz`)).rejects.toThrow()
    await expect(client.fetch(relay.multiaddrs[0]!, keys)).rejects.toMatchObject({ code: 'UNREACHABLE' })
  })
})
