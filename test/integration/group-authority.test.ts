import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { signOp, type MembershipOp, type OpBody } from '../../node/src/conversation/membership-op.js'
import { deriveEpochKeys } from '../../node/src/conversation/epoch-keys.js'
import { randomBytes } from '../../node/common/crypto/random.js'
import type { ConversationId, OpHash } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

/**
 * Attacks on group authority, each with real cores over TCP: an author chooses its operation's HLC and parents, so
 * neither may decide who holds authority (docs/adr/0015-causal-group-authority.md).
 */

interface Internals {
  conversations: Map<string, { ops: Map<OpHash, MembershipOp>; log: { heads: OpHash[]; order: OpHash[]; invalid: Map<OpHash, string> } }>
  membership: { addOps(rt: unknown, ops: MembershipOp[]): Promise<number> }
  kernel: { queue: { run<T>(task: () => Promise<T>): Promise<T> } }
}
const internals = (c: TestCore) => c.core as unknown as Internals
const runtime = (c: TestCore, id: ConversationId) => internals(c).conversations.get(id)!

/** Signs an operation as `author`'s device with the parents and HLC the attacker picks. */
function forge(author: TestCore, id: ConversationId, prev: OpHash[], hlc: string, body: OpBody): MembershipOp {
  return signOp({ conversation: id, prev, hlc, author: author.identity.cert, deviceSeed: author.identity.deviceKey.seed, body })
}

/** Puts operations into `holder`'s log as if they had arrived from a peer: from there its sync serves them. */
async function plant(holder: TestCore, id: ConversationId, ops: MembershipOp[]): Promise<void> {
  const rt = runtime(holder, id)
  await internals(holder).kernel.queue.run(() => internals(holder).membership.addOps(rt, ops))
}

const newEpoch = () => ({ id: deriveEpochKeys(randomBytes(32)).id, seals: [] })
const hlcAfter = (ops: MembershipOp[], prev: OpHash[]) => {
  const wall = Math.max(...ops.filter((o) => prev.includes(o.hash)).map((o) => Number.parseInt(o.hlc.slice(0, 13), 10)))
  return `${String(wall + 1).padStart(13, '0')}-000000`
}
const roles = (c: TestCore, id: ConversationId) => Object.fromEntries(c.core.members(id).map((m) => [m.displayName, m.role]))

