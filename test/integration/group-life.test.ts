import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { signOp } from '../../node/src/conversation/membership-op.js'
import { encodeHlc } from '../../crdt/src/index.js'
import type { ConversationId, OpHash } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

/** Group life between three real cores over libp2p: rename and describe, leave, and the timeline's lines. */
describe('group life', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  const texts = (c: TestCore, id: ConversationId) => c.core.systemLines(id).map((l) => l.text)
  // The events behind the lines, which every member has alike; the text is the reader's ("You joined").
  const events = (c: TestCore, id: ConversationId) => JSON.stringify(c.core.systemLines(id).map(({ text: _, ...event }) => event))

  it('rename and description converge, concurrent edits included; a member may not; the lines are the same everywhere', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])

    await alice.core.updateGroup(id, { name: 'Cousins', description: 'Sunday lunch' })
    for (const c of cores) await waitFor(() => c.core.getConversation(id).name === 'Cousins' && c.core.getConversation(id).description === 'Sunday lunch')
    await expect(bob.core.updateGroup(id, { name: 'Bob’s' })).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' })
    await expect(alice.core.updateGroup(id, { name: 'x'.repeat(65) })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: /at most 64/ })

    // Two admins edit at once while apart: both end with the same name and description.
    await alice.core.setRole(id, bob.identity.account, 'admin')
    for (const c of cores) await waitFor(() => c.core.getConversation(id).role !== null && c.core.members(id).find((m) => m.account === bob.identity.account)?.role === 'admin')
    await bob.core.node.hangUp(alice.identity.peerId)
    await bob.core.node.hangUp(carol.identity.peerId)
    await Promise.all([alice.core.updateGroup(id, { name: 'Alice’s name' }), bob.core.updateGroup(id, { name: 'Bob’s name', description: 'Bob wrote this' })])
    await bob.core.node.dial(alice.core.node.addresses()[0]!)
    await bob.core.syncWith(alice.identity.peerId, id)
    await waitFor(() => new Set(cores.map((c) => `${c.core.getConversation(id).name}|${c.core.getConversation(id).description}`)).size === 1, {
      message: 'every member to show the same name and description',
    })
    expect(['Alice’s name', 'Bob’s name']).toContain(alice.core.getConversation(id).name)
    expect(alice.core.getConversation(id).description).toBe('Bob wrote this')

    await waitFor(() => events(bob, id) === events(alice, id) && events(carol, id) === events(alice, id))
    const lines = texts(carol, id)
    expect(lines.slice(0, 5)).toEqual(['alice created the group', 'bob joined', 'You joined', 'alice renamed the group to Cousins and changed the description', 'alice made bob an admin'])
    expect(lines.slice(5).sort()).toEqual(['alice renamed the group to Alice’s name', 'bob renamed the group to Bob’s name and changed the description'].sort())
    expect(texts(alice, id).slice(0, 5)).toEqual(['You created the group', 'bob joined', 'carol joined', 'You renamed the group to Cousins and changed the description', 'You made bob an admin'])
    expect(texts(bob, id)[4]).toBe('alice made you an admin')
  })

  it('leave: the others rotate, the leaver cannot read what is said next, its later operation is refused', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    await alice.core.send(id, 'before carol leaves')
    for (const c of cores) await waitForCount(c, id, 1)

    // The last admin cannot leave while others remain.
    await expect(alice.core.leaveGroup(id)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: 'Make someone else an admin before you leave' })

    const epochBefore = carolRuntime(carol, id).log.currentEpoch
    const left = await carol.core.leaveGroup(id)
    expect(left).toMatchObject({ removed: true, left: true })
    for (const c of [alice, bob]) await waitFor(() => c.core.members(id).length === 2, { message: `${c.name} to see carol leave` })
    // Alice (the admin) seals a new epoch to the two who remain; carol's device is not among its readers.
    await waitFor(() => alice.core.getConversation(id) && carolRuntime(alice, id).log.currentEpoch !== epochBefore, { message: 'a rotation' })
    const current = carolRuntime(alice, id).log.epochs.get(carolRuntime(alice, id).log.currentEpoch)!
    expect(current.devices.has(carol.identity.deviceId)).toBe(false)
    await waitFor(() => carolRuntime(bob, id).log.currentEpoch === current.id)

    await bob.core.send(id, 'after carol left')
    await waitForCount(alice, id, 2)
    await carol.core.syncWith(alice.identity.peerId, id).catch(() => {})
    await new Promise((r) => setTimeout(r, 1500))
    expect(await bodies(carol, id)).toEqual(['alice: before carol leaves'])
    expect(carol.core.getConversation(id)).toMatchObject({ removed: true, left: true })
    await expect(carol.core.send(id, 'still here?')).rejects.toMatchObject({ code: 'REMOVED' })

    // An operation carol signs after leaving (a rename of herself, forced onto the wire) is refused by every member.
    const rt = carolRuntime(carol, id)
    const forged = signOp({
      conversation: id,
      prev: rt.log.heads as OpHash[],
      hlc: encodeHlc({ wall: Date.now(), counter: 0 }),
      author: carol.identity.cert,
      deviceSeed: carol.identity.deviceKey.seed,
      body: { type: 'profile', name: 'Carol is back' },
    })
    const before = alice.core.counters.get('unauthorized-membership-op')
    await (alice.core as unknown as { membership: { addOps(rt: unknown, ops: unknown[]): Promise<number> } }).membership.addOps(carolRuntime(alice, id), [forged])
    expect(alice.core.counters.get('unauthorized-membership-op')).toBeGreaterThan(before)
    expect(carolRuntime(alice, id).ops.has(forged.hash)).toBe(false)

    // The lines say what happened, the same on every member (the leaver's view ends with its leave).
    await waitFor(() => events(bob, id) === events(alice, id))
    expect(texts(bob, id)).toEqual(['alice created the group', 'You joined', 'carol joined', 'carol left'])
    expect(events(carol, id)).toEqual(events(alice, id))
    expect(texts(carol, id).at(-1)).toBe('You left')

    // Only an admin's Add back brings her in again.
    await alice.core.addBack(id, carol.identity.account)
    await waitFor(() => carol.core.getConversation(id).removed === false, { message: 'carol to be back' })
    expect(carol.core.getConversation(id).left).toBeUndefined()
    await waitFor(() => texts(carol, id).at(-1) === 'alice added you back')
  })
})

describe('leaving while no member is reachable', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('is refused with words that say why: once out, the leaver could not hand its leave to anyone', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await alice.stop()
    await waitFor(() => !bob.core.node.connectedPeers().includes(alice.identity.peerId), { message: 'bob to notice alice is gone' })
    await expect(bob.core.leaveGroup(id)).rejects.toMatchObject({ code: 'UNREACHABLE', message: /try again when one is online/ })
    expect(bob.core.getConversation(id)).toMatchObject({ removed: false })
    expect(bob.core.getConversation(id).left).toBeUndefined()
  })
})

function carolRuntime(c: TestCore, id: ConversationId) {
  return (c.core as unknown as { conversations: Map<string, { log: import('../../node/src/conversation/membership-log.js').LogState; ops: Map<string, unknown> }> }).conversations.get(id)!
}
