import * as Automerge from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { isCrdtError, type CrdtErrorCode } from './errors.js'
import { encodeHlc } from './hlc.js'
import { asActorId, asMessageId, type MessageId } from './ids.js'
import { deleteMessage, editMessage, react, sendMessage } from './ops.js'
import { orderKey } from './order.js'
import { MAX_BODY_CHARS, type Shard } from './schema.js'
import { applyRemoteChanges } from './apply.js'
import { createShard } from './shard.js'
import { hasReaction, listMessages, messageCount, readMessage } from './selectors.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const mid = (n: number): MessageId => asMessageId(n.toString(16).padStart(32, '0'))
const T = 1_700_000_000_000
const att = { id: 'f1', name: 'cat.png', size: 1234, mime: 'image/png', sha256hex: 'ab'.repeat(32) }

function expectCode(fn: () => unknown, code: CrdtErrorCode): void {
  try {
    fn()
  } catch (err) {
    expect(isCrdtError(err, code), String(err)).toBe(true)
    return
  }
  expect.fail(`expected ${code}`)
}

/** Alice and Bob replicas sharing alice's message 1. */
function twoReplicas(): { a: Shard; b: Shard } {
  const sent = sendMessage(createShard(alice), alice, { id: mid(1), body: 'hello', hlc: { wall: T, counter: 0 }, seq: 0 })
  const b = applyRemoteChanges(createShard(bob), [sent.change]).doc
  return { a: sent.doc, b }
}

describe('sendMessage', () => {
  it('creates the sender subtree and one change by the sender with time 0', () => {
    const { doc, change } = sendMessage(createShard(alice), alice, {
      id: mid(1),
      body: 'hi',
      hlc: { wall: T, counter: 2 },
      seq: 7,
      replyTo: { author: bob, id: mid(9) },
      attachments: [att],
    })
    const decoded = Automerge.decodeChange(change)
    expect(decoded.actor).toBe(alice)
    expect(decoded.time).toBe(0)
    expect(Object.keys(doc)).toEqual([alice])
    expect(Automerge.getAllChanges(doc)).toHaveLength(1)
    expect(readMessage(doc, alice, mid(1))).toEqual({
      id: mid(1),
      author: alice,
      kind: 'text',
      body: 'hi',
      hlc: { wall: T, counter: 2 },
      seq: 7,
      orderKey: orderKey({ wall: T, counter: 2 }, alice, 7),
      edited: false,
      deleted: false,
      replyTo: { author: bob, id: mid(9) },
      mentions: [],
      attachments: [att],
      reactions: {},
    })
    expect(messageCount(doc, alice)).toBe(1)
    expect(messageCount(doc, bob)).toBe(0)
  })

  it('is deterministic: the same op on the same shard gives the same bytes on any replica', () => {
    const op = { id: mid(1), body: 'hi', hlc: { wall: T, counter: 0 }, seq: 0 }
    expect(sendMessage(createShard(alice), alice, op).change).toEqual(sendMessage(createShard(alice), alice, op).change)
  })

  it('enforces limits and input validity', () => {
    // A successful op consumes its input document (Automerge refuses to change an outdated one): use fresh shards.
    const doc = createShard
    const base = { id: mid(1), body: 'x', hlc: { wall: T, counter: 0 }, seq: 0 }
    expect(() => sendMessage(doc(alice), alice, { ...base, body: 'x'.repeat(MAX_BODY_CHARS) })).not.toThrow()
    expectCode(() => sendMessage(doc(alice), alice, { ...base, body: 'x'.repeat(MAX_BODY_CHARS + 1) }), 'TOO_LARGE')
    expectCode(() => sendMessage(doc(alice), alice, { ...base, body: '' }), 'INVALID_INPUT')
    expectCode(() => sendMessage(doc(alice), alice, { ...base, id: 'nope' as MessageId }), 'INVALID_INPUT')
    expectCode(() => sendMessage(doc(alice), alice, { ...base, hlc: { wall: -1, counter: 0 } }), 'INVALID_INPUT')
    expectCode(() => sendMessage(doc(alice), alice, { ...base, seq: 1.5 }), 'INVALID_INPUT')
    expectCode(() => sendMessage(doc(alice), alice, { ...base, attachments: [{ ...att, sha256hex: 'x' }] }), 'INVALID_INPUT')
    const withFile = sendMessage(doc(alice), alice, { ...base, body: '', attachments: [att] }).doc
    expect(readMessage(withFile, alice, mid(1))?.body).toBe('')
  })

  it('refuses to write with an actor the shard was not opened with', () => {
    expectCode(() => sendMessage(createShard(bob), alice, { id: mid(1), body: 'x', hlc: { wall: T, counter: 0 }, seq: 0 }), 'INVALID_INPUT')
  })

  it('refuses a reused message id', () => {
    const { a } = twoReplicas()
    expectCode(() => sendMessage(a, alice, { id: mid(1), body: 'again', hlc: { wall: T + 1, counter: 0 }, seq: 1 }), 'INVALID_INPUT')
  })
})

