/**
 * History of senders who never come back (docs/adr/0033), with real cores: the device that seals a newcomer into an
 * epoch also hands it the chains of the epoch's other senders, so a linked device reads a member who has gone away,
 * and a device restored from the phrase reads what the lost device wrote.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { sealTo } from '../../node/common/crypto/sealed-box.js'
import { waitFor } from '../../node/common/net/testing.js'
import { EnvelopeKind } from '../../node/common/wire/envelope.js'
import { forwardedChainContext } from '../../node/src/core/membership/hand-on-chains.js'
import { encodeChainGrant, encodeKeys } from '../../node/src/history/payloads.js'
import { createIdentity, restoreIdentity } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { familyOfTwo, link } from '../helpers/link-devices.js'

let cores: TestCore[] = []

afterEach(async () => {
  await stopAll(cores)
  cores = []
})

const bodiesOf = async (c: TestCore, id: ConversationId) => (await c.core.page(id, { limit: 100 })).messages.map((m) => m.body)

describe('chains handed on to a new device', () => {
  it('a linked device reads a member who never comes online again, from the device that linked it', async () => {
    const { alice, bob, id } = await familyOfTwo(cores)
    await bob.core.send(id, 'bob before he goes away')
    await bob.core.send(id, 'bob once more')
    await waitFor(async () => (await bodiesOf(alice, id)).includes('bob once more'))
    await alice.core.send(id, 'alice answers')
    // Bob's device is gone for good: only alice can give the new laptop his chain.
    await bob.stop()

    const { linked } = await link(alice.core)
    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    await connect(laptop, alice)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)

    await waitFor(async () => (await bodiesOf(laptop, id)).length === 3, { message: "bob's messages readable on the laptop" })
    expect(await bodiesOf(laptop, id)).toEqual(['bob before he goes away', 'bob once more', 'alice answers'])
    expect(laptop.core.counters.snapshot()['bad-forwarded-chain'] ?? 0).toBe(0)
  })

  it('a device restored from the phrase reads what the lost device wrote, handed on by the member who resealed it', async () => {
    const made = await createIdentity('alice', Date.now())
    const { alice: phone, bob, id } = await familyOfTwo(cores, { alice: { identity: made.identity } })
    await phone.core.send(id, 'written on the phone')
    await waitFor(async () => (await bodiesOf(bob, id)).includes('written on the phone'))
    await bob.core.send(id, 'bob answers')
    await waitFor(async () => (await bodiesOf(phone, id)).includes('bob answers'))
    await phone.stop()

    const restored = await startCore('alice-restored', { identity: await restoreIdentity('alice', made.recoveryPhrase, Date.now()) })
    cores.push(restored)
    await connect(restored, bob)
    await waitFor(async () => (await bodiesOf(restored, id)).length === 2, { message: "the lost phone's message comes back" })
    const page = (await restored.core.page(id)).messages
    expect(page.map((m) => [m.body, m.mine])).toEqual([
      ['written on the phone', true],
      ['bob answers', false],
    ])
  })
})

describe('chains handed on by someone else', () => {
  it('a member who did not seal the device in cannot hand it chains: refused on arrival, and the real one still comes', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores.push(alice, bob, carol)
    await connect(alice, bob)
    await connect(alice, carol)
    await connect(bob, carol)
    const id = await makeGroup(alice, [bob, carol])
    await carol.core.send(id, 'carol before she goes')
    await waitFor(async () => (await bodiesOf(alice, id)).includes('carol before she goes') && (await bodiesOf(bob, id)).includes('carol before she goes'))
    await carol.stop()

    const { linked } = await link(alice.core)
    const laptopDevice = linked.identity.deviceId
    type Runtime = { streams: Map<string, unknown>; log: { currentEpoch: string; knownDevices: Map<string, unknown> } }
    const bobs = bob.core as unknown as {
      conversations: ReadonlyMap<ConversationId, Runtime>
      membership: { writeControl(rt: Runtime, kind: EnvelopeKind, body: Uint8Array, extra: unknown[], epoch: string): Promise<{ topic: string; bytes: Uint8Array } | undefined> }
    }
    const rt = bobs.conversations.get(id)!
    await waitFor(() => rt.log.knownDevices.has(laptopDevice), { message: 'bob hears of the laptop' })
    // Bob offers the laptop a chain for carol's stream that is not hers, in his own signed keys envelope.
    const carolsStream = [...rt.streams.keys()].find((k) => k.endsWith(`/${carol.identity.deviceId}`))!
    const epoch = carolsStream.split('/')[0]!
    const box = sealTo(linked.identity.cert.dhPublic, encodeChainGrant(randomBytes(32)), forwardedChainContext(id, epoch, carol.identity.deviceId))
    const forwarded = [{ device: laptopDevice, epoch, sender: carol.identity.deviceId, box }]
    expect(await bobs.membership.writeControl(rt, EnvelopeKind.keys, encodeKeys({ recipients: [], forwarded }), [], rt.log.currentEpoch)).toBeDefined()

    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    await connect(laptop, bob)
    await connect(laptop, alice)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)
    await waitFor(() => laptop.core.counters.get('forwarded-chain-refused') === 1, { message: "bob's offer refused on arrival" })
    await waitFor(async () => (await bodiesOf(laptop, id)).includes('carol before she goes'), { message: "carol's message from alice's chain" })
    expect(laptop.core.counters.get('bad-forwarded-chain')).toBe(0)
  })
})
