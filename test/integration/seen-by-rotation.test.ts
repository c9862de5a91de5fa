import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { SeenByView } from '../../node/src/api/types.js'
import type { ConversationId, MessageId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

/**
 * Seen by, for a message written before a rotation: receipts name positions in the epoch current for their sender, so
 * once everyone writes in the new epoch the author still knows who read and who holds its older messages, and a
 * member who came after the rotation is never said to have read them.
 */
describe('seen by across a rotation', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  const names = (list: SeenByView['read']) => list.map((p) => p.displayName).sort()

  async function seenUntil(c: TestCore, id: ConversationId, messageId: string, ok: (s: SeenByView) => boolean, what: string): Promise<SeenByView> {
    let last: SeenByView | undefined
    await waitFor(async () => {
      last = await c.core.details.seenBy(id, messageId as MessageId)
      return ok(last)
    }, { timeoutMs: 30_000, message: `${what} (last ${JSON.stringify(last)})` })
    return last!
  }

  async function holds(c: TestCore, id: ConversationId, messageId: string): Promise<void> {
    await waitFor(async () => (await c.core.page(id)).messages.some((m) => m.id === messageId), { timeoutMs: 30_000, message: `${c.name} to hold ${messageId}` })
  }

  it('bob and carol read a message, dave is removed: its details still list who read it and who holds it', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    const dave = await startCore('dave')
    cores = [alice, bob, carol, dave]
    const id = await makeGroup(alice, [bob, carol, dave])

    const first = await alice.core.send(id, 'before the rotation')
    for (const c of [bob, carol, dave]) await holds(c, id, first.id)
    await bob.core.markRead(id)
    await carol.core.markRead(id)
    const second = await alice.core.send(id, 'also before')
    for (const c of [bob, carol, dave]) await holds(c, id, second.id)
    await bob.core.markRead(id)
    await seenUntil(alice, id, first.id, (s) => names(s.read).join() === 'bob,carol' && names(s.delivered).join() === 'dave', 'first: bob and carol read, dave holds')
    await seenUntil(alice, id, second.id, (s) => names(s.read).join() === 'bob' && names(s.delivered).join() === 'carol,dave', 'second: bob read, carol and dave hold')

    await alice.core.removeMember(id, dave.identity.account)
    for (const c of [alice, bob, carol]) await waitFor(() => c.core.members(id).length === 3, { timeoutMs: 20_000 })
    // A message of the new epoch: once bob and carol are seen holding it, their receipts are of the new epoch.
    const third = await alice.core.send(id, 'after the rotation')
    await seenUntil(alice, id, third.id, (s) => names(s.delivered).join() === 'bob,carol', 'third: bob and carol hold it (receipts of the new epoch)')

    const afterFirst = await alice.core.details.seenBy(id, first.id as MessageId)
    expect(names(afterFirst.read)).toEqual(['bob', 'carol'])
    // Dave held it while he was a member: that stays true after his removal.
    expect(names(afterFirst.delivered)).toEqual(['dave'])
    const afterSecond = await alice.core.details.seenBy(id, second.id as MessageId)
    expect(names(afterSecond.read)).toEqual(['bob'])
    expect(names(afterSecond.delivered)).toEqual(['carol', 'dave'])

    // Erin joins in the new epoch and reads everything she has: her read position is past the old messages, which
    // she never had.
    const erin = await startCore('erin')
    cores.push(erin)
    const invite = await alice.core.createInvite(id, { singleUse: true })
    await erin.core.join(invite.code)
    await holds(erin, id, third.id)
    await erin.core.markRead(id)
    await seenUntil(alice, id, third.id, (s) => names(s.read).includes('erin'), 'third: erin read it')
    const finalFirst = await alice.core.details.seenBy(id, first.id as MessageId)
    expect(names(finalFirst.read)).toEqual(['bob', 'carol'])
    expect(names(finalFirst.delivered)).toEqual(['dave'])
  })
})
