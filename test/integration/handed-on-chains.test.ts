/**
 * History of senders who never come back (docs/adr/0033), with real cores: the device that seals a newcomer into an
 * epoch also hands it the chains of the epoch's other senders, so a linked device reads a member who has gone away,
 * and a device restored from the phrase reads what the lost device wrote.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { createIdentity, restoreIdentity } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
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
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId)

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
