import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { isCrdtError } from './errors.js'
import { asActorId, asMessageId, type ActorId, type MessageId } from './ids.js'
import { deleteMessage, editMessage, sendMessage, setReaction } from './ops.js'
import { listMessages, messageCount, messageVersions, reactionsOf, readMessage } from './selectors.js'
import { createShard, missingDeps } from './shard.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const mid = (n: number): MessageId => asMessageId(n.toString(16).padStart(32, '0'))
const T = 1_700_000_000_000
const ACCOUNT = 'cd'.repeat(32)

function withMessage() {
  const sent = sendMessage(createShard(alice), alice, { id: mid(1), body: 'hello', hlc: { wall: T, counter: 0 }, seq: 0 })
  return { a: sent.doc, b: applyRemoteChanges(createShard(bob), [sent.change]).doc }
}

describe('setReaction: one reaction per person per message', () => {
  it('a new emoji replaces the old one in one change; null takes it away', () => {
    const { b } = withMessage()
    const target = { author: alice, id: mid(1) }
    const first = setReaction(b, bob, { target, emoji: '👍' })
    expect(reactionsOf(first.doc, bob, target)).toEqual(['👍'])
    const second = setReaction(first.doc, bob, { target, emoji: '❤️' })
    expect(reactionsOf(second.doc, bob, target)).toEqual(['❤️'])
    expect(readMessage(second.doc, alice, mid(1))?.reactions).toEqual({ '❤️': [bob] })
    const cleared = setReaction(second.doc, bob, { target, emoji: null })
    expect(readMessage(cleared.doc, alice, mid(1))?.reactions).toEqual({})
    // Each was one change another replica applies to the same result.
    const { a } = withMessage()
    const replayed = applyRemoteChanges(a, [first.change, second.change]).doc
    expect(readMessage(replayed, alice, mid(1))?.reactions).toEqual({ '❤️': [bob] })
  })

  it('refuses a reaction that changes nothing, and one to a deleted message', () => {
    const { a, b } = withMessage()
    const target = { author: alice, id: mid(1) }
    const on = setReaction(b, bob, { target, emoji: '👍' })
    expect(() => setReaction(on.doc, bob, { target, emoji: '👍' })).toThrow(/already/)
    expect(() => setReaction(b, bob, { target, emoji: null })).toThrow(/already/)
    const deleted = deleteMessage(a, alice, { id: mid(1) })
    try {
      setReaction(deleted.doc, alice, { target, emoji: '👍' })
      expect.fail('reacted to a deleted message')
    } catch (err) {
      expect(isCrdtError(err, 'NOT_FOUND')).toBe(true)
    }
  })
})

describe('mentions', () => {
  it('are kept valid, distinct and in order; gone once the message is deleted', () => {
    const sent = sendMessage(createShard(alice), alice, { id: mid(2), body: '@Cara hi', hlc: { wall: T, counter: 0 }, seq: 0, mentions: [ACCOUNT, ACCOUNT] })
    expect(readMessage(sent.doc, alice, mid(2))?.mentions).toEqual([ACCOUNT])
    expect(() => sendMessage(createShard(alice), alice, { id: mid(3), body: 'x', hlc: { wall: T, counter: 0 }, seq: 0, mentions: ['nope'] })).toThrow(/mention/)
    const deleted = deleteMessage(sent.doc, alice, { id: mid(2) })
    expect(readMessage(deleted.doc, alice, mid(2))?.mentions).toEqual([])
  })
})

describe('messageVersions', () => {
  it('lists the original and every edit, oldest first; nothing once deleted', () => {
    const { a } = withMessage()
    const e1 = editMessage(a, alice, { id: mid(1), body: 'hello!', hlc: { wall: T + 2, counter: 0 } })
    const e2 = editMessage(e1.doc, alice, { id: mid(1), body: 'hello!!', hlc: { wall: T + 5, counter: 0 } })
    expect(messageVersions(e2.doc, alice, mid(1)).map((v) => v.body)).toEqual(['hello', 'hello!', 'hello!!'])
    expect(readMessage(e2.doc, alice, mid(1))?.body).toBe('hello!!')
    expect(messageVersions(deleteMessage(e2.doc, alice, { id: mid(1) }).doc, alice, mid(1))).toEqual([])
  })
})

describe('sealed bodies', () => {
  const box = (n: number) => new Uint8Array(48).fill(n)

  it('a sealed message shows its box, an edit its new box; deleting drops every box from the state', () => {
    const sent = sendMessage(createShard(alice), alice, { id: mid(4), body: '', box: box(1), hlc: { wall: T, counter: 0 }, seq: 0 })
    expect(readMessage(sent.doc, alice, mid(4))).toMatchObject({ body: '', box: box(1), edited: false })
    const edited = editMessage(sent.doc, alice, { id: mid(4), body: '', box: box(2), hlc: { wall: T + 1, counter: 0 } })
    expect(readMessage(edited.doc, alice, mid(4))).toMatchObject({ body: '', box: box(2), edited: true })
    expect(messageVersions(edited.doc, alice, mid(4)).map((v) => v.box)).toEqual([box(1), box(2)])
    // Another replica reads the same.
    const replica = applyRemoteChanges(createShard(bob), [sent.change, edited.change]).doc
    expect(readMessage(replica, alice, mid(4))?.box).toEqual(box(2))
    const deleted = deleteMessage(edited.doc, alice, { id: mid(4) })
    const view = readMessage(deleted.doc, alice, mid(4))!
    expect(view.deleted).toBe(true)
    expect(view.box).toBeUndefined()
    expect(messageVersions(deleted.doc, alice, mid(4))).toEqual([])
  })

  it('refuses a box with a plain body beside it, or an oversized one', () => {
    expect(() => sendMessage(createShard(alice), alice, { id: mid(5), body: 'plain', box: box(1), hlc: { wall: T, counter: 0 }, seq: 0 })).toThrow(/sealed/)
    expect(() => sendMessage(createShard(alice), alice, { id: mid(5), body: '', box: new Uint8Array(49 * 1024), hlc: { wall: T, counter: 0 }, seq: 0 })).toThrow(/longer/)
  })
})

