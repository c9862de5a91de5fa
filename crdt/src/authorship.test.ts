import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { validateRemoteChange, validateShardHistory } from './authorship.js'
import { asActorId, asMessageId } from './ids.js'
import { deleteMessage, editMessage, react, sendMessage } from './ops.js'
import type { Shard, ShardRoot } from './schema.js'
import { createShard } from './shard.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const id1 = asMessageId('01'.repeat(16))
const T = 1_700_000_000_000

function aliceSent(): { doc: Shard; change: Uint8Array } {
  return sendMessage(createShard(alice), alice, { id: id1, body: 'mine', hlc: { wall: T, counter: 0 }, seq: 0 })
}

/** Bob's replica holding Alice's message, then a raw Automerge change by Bob (what a malicious client could craft). */
function bobCrafts(fn: (root: ShardRoot) => void): Uint8Array {
  const bobDoc = applyRemoteChanges(createShard(bob), [aliceSent().change]).doc
  const next = Automerge.change(bobDoc, { time: 0 }, fn)
  const change = Automerge.getLastLocalChange(next)
  if (change === undefined) throw new Error('no change')
  return change
}

describe('validateRemoteChange', () => {
  it('accepts every honest op by its author', () => {
    const sent = aliceSent()
    expect(validateRemoteChange(sent.change, alice).ok).toBe(true)
    const edited = editMessage(sent.doc, alice, { id: id1, body: 'better', hlc: { wall: T + 1, counter: 0 } })
    expect(validateRemoteChange(edited.change, alice).ok).toBe(true)
    const reacted = react(edited.doc, alice, { target: { author: alice, id: id1 }, emoji: '👍', on: true })
    expect(validateRemoteChange(reacted.change, alice).ok).toBe(true)
    const deleted = deleteMessage(reacted.doc, alice, { id: id1 })
    const result = validateRemoteChange(deleted.change, alice)
    expect(result.ok).toBe(true)
    if (result.ok) expect(result.actor).toBe(alice)
    const bobDoc = applyRemoteChanges(createShard(bob), [sent.change]).doc
    const bobReacts = react(bobDoc, bob, { target: { author: alice, id: id1 }, emoji: '🎉', on: true })
    expect(validateRemoteChange(bobReacts.change, bob).ok).toBe(true)
  })

  it("rejects a change by Bob that edits Alice's message", () => {
    const forged = bobCrafts((root) => {
      const msg = root[alice]?.m[id1]
      if (msg !== undefined) msg.body = new Automerge.ImmutableString('forged')
    })
    expect(validateRemoteChange(forged, bob)).toMatchObject({ ok: false })
  })

  it("rejects Bob adding a message or reaction inside Alice's subtree", () => {
    const forged = bobCrafts((root) => {
      const sub = root[alice]
      if (sub !== undefined) sub.r['x'] = { '👍': true }
    })
    expect(validateRemoteChange(forged, bob).ok).toBe(false)
  })

  it("rejects Bob deleting or replacing Alice's subtree, and shared keys at the root", () => {
    expect(validateRemoteChange(bobCrafts((root) => void delete root[alice]), bob).ok).toBe(false)
    expect(validateRemoteChange(bobCrafts((root) => void (root[alice] = { m: {}, r: {} })), bob).ok).toBe(false)
    expect(validateRemoteChange(bobCrafts((root) => void (root['shared'] = { m: {}, r: {} })), bob).ok).toBe(false)
  })

  it('rejects a change whose actor is not the sender', () => {
    const { change } = aliceSent()
    expect(validateRemoteChange(change, bob)).toMatchObject({ ok: false, reason: 'change actor is not the sender' })
  })

  it('rejects garbage without throwing', () => {
    const { change } = aliceSent()
    for (const bytes of [new Uint8Array(0), new Uint8Array([0x85, 0x6f, 0x4a, 0x83]), change.slice(0, change.length - 1)]) {
      expect(validateRemoteChange(bytes, alice).ok).toBe(false)
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(validateRemoteChange(bytes, alice).ok).toBe(false)
      }),
    )
  })

  it('never throws on mutated valid changes, and never accepts one that breaks the rule', () => {
    const { change } = aliceSent()
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const bytes = change.slice()
          for (const [pos, value] of edits) bytes[pos % bytes.length] = value
          const result = validateRemoteChange(bytes, alice)
          if (result.ok) {
            // Whatever the rule accepted, Automerge reads only sound ops from the bytes, or refuses them altogether.
            let decoded: ReturnType<typeof Automerge.decodeChange>
            try {
              decoded = Automerge.decodeChange(bytes)
            } catch {
              expect(() => Automerge.applyChanges(createShard(bob), [bytes])).toThrow()
              return
            }
            expect(decoded.actor).toBe(alice)
            for (const op of decoded.ops) expect(op.obj === '_root' ? op.key === alice : op.obj.endsWith(`@${alice}`)).toBe(true)
          }
        },
      ),
    )
  })
})

describe('validateShardHistory', () => {
  it('lists the authors of a clean shard', () => {
    const sent = aliceSent()
    const bobDoc = applyRemoteChanges(createShard(bob), [sent.change]).doc
    const { doc } = react(bobDoc, bob, { target: { author: alice, id: id1 }, emoji: '👍', on: true })
    expect(validateShardHistory(doc)).toEqual({ ok: true, actors: [alice, bob].sort() })
  })

  it('finds a forged change in a shard that arrived whole', () => {
    const forged = bobCrafts((root) => {
      const msg = root[alice]?.m[id1]
      if (msg !== undefined) msg.body = new Automerge.ImmutableString('forged')
    })
    const doc = applyRemoteChanges(createShard(alice), [aliceSent().change, forged]).doc
    expect(validateShardHistory(doc).ok).toBe(false)
  })
})
