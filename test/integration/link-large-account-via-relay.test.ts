/**
 * Linking a laptop from a café: the account's logs are several times what one relayed connection may carry (the relay
 * here cuts each circuit after 32 KiB), and every device reaches the others only through that relay. The pairing
 * itself fits one circuit; the logs that did not fit follow over fresh connections, newest first, resuming where a cut
 * stopped them, and where a restart of the new device did (docs/adr/0032 addendum "Linking over a relay").
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { linkAsNewDevice } from '../../node/src/core/devices/new-device.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore } from '../helpers/cores.js'
import { bodies } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

const CIRCUIT_BYTES = 32 * 1024
/** Alice's own conversations besides the one with bob: enough that their logs are several circuits' worth. */
const OWN_CONVERSATIONS = 90

interface Internals {
  conversations: ReadonlyMap<ConversationId, { ops: ReadonlyMap<string, { bytes: Uint8Array }> }>
}

describe('linking a large account through a relay that cuts every circuit at 32 KiB', () => {
  const bed = coresAndRelays()

  /** Alice (90 conversations of her own and Family with bob) links a laptop, everyone reachable only through the relay. */
  async function largeAccountLinked() {
    const relay = await startTestRelay('small-circuits', { circuitDataLimit: CIRCUIT_BYTES })
    bed.relays = [relay]
    // Nobody listens on anything of their own: the relay is the only way between any two of them.
    const behindNat = { listen: [], mdns: false, relayReservations: [relay.address] }
    const alice = await startCore('alice', { relays: [relay.address], network: behindNat })
    const bob = await startCore('bob', { relays: [relay.address], network: behindNat })
    bed.cores = [alice, bob]
    for (const c of [alice, bob]) {
      await waitFor(() => c.core.node.addresses().some((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'reservation' })
    }

    const family = (await alice.core.createConversation({ kind: 'group', name: 'Family' })).id as ConversationId
    await bob.core.join((await alice.core.createInvite(family)).code)
    for (let i = 0; i < OWN_CONVERSATIONS; i++) await alice.core.createConversation({ kind: 'group', name: `Notes ${i}` })
    // Family is the most recently active: it is the one the new device shows first.
    await alice.core.send(family, 'dinner at eight')
    await waitFor(async () => (await bodies(bob, family)).length === 1, { timeoutMs: 30_000, message: 'bob reads alice' })

    const codes: string[] = []
    const off = alice.core.events.on('devices.linking', (p) => {
      if (p.stage !== 'confirm') return
      codes.push(p.code!)
      alice.core.devices.confirmLink(true)
    })
    let shown: (link: string) => void
    const linkShown = new Promise<string>((resolve) => (shown = resolve))
    const newSide = linkAsNewDevice({
      network: { listen: [], mdns: false },
      relays: [relay.address],
      onLink: (l) => shown(l),
      onConfirmationCode: (c) => codes.push(c),
      confirm: async () => true,
    })
    const code = await linkShown
    expect(code).toBeTruthy()
    const [linked] = await Promise.all([newSide, alice.core.devices.link(code)])
    off()
    expect(codes).toHaveLength(2)
    expect(codes[0]).toBe(codes[1])
    expect(linked.from?.address).toContain('/p2p-circuit')
    // Newest first: Family comes in the pairing itself or is the first to follow it.
    expect([...linked.conversations.map((c) => c.id), ...linked.pending][0]).toBe(family)
    expect(linked.conversations.length + linked.pending.length).toBe(OWN_CONVERSATIONS + 1)
    expect(linked.pending.length).toBeGreaterThan(0)

    return { relay, alice, bob, family, linked, behindNat }
  }

  it('the link completes over the relay only, every conversation arrives, and the new device writes to bob', async () => {
    const { relay, bob, family, linked, behindNat } = await largeAccountLinked()
    const laptop = await startCore('alice-laptop', { identity: linked.identity, relays: [relay.address], network: behindNat })
    bed.cores.push(laptop)
    await laptop.core.node.dial(linked.from!.address!)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await waitFor(() => laptop.core.listConversations().length === OWN_CONVERSATIONS + 1, {
      timeoutMs: 90_000,
      message: 'every conversation on the laptop',
    })

    expect(await laptop.core.devices.linkedFetch).toEqual({ fetched: linked.pending.length, refused: 0, missing: 0 })
    // What came was several circuits' worth, and every connection the laptop had to alice or bob was relayed.
    const logBytes = [...(laptop.core as unknown as Internals).conversations.values()].reduce(
      (sum, rt) => sum + [...rt.ops.values()].reduce((s, op) => s + op.bytes.length, 0),
      0,
    )
    expect(logBytes).toBeGreaterThan(3 * CIRCUIT_BYTES)
    const toPeople = laptop.core.node.libp2p.getConnections().filter((c) => c.remotePeer.toString() !== relay.peerId)
    expect(toPeople.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)

    await waitFor(async () => (await bodies(laptop, family)).includes('alice: dinner at eight'), { timeoutMs: 30_000, message: 'history on the laptop' })
    await laptop.core.send(family, 'from the laptop in the café')
    await waitFor(async () => (await bodies(bob, family)).some((b) => b.endsWith('from the laptop in the café')), {
      timeoutMs: 30_000,
      message: 'bob reads the laptop',
    })
  }, 180_000)

  it('a laptop closed while the rest are still coming goes on from where it stood when it opens again', async () => {
    const { relay, alice, family, linked, behindNat } = await largeAccountLinked()
    const first = await startCore('alice-laptop', { identity: linked.identity, relays: [relay.address], network: behindNat })
    bed.cores.push(first)
    await first.core.node.dial(linked.from!.address!)
    await first.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await waitFor(() => first.core.listConversations().length >= 3, { timeoutMs: 60_000, message: 'the first conversations on the laptop' })
    const before = first.core.listConversations().length
    expect(before).toBeLessThan(OWN_CONVERSATIONS + 1)

    const laptop = await first.restart()
    bed.cores.push(laptop)
    await laptop.core.node.dial(linked.from!.address!)
    await waitFor(() => laptop.core.listConversations().length === OWN_CONVERSATIONS + 1, { timeoutMs: 90_000, message: 'every conversation after the restart' })
    const resumed = await laptop.core.devices.linkedFetch
    expect(resumed).toBeDefined()
    expect(resumed!.missing).toBe(0)
    expect(resumed!.refused).toBe(0)
    // Only what had not come before the restart was fetched again.
    expect(resumed!.fetched).toBeLessThanOrEqual(OWN_CONVERSATIONS + 1 - before)
    await laptop.core.send(family, 'back in the café')
    await waitFor(async () => (await bodies(alice, family)).includes('alice: back in the café'), { timeoutMs: 30_000, message: 'alice reads the laptop' })
  }, 180_000)
})
