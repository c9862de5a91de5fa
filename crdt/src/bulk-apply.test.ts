import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyBulk, applyMaterialising, applyRemoteChanges, BULK_MIN_SHARE, type ApplyResult } from './apply.js'
import { HLC_ZERO, hlcNow, type Hlc } from './hlc.js'
import { asActorId, asMessageId, type ActorId } from './ids.js'
import { deleteAsAdmin, deleteMessage, editMessage, react, sendMessage, setReaction } from './ops.js'
import type { Shard } from './schema.js'
import { refKey, type MessageRef } from './ref.js'
import { actorsIn, adminDeletesOf, hasReaction, listMessages, reactionsOf, readMessage } from './selectors.js'
import { createShard, loadShard, missingDeps, saveShard } from './shard.js'

const EMOJI = ['👍', '❤️', '😂']
const T = 1_700_000_000_000
const receiver = asActorId('ee'.repeat(16))
const STATE = Symbol.for('_am_meta')
const stateOf = (doc: Shard): Record<string, unknown> => Reflect.get(doc, STATE) as Record<string, unknown>

interface Author {
  actor: ActorId
  doc: Shard
  clock: Hlc
  seq: number
}

type Pick = (n: number) => number

/** A random history of several authors writing into one shard, as their changes, in the order they were made. */
function history(pick: Pick, steps: number): { log: Uint8Array[]; equivocation: Uint8Array } {
  const authors: Author[] = [1, 2, 3].map((i) => {
    const actor = asActorId(i.toString(16).padStart(2, '0').repeat(16))
    return { actor, doc: createShard(actor), clock: HLC_ZERO, seq: 0 }
  })
  const log: Uint8Array[] = []
  let nextId = 1
  let now = T
  for (let step = 0; step < steps; step++) {
    const a = authors[pick(authors.length)] as Author
    now += pick(3000)
    a.clock = hlcNow(a.clock, now)
    // Authors see each other's changes now and then, so they can react to and moderate each other's messages.
    if (pick(3) === 0) a.doc = applyMaterialising(a.doc, log).doc
    const views = listMessages(a.doc)
    const own = views.filter((v) => v.author === a.actor && !v.deleted)
    const live = views.filter((v) => !v.deleted)
    const others = live.filter((v) => v.author !== a.actor)
    const kind = pick(12)
    let result: { doc: Shard; change: Uint8Array } | undefined
    if (kind <= 1 && own.length > 0) {
      const target = own[pick(own.length)]!
      result = editMessage(a.doc, a.actor, { id: target.id, body: `edit ${step}`, hlc: a.clock })
    } else if (kind === 2 && own.length > 0) {
      result = deleteMessage(a.doc, a.actor, { id: own[pick(own.length)]!.id })
    } else if (kind <= 4 && live.length > 0) {
      const t = live[pick(live.length)]!
      const ref = { author: t.author, id: t.id }
      const emoji = EMOJI[pick(EMOJI.length)]!
      if (pick(2) === 0) result = react(a.doc, a.actor, { target: ref, emoji, on: !hasReaction(a.doc, a.actor, ref, emoji) })
      else {
        const current = reactionsOf(a.doc, a.actor, ref)
        result = setReaction(a.doc, a.actor, { target: ref, emoji: current.length === 1 && current[0] === emoji ? null : emoji })
      }
    } else if (kind === 5 && others.length > 0) {
      const t = others[pick(others.length)]!
      // Marking a message a second time would change nothing, and the op refuses it.
      const marked = Object.keys((a.doc[a.actor] as { x?: object } | undefined)?.x ?? {}).includes(refKey(t))
      if (marked) continue
      result = deleteAsAdmin(a.doc, a.actor, { target: { author: t.author, id: t.id } })
    } else if (kind === 6 && own.length > 0 && pick(4) === 0) {
      // Legal under the authorship rule: a device may overwrite its own subtree wholesale.
      const next = Automerge.change(a.doc, { time: 0 }, (root) => void (root[a.actor] = { m: {}, r: {} }))
      result = { doc: next, change: Automerge.getLastLocalChange(next)! }
    } else {
      const id = asMessageId((nextId++).toString(16).padStart(32, '0'))
      const sealed = pick(2) === 0
      result = sendMessage(a.doc, a.actor, {
        id,
        body: sealed ? '' : `msg ${step}`,
        box: sealed ? Uint8Array.from({ length: 40 }, () => pick(256)) : undefined,
        hlc: a.clock,
        seq: a.seq++,
      })
    }
    a.doc = result.doc
    log.push(result.change)
  }
  // A second, different first change by the first author: Automerge refuses it once the real one is in.
  const first = authors[0]!
  const equivocation = sendMessage(createShard(first.actor), first.actor, {
    id: asMessageId('f'.repeat(32)),
    body: 'other',
    hlc: { wall: T, counter: 0 },
    seq: 0,
  }).change
  return { log, equivocation }
}