describe('editMessage', () => {
  it('shows the latest edit and keeps the send HLC', () => {
    const { a } = twoReplicas()
    const e1 = editMessage(a, alice, { id: mid(1), body: 'hello!', hlc: { wall: T + 5, counter: 0 } })
    const e2 = editMessage(e1.doc, alice, { id: mid(1), body: 'hello!!', hlc: { wall: T + 9, counter: 0 } })
    const view = readMessage(e2.doc, alice, mid(1))
    expect(view).toMatchObject({ body: 'hello!!', edited: true, editHlc: { wall: T + 9, counter: 0 }, hlc: { wall: T, counter: 0 } })
    expect(Automerge.decodeChange(e2.change).actor).toBe(alice)
  })

  it('picks the edit with the greatest HLC, not the last written', () => {
    // ops.ts refuses out-of-order stamps, so write the edits map directly, as another client might.
    const { a } = twoReplicas()
    const doc = Automerge.change(a, { time: 0 }, (root) => {
      const msg = root[alice]?.m[mid(1)]
      if (msg === undefined) return
      msg.edits = {}
      msg.edits[encodeHlc({ wall: T + 9, counter: 0 })] = new Automerge.ImmutableString('late')
      msg.edits[encodeHlc({ wall: T + 5, counter: 0 })] = new Automerge.ImmutableString('early')
      msg.edits[encodeHlc({ wall: T - 1, counter: 0 })] = new Automerge.ImmutableString('before send: ignored')
    })
    expect(readMessage(doc, alice, mid(1))).toMatchObject({ body: 'late', editHlc: { wall: T + 9, counter: 0 } })
  })

  it('refuses an edit stamped before the current version', () => {
    const { a } = twoReplicas()
    expectCode(() => editMessage(a, alice, { id: mid(1), body: 'x', hlc: { wall: T, counter: 0 } }), 'INVALID_INPUT')
  })

  it("refuses to edit someone else's message, a missing one, or a deleted one", () => {
    const { a, b } = twoReplicas()
    expectCode(() => editMessage(b, bob, { id: mid(1), body: 'forged', hlc: { wall: T + 1, counter: 0 } }), 'UNAUTHORIZED')
    expectCode(() => editMessage(a, alice, { id: mid(2), body: 'x', hlc: { wall: T + 1, counter: 0 } }), 'NOT_FOUND')
    const del = deleteMessage(a, alice, { id: mid(1) })
    expectCode(() => editMessage(del.doc, alice, { id: mid(1), body: 'x', hlc: { wall: T + 1, counter: 0 } }), 'NOT_FOUND')
  })

  it('enforces the body limit', () => {
    const { a } = twoReplicas()
    expectCode(() => editMessage(a, alice, { id: mid(1), body: 'x'.repeat(MAX_BODY_CHARS + 1), hlc: { wall: T + 1, counter: 0 } }), 'TOO_LARGE')
    expectCode(() => editMessage(a, alice, { id: mid(1), body: '', hlc: { wall: T + 1, counter: 0 } }), 'INVALID_INPUT')
  })
})

