import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

async function history(c: TestCore, id: string): Promise<string[]> {
  const page = await c.core.page(id as ConversationId, { limit: 500 })
  return page.messages.map((m) => `${m.authorName}: ${m.body}`)
}

describe('three cores over TCP loopback', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('create a group, invite, join, chat: everyone ends with the identical ordered history', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const charlie = await startCore('charlie')
    cores = [alice, bob, charlie]

    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const inviteBob = await alice.core.createInvite(group.id as ConversationId, { singleUse: true })
    const inviteCharlie = await alice.core.createInvite(group.id as ConversationId, { singleUse: true })
    await bob.core.join(inviteBob.code)
    await charlie.core.join(inviteCharlie.code)

    expect(alice.core.members(group.id as ConversationId).map((m) => m.displayName)).toEqual(['alice', 'bob', 'charlie'])
    await waitFor(() => bob.core.members(group.id as ConversationId).length === 3)
    await waitFor(() => charlie.core.members(group.id as ConversationId).length === 3)

    await alice.core.send(group.id as ConversationId, 'hello from alice')
    await bob.core.send(group.id as ConversationId, 'hi alice, bob here')
    await charlie.core.send(group.id as ConversationId, 'charlie says hi')
    for (let i = 0; i < 5; i++) await bob.core.send(group.id as ConversationId, `bob ${i}`)

    await waitFor(async () => (await history(alice, group.id)).length === 8, { timeoutMs: 20_000 })
    await waitFor(async () => (await history(bob, group.id)).length === 8, { timeoutMs: 20_000 })
    await waitFor(async () => (await history(charlie, group.id)).length === 8, { timeoutMs: 20_000 })
    const a = await history(alice, group.id)
    expect(await history(bob, group.id)).toEqual(a)
    expect(await history(charlie, group.id)).toEqual(a)
    expect(a).toContain('charlie: charlie says hi')

    // Delivered once another member holds it; read once they mark it read.
    const mine = (await alice.core.page(group.id as ConversationId)).messages.find((m) => m.mine)!
    await waitFor(async () => {
      const m = (await alice.core.page(group.id as ConversationId)).messages.find((x) => x.id === mine.id)
      return m?.state === 'delivered' || m?.state === 'read'
    })
    await bob.core.markRead(group.id as ConversationId)
    await waitFor(async () => (await alice.core.page(group.id as ConversationId)).messages.find((x) => x.id === mine.id)?.state === 'read')
  })

  it('a burst of concurrent sends shares synced writes (group commit) and arrives complete and in order', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    let synced = 0
    const commit = alice.core.store.commit.bind(alice.core.store)
    alice.core.store.commit = (ops, sync) => {
      if (sync) synced++
      return commit(ops, sync)
    }
    const sent = await Promise.all(Array.from({ length: 40 }, (_, i) => alice.core.send(id, `burst ${i}`)))
    alice.core.store.commit = commit
    // Every send was acknowledged as durable, in call order, yet far fewer fsyncs than messages were paid.
    expect(sent.map((m) => m.body)).toEqual(Array.from({ length: 40 }, (_, i) => `burst ${i}`))
    expect(synced).toBeLessThan(40)
    expect(synced).toBeGreaterThan(0)
    const order = sent.map((m) => m.orderKey)
    expect([...order].sort()).toEqual(order)
    await waitForCount(bob, id, 40)
    expect(await bodies(bob, id)).toEqual(await bodies(alice, id))
  })

  it('a failed synced write rejects every send of its batch and leaves the chain where it was', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    const commit = alice.core.store.commit.bind(alice.core.store)
    alice.core.store.commit = () => Promise.reject(new Error('disk full'))
    const failed = await Promise.allSettled([alice.core.send(id, 'lost 1'), alice.core.send(id, 'lost 2')])
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    alice.core.store.commit = commit
    // The next sends reuse the sequence numbers nobody saw, so bob's streams have no gap and nothing is lost.
    await alice.core.send(id, 'after 1')
    await alice.core.send(id, 'after 2')
    await waitForCount(bob, id, 2)
    expect(await bodies(bob, id)).toEqual(['alice: after 1', 'alice: after 2'])
    expect(await bodies(alice, id)).toEqual(['alice: after 1', 'alice: after 2'])
  })

  it('the inviter hears conversation.updated with the new member count when someone joins', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const counts: number[] = []
    alice.core.events.on('conversation.updated', (e) => {
      if (e.conversation.id === group.id) counts.push(e.conversation.memberCount)
    })
    const invite = await alice.core.createInvite(group.id as ConversationId)
    await bob.core.join(invite.code)
    await waitFor(() => counts.includes(2), { message: 'a conversation.updated with 2 members' })
  })
})
