import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isCrdtError } from './errors.js'
import { asActorId, asMessageId } from './ids.js'
import { sendMessage } from './ops.js'
import { listMessages } from './selectors.js'
import { SHARD_CAPACITY, createShard, loadShard, saveShard, saveSince, shardHeads, shardOf } from './shard.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const T = 1_700_000_000_000

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

describe('shardOf', () => {
  it('puts SHARD_CAPACITY consecutive messages per shard', () => {
    expect(shardOf(0)).toBe(0)
    expect(shardOf(SHARD_CAPACITY - 1)).toBe(0)
    expect(shardOf(SHARD_CAPACITY)).toBe(1)
    expect(shardOf(5 * SHARD_CAPACITY + 3)).toBe(5)
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) expect(() => shardOf(bad)).toThrow()
  })
})

describe('createShard', () => {
  it('is the same empty document on every replica: no initial change', () => {
    expect(shardHeads(createShard(alice))).toEqual([])
    expect(Automerge.getAllChanges(createShard(bob))).toEqual([])
    expect(Automerge.getActorId(createShard(alice))).toBe(alice)
  })
})

describe('loadShard / saveSince', () => {
  it('round-trips a snapshot followed by incremental chunks', () => {
    const s1 = sendMessage(createShard(alice), alice, { id: asMessageId('01'.repeat(16)), body: 'a', hlc: { wall: T, counter: 0 }, seq: 0 })
    const snapshot = saveShard(s1.doc)
    const heads = shardHeads(s1.doc)
    const loaded = loadShard(snapshot, alice)
    const s2 = sendMessage(loaded, alice, { id: asMessageId('02'.repeat(16)), body: 'b', hlc: { wall: T + 1, counter: 0 }, seq: 1 })
    const chunk = saveSince(s2.doc, heads)
    expect(chunk.length).toBeLessThan(snapshot.length + 100)
    const reloaded = loadShard(concat(snapshot, chunk), alice)
    expect(listMessages(reloaded).map((m) => m.body)).toEqual(['a', 'b'])
    expect(Automerge.getActorId(reloaded)).toBe(alice)
  })

  it('rejects empty and garbage input with CORRUPT_DATA', () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0])]) {
      expect(() => loadShard(bytes, alice)).toThrow(expect.objectContaining({ code: 'CORRUPT_DATA' }))
    }
  })

  it('never throws anything but CORRUPT_DATA for a mutated snapshot', () => {
    const { doc } = sendMessage(createShard(alice), alice, { id: asMessageId('01'.repeat(16)), body: 'a', hlc: { wall: T, counter: 0 }, seq: 0 })
    const saved = saveShard(doc)
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = saved.slice()
        for (const [pos, value] of edits) bytes[pos % bytes.length] = value
        try {
          loadShard(bytes, alice)
        } catch (err) {
          expect(isCrdtError(err, 'CORRUPT_DATA')).toBe(true)
        }
      }),
    )
  })

  it('rejects a bad actor id', () => {
    expect(() => createShard('XYZ' as never)).toThrow()
  })
})