describe('deleteMessage', () => {
  it('clears body, edits and attachments and marks deleted', () => {
    let doc = sendMessage(createShard(alice), alice, { id: mid(1), body: 'x', hlc: { wall: T, counter: 0 }, seq: 0, attachments: [att] }).doc
    doc = editMessage(doc, alice, { id: mid(1), body: 'y', hlc: { wall: T + 1, counter: 0 } }).doc
    doc = deleteMessage(doc, alice, { id: mid(1) }).doc
    expect(readMessage(doc, alice, mid(1))).toMatchObject({ body: '', deleted: true, edited: false, attachments: [] })
    const raw = doc[alice]?.m[mid(1)]
    expect(raw?.edits).toBeUndefined()
    expect(raw?.attachments).toBeUndefined()
    expect(String(raw?.body)).toBe('')
    expect(messageCount(doc, alice)).toBe(1)
  })

  it("refuses someone else's message and a second delete", () => {
    const { a, b } = twoReplicas()
    expectCode(() => deleteMessage(b, bob, { id: mid(1) }), 'UNAUTHORIZED')
    expectCode(() => deleteMessage(a, alice, { id: mid(2) }), 'NOT_FOUND')
    const { doc } = deleteMessage(a, alice, { id: mid(1) })
    expectCode(() => deleteMessage(doc, alice, { id: mid(1) }), 'NOT_FOUND')
  })
})

describe('react', () => {
  it('writes in the reactor subtree and is gathered from every subtree, sorted', () => {
    const { a, b } = twoReplicas()
    const target = { author: alice, id: mid(1) }
    const rb = react(b, bob, { target, emoji: '👍', on: true })
    const decoded = Automerge.decodeChange(rb.change)
    expect(decoded.actor).toBe(bob)
    const ra = react(applyRemoteChanges(a, [rb.change]).doc, alice, { target, emoji: '👍', on: true })
    const ra2 = react(ra.doc, alice, { target, emoji: '🎉', on: true })
    expect(readMessage(ra2.doc, alice, mid(1))?.reactions).toEqual({ '🎉': [alice], '👍': [alice, bob].sort() })
    const off = react(ra2.doc, alice, { target, emoji: '👍', on: false })
    expect(readMessage(off.doc, alice, mid(1))?.reactions).toEqual({ '🎉': [alice], '👍': [bob] })
    expect(hasReaction(off.doc, alice, target, '👍')).toBe(false)
    expect(hasReaction(off.doc, bob, target, '👍')).toBe(true)
  })

  it('refuses an unchanged reaction (Automerge would emit no change), bad emoji and unknown targets', () => {
    const { a } = twoReplicas()
    const target = { author: alice, id: mid(1) }
    expectCode(() => react(a, alice, { target, emoji: '👍', on: false }), 'INVALID_INPUT')
    expectCode(() => react(a, alice, { target: { author: alice, id: mid(2) }, emoji: '👍', on: true }), 'NOT_FOUND')
    const { doc } = react(a, alice, { target, emoji: '👍', on: true })
    expectCode(() => react(doc, alice, { target, emoji: '👍', on: true }), 'INVALID_INPUT')
    expectCode(() => react(doc, alice, { target, emoji: '', on: true }), 'INVALID_INPUT')
    expectCode(() => react(doc, alice, { target, emoji: 'x'.repeat(33), on: true }), 'INVALID_INPUT')
    expectCode(() => react(doc, alice, { target: { author: bob, id: mid(1) }, emoji: '👍', on: true }), 'NOT_FOUND')
  })

  it('reactions follow (author, id), so a copied id does not collect them', () => {
    const { a, b } = twoReplicas()
    // Bob sends his own message reusing Alice's id.
    const copy = sendMessage(b, bob, { id: mid(1), body: 'impostor', hlc: { wall: T + 1, counter: 0 }, seq: 0 })
    const liked = react(copy.doc, bob, { target: { author: alice, id: mid(1) }, emoji: '❤️', on: true })
    expect(readMessage(liked.doc, alice, mid(1))?.reactions).toEqual({ '❤️': [bob] })
    expect(readMessage(liked.doc, bob, mid(1))?.reactions).toEqual({})
    expect(readMessage(liked.doc, alice, mid(1))?.body).toBe('hello')
    expect(readMessage(a, alice, mid(1))?.reactions).toEqual({})
  })
})

