import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { isCrdtError } from './errors.js'
import { asActorId, asMessageId, type MessageId } from './ids.js'
import { deleteMessage, editMessage, sendMessage, setReaction } from './ops.js'
import { messageVersions, reactionsOf, readMessage } from './selectors.js'
import { createShard } from './shard.js'

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
