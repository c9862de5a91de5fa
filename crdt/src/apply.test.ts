import * as Automerge from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { asActorId, asMessageId, type MessageId } from './ids.js'
import { editMessage, react, sendMessage } from './ops.js'
import { createShard, missingDeps } from './shard.js'
import { listMessages } from './selectors.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const carol = asActorId('c3'.repeat(16))
const mid = (n: number): MessageId => asMessageId(n.toString(16).padStart(32, '0'))
const T = 1_700_000_000_000

function aliceHistory(): Uint8Array[] {
  const s1 = sendMessage(createShard(alice), alice, { id: mid(1), body: 'one', hlc: { wall: T, counter: 0 }, seq: 0 })
  const s2 = sendMessage(s1.doc, alice, { id: mid(2), body: 'two', hlc: { wall: T + 1, counter: 0 }, seq: 1 })
  const e1 = editMessage(s2.doc, alice, { id: mid(1), body: 'one!', hlc: { wall: T + 2, counter: 0 } })
  return [s1.change, s2.change, e1.change]
}

describe('applyRemoteChanges', () => {
  it('reports touched messages, including those in a newly created subtree', () => {
    const [c1, c2, c3] = aliceHistory()
    if (c1 === undefined || c2 === undefined || c3 === undefined) throw new Error('setup')
    const first = applyRemoteChanges(createShard(bob), [c1, c2])
    expect(first.touched).toEqual({ messages: [{ author: alice, id: mid(1) }, { author: alice, id: mid(2) }], reactionTargets: [] })
    const second = applyRemoteChanges(first.doc, [c3])
    expect(second.touched).toEqual({ messages: [{ author: alice, id: mid(1) }], reactionTargets: [] })
    expect(second.rejected).toEqual([])
  })

  it('reports reaction targets', () => {
    const [c1] = aliceHistory()
    if (c1 === undefined) throw new Error('setup')
    const bobDoc = applyRemoteChanges(createShard(bob), [c1]).doc
    const r = react(bobDoc, bob, { target: { author: alice, id: mid(1) }, emoji: '👍', on: true })
    const applied = applyRemoteChanges(applyRemoteChanges(createShard(carol), [c1]).doc, [r.change])
    expect(applied.touched).toEqual({ messages: [], reactionTargets: [{ author: alice, id: mid(1) }] })
  })

  it('holds changes with missing dependencies until they arrive, and ignores duplicates', () => {
    const [c1, c2, c3] = aliceHistory()
    if (c1 === undefined || c2 === undefined || c3 === undefined) throw new Error('setup')
    const early = applyRemoteChanges(createShard(bob), [c3, c2, c3])
    expect(early.touched).toEqual({ messages: [], reactionTargets: [] })
    expect(missingDeps(early.doc).length).toBeGreaterThan(0)
    const late = applyRemoteChanges(early.doc, [c1, c1])
    expect(missingDeps(late.doc)).toEqual([])
    expect(late.touched.messages).toHaveLength(2)
    expect(listMessages(late.doc).map((m) => m.body)).toEqual(['one!', 'two'])
    const again = applyRemoteChanges(late.doc, [c1, c2, c3])
    expect(again.touched).toEqual({ messages: [], reactionTargets: [] })
  })

  it('sets aside a change that Automerge refuses and still applies the rest of the batch', () => {
    const [c1] = aliceHistory()
    if (c1 === undefined) throw new Error('setup')
    // A second, different "first change" by Alice: same actor and seq, other hash (equivocation).
    const other = sendMessage(createShard(alice), alice, { id: mid(9), body: 'other', hlc: { wall: T, counter: 0 }, seq: 0 }).change
    const bobMsg = sendMessage(createShard(bob), bob, { id: mid(3), body: 'bob', hlc: { wall: T, counter: 0 }, seq: 0 }).change
    const first = applyRemoteChanges(createShard(carol), [c1])
    const result = applyRemoteChanges(first.doc, [bobMsg, other])
    expect(result.rejected.map((r) => r.change)).toEqual([other])
    expect(listMessages(result.doc).map((m) => m.body)).toEqual(['one', 'bob'])
    expect(result.touched.messages).toEqual([{ author: bob, id: mid(3) }])
  })

  it('reports every message under a subtree the author replaced wholesale', () => {
    const [c1, c2] = aliceHistory()
    if (c1 === undefined || c2 === undefined) throw new Error('setup')
    const aliceDoc = applyRemoteChanges(createShard(alice), [c1, c2]).doc
    // Legal under the authorship rule: Alice may overwrite her own subtree.
    const wiped = Automerge.change(aliceDoc, { time: 0 }, (root) => void (root[alice] = { m: {}, r: {} }))
    const change = Automerge.getLastLocalChange(wiped)
    if (change === undefined) throw new Error('setup')
    const result = applyRemoteChanges(applyRemoteChanges(createShard(bob), [c1, c2]).doc, [change])
    expect(result.touched.messages).toEqual([{ author: alice, id: mid(1) }, { author: alice, id: mid(2) }])
    expect(listMessages(result.doc)).toEqual([])
  })
})
