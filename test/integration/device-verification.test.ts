/**
 * A verified person's devices change, with real cores and real linking: the people who verified them see it, on the
 * member list and as a notice on the timeline's device line, until they verify again (docs/adr/0031, people.ts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { AccountId, ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { link } from '../helpers/link-devices.js'

let cores: TestCore[] = []

afterEach(async () => {
  await stopAll(cores)
  cores = []
})

const memberOf = (c: TestCore, id: ConversationId, who: TestCore) => c.core.members(id).find((m) => m.account === who.identity.account)
const deviceLines = (c: TestCore, id: ConversationId) => c.core.systemLines(id).filter((l) => l.kind.startsWith('device-'))

describe('verification and linked devices', () => {
  it('bob verified alice; alice links a laptop: bob is asked to verify her again, and verifying again clears it', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores.push(alice, bob)
    await connect(alice, bob)
    const id = await makeGroup(alice, [bob])

    await bob.core.people.verify(alice.identity.account as AccountId)
    expect(memberOf(bob, id, alice)).toMatchObject({ verified: true })
    expect(memberOf(bob, id, alice)?.verifiedDevicesChanged).toBeUndefined()

    const changed: Array<boolean | undefined> = []
    const off = bob.core.events.on('members.changed', ({ conversation, members }) => {
      if (conversation === id) changed.push(members.find((m) => m.account === alice.identity.account)?.verifiedDevicesChanged)
    })
    const { linked } = await link(alice.core)
    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    await connect(laptop, alice)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)

    // Bob's core took alice's add-device with no action of bob's; it speaks for alice with a key bob never checked.
    await waitFor(() => memberOf(bob, id, alice)?.verifiedDevicesChanged === true, { message: 'bob sees alice needs verifying again' })
    off()
    expect(changed).toContain(true)
    expect(memberOf(bob, id, alice)).toMatchObject({ verified: false, verifiedDevicesChanged: true })
    const lines = deviceLines(bob, id)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      kind: 'device-added',
      actor: alice.identity.account,
      target: null,
      text: 'alice linked a new device',
      verifyAgain: { account: alice.identity.account, displayName: 'alice', text: 'alice’s devices changed since you verified them. Verify alice again.' },
    })
    // Alice sees the same line about herself, with no notice: she never verifies herself.
    await waitFor(() => deviceLines(alice, id).length === 1)
    expect(deviceLines(alice, id)[0]).toMatchObject({ id: lines[0]!.id, text: 'You linked a new device' })
    expect(deviceLines(alice, id)[0]!.verifyAgain).toBeUndefined()

    await bob.core.people.verify(alice.identity.account as AccountId)
    expect(memberOf(bob, id, alice)).toMatchObject({ verified: true })
    expect(memberOf(bob, id, alice)?.verifiedDevicesChanged).toBeUndefined()
    expect(deviceLines(bob, id).map((l) => [l.text, l.verifyAgain])).toEqual([['alice linked a new device', undefined]])

    // A device taken away leaves fewer keys speaking for alice and none unchecked: a line, but still verified.
    await alice.core.devices.revoke(linked.identity.deviceId)
    await waitFor(() => deviceLines(bob, id).length === 2, { message: 'bob sees the revocation' })
    expect(deviceLines(bob, id).map((l) => [l.kind, l.text, l.verifyAgain])).toEqual([
      ['device-added', 'alice linked a new device', undefined],
      ['device-revoked', 'alice removed a device', undefined],
    ])
    expect(memberOf(bob, id, alice)).toMatchObject({ verified: true })
  })
})
