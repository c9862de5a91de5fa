/**
 * The relay as network infrastructure, against a real relay process: clients discover it on Hearth's DHT under the
 * relay rendezvous key, and a peer reachable only through it (listening on nothing but a circuit address) is reached
 * through a circuit relay v2 reservation.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { findRelays } from '../../node/common/net/mailbox-client.js'
import { waitFor } from '../../node/common/net/testing.js'
import { removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'

describe('relay network services (real relay process)', () => {
  let relay: RelayProcess
  const nodes: HearthNode[] = []

  beforeAll(async () => {
    relay = await spawnRelay()
  })

  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await relay?.stop()
    await removeRelayDir(relay)
  })

  it('is found on the DHT under the relay rendezvous key by a client that knows one DHT server', async () => {
    const client = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: 'client', onError: () => {} })
    nodes.push(client)
    await client.dial(relay.address)
    const found = await waitFor(
      async () => (await findRelays(client, { signal: AbortSignal.timeout(3_000) })).find((r) => r.peerId === relay.peerId),
      { timeoutMs: 30_000, intervalMs: 500, message: 'the relay in findRelays' },
    )
    expect(found.addresses.some((a) => a.endsWith(`/p2p/${relay.peerId}`))).toBe(true)
  })

  it('relays a connection to a peer that listens only on a circuit address', async () => {
    const hidden = await createHearthNode({ listen: [`${relay.address}/p2p-circuit`], mdns: false, dht: false, onError: () => {} })
    nodes.push(hidden)
    const circuit = await waitFor(() => hidden.addresses().find((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'a circuit address' })
    expect(hidden.addresses().every((a) => a.includes('/p2p-circuit'))).toBe(true)
    const caller = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {} })
    nodes.push(caller)
    const rtt = await caller.libp2p.services.ping.ping(multiaddr(circuit), { signal: AbortSignal.timeout(10_000) })
    expect(rtt).toBeGreaterThanOrEqual(0)
    expect(caller.libp2p.getConnections().some((c) => c.remotePeer.toString() === hidden.peerId && c.limits !== undefined)).toBe(true)
    expect(await relay.metric('hearth_relay_circuit_reservations')).toBe(1)
  })
})
