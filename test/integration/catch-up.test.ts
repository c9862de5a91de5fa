import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

describe('catch-up and the outbox', () => {
  let cores: Array<TestCore | undefined> = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a core that was stopped catches up on restart with what it missed', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    let charlie = await startCore('charlie')
    cores = [alice, bob, charlie]
    const id = await makeGroup(alice, [bob, charlie])

    await alice.core.send(id, 'before the break')
    await waitForCount(charlie, id, 1)
    await charlie.stop()

    for (let i = 0; i < 20; i++) await (i % 2 ? alice : bob).core.send(id, `while charlie was away ${i}`)
    await waitForCount(alice, id, 21)
    await waitForCount(bob, id, 21)

    charlie = await charlie.restart()
    cores[2] = charlie
    await connect(charlie, alice)
    await waitForCount(charlie, id, 21)
    expect(await bodies(charlie, id)).toEqual(await bodies(alice, id))
  })

  it('messages written while offline sit in the outbox and go out when a member is back', async () => {
    const alice = await startCore('alice')
    let bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.stop()

    const offline = [await alice.core.send(id, 'are you there?'), await alice.core.send(id, 'call me')]
    // Nobody else holds them: they stay pending, not sent or delivered.
    const page = await alice.core.page(id)
    expect(page.messages.filter((m) => offline.some((o) => o.id === m.id)).map((m) => m.state)).toEqual(['pending', 'pending'])

    bob = await bob.restart()
    cores[1] = bob
    await connect(bob, alice)
    await waitForCount(bob, id, 2)
    expect(await bodies(bob, id)).toEqual(['alice: are you there?', 'alice: call me'])
    await waitFor(async () => (await alice.core.page(id)).messages.every((m) => m.state === 'delivered'), {
      timeoutMs: 20_000,
      message: 'alice to see her offline messages delivered',
    })
  })
})