describe('writing onto the own document', () => {
  const carol = asActorId('c3'.repeat(16))

  it("a change depends on its author's own changes only: a member that lacks a third device's change still applies it", () => {
    // Carol writes; Bob sees it; Bob writes on his own document; Alice never gets Carol's change (refused, say).
    const carols = sendMessage(createShard(carol), carol, { id: mid(10), body: 'from carol', hlc: { wall: T, counter: 0 }, seq: 0 })
    const bobMerged = applyRemoteChanges(createShard(bob), [carols.change]).doc
    const bobOwn = createShard(bob)
    const reply = sendMessage(bobMerged, bob, { id: mid(11), body: 'bob, after seeing carol', hlc: { wall: T + 1, counter: 0 }, seq: 0, replyTo: { author: carol, id: mid(10) } }, bobOwn)
    const reaction = setReaction(bobMerged, bob, { target: { author: carol, id: mid(10) }, emoji: '👍' }, reply.doc)
    const alice1 = applyRemoteChanges(createShard(alice), [reply.change, reaction.change]).doc
    expect(readMessage(alice1, bob, mid(11))?.body).toBe('bob, after seeing carol')
    // Written on the merged document instead, the same reply waits for Carol's change forever at Alice.
    const merged = sendMessage(applyRemoteChanges(createShard(bob), [carols.change]).doc, bob, { id: mid(12), body: 'stuck', hlc: { wall: T + 2, counter: 0 }, seq: 1 })
    const alice2 = applyRemoteChanges(createShard(alice), [merged.change]).doc
    expect(readMessage(alice2, bob, mid(12))).toBeUndefined()
  })

  it('edits and deletes of an own message made on the own document read the same on every replica', () => {
    const own0 = createShard(alice)
    const sent = sendMessage(createShard(alice), alice, { id: mid(13), body: 'v1', hlc: { wall: T, counter: 0 }, seq: 0 }, own0)
    let merged = applyRemoteChanges(createShard(alice), [sent.change]).doc
    const edit = editMessage(merged, alice, { id: mid(13), body: 'v2', hlc: { wall: T + 1, counter: 0 } }, sent.doc)
    merged = applyRemoteChanges(merged, [edit.change]).doc
    const del = deleteMessage(merged, alice, { id: mid(13) }, edit.doc)
    merged = applyRemoteChanges(merged, [del.change]).doc
    const other = applyRemoteChanges(createShard(bob), [sent.change, edit.change, del.change]).doc
    expect(readMessage(merged, alice, mid(13))).toMatchObject({ deleted: true, body: '' })
    expect(readMessage(other, alice, mid(13))).toEqual(readMessage(merged, alice, mid(13)))
  })
})

describe('property: changes written onto own documents never wait on another device', () => {
  it("a replica that never gets one device's changes still applies every other device's, whatever they saw", () => {
    const actors = [alice, bob, asActorId('c3'.repeat(16))]
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.nat(3)), { minLength: 5, maxLength: 40 }), (steps) => {
        const merged = new Map(actors.map((a) => [a, createShard(a)]))
        const own = new Map(actors.map((a) => [a, createShard(a)]))
        const log: Array<{ author: ActorId; change: Uint8Array }> = []
        let next = 100
        steps.forEach(([who, what], step) => {
          const actor = actors[who]!
          const doc = merged.get(actor)!
          const others = listMessages(doc).filter((m) => m.author !== actor && !m.deleted)
          let result
          try {
            if (what === 0 || others.length === 0) {
              const reply = others.at(-1)
              result = sendMessage(doc, actor, { id: mid(next++), body: `m${step}`, hlc: { wall: T + step, counter: 0 }, seq: messageCount(doc, actor), replyTo: reply && { author: reply.author, id: reply.id } }, own.get(actor))
            } else {
              const target = others[step % others.length]!
              result = setReaction(doc, actor, { target: { author: target.author, id: target.id }, emoji: what === 1 ? '👍' : '❤️' }, own.get(actor))
            }
          } catch {
            return // refused as a no-op (the same reaction again): nothing written
          }
          own.set(actor, result.doc)
          merged.set(actor, applyRemoteChanges(doc, [result.change]).doc)
          log.push({ author: actor, change: result.change })
          // Everyone else hears it at once: later changes of theirs are made having seen it.
          for (const other of actors) if (other !== actor) merged.set(other, applyRemoteChanges(merged.get(other)!, [result.change]).doc)
        })
        // A replica that refuses everything the third device wrote.
        const refused = actors[2]
        const kept = log.filter((l) => l.author !== refused)
        const replica = applyRemoteChanges(createShard(asActorId('d4'.repeat(16))), kept.map((l) => l.change)).doc
        expect(missingDeps(replica)).toEqual([])
        const shown = listMessages(replica).map((m) => m.id)
        const expected = listMessages(merged.get(alice)!).filter((m) => m.author !== refused).map((m) => m.id)
        expect(shown).toEqual(expected)
      }),
      { numRuns: 50 },
    )
  })
})
