import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

describe('changing the display name', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  const nameIn = (c: TestCore, id: ConversationId, who: TestCore) => c.core.members(id).find((m) => m.account === who.identity.account)?.displayName

  it('reaches every member: member list, old and new messages, the conversation preview and the peer list', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const family = await makeGroup(alice, [bob, carol])
    const direct = await makeGroup(alice, [bob], 'Alice & Bob')
    await bob.core.send(family, 'written as bob')
    await waitForCount(alice, family, 1)

    const seen: string[] = []
    const off = alice.core.events.on('members.changed', ({ conversation, members }) => {
      if (conversation === family) seen.push(members.find((m) => m.account === bob.identity.account)?.displayName ?? '')
    })
    const settings = await bob.core.updateSettings({ displayName: '  Robert ' })
    expect(settings.displayName).toBe('Robert')
    expect(bob.core.whoami().displayName).toBe('Robert')

    for (const c of [alice, carol]) await waitFor(() => nameIn(c, family, bob) === 'Robert', { message: `${c.name} to see the new name` })
    await waitFor(() => nameIn(alice, direct, bob) === 'Robert')
    expect(nameIn(bob, family, bob)).toBe('Robert')
    // The UI learns it from an event, without polling.
    expect(seen.at(-1)).toBe('Robert')
    off()
    // What bob wrote before the change shows under the new name too: one person, one name.
    expect(await bodies(alice, family)).toEqual(['Robert: written as bob'])
    expect(alice.core.getConversation(family).lastMessage?.authorName).toBe('Robert')
    expect(alice.core.peers().find((p) => p.peerId === bob.identity.peerId)?.displayName).toBe('Robert')

    await bob.core.send(family, 'written as Robert')
    await waitForCount(carol, family, 2)
    expect(await bodies(carol, family)).toEqual(['Robert: written as bob', 'Robert: written as Robert'])
  })

  it('a conversation created after the change carries the new name in the certificate; it survives a restart', async () => {
    const alice = await startCore('alice')
    let bob = await startCore('bob')
    cores = [alice, bob]
    await bob.core.updateSettings({ displayName: 'Robert' })
    const id = await makeGroup(bob, [alice], 'Made by Robert')
    expect(nameIn(alice, id, bob)).toBe('Robert')
    expect(alice.core.getConversation(id).memberCount).toBe(2)

    bob = await bob.restart()
    cores = [alice, bob]
    expect(bob.core.whoami().displayName).toBe('Robert')
    expect(bob.core.settings().displayName).toBe('Robert')
    expect(nameIn(bob, id, bob)).toBe('Robert')
  })

  it('a change interrupted after its intent was written is finished when the core starts again', async () => {
    const alice = await startCore('alice')
    let bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    // What a crash right after the first synced write of updateSettings leaves behind.
    await bob.core.store.commit([bob.core.store.putPendingName('Robert')], true)
    expect(bob.core.whoami().displayName).toBe('bob')

    bob = await bob.restart()
    cores = [alice, bob]
    expect(bob.core.whoami().displayName).toBe('Robert')
    expect(await bob.core.store.getPendingName()).toBeUndefined()
    await connect(bob, alice)
    await waitFor(() => nameIn(alice, id, bob) === 'Robert', { message: 'alice to learn the name finished at start' })
  })

  it('a removed member writes no rename into the conversation it was removed from; the others keep its old name', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const other = await makeGroup(alice, [bob], 'Still together')
    await alice.core.removeMember(id, bob.identity.account)
    await waitFor(() => bob.core.getConversation(id).removed)
    const opsBefore = log(bob, id).ops.size

    await bob.core.updateSettings({ displayName: 'Robert' })
    await waitFor(() => nameIn(alice, other, bob) === 'Robert')
    expect(log(bob, id).ops.size).toBe(opsBefore)
    for (const c of [alice, carol]) expect(log(c, id).log.names.get(bob.identity.account)).toBe('bob')
  })
})

/** The conversation's in-memory state (ops and computed log), for assertions the public API does not expose. */
function log(c: TestCore, id: ConversationId) {
  const internals = c.core as unknown as { conversations: Map<string, { ops: Map<string, unknown>; log: { names: Map<string, string> } }> }
  return internals.conversations.get(id)!
}
