/**
 * A direct chat is called after the other person on both sides (each core's conversation summary), follows their
 * renames, and is called what its creator typed only until the other person joins. Real cores over real libp2p.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

describe('the title of a direct chat', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  const titleOn = (c: TestCore, id: ConversationId) => c.core.getConversation(id).name
  const listedOn = (c: TestCore, id: ConversationId) => c.core.listConversations().find((s) => s.id === id)?.name

  it('is the other person’s name on each side, and follows their renames', async () => {
    const alice = await startCore('Alice')
    const bob = await startCore('Bob')
    cores = [alice, bob]
    // Alice calls him what she likes; until he joins that is all anyone knows.
    const created = await alice.core.createConversation({ kind: 'direct', name: 'Bobby from work' })
    const id = created.id as ConversationId
    expect(created.name).toBe('Bobby from work')

    const invite = await alice.core.createInvite(id, { singleUse: true })
    const joined = await bob.core.join(invite.code)
    // Bob never sees a chat named after himself (what Alice typed was her name for him).
    expect(joined.name).toBe('Alice')
    expect(titleOn(bob, id)).toBe('Alice')
    await waitFor(() => titleOn(alice, id) === 'Bob', { message: 'alice to call the chat Bob once he is in' })
    expect(listedOn(alice, id)).toBe('Bob')

    // A rename reaches the title on the other side, and the UI hears of it from an event.
    const titles: string[] = []
    const off = alice.core.events.on('conversation.updated', ({ conversation }) => {
      if (conversation.id === id) titles.push(conversation.name)
    })
    await bob.core.updateSettings({ displayName: 'Robert' })
    await waitFor(() => titleOn(alice, id) === 'Robert', { message: 'alice to see the new name' })
    expect(titles.at(-1)).toBe('Robert')
    off()
    expect(titleOn(bob, id)).toBe('Alice')

    await alice.core.updateSettings({ displayName: 'Alicia' })
    await waitFor(() => titleOn(bob, id) === 'Alicia', { message: 'bob to see the new name' })
    expect(titleOn(alice, id)).toBe('Robert')
  })

  it('leaves a group’s name as its members gave it', async () => {
    const alice = await startCore('Alice')
    const bob = await startCore('Bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob], 'Family')
    expect(titleOn(alice, id)).toBe('Family')
    expect(titleOn(bob, id)).toBe('Family')
  })
})
