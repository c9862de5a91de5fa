/**
 * The NAT path: alice and bob listen on nothing but a relay circuit (as two peers behind NATs that cannot be dialled),
 * so the only way between them is through the relay. They join, chat both ways and sync over the circuit.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore } from '../helpers/cores.js'
import { bodies, waitForCount } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

describe('two peers reachable only through a relay circuit', () => {
  const bed = coresAndRelays()

  it('join by invite and chat both ways over the circuit', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    // No listen address of their own: only the reservation on the relay makes them reachable.
    const behindNat = { listen: [], relayReservations: [relay.address] }
    const alice = await startCore('alice', { network: behindNat })
    const bob = await startCore('bob', { network: behindNat })
    bed.cores = [alice, bob]
    await waitFor(() => alice.core.node.addresses().some((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'alice reservation' })
    await waitFor(() => bob.core.node.addresses().some((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'bob reservation' })
    expect(alice.core.node.addresses().every((a) => a.includes('/p2p-circuit'))).toBe(true)

    const group = await alice.core.createConversation({ kind: 'direct', name: 'Across the internet' })
    const id = group.id as ConversationId
    const invite = await alice.core.createInvite(id)
    await bob.core.join(invite.code)

    // Every connection between them is relayed: there is no other way.
    const conns = bob.core.node.libp2p.getConnections().filter((c) => c.remotePeer.toString() === alice.identity.peerId)
    expect(conns.length).toBeGreaterThan(0)
    expect(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)

    await alice.core.send(id, 'hello through the relay')
    await waitForCount(bob, id, 1)
    await bob.core.send(id, 'and back again')
    await waitForCount(alice, id, 2)
    expect(await bodies(alice, id)).toEqual(['alice: hello through the relay', 'bob: and back again'])
    expect(await bodies(bob, id)).toEqual(await bodies(alice, id))
  })
})
