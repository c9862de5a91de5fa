/**
 * Restoring an account from its recovery phrase on a fresh data directory, with real cores: the restored device finds
 * its conversations through a member it meets, with no invite, reads their history again and can revoke the lost
 * device. docs/adr/0032.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { request, requestOne } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { RESTORE_LIMITS, RESTORE_PROTOCOL } from '../../node/src/core/devices/restore.js'
import { createIdentity, restoreIdentity } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { familyOfTwo } from '../helpers/link-devices.js'
import { startTestRelay, type TestRelay } from '../helpers/relay-for-cores.js'

let cores: TestCore[] = []
let relays: TestRelay[] = []

afterEach(async () => {
  await stopAll(cores)
  await Promise.allSettled(relays.map((r) => r.stop()))
  cores = []
  relays = []
})

const bodiesOf = async (c: TestCore, id: ConversationId) => (await c.core.page(id, { limit: 100 })).messages.map((m) => m.body)

describe('restore from the recovery phrase', () => {
  it('a fresh install of the same account gets its conversations and history back from a member, and revokes the lost device', async () => {
    const made = await createIdentity('alice', Date.now())
    const { alice: phone, bob, id } = await familyOfTwo(cores, { alice: { identity: made.identity } })
    await bob.core.send(id, 'bob says hello')
    await waitFor(async () => (await bodiesOf(phone, id)).includes('bob says hello'))
    await phone.core.send(id, 'alice answers')
    await waitFor(async () => (await bodiesOf(bob, id)).includes('alice answers'))
    // The phone is lost.
    await phone.stop()

    const restoredIdentity = await restoreIdentity('alice', made.recoveryPhrase, Date.now())
    const restored = await startCore('alice-restored', { identity: restoredIdentity })
    cores.push(restored)
    await connect(restored, bob)
    await waitFor(() => restored.core.listConversations().some((c) => c.id === id), { message: 'the conversation comes back' })
    await waitFor(async () => (await bodiesOf(restored, id)).includes('bob says hello'), { message: 'history comes back' })
    await bob.core.send(id, 'welcome back')
    await waitFor(async () => (await bodiesOf(restored, id)).includes('welcome back'), { message: 'new messages arrive' })
    await restored.core.send(id, 'new laptop here')
    await waitFor(async () => (await bodiesOf(bob, id)).includes('new laptop here'))

    const lost = made.identity.deviceId
    expect(restored.core.devices.list().map((d) => d.device).sort()).toEqual([lost, restoredIdentity.deviceId].sort())
    await restored.core.devices.revoke(lost)
    const bobsLog = () => (bob.core as unknown as { conversations: ReadonlyMap<ConversationId, { log: { revokedDevices: Map<string, unknown> } }> }).conversations.get(id)!.log
    await waitFor(() => bobsLog().revokedDevices.has(lost), { message: 'the lost device revoked on bob' })
  })

  it('across the internet: the restored device leaves a note on its relay, a member finds it there and dials it', async () => {
    const relay = await startTestRelay('r1')
    relays.push(relay)
    const viaRelay = { relays: [relay.address], network: { relayReservations: [relay.address] } }
    const made = await createIdentity('alice', Date.now())
    const { alice: phone, bob, id } = await familyOfTwo(cores, { alice: { identity: made.identity, ...viaRelay }, bob: viaRelay })
    await bob.core.send(id, 'bob says hello')
    await waitFor(async () => (await bodiesOf(phone, id)).includes('bob says hello'))
    await phone.stop()

    // Never on bob's network: the relay is all they share.
    const restored = await startCore('alice-restored', { identity: await restoreIdentity('alice', made.recoveryPhrase, Date.now()), ...viaRelay })
    cores.push(restored)
    await waitFor(() => restored.core.listConversations().some((c) => c.id === id), { message: 'bob finds the note and the conversation comes back', timeoutMs: 40_000 })
    await waitFor(async () => (await bodiesOf(restored, id)).includes('bob says hello'), { message: 'history over the relay', timeoutMs: 40_000 })
  })

  it('a member answers only the device its certificate names, and only about that account', async () => {
    const made = await createIdentity('alice', Date.now())
    const alice = await startCore('alice', { identity: made.identity })
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores.push(alice, bob, mallory)
    await connect(alice, bob)
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    await bob.core.join((await alice.core.createInvite(group.id as ConversationId)).code)
    await connect(mallory, bob)

    // mallory replays alice's certificate: it names alice's PeerId, not the connection's.
    const replay = encodeCbor({ v: 1, t: 'list', c: alice.identity.cert.bytes })
    await expect(requestOne(mallory.core.node, bob.core.node.peerId, RESTORE_PROTOCOL, replay, RESTORE_LIMITS)).rejects.toThrow(/does not match the connection/)
    // Her own certificate gets her nothing: her account is in none of bob's conversations.
    const own = encodeCbor({ v: 1, t: 'list', c: mallory.identity.cert.bytes })
    const frames: Uint8Array[] = []
    for await (const frame of request(mallory.core.node, bob.core.node.peerId, RESTORE_PROTOCOL, own, RESTORE_LIMITS)) frames.push(frame)
    expect(frames).toEqual([])
    // And bob's core counted the replay.
    expect(bob.core.counters.snapshot()['restore-refused']).toBe(1)
  })
})
