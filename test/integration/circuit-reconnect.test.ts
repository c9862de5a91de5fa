/**
 * Two members who reach each other only through a relay's circuit: the relay cuts every relayed connection after its
 * data limit (128 KiB by default, 16 KiB here), so a chat that goes on long enough loses its connection. The members
 * dial each other through the circuit again, and what one says next reaches the other live, not a relay pass later.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore } from '../helpers/cores.js'
import { bodies } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

const CIRCUIT_BYTES = 16 * 1024

describe('members behind NAT after the relay cuts their circuit', () => {
  const bed = coresAndRelays()

  it('dial each other through the relay again and keep chatting live', async () => {
    const relay = await startTestRelay('cutting', { circuitDataLimit: CIRCUIT_BYTES })
    bed.relays = [relay]
    const behindNat = { listen: [], mdns: false, relayReservations: [relay.address] }
    // No anti-entropy and no relay passes in the window that matters: only a live connection delivers within it.
    const slow = { relays: [relay.address], network: behindNat, syncIntervalMs: 10 * 60_000 }
    const alice = await startCore('alice', slow)
    const bob = await startCore('bob', slow)
    bed.cores = [alice, bob]
    for (const c of [alice, bob]) {
      await waitFor(() => c.core.node.addresses().some((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'reservation' })
    }
    const id = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    await bob.core.join((await alice.core.createInvite(id)).code)
    const bobPeer = bob.core.node.peerId.toString()
    await waitFor(() => alice.core.node.connectedPeers().includes(bobPeer), { message: 'alice and bob connected' })

    // Talk until the relay cuts them apart.
    let cuts = 0
    const off = alice.core.node.onPeerDisconnected((p) => {
      if (p === bobPeer) cuts++
    })
    for (let i = 0; cuts === 0 && i < 200; i++) {
      await alice.core.send(id, `line ${i} ${'x'.repeat(400)}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    off()
    expect(cuts).toBeGreaterThan(0)

    await waitFor(() => alice.core.node.connectedPeers().includes(bobPeer), { timeoutMs: 30_000, message: 'connected again through the relay' })
    await alice.core.send(id, 'still there?')
    await waitFor(async () => (await bodies(bob, id)).includes('alice: still there?'), { timeoutMs: 10_000, message: 'bob reads it live' })
  }, 120_000)
})
