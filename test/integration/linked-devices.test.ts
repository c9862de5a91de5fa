/**
 * Linking a second device of one account, with real cores, real pairing and (second test) a real relay: the new device
 * is admitted everywhere by the device that linked it, reads the whole history, writes as the same person, and a
 * revocation cuts it off. docs/adr/0032.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { Core } from '../../node/src/core/core.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { familyOfTwo, link } from '../helpers/link-devices.js'
import { startTestRelay, type TestRelay } from '../helpers/relay-for-cores.js'

let cores: TestCore[] = []
let relays: TestRelay[] = []

afterEach(async () => {
  await stopAll(cores)
  await Promise.allSettled(relays.map((r) => r.stop()))
  cores = []
  relays = []
})

async function bodies(core: Core, id: ConversationId): Promise<string[]> {
  return (await core.page(id, { limit: 100 })).messages.map((m) => m.body)
}

describe('linked devices', () => {
  it('a second device gets every conversation and its history, writes as the same person, and is cut off when revoked', async () => {
    const { alice, bob, id } = await familyOfTwo(cores)
    await alice.core.send(id, 'from alice before the link')
    await waitFor(async () => (await bodies(bob.core, id)).length === 1)
    await bob.core.send(id, 'from bob before the link')
    await waitFor(async () => (await bodies(alice.core, id)).length === 2)

    const { linked, codes } = await link(alice.core)
    // Both screens showed the same code before anything was shared.
    expect(codes).toHaveLength(2)
    expect(codes[0]).toBe(codes[1])
    expect(linked.identity.account).toBe(alice.identity.account)
    expect(linked.identity.deviceId).not.toBe(alice.identity.deviceId)
    expect(linked.conversations.map((c) => c.id)).toEqual([id])

    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    await connect(laptop, alice)
    await connect(laptop, bob)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)

    // The whole history, ours shown as ours; bob's core took the new device with no action of bob's.
    await waitFor(async () => (await bodies(laptop.core, id)).length === 2, { message: 'history on the linked device' })
    const page = (await laptop.core.page(id)).messages
    expect(page.map((m) => [m.body, m.mine])).toEqual([
      ['from alice before the link', true],
      ['from bob before the link', false],
    ])
    expect(laptop.core.getConversation(id).unread).toBe(1)

    await laptop.core.send(id, 'from the laptop')
    await waitFor(async () => (await bodies(bob.core, id)).includes('from the laptop'), { message: 'bob reads the laptop' })
    await waitFor(async () => (await bodies(alice.core, id)).includes('from the laptop'), { message: 'alice reads the laptop' })
    const onPhone = (await alice.core.page(id)).messages.find((m) => m.body === 'from the laptop')!
    expect(onPhone.mine).toBe(true)
    // The phone's list shows it as the conversation's latest message; it is alice's own, so the unread count is still
    // bob's one message.
    expect(alice.core.getConversation(id).lastMessage?.body).toBe('from the laptop')
    expect(alice.core.getConversation(id).unread).toBe(1)
    // Her own laptop is not someone nearby: the phone's peers are bob alone.
    expect(alice.core.peers().map((p) => p.peerId)).toEqual([bob.identity.peerId])
    const onBob = (await bob.core.page(id)).messages.find((m) => m.body === 'from the laptop')!
    expect(onBob.author).toBe(alice.identity.account)
    expect(alice.core.devices.list().map((d) => d.device)).toEqual([alice.identity.deviceId, linked.identity.deviceId])

    // Revoked: the laptop hears of it and stops; what is said next is in an epoch it never gets.
    let revokedEvent = false
    laptop.core.events.on('device.revoked', () => (revokedEvent = true))
    await alice.core.devices.revoke(linked.identity.deviceId)
    await waitFor(() => revokedEvent, { message: 'the laptop learns it was revoked' })
    expect(alice.core.devices.list().map((d) => d.device)).toEqual([alice.identity.deviceId])
    await bob.core.send(id, 'after the revocation')
    await waitFor(async () => (await bodies(alice.core, id)).includes('after the revocation'))
    const rt = (laptop.core as unknown as { conversations: ReadonlyMap<ConversationId, { epochs: Map<string, unknown>; log: { currentEpoch: string } }> }).conversations.get(id)!
    const bobsLog = (bob.core as unknown as { conversations: ReadonlyMap<ConversationId, { log: { currentEpoch: string; epochs: Map<string, { devices: Set<string> }> } }> }).conversations.get(id)!.log
    expect(bobsLog.epochs.get(bobsLog.currentEpoch)!.devices.has(linked.identity.deviceId)).toBe(false)
    expect(rt.epochs.has(bobsLog.currentEpoch)).toBe(false)

    // Coming back as if restored, with the same device: bob answers nothing (a revoked device is out for good).
    const comeback = await startCore('alice-laptop-again', { identity: linked.identity })
    cores.push(comeback)
    await connect(comeback, bob)
    expect(await comeback.core.devices.restoreFrom(bob.core.node.peerId)).toBe(0)
    expect(comeback.core.listConversations()).toEqual([])
  })

  it('links over a relay only: the new device was never on the same network as the old one', async () => {
    const relay = await startTestRelay('r1')
    relays.push(relay)
    // Both hold a reservation on the relay, as every desktop does (open-core.ts): reachable only through it.
    const alice = await startCore('alice', { relays: [relay.address], network: { relayReservations: [relay.address] } })
    cores.push(alice)
    await waitFor(() => alice.core.node.addresses().some((a) => a.includes('/p2p-circuit')), { message: 'alice reserves on the relay' })
    const note = await alice.core.createConversation({ kind: 'group', name: 'Notes' })
    const id = note.id as ConversationId
    await alice.core.send(id, 'remember the milk')

    const { linked } = await link(alice.core, { relays: [relay.address] })
    expect(linked.from?.address).toContain('/p2p-circuit')
    const laptop = await startCore('alice-laptop', { identity: linked.identity, relays: [relay.address], network: { relayReservations: [relay.address] } })
    cores.push(laptop)
    await laptop.core.node.dial(linked.from!.address!)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await waitFor(async () => (await bodies(laptop.core, id)).includes('remember the milk'), { message: 'history over the relay' })
  })

  it('a revoked device that ignores its revocation cannot post: every member refuses what it writes next', async () => {
    const { alice, bob, id } = await familyOfTwo(cores)
    const { linked } = await link(alice.core)
    // A stolen laptop whose thief keeps it running and ignores being told it was revoked.
    let stolen = await startCore('stolen', { identity: linked.identity, onRevoked: () => {} })
    cores.push(stolen)
    await connect(stolen, alice)
    await connect(stolen, bob)
    await stolen.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await stolen.core.send(id, 'before')
    await waitFor(async () => (await bodies(bob.core, id)).includes('before'))

    // The thief takes it offline; alice revokes it; offline, it goes on writing in the epoch it still holds.
    await stolen.stop()
    await alice.core.devices.revoke(linked.identity.deviceId)
    stolen = await stolen.restart()
    cores.push(stolen)
    await stolen.core.send(id, 'after')
    const refusedBefore = bob.core.counters.snapshot()
    await connect(stolen, bob)
    await connect(stolen, alice)
    await stolen.core.syncWith(bob.core.node.peerId, id)
    await bob.core.syncWith(stolen.core.node.peerId, id)
    await alice.core.send(id, 'alice after')
    await waitFor(async () => (await bodies(bob.core, id)).includes('alice after'))
    await bob.core.settle()
    expect(await bodies(bob.core, id)).not.toContain('after')
    expect(await bodies(alice.core, id)).not.toContain('after')
    expect(bob.core.counters.snapshot()).not.toEqual(refusedBefore)
  })

  it('a file sent from one of our devices downloads by itself on the other, like anyone else’s', async () => {
    const { alice, id } = await familyOfTwo(cores)
    const { linked } = await link(alice.core)
    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    await connect(laptop, alice)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await waitFor(() => laptop.core.listConversations().some((c) => c.id === id))
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 251)
    const { uploadId } = await laptop.core.files.begin(id, 'notes.bin', bytes.length)
    await laptop.core.files.append(uploadId, bytes)
    const sent = await laptop.core.files.send(id, 'from the laptop', [{ uploadId, kind: 'file' }])
    await waitFor(async () => (await alice.core.page(id)).messages.find((m) => m.id === sent.id)?.attachments?.[0]?.state === 'complete', { message: 'the phone downloads it by itself' })
  })
})