describe('a refused op leaves the document usable', () => {
  it('can still write after an error', () => {
    const { a } = twoReplicas()
    expect(() => editMessage(a, alice, { id: mid(2), body: 'x', hlc: { wall: T + 1, counter: 0 } })).toThrow()
    expect(() => sendMessage(a, alice, { id: mid(2), body: 'x', hlc: { wall: T + 1, counter: 0 }, seq: 1 })).not.toThrow()
  })
})

describe('selectors', () => {
  it('listMessages orders by (hlc, device, seq) across devices', () => {
    let a = createShard(alice)
    let b = createShard(bob)
    const changes: Uint8Array[] = []
    const sendA = (id: number, wall: number, seq: number): void => {
      const r = sendMessage(a, alice, { id: mid(id), body: `a${id}`, hlc: { wall, counter: 0 }, seq })
      a = r.doc
      changes.push(r.change)
    }
    const sendB = (id: number, wall: number, seq: number): void => {
      const r = sendMessage(b, bob, { id: mid(id), body: `b${id}`, hlc: { wall, counter: 0 }, seq })
      b = r.doc
      changes.push(r.change)
    }
    sendA(1, T + 3, 0)
    sendB(2, T + 1, 0)
    sendA(3, T + 2, 1)
    sendB(4, T + 2, 1) // same HLC as a3: alice's actor sorts first
    const merged = applyRemoteChanges(createShard(asActorId('c3'.repeat(16))), changes).doc
    expect(listMessages(merged).map((m) => m.body)).toEqual(['b2', 'a3', 'b4', 'a1'])
  })

  it('skips malformed entries a device wrote into its own subtree', () => {
    let doc = sendMessage(createShard(alice), alice, { id: mid(1), body: 'ok', hlc: { wall: T, counter: 0 }, seq: 0 }).doc
    doc = Automerge.change(doc, { time: 0 }, (root) => {
      const m = root[alice]?.m as Record<string, unknown> | undefined
      if (m === undefined) return
      m[mid(2)] = { id: new Automerge.ImmutableString(mid(2)), hlc: new Automerge.ImmutableString('garbage') }
      m['not-an-id'] = { id: new Automerge.ImmutableString('not-an-id') }
      m[mid(3)] = 42
    })
    expect(listMessages(doc).map((v) => v.id)).toEqual([mid(1)])
    expect(readMessage(doc, alice, mid(2))).toBeUndefined()
    expect(readMessage(doc, bob, mid(1))).toBeUndefined()
  })

  it('treats unknown kinds as unsupported with an empty body', () => {
    let doc = sendMessage(createShard(alice), alice, { id: mid(1), body: 'ok', hlc: { wall: T, counter: 0 }, seq: 0 }).doc
    doc = Automerge.change(doc, { time: 0 }, (root) => {
      const msg = root[alice]?.m[mid(1)]
      if (msg !== undefined) msg.kind = new Automerge.ImmutableString('poll')
    })
    expect(readMessage(doc, alice, mid(1))).toMatchObject({ kind: 'unsupported', body: '' })
  })
})

