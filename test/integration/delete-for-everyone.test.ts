import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../node/common/crypto/random.js'
import { waitFor } from '../../node/common/net/testing.js'
import { toHex, utf8 } from '../../node/common/util/bytes.js'
import type { ConversationId, MessageId } from '../../node/src/ids.js'
import { Keys } from '../../node/src/store/core-store.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'
import { containsBytes, filesUnder, readableBack } from '../helpers/readable.js'

/**
 * Delete for everyone means gone (docs/adr/0020): after it, no member device keeps the text in any form it can read
 * back (records opened with its database key, stored envelopes opened with every chain it holds, secrets included,
 * raw files), whether it saw the message live, was offline through the delete, or joined after it; and after a restart.
 */
describe('delete for everyone', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  async function showsDeleted(c: TestCore, id: ConversationId, messageId: string): Promise<void> {
    await waitFor(async () => (await c.core.page(id)).messages.some((m) => m.id === messageId && m.deleted && m.body === ''), {
      message: `${c.name} to show the message deleted`,
    })
  }

  async function nothingReadable(c: TestCore, secrets: Uint8Array[], what: string): Promise<void> {
    const back = await readableBack(c)
    const files = await filesUnder(c.dir)
    for (const [i, s] of secrets.entries()) {
      expect(containsBytes(back, s), `${c.name} ${what}: secret ${i} readable from its data`).toBe(false)
      expect(containsBytes(files, s), `${c.name} ${what}: secret ${i} in its files`).toBe(false)
    }
  }

  it('leaves no readable trace on a member who saw it, one offline through the delete, and one who joined after', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const carol = await startCore('carol')
    cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob, carol])
    const first = `the door code is ${toHex(randomBytes(8))}`
    const second = `no, the door code is ${toHex(randomBytes(8))}`
    const m = await alice.core.send(id, first)
    await alice.core.edit(id, m.id, second)
    const reply = await bob.core.send(id, 'got it', { replyTo: m.id })
    for (const c of cores) await waitFor(async () => (await c.core.page(id)).messages.some((x) => x.id === m.id && x.body === second), { message: `${c.name} to hold the edit` })
    const contentKey = (await alice.core.store.getContentKeys(id, [m.id as MessageId])).get(m.id as MessageId)!
    expect(contentKey).toBeDefined()
    const secrets = [utf8(first), utf8(second), contentKey]
    // The check can see the text while it is there: Bob's row, and the key that opens the history's sealed boxes.
    const before = await readableBack(bob)
    expect(containsBytes(before, utf8(second))).toBe(true)
    expect(containsBytes(before, contentKey)).toBe(true)

    // Carol is away while Alice deletes it.
    await carol.stop()
    await alice.core.deleteMessage(id, m.id, true)
    for (const c of [alice, bob]) await showsDeleted(c, id, m.id)
    await waitFor(async () => (await bob.core.page(id)).messages.find((x) => x.id === reply.id)?.replyTo?.deleted === true, { message: "bob's reply to show the original deleted" })

    const carolBack = await carol.restart()
    cores = [alice, bob, carolBack]
    await connect(carolBack, alice)
    await showsDeleted(carolBack, id, m.id)

    // Dave joins afterwards: he syncs the stream that carried the message, stripped of its key.
    const dave = await startCore('dave')
    cores.push(dave)
    const { code } = await alice.core.createInvite(id)
    await dave.core.join(code)
    await showsDeleted(dave, id, m.id)

    for (const c of cores) {
      await c.core.settle()
      await nothingReadable(c, secrets, 'after the delete')
    }
    // Previews do not quote it either.
    for (const c of cores) expect(c.core.getConversation(id).lastMessage?.body ?? '').not.toContain('door code')

    const restarted: TestCore[] = []
    for (const c of cores) restarted.push(await c.restart())
    cores = restarted
    for (const c of cores.slice(1)) await connect(c, cores[0]!)
    for (const c of cores) {
      await showsDeleted(c, id, m.id)
      await nothingReadable(c, secrets, 'after a restart')
    }
  })

  it("leaves none of the message's earlier records in the database files, which LevelDB keeps until a compaction", async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    const m = await alice.core.send(id, `the alarm code is ${toHex(randomBytes(8))}`)
    for (let i = 0; i < 20; i++) await bob.core.send(id, `chatter ${i}`)
    await waitFor(async () => (await alice.core.page(id)).messages.length === 21 && (await bob.core.page(id)).messages.some((x) => x.id === m.id), { message: 'both to hold everything' })
    // What each device stored for the message, byte for byte: its content key, its row and the envelope with its key.
    const stored = new Map<TestCore, Uint8Array[]>()
    for (const c of cores) {
      await c.core.settle()
      const row = (await c.core.store.getMessage(id, m.id as MessageId))!
      const keys = [Keys.contentKey(id, m.id), Keys.message(id, row.orderKey), Keys.envelope(id, row.epoch, row.device, row.seq)]
      const values = await c.core.store.db.getMany(keys)
      expect(values.every((v) => v !== undefined), `${c.name} holds all three records`).toBe(true)
      stored.set(c, values as Uint8Array[])
    }
    await alice.core.deleteMessage(id, m.id, true)
    for (const c of cores) {
      await showsDeleted(c, id, m.id)
      await waitFor(async () => {
        const files = await filesUnder(c.dir)
        return stored.get(c)!.every((v) => !containsBytes(files, v))
      }, { message: `${c.name}'s files to keep none of the message's earlier records` })
    }
  })
})
