import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { isCrdtError } from './errors.js'
import { asActorId, asMessageId, type MessageId } from './ids.js'
import { deleteAsAdmin, sendMessage } from './ops.js'
import { validateRemoteChange } from './authorship.js'
import { createShard } from './shard.js'
import { adminDeletesOf, readMessage } from './selectors.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const mid = (n: number): MessageId => asMessageId(n.toString(16).padStart(32, '0'))
const T = 1_700_000_000_000

describe('deleteAsAdmin: a mark in the admin’s own subtree, read by adminDeletesOf', () => {
  const sent = sendMessage(createShard(bob), bob, { id: mid(1), body: 'spam', hlc: { wall: T, counter: 0 }, seq: 0 })
  const target = { author: bob, id: mid(1) }

  it('writes only in the marking device’s subtree, passes the authorship check, and reports the target as touched', () => {
    const aliceDoc = applyRemoteChanges(createShard(alice), [sent.change]).doc
    const marked = deleteAsAdmin(aliceDoc, alice, { target })
    expect(adminDeletesOf(marked.doc, target)).toEqual([alice])
    // The message itself is untouched: whether the mark counts is the reader's decision (the membership log's).
    expect(readMessage(marked.doc, bob, mid(1))?.deleted).toBe(false)
    expect(validateRemoteChange(marked.change, alice).ok).toBe(true)
    const atBob = applyRemoteChanges(sent.doc, [marked.change])
    expect(atBob.touched.reactionTargets).toEqual([target])
    expect(adminDeletesOf(atBob.doc, target)).toEqual([alice])
  })

  it('refuses a mark on one’s own message or on a message the shard does not hold', () => {
    expect(() => deleteAsAdmin(sent.doc, bob, { target })).toThrow()
    try {
      deleteAsAdmin(createShard(alice), alice, { target })
      expect.fail('expected NOT_FOUND')
    } catch (err) {
      expect(isCrdtError(err, 'NOT_FOUND')).toBe(true)
    }
  })

  it('a mark in the target author’s own subtree is not a mark (an author deletes its own with deleteMessage)', () => {
    expect(adminDeletesOf(sent.doc, target)).toEqual([])
  })
})