describe('group authority under attack', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a demoted admin backdating "remove the admin who demoted me" changes nothing, with the lowest HLC or one just after its parents', async () => {
    const alice = await startCore('alice')
    const mallory = await startCore('mallory')
    const bob = await startCore('bob')
    cores = [alice, mallory, bob]
    const id = await makeGroup(alice, [mallory, bob])
    await alice.core.setRole(id, mallory.identity.account, 'admin')
    await waitFor(() => roles(bob, id)['mallory'] === 'admin')
    const before = [...runtime(mallory, id).log.heads]
    const known = [...runtime(mallory, id).ops.values()]

    await alice.core.setRole(id, mallory.identity.account, 'member')
    await waitFor(() => roles(mallory, id)['mallory'] === 'member' && roles(bob, id)['mallory'] === 'member')

    const removeAlice: OpBody = { type: 'remove', account: alice.identity.account, cutoffs: {}, epoch: newEpoch() }
    const lowest = forge(mallory, id, before, '0000000000001-000000', removeAlice)
    const justAfter = forge(mallory, id, before, hlcAfter(known, before), { ...removeAlice, epoch: newEpoch() })
    await plant(mallory, id, [lowest, justAfter])
    await connect(bob, mallory)
    // (a sync already under way is joined rather than restarted, so wait for the result, not for one call)
    for (const c of [bob, alice]) {
      await c.core.syncWith(mallory.identity.peerId, id)
      await waitFor(() => runtime(c, id).log.order.includes(justAfter.hash), { message: `${c.name} to receive the backdated op` })
    }

    for (const c of [alice, bob, mallory]) {
      expect(roles(c, id)).toEqual({ alice: 'admin', bob: 'member', mallory: 'member' })
      expect(c.core.getConversation(id).removed).toBe(false)
    }
    // Dated before its parents: refused outright, never stored or passed on. Dated after them: concurrent with the
    // demotion, so void.
    expect(runtime(bob, id).ops.has(lowest.hash)).toBe(false)
    expect(runtime(bob, id).log.invalid.get(justAfter.hash)).toBe('author was demoted concurrently')
    await alice.core.send(id, 'still here')
    await waitForCount(bob, id, 1)
  })

  it("a removed admin's backdated operations, relayed by a colluding member's sync, have no effect and read nothing", async () => {
    const alice = await startCore('alice')
    const mallory = await startCore('mallory')
    const carol = await startCore('carol')
    const bob = await startCore('bob')
    cores = [alice, mallory, carol, bob]
    const id = await makeGroup(alice, [mallory, carol, bob])
    await alice.core.setRole(id, mallory.identity.account, 'admin')
    await waitFor(() => roles(bob, id)['mallory'] === 'admin' && roles(carol, id)['mallory'] === 'admin')
    const before = [...runtime(mallory, id).log.heads]
    const known = [...runtime(mallory, id).ops.values()]

    await alice.core.removeMember(id, mallory.identity.account)
    await waitFor(() => bob.core.members(id).length === 3 && carol.core.members(id).length === 3)

    // Mallory, already out, signs with parents from before her removal: remove alice, make carol admin.
    const hlc = hlcAfter(known, before)
    const ops = [
      forge(mallory, id, before, hlc, { type: 'remove', account: alice.identity.account, cutoffs: {}, epoch: newEpoch() }),
      forge(mallory, id, before, hlc, { type: 'role', account: carol.identity.account, role: 'admin' }),
    ]
    await plant(carol, id, ops) // carol colludes: her sync serves them to everyone
    await connect(bob, carol)
    for (const c of [bob, alice]) {
      await c.core.syncWith(carol.identity.peerId, id)
      await waitFor(() => ops.every((op) => runtime(c, id).log.order.includes(op.hash)), { message: `${c.name} to receive the relayed ops` })
    }

    for (const c of [alice, bob, carol]) {
      expect(roles(c, id)).toEqual({ alice: 'admin', bob: 'member', carol: 'member' })
      for (const op of ops) expect(runtime(c, id).log.invalid.get(op.hash)).toBe('author was removed concurrently')
    }
    await bob.core.send(id, 'for members only')
    await waitForCount(alice, id, 1)
    await connect(mallory, bob)
    await mallory.core.syncWith(bob.identity.peerId, id).catch(() => {})
    expect(await bodies(mallory, id)).toEqual([])
  })

  it('two admins removing each other while apart: every member keeps the senior one, whatever their clocks', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    await alice.core.setRole(id, bob.identity.account, 'admin')
    await waitFor(() => roles(bob, id)['bob'] === 'admin' && roles(carol, id)['bob'] === 'admin')
    await carol.core.stop()
    await alice.core.node.hangUp(bob.identity.peerId)
    await bob.core.node.hangUp(alice.identity.peerId)

    // bob acts last in wall-clock time; the order of clocks must not matter
    await alice.core.removeMember(id, bob.identity.account)
    await new Promise((r) => setTimeout(r, 20))
    await bob.core.removeMember(id, alice.identity.account)
    expect(bob.core.members(id).map((m) => m.displayName)).toEqual(['bob', 'carol'])

    await connect(alice, bob)
    await alice.core.syncWith(bob.identity.peerId, id)
    await bob.core.syncWith(alice.identity.peerId, id).catch(() => {}) // once bob sees he is out, alice refuses him envelopes
    for (const c of [alice, bob]) await waitFor(() => c.core.members(id).map((m) => m.displayName).join() === 'alice,carol')
    expect(bob.core.getConversation(id).removed).toBe(true)
    expect(alice.core.getConversation(id).removed).toBe(false)
  })

  it('a removed member cannot walk back in with the invite they joined with; "Add back" readmits them', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const id = group.id as ConversationId
    const reusable = await alice.core.createInvite(id, { singleUse: false })
    await bob.core.join(reusable.code)
    await waitFor(() => alice.core.members(id).length === 2)

    await alice.core.removeMember(id, bob.identity.account)
    await waitFor(() => bob.core.getConversation(id).removed)
    await expect(bob.core.join(reusable.code)).rejects.toMatchObject({ code: 'REMOVED' })
    // the invite he used is revoked in the log too, so no admin's core would admit anyone with it
    await waitFor(() => alice.core.members(id).length === 1)
    expect(alice.core.removedMembers(id).map((m) => m.displayName)).toEqual(['bob'])

    await alice.core.send(id, 'said while bob was out')
    await alice.core.addBack(id, bob.identity.account)
    await waitFor(() => !bob.core.getConversation(id).removed, { message: 'bob to learn he was added back' })
    await alice.core.send(id, 'welcome back')
    await waitFor(async () => (await bodies(bob, id)).includes('alice: welcome back'))
    expect(await bodies(bob, id)).not.toContain('alice: said while bob was out')
    expect(alice.core.removedMembers(id)).toEqual([])
  })

  it.each([65, 1_000])('%i heads from a member: every admin operation still works, and the member can be removed', async (n) => {
    const alice = await startCore('alice')
    const mallory = await startCore('mallory')
    const bob = await startCore('bob')
    cores = [alice, mallory, bob]
    const id = await makeGroup(alice, [mallory, bob])
    const heads = [...runtime(mallory, id).log.heads]
    const hlc = hlcAfter([...runtime(mallory, id).ops.values()], heads)
    const siblings = Array.from({ length: n }, (_, i) => forge(mallory, id, heads, hlc, { type: 'profile', name: `spam ${i}` }))
    await plant(mallory, id, siblings)
    await alice.core.syncWith(mallory.identity.peerId, id)
    await waitFor(() => runtime(alice, id).log.heads.length > 64, { message: 'alice to hold the siblings' })

    await alice.core.setRole(id, bob.identity.account, 'admin')
    await alice.core.createInvite(id)
    await alice.core.removeMember(id, mallory.identity.account)
    for (const c of [alice, bob]) {
      await waitFor(() => c.core.members(id).map((m) => m.displayName).join() === 'alice,bob', { timeoutMs: 30_000 })
      expect(roles(c, id)).toEqual({ alice: 'admin', bob: 'admin' })
    }
    expect(runtime(alice, id).log.heads.length).toBe(1)
    // alice kept at most 256 of the operations nobody built on, and of those renames only 64 took effect
    const log = runtime(alice, id).log
    const kept = siblings.filter((op) => log.order.includes(op.hash))
    expect(kept.length).toBe(Math.min(n, 256))
    expect(kept.filter((op) => !log.invalid.has(op.hash)).length).toBe(Math.min(n, 64))
  })

  it('thousands of membership operations (an admin’s): a join and a sync still carry the whole log', async () => {
    const alice = await startCore('alice')
    const mallory = await startCore('mallory')
    cores = [alice, mallory]
    const id = await makeGroup(alice, [mallory])
    // an admin, so no bound on operations nobody built on applies to hers
    await alice.core.setRole(id, mallory.identity.account, 'admin')
    await waitFor(() => roles(mallory, id)['mallory'] === 'admin')
    const ops: MembershipOp[] = []
    let prev = [...runtime(mallory, id).log.heads]
    let wall = Number.parseInt(runtime(mallory, id).ops.get(prev[0]!)!.hlc.slice(0, 13), 10)
    for (let i = 0; i < 5_000; i++) {
      const op = forge(mallory, id, prev, `${String(++wall).padStart(13, '0')}-000000`, { type: 'profile', name: `n${i % 50}` })
      ops.push(op)
      prev = [op.hash]
    }
    await plant(mallory, id, ops)
    await alice.core.syncWith(mallory.identity.peerId, id)
    await waitFor(() => runtime(alice, id).ops.size >= 5_000, { timeoutMs: 60_000, message: 'alice to hold the whole log' })

    const dave = await startCore('dave')
    cores.push(dave)
    const invite = await alice.core.createInvite(id)
    await dave.core.join(invite.code)
    expect(runtime(dave, id).ops.size).toBe(runtime(alice, id).ops.size)
    // only a member's first 64 renames take effect
    expect(dave.core.members(id).map((m) => m.displayName).sort()).toEqual(['alice', 'dave', 'n13'])
    await alice.core.send(id, 'hello dave')
    await waitForCount(dave, id, 1)
  })
})