/** What a message, or a reaction target, reads as in `doc`: its view (with reactions), and who marked it deleted. */
function reading(doc: Shard, ref: MessageRef): unknown {
  return {
    view: readMessage(doc, ref.author, ref.id),
    reactions: actorsIn(doc).map((a) => reactionsOf(doc, a, ref)),
    marks: adminDeletesOf(doc, ref),
  }
}

/**
 * The bulk result against the materialising one. `touched` is equal onto an empty shard; onto one that held
 * something (`states` given), the bulk path may leave out what the diff reports for a value rewritten with an equal
 * one (touched-compare.ts), and only refs that read the same before and after.
 */
function expectSameResult(bulk: ApplyResult, old: ApplyResult, states?: { before: Shard; after: Shard }): void {
  expect(Automerge.toJS(bulk.doc)).toEqual(Automerge.toJS(old.doc))
  expect([...Automerge.getHeads(bulk.doc)].sort()).toEqual([...Automerge.getHeads(old.doc)].sort())
  expect(missingDeps(bulk.doc)).toEqual(missingDeps(old.doc))
  expect(bulk.rejected).toEqual(old.rejected)
  expect(listMessages(bulk.doc)).toEqual(listMessages(old.doc))
  if (states === undefined) {
    expect(bulk.touched).toEqual(old.touched)
    return
  }
  for (const kind of ['messages', 'reactionTargets'] as const) {
    const mine = new Set(bulk.touched[kind].map(refKey))
    const theirs = new Set(old.touched[kind].map(refKey))
    for (const key of mine) expect(theirs).toContain(key)
    for (const ref of old.touched[kind]) {
      if (!mine.has(refKey(ref))) expect(reading(states.after, ref)).toEqual(reading(states.before, ref))
    }
  }
}

