import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { validateRemoteChange } from './authorship.js'
import { HLC_ZERO, hlcNow, type Hlc } from './hlc.js'
import { asActorId, asMessageId, type ActorId } from './ids.js'
import { deleteMessage, editMessage, react, sendMessage, setReaction } from './ops.js'
import type { Shard } from './schema.js'
import { hasReaction, listMessages, reactionsOf } from './selectors.js'
import { createShard, missingDeps } from './shard.js'

const EMOJI = ['👍', '❤️', '😂']
const T = 1_700_000_000_000

interface Replica {
  actor: ActorId
  doc: Shard
  clock: Hlc
  seq: number
  skew: number
}

interface Sent {
  sender: ActorId
  change: Uint8Array
}

describe('convergence', () => {
  it('replicas that receive the same changes in any order, batching and duplication end identical', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const pick = (n: number): number => g(fc.integer, { min: 0, max: n - 1 })
        const actorCount = g(fc.integer, { min: 3, max: 5 })
        const replicas: Replica[] = Array.from({ length: actorCount }, (_, i) => {
          const actor = asActorId((i + 1).toString(16).padStart(2, '0').repeat(16))
          return { actor, doc: createShard(actor), clock: HLC_ZERO, seq: 0, skew: g(fc.integer, { min: -5000, max: 5000 }) }
        })
        const log: Sent[] = []
        let now = T
        let nextId = 1
        let sends = 0

        const deliver = (r: Replica, items: Sent[]): void => {
          // What the core does: validate each change against its envelope's sender, then apply the batch at once.
          for (const { change, sender } of items) expect(validateRemoteChange(change, sender).ok).toBe(true)
          const result = applyRemoteChanges(r.doc, items.map((s) => s.change))
          expect(result.rejected).toEqual([])
          r.doc = result.doc
        }
        const shuffled = <T>(items: T[]): T[] => {
          const out = [...items]
          for (let i = out.length - 1; i > 0; i--) {
            const j = pick(i + 1)
            const tmp = out[i] as T
            out[i] = out[j] as T
            out[j] = tmp
          }
          return out
        }
        const withDuplicates = (items: Sent[]): Sent[] => {
          const extra = items.length === 0 ? 0 : pick(4)
          const dup = Array.from({ length: extra }, () => items[pick(items.length)] as Sent)
          return shuffled([...items, ...dup])
        }

        const steps = g(fc.integer, { min: 5, max: 40 })
        for (let step = 0; step < steps; step++) {
          now += pick(3000)
          const r = replicas[pick(replicas.length)] as Replica
          if (pick(4) === 0) {
            // Partial, out-of-order delivery of some of what exists so far.
            const subset = log.filter(() => pick(2) === 0)
            deliver(r, withDuplicates(subset))
            continue
          }
          r.clock = hlcNow(r.clock, now + r.skew)
          const views = listMessages(r.doc)
          const own = views.filter((v) => v.author === r.actor && !v.deleted)
          const live = views.filter((v) => !v.deleted)
          const kind = pick(4)
          let result: { doc: Shard; change: Uint8Array }
          if (kind === 1 && own.length > 0) {
            const target = own[pick(own.length)]
            if (target === undefined) continue
            result = editMessage(r.doc, r.actor, { id: target.id, body: `edit ${step}`, hlc: r.clock })
          } else if (kind === 2 && own.length > 0) {
            const target = own[pick(own.length)]
            if (target === undefined) continue
            result = deleteMessage(r.doc, r.actor, { id: target.id })
          } else if (kind === 3 && live.length > 0) {
            const target = live[pick(live.length)]
            if (target === undefined) continue
            const emoji = EMOJI[pick(EMOJI.length)] as string
            const ref = { author: target.author, id: target.id }
            if (pick(2) === 0) {
              result = react(r.doc, r.actor, { target: ref, emoji, on: !hasReaction(r.doc, r.actor, ref, emoji) })
            } else {
              // The one-reaction-per-person path: replace whatever this device shows, or take it away.
              const current = reactionsOf(r.doc, r.actor, ref)
              result = setReaction(r.doc, r.actor, { target: ref, emoji: current.length === 1 && current[0] === emoji ? null : emoji })
            }
          } else {
            const id = asMessageId((nextId++).toString(16).padStart(32, '0'))
            const replyTo = live.length > 0 && pick(2) === 0 ? live[pick(live.length)] : undefined
            result = sendMessage(r.doc, r.actor, {
              id,
              body: `msg ${step}`,
              hlc: r.clock,
              seq: r.seq++,
              replyTo: replyTo === undefined ? undefined : { author: replyTo.author, id: replyTo.id },
            })
            sends++
          }
          r.doc = result.doc
          log.push({ sender: r.actor, change: result.change })
        }

        // Final delivery: everything, to everyone, shuffled, duplicated, in random batches.
        for (const r of replicas) {
          const all = withDuplicates(log)
          while (all.length > 0) deliver(r, all.splice(0, 1 + pick(all.length)))
          expect(missingDeps(r.doc)).toEqual([])
        }

        const [first, ...rest] = replicas
        if (first === undefined) throw new Error('no replicas')
        const expected = listMessages(first.doc)
        expect(expected).toHaveLength(sends)
        const heads = [...Automerge.getHeads(first.doc)].sort()
        for (const r of rest) {
          expect(listMessages(r.doc)).toEqual(expected)
          expect([...Automerge.getHeads(r.doc)].sort()).toEqual(heads)
        }
      }),
      { numRuns: 60 },
    )
  })
})
