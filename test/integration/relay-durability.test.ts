/**
 * What a relay acknowledged survives: a graceful restart, and `kill -9` in the middle of a burst of deposits. The relay
 * keeps its PeerId across restarts (the identity file in the data directory).
 */
import { afterAll, describe, expect, it } from 'vitest'
import { deriveMailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { clientNode, hex, randomEnvelope, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'

const keys = deriveMailboxKeys(new Uint8Array(32).fill(0xd0))

async function fetchAll(client: ClientNode, relay: RelayProcess): Promise<Set<string>> {
  const ids = new Set<string>()
  let after: string | null = null
  for (;;) {
    const page = await client.client.fetch(relay.address, keys, { after, limit: 1000 })
    for (const item of page.items) ids.add(hex(item.id))
    after = page.next
    if (!page.more) return ids
  }
}

describe('relay durability (real relay processes)', () => {
  const relays: RelayProcess[] = []
  const clients: ClientNode[] = []
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.stop()))
    await Promise.allSettled(relays.map((r) => r.kill9()))
    if (relays[0] !== undefined) await removeRelayDir(relays[0])
  })

  it('a restart and a kill -9 mid-burst lose nothing that was acknowledged', async () => {
    const first = await spawnRelay()
    relays.push(first)
    const alice = await clientNode()
    clients.push(alice)

    // Graceful restart between deposit and fetch.
    const before = Array.from({ length: 50 }, () => randomEnvelope(300))
    expect((await alice.client.deposit(first.address, keys, before)).every((r) => r.status === 'stored')).toBe(true)
    expect(await first.stop()).toBe(0)
    const second = await spawnRelay({ dataDir: first.dataDir })
    relays.push(second)
    expect(second.peerId).toBe(first.peerId)
    const afterRestart = await fetchAll(alice, second)
    expect(before.every((e) => afterRestart.has(hex(e.id)))).toBe(true)

    // kill -9 while eight writers keep depositing: every envelope whose deposit resolved must be there afterwards.
    const acknowledged = new Set<string>()
    let running = true
    const writer = async (): Promise<void> => {
      while (running) {
        const batch = Array.from({ length: 5 }, () => randomEnvelope(400))
        try {
          const results = await alice.client.deposit(second.address, keys, batch)
          results.forEach((r, i) => {
            if (r.status === 'stored' || r.status === 'duplicate') acknowledged.add(hex(batch[i]!.id))
          })
        } catch {
          return
        }
      }
    }
    const writers = Array.from({ length: 8 }, () => writer())
    while (acknowledged.size < 400) await new Promise((resolve) => setTimeout(resolve, 5))
    await second.kill9()
    running = false
    await Promise.all(writers)
    const killedAt = acknowledged.size

    const third = await spawnRelay({ dataDir: first.dataDir })
    relays.push(third)
    expect(third.peerId).toBe(first.peerId)
    const held = await fetchAll(alice, third)
    const missing = [...acknowledged].filter((id) => !held.has(id))
    expect(missing).toEqual([])
    expect(killedAt).toBeGreaterThanOrEqual(400)
    expect(before.every((e) => held.has(hex(e.id)))).toBe(true)
    // The counters came back with the data: the relay reports what it holds.
    expect(await third.metric('hearth_relay_stored_envelopes')).toBe(held.size)
    // And it keeps serving.
    expect((await alice.client.deposit(third.address, keys, [randomEnvelope()]))[0]!.status).toBe('stored')
    expect(await third.stop()).toBe(0)
  })
})
