import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { waitFor } from '../../node/common/net/testing.js'
import { toHex, utf8 } from '../../node/common/util/bytes.js'
import type { ConversationId, MessageId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { containsBytes, filesUnder, readableBack } from '../helpers/readable.js'

/**
 * An admin deletes someone else's message for everyone (docs/adr/0026-admin-deletes.md), on three real cores: honoured
 * by every member only when the membership log says the deleting account is an admin, and then nothing of the text is
 * readable anywhere; a plain member's or a demoted admin's delete changes nothing on any member and is counted.
 */

interface Internals {
  conversations: Map<string, { log: { members: Map<string, { role: 'admin' | 'member' }> } }>
}

/**
 * What a modified client does: its own copy of the log says it is an admin while it writes the delete, so its core
 * writes the mark that an honest core refuses to write. The other members' logs are untouched.
 */
async function deleteAsSelfAppointedAdmin(c: TestCore, id: ConversationId, messageId: string): Promise<void> {
  const members = (c.core as unknown as Internals).conversations.get(id)!.log.members
  const me = members.get(c.identity.account)!
  members.set(c.identity.account, { ...me, role: 'admin' })
  try {
    await c.core.deleteMessage(id, messageId, true)
  } finally {
    members.set(c.identity.account, me)
  }
}

const row = async (c: TestCore, id: ConversationId, messageId: string) => (await c.core.page(id)).messages.find((m) => m.id === messageId)
const refusals = (c: TestCore) => c.core.counters.get('moderation-refused-not-an-admin') ?? 0

describe('admins delete others’ messages for everyone', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  async function holds(id: ConversationId, messageId: string, body: string): Promise<void> {
    for (const c of cores) await waitFor(async () => (await row(c, id, messageId))?.body === body, { message: `${c.name} to hold the message` })
  }

  it("an admin's delete of Bob's message: gone on every member, shown as deleted by the admin, nothing readable", async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const text = `buy cheap pills at ${toHex(randomBytes(8))}`
    const m = await bob.core.send(id, text)
    await holds(id, m.id, text)
    const contentKey = (await bob.core.store.getContentKeys(id, [m.id as MessageId])).get(m.id as MessageId)!
    expect(contentKey).toBeDefined()
    expect(containsBytes(await readableBack(carol), utf8(text))).toBe(true)

    await alice.core.deleteMessage(id, m.id, true)
    for (const c of cores) {
      await waitFor(async () => (await row(c, id, m.id))?.deleted === true, { message: `${c.name} to show it deleted` })
      const view = await row(c, id, m.id)
      expect(view?.body).toBe('')
      expect(view?.deletedBy).toBe(alice.identity.account)
      expect(c.core.getConversation(id).lastMessage?.body).toBe('Deleted by an admin')
    }
    for (const c of cores) {
      await c.core.settle()
      const back = await readableBack(c)
      const files = await filesUnder(c.dir)
      for (const secret of [utf8(text), contentKey]) {
        expect(containsBytes(back, secret), `${c.name}: readable from its data`).toBe(false)
        expect(containsBytes(files, secret), `${c.name}: in its files`).toBe(false)
      }
      expect(refusals(c)).toBe(0)
    }
  })

  it("a plain member's delete of another's message: refused by its own core, and a forced one refused by every member", async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const m = await bob.core.send(id, 'a message carol dislikes')
    await holds(id, m.id, 'a message carol dislikes')

    await expect(carol.core.deleteMessage(id, m.id, true)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await deleteAsSelfAppointedAdmin(carol, id, m.id)
    for (const c of [alice, bob]) await waitFor(() => refusals(c) >= 1, { message: `${c.name} to refuse carol's delete` })
    // A later change to the message's row (a reaction) does not revive the refused mark either.
    await alice.core.react(id, m.id, '👍')
    for (const c of [alice, bob]) {
      await waitFor(async () => (await row(c, id, m.id))?.reactions['👍']?.length === 1, { message: `${c.name} to see the reaction` })
      const view = await row(c, id, m.id)
      expect(view?.deleted).toBe(false)
      expect(view?.deletedBy).toBeUndefined()
      expect(view?.body).toBe('a message carol dislikes')
      expect(refusals(c)).toBe(1)
    }
  })

  it("a demoted admin's delete written after the demotion is refused, and stays refused if they are made admin again", async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const m = await bob.core.send(id, 'an ordinary message')
    await holds(id, m.id, 'an ordinary message')
    await alice.core.setRole(id, carol.identity.account, 'admin')
    for (const c of cores) await waitFor(() => c.core.members(id).find((x) => x.account === carol.identity.account)?.role === 'admin', { message: `${c.name} to see carol admin` })
    await alice.core.setRole(id, carol.identity.account, 'member')
    for (const c of cores) await waitFor(() => c.core.members(id).find((x) => x.account === carol.identity.account)?.role === 'member', { message: `${c.name} to see carol demoted` })

    await expect(carol.core.deleteMessage(id, m.id, true)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await deleteAsSelfAppointedAdmin(carol, id, m.id)
    for (const c of [alice, bob]) await waitFor(() => refusals(c) >= 1, { message: `${c.name} to refuse the demoted admin's delete` })

    await alice.core.setRole(id, carol.identity.account, 'admin')
    for (const c of [alice, bob]) await waitFor(() => c.core.members(id).find((x) => x.account === carol.identity.account)?.role === 'admin', { message: `${c.name} to see carol admin again` })
    await alice.core.react(id, m.id, '👀')
    for (const c of [alice, bob]) {
      await waitFor(async () => (await row(c, id, m.id))?.reactions['👀']?.length === 1, { message: `${c.name} to see the reaction` })
      const view = await row(c, id, m.id)
      expect(view?.deleted).toBe(false)
      expect(view?.body).toBe('an ordinary message')
    }
  })
})