describe('applyRemoteChanges bulk path', () => {
  it('gives the same document, heads, touched and rejected as the materialising apply, and stays usable', () => {
    let bulkRuns = 0
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const pick: Pick = (n) => g(fc.integer, { min: 0, max: n - 1 })
        const { log, equivocation } = history(pick, g(fc.integer, { min: 1, max: 48 }))
        // The first batch: everything, a prefix, or a random part (later changes then wait for missing ones),
        // shuffled, with duplicates, and sometimes with a change Automerge refuses.
        const mode = pick(3)
        let first = mode === 0 ? [...log] : mode === 1 ? log.slice(0, 1 + pick(log.length)) : log.filter(() => pick(4) !== 0)
        first = first.concat(Array.from({ length: pick(4) }, () => log[pick(log.length)]!))
        for (let i = first.length - 1; i > 0; i--) {
          const j = pick(i + 1)
          ;[first[i], first[j]] = [first[j]!, first[i]!]
        }
        const equivocates = pick(4) === 0
        if (equivocates) first.splice(pick(first.length + 1), 0, equivocation)

        const bulk = applyRemoteChanges(createShard(receiver), first)
        const old = applyMaterialising(createShard(receiver), first)
        expectSameResult(bulk, old)
        // Onto the empty shard the bulk path is taken; it computes no patches, so the document caches none.
        const tookBulk = Automerge.getHeads(bulk.doc).length > 0
        if (tookBulk) {
          bulkRuns++
          expect(stateOf(bulk.doc)['mostRecentPatch']).toBeUndefined()
        }

        // The rest arrives later, shuffled, onto the shard that now holds the first batch: the bulk path whatever the
        // batch's size (applyRemoteChanges takes it only for large ones) against the materialising one.
        const rest = [...log]
        for (let i = rest.length - 1; i > 0; i--) {
          const j = pick(i + 1)
          ;[rest[i], rest[j]] = [rest[j]!, rest[i]!]
        }
        const bulk2 = applyBulk(bulk.doc, rest)
        const old2 = applyMaterialising(old.doc, rest)
        expectSameResult(bulk2, old2, { before: old.doc, after: old2.doc })
        // Unless the equivocating change got in first, and the real one, and all that depends on it, was refused.
        if (!equivocates) expect(missingDeps(bulk2.doc)).toEqual([])

        // The receiver writes into the result (the core does on merged documents) and both converge.
        const live = listMessages(bulk2.doc).filter((v) => !v.deleted)
        const reacts = live.length > 0 && pick(2) === 0
        const act = (doc: Shard): { doc: Shard; change: Uint8Array } =>
          reacts
            ? react(doc, receiver, { target: { author: live[0]!.author, id: live[0]!.id }, emoji: '👍', on: true })
            : sendMessage(doc, receiver, { id: asMessageId('e'.repeat(32)), body: 'mine', hlc: { wall: T * 2, counter: 0 }, seq: 0 })
        const mine = act(bulk2.doc)
        const theirs = act(old2.doc)
        expect(mine.change).toEqual(theirs.change)
        expect(Automerge.toJS(mine.doc)).toEqual(Automerge.toJS(theirs.doc))
        expect(Automerge.getHeads(mine.doc)).toEqual(Automerge.getHeads(theirs.doc))
        expect(listMessages(mine.doc)).toEqual(listMessages(theirs.doc))
      }),
      { numRuns: 60 },
    )
    expect(bulkRuns).toBeGreaterThan(30)
  })

  it('returns a full Automerge document (pins the Automerge internals bulk-apply.ts relies on)', () => {
    const alice = asActorId('a1'.repeat(16))
    let own = createShard(alice)
    const changes: Uint8Array[] = []
    for (let i = 0; i < 32; i++) {
      const r = sendMessage(own, alice, { id: asMessageId(i.toString(16).padStart(32, '0')), body: `m${i}`, hlc: { wall: T + i, counter: 0 }, seq: i })
      own = r.doc
      changes.push(r.change)
    }
    const half = changes.length / 2
    const empty = createShard(receiver)
    // What rematerialise reads and writes: the state object under the shared symbol, current when `heads` is unset.
    expect(stateOf(empty)['handle']).toBe(Automerge.getBackend(empty))
    expect(stateOf(empty)['heads']).toBeUndefined()
    const { doc, touched } = applyRemoteChanges(empty, changes.slice(0, half))
    expect(touched.messages).toHaveLength(half)
    expect(stateOf(doc)['mostRecentPatch']).toBeUndefined()
    expect(Automerge.getBackend(doc)).toBe(Automerge.getBackend(empty))

    // The consumed document reads as before and refuses changes, as after Automerge.applyChanges.
    expect(Automerge.getHeads(empty)).toEqual([])
    expect(Object.keys(empty)).toEqual([])
    expect(() => Automerge.change(empty, (r) => void (r['x'] = { m: {}, r: {} }))).toThrow(/outdated/)
    expect(() => applyRemoteChanges(empty, changes)).toThrow(/outdated/)

    // Datatypes as the materialising apply gives them (strings stay ImmutableString).
    const reference = applyMaterialising(createShard(receiver), changes.slice(0, half)).doc
    expect(doc).toEqual(reference)
    expect(doc[alice]!.m['0'.repeat(32)]!.body).toBeInstanceOf(Automerge.ImmutableString)

    // Everything the rest of the code base does with a shard.
    const mid = Automerge.getHeads(doc)
    // The diff cursor is at the batch's end: a later materialising apply patches only what is new since.
    const patched: string[] = []
    const probe = applyRemoteChanges(createShard(receiver), changes.slice(0, half)).doc
    Automerge.applyChanges(probe, [changes[half]!], { patchCallback: (ps) => patched.push(...ps.map((p) => String(p.path[2]))) })
    expect(new Set(patched)).toEqual(new Set([half.toString(16).padStart(32, '0')]))
    const more = applyRemoteChanges(doc, changes.slice(half))
    expect(more.touched.messages).toHaveLength(changes.length - half)
    expect(listMessages(more.doc)).toHaveLength(changes.length)
    expect(Automerge.diff(more.doc, mid, Automerge.getHeads(more.doc)).length).toBeGreaterThan(0)
    expect(listMessages(Automerge.view(more.doc, mid))).toHaveLength(half)
    const written = Automerge.change(more.doc, { time: 0 }, (root) => void (root[receiver] = { m: {}, r: {} }))
    expect(Object.keys(written)).toContain(receiver)
    const reloaded = loadShard(saveShard(written), receiver)
    expect(Automerge.toJS(reloaded)).toEqual(Automerge.toJS(written))
    expect(Automerge.getHeads(reloaded)).toEqual(Automerge.getHeads(written))
  })

  it('a batch whose changes all wait for missing ones leaves the empty shard as it was', () => {
    const alice = asActorId('a1'.repeat(16))
    let own = createShard(alice)
    const changes: Uint8Array[] = []
    for (let i = 0; i <= 16; i++) {
      const r = sendMessage(own, alice, { id: asMessageId(i.toString(16).padStart(32, '0')), body: `m${i}`, hlc: { wall: T + i, counter: 0 }, seq: i })
      own = r.doc
      changes.push(r.change)
    }
    const early = applyRemoteChanges(createShard(receiver), changes.slice(1))
    expect(early.touched).toEqual({ messages: [], reactionTargets: [] })
    expect(Automerge.getHeads(early.doc)).toEqual([])
    expect(missingDeps(early.doc)).toHaveLength(1)
    const late = applyRemoteChanges(early.doc, [changes[0]!])
    expect(late.touched.messages).toHaveLength(changes.length)
  })

  it('takes the bulk path for a batch of at least BULK_MIN_SHARE of what the shard holds', () => {
    const alice = asActorId('a1'.repeat(16))
    let own = createShard(alice)
    const changes: Uint8Array[] = []
    for (let i = 0; i < 96; i++) {
      const r = sendMessage(own, alice, { id: asMessageId(i.toString(16).padStart(32, '0')), body: `m${i}`, hlc: { wall: T + i, counter: 0 }, seq: i })
      own = r.doc
      changes.push(r.change)
    }
    const held = () => applyMaterialising(createShard(receiver), changes.slice(0, 64)).doc
    const large = Math.ceil(64 * BULK_MIN_SHARE)
    const bulk = applyRemoteChanges(held(), changes.slice(64, 64 + large))
    expect(stateOf(bulk.doc)['mostRecentPatch']).toBeUndefined()
    expect(bulk.touched.messages).toHaveLength(large)
    const small = applyRemoteChanges(held(), changes.slice(64, 64 + large - 1))
    expect(stateOf(small.doc)['mostRecentPatch']).toBeDefined()
    expect(small.touched.messages).toHaveLength(large - 1)
  })

  it('onto a shard that held something, leaves out a value rewritten with an equal one, which the diff reports', () => {
    const alice = asActorId('a1'.repeat(16))
    const bob = asActorId('b2'.repeat(16))
    const sent = sendMessage(createShard(alice), alice, { id: asMessageId('1'.repeat(32)), body: 'hi', hlc: { wall: T, counter: 0 }, seq: 0 })
    const target = { author: alice, id: asMessageId('1'.repeat(32)) }
    let bobDoc = applyMaterialising(createShard(bob), [sent.change]).doc
    const steps: Uint8Array[] = []
    for (const on of [true, false, true, false]) {
      const r = react(bobDoc, bob, { target, emoji: '👍', on })
      bobDoc = r.doc
      steps.push(r.change)
    }
    // The receiver holds the message and bob's 👍 turned off; then 👍 on and off again arrive together.
    const held = () => applyMaterialising(createShard(receiver), [sent.change, ...steps.slice(0, 2)]).doc
    const old = applyMaterialising(held(), steps.slice(2))
    const bulk = applyBulk(held(), steps.slice(2))
    expect(old.touched.reactionTargets).toEqual([target])
    expect(bulk.touched.reactionTargets).toEqual([])
    expect(Automerge.toJS(bulk.doc)).toEqual(Automerge.toJS(old.doc))
    expect(reading(bulk.doc, target)).toEqual(reading(held(), target))
  })
})
