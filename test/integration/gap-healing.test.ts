import { afterEach, describe, expect, it } from 'vitest'
import type { HearthNode } from '../../node/common/net/create-node.js'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup } from '../helpers/group.js'

/**
 * Gossip lost in flight (a partition that healed, a peer that dropped a backlog) is fetched as soon as anything shows
 * the gap, not at the next anti-entropy round: here that round is ten minutes away, so only the gap can explain it.
 */
const NO_ANTI_ENTROPY = { syncIntervalMs: 600_000 }

/** Envelopes `c` publishes while this is on reach nobody, as if the network had dropped them. */
function silence(c: TestCore): () => void {
  const node: { publish: HearthNode['publish'] } = c.core.node
  const publish = node.publish
  node.publish = async () => ({ recipients: 0 })
  return () => {
    node.publish = publish
  }
}

describe('healing on a gap', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  async function group(): Promise<{ alice: TestCore; bob: TestCore; carol: TestCore; id: ConversationId }> {
    const alice = await startCore('alice', NO_ANTI_ENTROPY)
    const bob = await startCore('bob', NO_ANTI_ENTROPY)
    const carol = await startCore('carol', NO_ANTI_ENTROPY)
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    await alice.core.send(id, 'hello')
    for (const c of cores) await waitFor(async () => (await bodies(c, id)).length === 1, { message: `${c.name} to get hello` })
    // Quiet before the test cuts anything: the syncs that joining started are over (a sync request still in flight
    // carries the requester's positions, which is itself a way for the others to learn of a gap).
    await waitFor(async () => {
      for (const c of cores) await c.core.settle()
      return cores.every((c) => (c.core as unknown as { syncClient: { inFlight: number } }).syncClient.inFlight === 0)
    }, { message: 'the syncs of joining to end' })
    await new Promise((r) => setTimeout(r, 300))
    return { alice, bob, carol, id }
  }

  it('a message after lost ones brings the lost ones with it', async () => {
    const { alice, bob, carol, id } = await group()
    const speak = silence(alice)
    for (let i = 1; i <= 5; i++) await alice.core.send(id, `lost ${i}`)
    speak()
    await new Promise((r) => setTimeout(r, 300))
    for (const c of [bob, carol]) expect(await bodies(c, id)).toEqual(['alice: hello'])
    await alice.core.send(id, 'after the heal')
    const expected = ['alice: hello', ...[1, 2, 3, 4, 5].map((i) => `alice: lost ${i}`), 'alice: after the heal']
    for (const c of [bob, carol]) await waitFor(async () => (await bodies(c, id)).length === 7, { timeoutMs: 10_000, message: `${c.name} to fetch the gap` })
    for (const c of [bob, carol]) {
      expect(await bodies(c, id)).toEqual(expected)
      expect(c.core.counters.get('gap-sync')).toBeGreaterThan(0)
    }
  })

  it('what a member wrote unheard reaches the others once it hears anything (its receipt says how far it wrote)', async () => {
    const { alice, bob, carol, id } = await group()
    const speak = silence(bob)
    for (let i = 1; i <= 3; i++) await bob.core.send(id, `unheard ${i}`)
    speak()
    await new Promise((r) => setTimeout(r, 300))
    for (const c of [alice, carol]) expect(await bodies(c, id)).toEqual(['alice: hello'])
    // Bob hears a message and answers with a receipt: that is all the others need.
    await alice.core.send(id, 'anyone there?')
    for (const c of [alice, carol]) await waitFor(async () => (await bodies(c, id)).length === 5, { timeoutMs: 10_000, message: `${c.name} to fetch what bob wrote` })
    const all = await bodies(bob, id)
    for (const c of [alice, carol]) expect(await bodies(c, id)).toEqual(all)
  })

  it('a connection to a member that drops comes back by itself, and what was written meanwhile arrives', async () => {
    const { alice, bob, id } = await group()
    const alicePeer = alice.core.node.libp2p.peerId
    // Bob's side cuts the connection (as a Wi-Fi drop does); no discovery runs in these tests (no mDNS, no DHT).
    const speak = silence(alice)
    await bob.core.node.libp2p.hangUp(alicePeer)
    expect(bob.core.node.connectedPeers()).not.toContain(alicePeer.toString())
    await alice.core.send(id, 'while apart')
    speak()
    await waitFor(() => bob.core.node.connectedPeers().includes(alicePeer.toString()), { timeoutMs: 10_000, message: 'bob and alice to reconnect' })
    await waitFor(async () => (await bodies(bob, id)).includes('alice: while apart'), { timeoutMs: 10_000, message: 'bob to get what alice wrote' })
  })
})
