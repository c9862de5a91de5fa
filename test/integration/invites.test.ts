import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

async function start<N extends string[]>(into: TestCore[], ...names: N): Promise<{ [K in keyof N]: TestCore }> {
  for (const name of names) into.push(await startCore(name))
  return into.slice(-names.length) as { [K in keyof N]: TestCore }
}

describe('invites', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('a single-use invite admits one account and refuses a second', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'once' })).id as ConversationId
    const invite = await alice.core.createInvite(id, { singleUse: true })
    await bob.core.join(invite.code)
    await expect(charlie.core.join(invite.code)).rejects.toMatchObject({ code: 'INVITE_USED' })
    expect(alice.core.members(id).map((m) => m.displayName)).toEqual(['alice', 'bob'])
  })

  it('a multi-use invite admits several; a revoked one admits no more', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'open' })).id as ConversationId
    const invite = await alice.core.createInvite(id, { singleUse: false })
    await bob.core.join(invite.code)
    await alice.core.revokeInvite(id, invite.inviteId)
    await expect(charlie.core.join(invite.code)).rejects.toMatchObject({ code: 'INVITE_REVOKED' })
  })

  it('an expired invite is refused, by the joiner before dialing and by the inviter', async () => {
    const [alice, bob] = await start(cores, 'alice', 'bob')
    const id = (await alice.core.createConversation({ kind: 'group', name: 'late' })).id as ConversationId
    const invite = await alice.core.createInvite(id, { expiresInMs: 1 })
    await new Promise((r) => setTimeout(r, 20))
    await expect(bob.core.join(invite.code)).rejects.toMatchObject({ code: 'INVITE_EXPIRED' })
    // A bearer capability does not outlive its purpose, whoever calls the core (the API checks the same).
    await expect(alice.core.createInvite(id, { expiresInMs: 366 * 24 * 3600_000 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(alice.core.createInvite(id, { expiresInMs: -1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('a direct chat holds two people; garbage invites are a clear error', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = (await alice.core.createConversation({ kind: 'direct', name: 'alice & bob' })).id as ConversationId
    const multi = await alice.core.createInvite(id, { singleUse: false })
    await bob.core.join(multi.code)
    await expect(charlie.core.join(multi.code)).rejects.toMatchObject({ code: 'INVITE_USED' })
    await expect(charlie.core.join('hearth://join/not-an-invite')).rejects.toMatchObject({ code: 'INVITE_INVALID' })
    await expect(charlie.core.join(multi.code.slice(0, -10))).rejects.toMatchObject({ code: 'INVITE_INVALID' })
  })

  it('only admins invite and remove; a member who is made admin can', async () => {
    const [alice, bob, charlie] = await start(cores, 'alice', 'bob', 'charlie')
    const id = await makeGroup(alice, [bob])
    await expect(bob.core.createInvite(id)).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' })
    await expect(bob.core.removeMember(id, alice.identity.account)).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' })
    await expect(bob.core.setRole(id, bob.identity.account, 'admin')).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' })
    // The only admin cannot step down: nobody could invite or remove any more.
    await expect(alice.core.setRole(id, alice.identity.account, 'member')).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await alice.core.setRole(id, bob.identity.account, 'admin')
    await waitFor(() => bob.core.getConversation(id).role === 'admin')
    const invite = await bob.core.createInvite(id)
    await charlie.core.join(invite.code)
    await waitFor(() => alice.core.members(id).length === 3)
    // With a second admin, the first may step down; the change reaches everyone.
    await alice.core.setRole(id, alice.identity.account, 'member')
    await waitFor(() => charlie.core.members(id).find((m) => m.account === alice.identity.account)?.role === 'member')
    await expect(alice.core.createInvite(id)).rejects.toMatchObject({ code: 'NOT_AN_ADMIN' })
  })
})

describe('a peer that sends garbage', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('is scored down and disconnected, and the node keeps serving everyone else', async () => {
    const [alice, bob, mallory] = await start(cores, 'alice', 'bob', 'mallory')
    const id = await makeGroup(alice, [bob, mallory])
    const topic = [...(alice.core as unknown as { conversations: Map<string, { topics: Set<string> }> }).conversations.get(id)!.topics][0]!
    for (let i = 0; i < 30 && alice.core.node.connectedPeers().includes(mallory.identity.peerId); i++) {
      await mallory.core.node.publish(topic, new Uint8Array(200).fill(i + 1))
      await new Promise((r) => setTimeout(r, 20))
    }
    await waitFor(() => !alice.core.node.connectedPeers().includes(mallory.identity.peerId), {
      message: 'alice to disconnect the garbage sender',
    })
    expect(alice.core.counters.get('malformed')).toBeGreaterThan(0)
    await bob.core.send(id, 'still here')
    await waitFor(async () => (await alice.core.page(id)).messages.some((m) => m.body === 'still here'))
  })
})
