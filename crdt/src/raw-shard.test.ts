import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { asActorId, asMessageId, type ActorId } from './ids.js'
import { deleteAsAdmin, deleteMessage, editMessage, react, sendMessage } from './ops.js'
import { RawShard } from './raw-shard.js'
import type { MessageRef } from './ref.js'
import type { Shard, ShardRoot } from './schema.js'
import { adminDeletesOf, readMessage } from './selectors.js'
import { createShard } from './shard.js'

const actors = [asActorId('a1'.repeat(16)), asActorId('b2'.repeat(16)), asActorId('c3'.repeat(16))]
const reader = asActorId('d4'.repeat(16))
const T = 1_700_000_000_000

type Step =
  | { kind: 'send'; by: number }
  | { kind: 'edit' | 'delete'; by: number; pick: number }
  | { kind: 'react' | 'mark'; by: number; pick: number; on: boolean }
  | { kind: 'junk'; by: number; shape: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), by: fc.nat(2) }),
  fc.record({ kind: fc.constantFrom('edit' as const, 'delete' as const), by: fc.nat(2), pick: fc.nat() }),
  fc.record({ kind: fc.constantFrom('react' as const, 'mark' as const), by: fc.nat(2), pick: fc.nat(), on: fc.boolean() }),
  fc.record({ kind: fc.constant('junk' as const), by: fc.nat(2), shape: fc.nat(6) }),
)

/** What a device may write in its own subtree that no honest client does: the selectors must read it the same both ways. */
function junk(root: ShardRoot, actor: ActorId, shape: number): void {
  const r = root as unknown as Record<string, unknown>
  const sub = r[actor] as Record<string, unknown> | undefined
  if (shape === 0) r[actor] = new Automerge.ImmutableString('not a subtree')
  else if (shape === 1) r[actor] = { m: [1, 2], r: {} }
  else if (shape === 2) r[actor] = { m: {}, r: new Automerge.Counter(3), x: ['x'] }
  else if (sub === undefined) r[actor] = { m: {}, r: {} }
  else if (shape === 3) sub['x'] = { [`${actors[0]}${'01'.repeat(16)}`]: true, junk: 5 }
  else if (shape === 4) sub['m'] = { ...(sub['m'] as object), ['ee'.repeat(16)]: { id: 'ee'.repeat(16), hlc: 'bad' } }
  else sub['r'] = { [`${actors[0]}${'01'.repeat(16)}`]: { '👍': true, '🎉': 'yes' } }
}

/** Plays `steps` on three devices that see every change at once; returns the changes in order. */
function play(steps: Step[]): Uint8Array[] {
  const docs = actors.map((a) => createShard(a))
  const sent: MessageRef[] = []
  const changes: Uint8Array[] = []
  let n = 0
  for (const s of steps) {
    const actor = actors[s.by]!
    const doc = docs[s.by]!
    const target = sent.length === 0 ? undefined : sent[('pick' in s ? s.pick : 0) % sent.length]!
    let result: { doc: Shard; change: Uint8Array } | undefined
    try {
      if (s.kind === 'send') {
        const id = asMessageId((++n).toString(16).padStart(32, '0'))
        result = sendMessage(doc, actor, { id, body: `m${n}`, hlc: { wall: T + n, counter: 0 }, seq: n })
        sent.push({ author: actor, id })
      } else if (s.kind === 'junk') {
        const next = Automerge.change(doc, { time: 0 }, (root) => junk(root, actor, s.shape))
        const change = Automerge.getLastLocalChange(next)
        if (change !== undefined && next !== doc) result = { doc: next, change }
      } else if (target !== undefined) {
        if (s.kind === 'edit') result = editMessage(doc, actor, { id: target.id, body: `e${++n}`, hlc: { wall: T + 1_000 + n, counter: 0 } })
        if (s.kind === 'delete') result = deleteMessage(doc, actor, { id: target.id })
        if (s.kind === 'react') result = react(doc, actor, { target, emoji: '👍', on: s.on })
        if (s.kind === 'mark') result = deleteAsAdmin(doc, actor, { target })
      }
    } catch {
      result = undefined // an op the device refuses (not its message, nothing to change)
    }
    if (result === undefined) continue
    changes.push(result.change)
    for (let i = 0; i < docs.length; i++) docs[i] = i === s.by ? result.doc : applyRemoteChanges(docs[i]!, [result.change]).doc
  }
  return changes
}

describe('RawShard', () => {
  it('touches the same messages as the materialised document, and its view reads them the same', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }), (steps, cuts) => {
        const changes = play(steps)
        let doc: Shard = createShard(reader)
        const { shard: raw } = RawShard.of(reader)
        let at = 0
        for (let b = 0; at < changes.length; b++) {
          const batch = changes.slice(at, at + cuts[b % cuts.length]!)
          at += batch.length
          const full = applyRemoteChanges(doc, batch)
          doc = full.doc
          const { touched } = raw.apply(batch)
          expect(touched).toEqual(full.touched)
          const refs = [...touched.messages, ...touched.reactionTargets]
          const view = raw.view(refs)
          for (const ref of refs) {
            expect(readMessage(view, ref.author, ref.id)).toEqual(readMessage(doc, ref.author, ref.id))
            expect(adminDeletesOf(view, ref)).toEqual(adminDeletesOf(doc, ref))
          }
        }
        expect(Automerge.toJS(raw.toShard())).toEqual(Automerge.toJS(doc))
      }),
      { numRuns: 100, seed: 2028 },
    )
  }, 60_000)

  it('reads a position it was at, whatever was applied since', () => {
    const changes = play([{ kind: 'send', by: 0 }, { kind: 'send', by: 1 }, { kind: 'react', by: 2, pick: 0, on: true }])
    const { shard: raw } = RawShard.of(reader, changes.slice(0, 1))
    const size = raw.size
    raw.apply(changes.slice(1))
    expect(Object.keys(raw.toShard(size))).toEqual([actors[0]])
    expect(Object.keys(raw.toShard()).sort()).toEqual([...actors].sort())
  })

  it('keeps a change whose dependencies have not arrived, and reports its message once they do', () => {
    const changes = play([{ kind: 'send', by: 0 }, { kind: 'send', by: 0 }])
    const { shard: raw } = RawShard.of(reader)
    expect(raw.apply([changes[1]!]).touched.messages).toEqual([])
    expect(raw.apply([changes[0]!]).touched.messages.length).toBe(2)
    expect(Object.keys(raw.toShard()[actors[0]!]!.m).length).toBe(2)
  })

  it('lets good changes through when one in the batch is refused', () => {
    const changes = play([{ kind: 'send', by: 0 }])
    const { shard: raw } = RawShard.of(reader)
    const result = raw.apply([new Uint8Array([1, 2, 3]), changes[0]!])
    expect(result.rejected.length).toBe(1)
    expect(result.touched.messages.length).toBe(1)
  })
})
