import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { MessageView } from '../../node/src/api/types.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

/** Replies, reactions, edits, deletes, typing, mentions and seen-by between real cores over real gossip and sync. */
describe('everyday message kinds', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  async function trio(): Promise<{ alice: TestCore; bob: TestCore; carol: TestCore; id: ConversationId }> {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    return { alice, bob, carol, id: await makeGroup(alice, [bob, carol]) }
  }

  async function shown(c: TestCore, id: ConversationId, messageId: string): Promise<MessageView | undefined> {
    return (await c.core.page(id)).messages.find((m) => m.id === messageId)
  }

  async function until(c: TestCore, id: ConversationId, messageId: string, ok: (m: MessageView) => boolean, what: string): Promise<MessageView> {
    let last: MessageView | undefined
    await waitFor(async () => {
      last = await shown(c, id, messageId)
      return last !== undefined && ok(last)
    }, { message: `${c.name}: ${what} (last seen ${JSON.stringify(last)?.slice(0, 300)})` })
    return last!
  }

  it('a reply quotes the original live: its edit and its deletion show in the reply on every member', async () => {
    const { alice, bob, carol, id } = await trio()
    const original = await alice.core.send(id, 'dinner at 7?')
    await until(bob, id, original.id, () => true, 'the original')
    const reply = await bob.core.send(id, 'yes!', { replyTo: original.id })
    expect(reply.replyTo).toMatchObject({ id: original.id, author: alice.identity.account, body: 'dinner at 7?', missing: false })
    for (const c of [alice, carol]) await until(c, id, reply.id, (m) => m.replyTo?.body === 'dinner at 7?', 'the reply with its quote')

    await alice.core.edit(id, original.id, 'dinner at 8?')
    for (const c of cores) {
      const edited = await until(c, id, original.id, (m) => m.body === 'dinner at 8?' && m.edited, 'the edit')
      expect(edited.edited).toBe(true)
      await until(c, id, reply.id, (m) => m.replyTo?.body === 'dinner at 8?', 'the reply quoting the edit')
    }
    expect((await carol.core.details.versions(id, original.id as never)).map((v) => v.body)).toEqual(['dinner at 7?', 'dinner at 8?'])

    await alice.core.deleteMessage(id, original.id, true)
    for (const c of cores) {
      const deleted = await until(c, id, original.id, (m) => m.deleted, 'the deletion')
      expect(deleted.body).toBe('')
      const quoted = await until(c, id, reply.id, (m) => m.replyTo?.deleted === true, 'the reply showing the original deleted')
      expect(quoted.replyTo?.body).toBe('')
    }
    expect(await carol.core.details.versions(id, original.id as never)).toEqual([])
  })

  it('one reaction per person: a new one replaces the old, null takes it away; counts name who reacted', async () => {
    const { alice, bob, carol, id } = await trio()
    const m = await alice.core.send(id, 'we won!')
    for (const c of [bob, carol]) await until(c, id, m.id, () => true, 'the message')
    // Reacting rewrites the reactor's row of someone else's message: its text must stay.
    expect((await bob.core.react(id, m.id, '👍')).body).toBe('we won!')
    expect((await shown(bob, id, m.id))?.body).toBe('we won!')
    await carol.core.react(id, m.id, '👍')
    await until(alice, id, m.id, (v) => v.reactions['👍']?.length === 2, 'two thumbs up')
    await bob.core.react(id, m.id, '🎉')
    for (const c of cores) {
      const v = await until(c, id, m.id, (x) => x.reactions['🎉']?.length === 1 && x.reactions['👍']?.length === 1, 'bob switching to 🎉')
      expect(v.reactions).toEqual({ '🎉': [bob.identity.account], '👍': [carol.identity.account] })
      expect(v.body).toBe('we won!')
    }
    await carol.core.react(id, m.id, null)
    for (const c of cores) await until(c, id, m.id, (x) => x.reactions['👍'] === undefined, 'carol taking hers away')
    await expect(carol.core.react(id, m.id, null)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it("only the author edits or deletes for everyone; delete for me hides it on this device only", async () => {
    const { alice, bob, id } = await trio()
    const m = await alice.core.send(id, 'mine')
    await until(bob, id, m.id, () => true, 'the message')
    await expect(bob.core.edit(id, m.id, 'not yours')).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(bob.core.deleteMessage(id, m.id, true)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await bob.core.deleteMessage(id, m.id, false)
    expect(await shown(bob, id, m.id)).toBeUndefined()
    await alice.core.send(id, 'later')
    await waitFor(async () => (await bob.core.page(id)).messages.some((x) => x.body === 'later'))
    expect(await shown(alice, id, m.id)).toMatchObject({ body: 'mine', deleted: false })
    expect(await shown(bob, id, m.id)).toBeUndefined()
  })

  it('typing reaches members as an event and is never stored', async () => {
    const { alice, bob, id } = await trio()
    const ownNext = () => {
      const rt = (alice.core as unknown as { conversations: Map<string, { log: { currentEpoch: string }; own: Map<string, { next: number }> }> }).conversations.get(id)!
      return rt.own.get(rt.log.currentEpoch)!.next
    }
    const nextBefore = ownNext()
    const seen: Array<{ account: string; until: number }> = []
    bob.core.events.on('typing', (e) => {
      if (e.conversation === id) seen.push(e)
    })
    await waitFor(async () => {
      await alice.core.typing(id)
      return seen.length > 0
    }, { message: 'bob to see alice typing' })
    expect(seen[0]!.account).toBe(alice.identity.account)
    expect(seen[0]!.until).toBeGreaterThan(Date.now())
    // Nothing entered Alice's stream (which is what is stored, synced and deposited on relays).
    expect(ownNext()).toBe(nextBefore)
    expect((await alice.core.page(id)).messages).toEqual([])
  })

  it('a mention stands out and counts as an unread mention until read', async () => {
    const { alice, bob, carol, id } = await trio()
    const m = await alice.core.send(id, '@Bob can you bring the cake?', { mentions: [bob.identity.account] })
    const atBob = await until(bob, id, m.id, (v) => v.mentionsMe === true, 'the mention')
    expect(atBob.mentions).toEqual([bob.identity.account])
    expect((await until(carol, id, m.id, () => true, 'the message')).mentionsMe).toBe(false)
    await waitFor(async () => bob.core.getConversation(id).unreadMentions === 1, { message: 'one unread mention' })
    await bob.core.markRead(id)
    expect(bob.core.getConversation(id).unreadMentions).toBe(0)
    await expect(alice.core.send(id, 'hi', { mentions: ['ef'.repeat(32)] })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('seen by: who holds a message and who has read it', async () => {
    const { alice, bob, carol, id } = await trio()
    const m = await alice.core.send(id, 'read me')
    for (const c of [bob, carol]) await until(c, id, m.id, () => true, 'the message')
    await bob.core.markRead(id)
    await waitFor(async () => {
      const seen = await alice.core.details.seenBy(id, m.id as never)
      return seen.read.some((r) => r.account === bob.identity.account) && seen.delivered.some((r) => r.account === carol.identity.account)
    }, { message: 'bob read it, carol holds it' })
  })

  it('reacting to a message written before a rotation reaches it in its own epoch', async () => {
    const { alice, bob, carol, id } = await trio()
    const old = await alice.core.send(id, 'before the rotation')
    for (const c of [bob, carol]) await until(c, id, old.id, () => true, 'the old message')
    await alice.core.removeMember(id, carol.identity.account)
    await waitFor(async () => alice.core.members(id).length === 2 && bob.core.members(id).length === 2)
    await bob.core.react(id, old.id, '❤️')
    await until(alice, id, old.id, (v) => v.reactions['❤️']?.[0] === bob.identity.account, 'the reaction in the old epoch')
  })
})
