import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { MessageView } from '../../node/src/api/types.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

/** An edit can change whom a message mentions, checked as a send is, between real cores. */
describe('editing a message’s mentions', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  async function until(c: TestCore, id: ConversationId, messageId: string, ok: (m: MessageView) => boolean, what: string): Promise<MessageView> {
    let last: MessageView | undefined
    await waitFor(async () => {
      last = (await c.core.page(id)).messages.find((m) => m.id === messageId)
      return last !== undefined && ok(last)
    }, { message: `${c.name}: ${what} (last seen ${JSON.stringify(last)?.slice(0, 300)})` })
    return last!
  }

  it('an edit naming mentions replaces them on every member; one without keeps them; a non-member is refused', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const m = await alice.core.send(id, '@Bob can you bring the cake?', { mentions: [bob.identity.account] })
    await until(bob, id, m.id, (v) => v.mentionsMe === true, 'the mention of bob')

    const edited = await alice.core.edit(id, m.id, '@Carol can you bring the cake?', { mentions: [carol.identity.account] })
    expect(edited.mentions).toEqual([carol.identity.account])
    await until(carol, id, m.id, (v) => v.edited && v.mentionsMe === true, 'the mention of carol')
    const atBob = await until(bob, id, m.id, (v) => v.edited && v.body.startsWith('@Carol'), 'the edit')
    expect(atBob.mentionsMe).toBe(false)
    expect(atBob.mentions).toEqual([carol.identity.account])

    // Without `mentions` an edit leaves them as they are.
    await alice.core.edit(id, m.id, '@Carol can you bring the big cake?')
    const kept = await until(bob, id, m.id, (v) => v.body.includes('big cake'), 'the second edit')
    expect(kept.mentions).toEqual([carol.identity.account])

    // An empty list takes them all away.
    await alice.core.edit(id, m.id, 'who can bring the big cake?', { mentions: [] })
    const none = await until(carol, id, m.id, (v) => v.body.startsWith('who'), 'the third edit')
    expect(none.mentions).toBeUndefined()
    expect(none.mentionsMe).not.toBe(true)

    await expect(alice.core.edit(id, m.id, 'hi', { mentions: ['ef'.repeat(32)] })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })
})
