import * as Automerge from '@automerge/automerge'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges } from './apply.js'
import { validateRemoteChange } from './authorship.js'
import { sleb, slebColumn, stringColumn, ulebColumn, writeChange, type RawChange } from './change-bytes.test-util.js'
import { readChangeOps, type ChangeOps } from './change-ops.js'
import { asActorId, asMessageId } from './ids.js'
import { deleteMessage, editMessage, react, sendMessage } from './ops.js'
import { createShard } from './shard.js'

const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))
const carol = asActorId('c3'.repeat(16))
const T = 1_700_000_000_000

/** The reader's ops in the shape `Automerge.decodeChange` prints them (action, obj, key or no key). */
function asDecoded(read: ChangeOps): Array<{ action: string; obj: string; key: string | undefined }> {
  // UTF-8 from a byte string (crdt/ compiles without TextDecoder); throws on bytes that are not UTF-8.
  const utf8 = (b: Uint8Array): string => decodeURIComponent(escape(String.fromCharCode(...b)))
  return read.ops.map((op) => ({
    action: op.action,
    obj: op.obj === null ? '_root' : `${op.obj.counter}@${read.actors[op.obj.actor]}`,
    key: op.key === null ? undefined : utf8(op.key),
  }))
}

function decodedOps(change: Uint8Array): Array<{ action: string; obj: string; key: string | undefined }> {
  // decodeChange names action 7 markBegin or markEnd by its value; the reader calls both `mark`.
  return Automerge.decodeChange(change).ops.map((op) => ({ action: op.action.startsWith('mark') ? 'mark' : op.action, obj: op.obj, key: (op as { key?: string }).key }))
}

/**
 * The property everything rests on: whenever the reader accepts bytes, Automerge reads the same actor and the same
 * ops (action, object, key) from them, or refuses them itself, both to decode and to apply.
 */
function agreesWithAutomerge(change: Uint8Array): 'accepted' | 'refused' {
  let read: ChangeOps
  try {
    read = readChangeOps(change)
  } catch {
    return 'refused'
  }
  let decoded: ReturnType<typeof Automerge.decodeChange> | undefined
  try {
    decoded = Automerge.decodeChange(change)
  } catch {
    decoded = undefined
  }
  if (decoded === undefined) {
    expect(() => Automerge.applyChanges(Automerge.init(), [change])).toThrow()
    return 'accepted'
  }
  expect(read.actor).toBe(decoded.actor)
  expect(asDecoded(read)).toEqual(decodedOps(change))
  return 'accepted'
}

function honestChanges(): Uint8Array[] {
  const id = asMessageId('01'.repeat(16))
  const sent = sendMessage(createShard(alice), alice, { id, body: '', box: new Uint8Array(228).fill(7), hlc: { wall: T, counter: 0 }, seq: 0, mentions: ['d4'.repeat(32)], replyTo: { author: bob, id } })
  const attached = sendMessage(sent.doc, alice, {
    id: asMessageId('02'.repeat(16)),
    body: 'with a file',
    hlc: { wall: T + 1, counter: 0 },
    seq: 1,
    attachments: [{ id: 'f1', name: 'a.txt', size: 3, mime: 'text/plain', sha256hex: 'e5'.repeat(32) }],
  })
  const edited = editMessage(attached.doc, alice, { id, body: 'better', hlc: { wall: T + 2, counter: 0 }, mentions: [] })
  const reacted = react(edited.doc, alice, { target: { author: alice, id }, emoji: '👍', on: true })
  const unreacted = react(reacted.doc, alice, { target: { author: alice, id }, emoji: '👍', on: false })
  const deleted = deleteMessage(unreacted.doc, alice, { id })
  return [sent.change, attached.change, edited.change, reacted.change, unreacted.change, deleted.change]
}

const opId = fc.tuple(fc.integer({ min: 1, max: 5_000 }), fc.constantFrom(alice, bob, carol)).map(([c, a]) => `${c}@${a}`)
const mapKey = fc.oneof(fc.constantFrom<string>(alice, bob, 'm', 'r', 'x', '01'.repeat(16)), fc.string({ maxLength: 40 }))
const value = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null))

/** Any op Automerge's encoder writes: on the root or any object, by map key or list element, with any predecessors. */
const anyOp = fc.record({
  action: fc.constantFrom('makeMap', 'set', 'makeList', 'del', 'makeText'),
  obj: fc.oneof(fc.constant('_root'), opId),
  list: fc.boolean(),
  key: mapKey,
  elemId: fc.oneof(fc.constant('_head'), opId),
  insert: fc.boolean(),
  value,
  pred: fc.array(opId, { maxLength: 3 }),
})

type AnyOp = typeof anyOp extends fc.Arbitrary<infer V> ? V : never

function encode(actor: string, startOp: number, ops: AnyOp[]): Uint8Array {
  return Automerge.encodeChange({
    actor,
    seq: 1,
    startOp,
    time: 0,
    message: null,
    deps: [],
    author: null,
    ops: ops.map((o) => {
      const base = { action: o.action, obj: o.obj, pred: [...new Set(o.pred)].sort() } as Record<string, unknown>
      if (o.list) {
        base['elemId'] = o.elemId
        base['insert'] = o.insert
      } else base['key'] = o.key
      if (o.action === 'set') base['value'] = o.value
      return base
    }),
  } as unknown as Parameters<typeof Automerge.encodeChange>[0])
}

describe('readChangeOps', () => {
  it('reads every honest change exactly as Automerge decodes it', () => {
    for (const change of honestChanges()) expect(agreesWithAutomerge(change)).toBe('accepted')
  })

  it('agrees with Automerge on random changes from its own encoder', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.constantFrom(alice, bob), fc.integer({ min: 1, max: 1_000 }), fc.array(anyOp, { maxLength: 12 }), (actor, startOp, ops) => {
        let change: Uint8Array
        try {
          change = encode(actor, startOp, ops)
        } catch {
          return // an op shape the encoder itself refuses
        }
        if (agreesWithAutomerge(change) === 'accepted') accepted++
      }),
      { numRuns: 400, seed: 28 },
    )
    expect(accepted).toBeGreaterThan(100)
  })

  it('agrees with Automerge on any corruption of real changes, or refuses', () => {
    const changes = honestChanges()
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: changes.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = changes[which]!.slice()
          for (const [pos, v] of edits) bytes[pos % bytes.length] = v
          agreesWithAutomerge(bytes)
        },
      ),
      { numRuns: 1_000, seed: 29 },
    )
    fc.assert(
      fc.property(fc.integer({ min: 0, max: changes.length - 1 }), fc.nat(), fc.uint8Array({ maxLength: 8 }), (which, at, inserted) => {
        const c = changes[which]!
        const cut = at % c.length
        agreesWithAutomerge(Uint8Array.from([...c.subarray(0, cut), ...inserted, ...c.subarray(cut)]))
        agreesWithAutomerge(c.subarray(0, cut))
      }),
      { numRuns: 500, seed: 30 },
    )
  })

  it('never throws anything but its own error on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const withMagic = Uint8Array.from([0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, bytes.length, ...bytes])
        for (const b of [bytes, withMagic]) agreesWithAutomerge(b)
      }),
      { numRuns: 1_000, seed: 31 },
    )
  })
})

/** One op by `actor`: `set key = 5` in `obj` (null for the root), through raw columns. */
function rawSet(over: Partial<RawChange> & { objActor?: Array<number | bigint | null>; objCounter?: Array<number | bigint | null>; keys?: Array<string | null>; actions?: number[] } = {}): Uint8Array {
  const actions = over.actions ?? [1]
  const n = actions.length
  return writeChange({
    actor: over.actor ?? bob,
    ...(over.others === undefined ? {} : { others: over.others }),
    ...(over.startOp === undefined ? {} : { startOp: over.startOp }),
    ...(over.chunkType === undefined ? {} : { chunkType: over.chunkType }),
    columns: over.columns ?? [
      [1, ulebColumn(over.objActor ?? Array(n).fill(null))],
      [2, ulebColumn(over.objCounter ?? Array(n).fill(null))],
      [21, stringColumn(over.keys ?? Array(n).fill(bob))],
      [52, [n]],
      [66, ulebColumn(actions)],
      [86, ulebColumn(Array(n).fill((1 << 4) | 4))],
      [87, Array(n).fill(5)],
      [112, ulebColumn(Array(n).fill(0))],
    ],
  })
}

describe('readChangeOps on crafted bytes (what no honest Automerge writes)', () => {
  it('reads a change built from raw columns as Automerge does (the builder itself is right)', () => {
    const change = rawSet()
    expect(agreesWithAutomerge(change)).toBe('accepted')
    expect(validateRemoteChange(change, bob).ok).toBe(true)
    expect(applyRemoteChanges(createShard(carol), [change]).doc).toEqual({ [bob]: 5 })
  })

  it("reads ops past the end of the object columns as root ops, as Automerge applies them (Bob writing Alice's key)", () => {
    // Two ops; the object columns name the first op's object only, so Automerge applies the second to the root.
    const change = rawSet({ actions: [1, 1], objActor: [0], objCounter: [9], keys: ['k', alice] })
    const read = readChangeOps(change)
    expect(read.ops[1]!.obj).toBeNull()
    expect(asDecoded(read)).toEqual(decodedOps(change))
    expect(validateRemoteChange(change, bob)).toMatchObject({ ok: false, reason: "op 1 writes outside the sender's subtree at the root" })
  })

  it('refuses object ids Automerge reads as the root or cannot read: counter 0, past u32, half null, actor outside the table', () => {
    for (const [actor, counter] of [
      [0, 0],
      [1, 0],
      [0, 2n ** 32n],
      [null, 0],
      [null, 3],
      [0, null],
      [1, 3],
    ] as const) {
      const change = rawSet({ objActor: [actor], objCounter: [counter], keys: [alice] })
      expect(() => readChangeOps(change)).toThrow()
      expect(validateRemoteChange(change, bob).ok).toBe(false)
    }
  })

  it('reads an object of the author named again in the actor table as the author’s, like Automerge', () => {
    const change = rawSet({ others: [bob], objActor: [1], objCounter: [4] })
    expect(agreesWithAutomerge(change)).toBe('accepted')
    expect(readChangeOps(change).actors).toEqual([bob, bob])
    const elsewhere = rawSet({ others: [alice], objActor: [1], objCounter: [4] })
    expect(validateRemoteChange(elsewhere, bob)).toMatchObject({ ok: false, reason: 'op 0 writes into an object the sender did not create' })
  })

  it('refuses layouts Automerge 3 never writes: unknown, deflated, repeated or unordered columns, compressed chunks', () => {
    const columns = (extra: Array<[number, number[]]>, drop?: number): Array<[number, number[]]> =>
      [
        [1, ulebColumn([null])],
        [2, ulebColumn([null])],
        [21, stringColumn([bob])],
        [52, [1]],
        [66, ulebColumn([1])],
        [86, ulebColumn([(1 << 4) | 4])],
        [87, [5]],
        [112, ulebColumn([0])],
        ...extra,
      ].filter(([spec]) => spec !== drop) as Array<[number, number[]]>
    const refused = (change: Uint8Array, because: RegExp): void => {
      expect(() => readChangeOps(change)).toThrow(because)
      expect(validateRemoteChange(change, bob).ok).toBe(false)
    }
    refused(writeChange({ actor: bob, columns: columns([[208, [1]]]) }), /unknown column/)
    refused(writeChange({ actor: bob, columns: columns([[66 | 8, [1]]], 66) }), /deflated column|out of order/)
    refused(writeChange({ actor: bob, columns: [...columns([]), [66, ulebColumn([3])]] }), /out of order/)
    refused(writeChange({ actor: bob, columns: [...columns([]).reverse()] }), /out of order/)
    refused(rawSet({ chunkType: 2 }), /compressed/)
    refused(Uint8Array.from([...rawSet(), 0]), /length/)
  })

  it('refuses columns with more values than ops, zero-length null runs, null actions, op ids past u32', () => {
    expect(() => readChangeOps(rawSet({ objActor: [null, null] }))).toThrow(/more values/)
    const zeroRun = writeChange({
      actor: bob,
      columns: [
        [21, stringColumn([bob])],
        [52, [1]],
        [66, [0x7f, 1, 0, 0]],
        [86, ulebColumn([(1 << 4) | 4])],
        [87, [5]],
        [112, ulebColumn([0])],
      ],
    })
    expect(() => readChangeOps(zeroRun)).toThrow(/null run/)
    expect(() => readChangeOps(rawSet({ columns: [[21, stringColumn([bob])], [66, ulebColumn([null])]] }))).toThrow(/null action/)
    expect(() => readChangeOps(rawSet({ actions: [1, 1], startOp: 2n ** 32n - 1n, keys: [bob, bob] }))).toThrow(/op counter/)
    const bigPred = writeChange({
      actor: bob,
      columns: [
        [21, stringColumn([bob])],
        [52, [1]],
        [66, ulebColumn([1])],
        [86, ulebColumn([(1 << 4) | 4])],
        [87, [5]],
        [112, ulebColumn([1])],
        [113, ulebColumn([0])],
        [115, slebColumn([2n ** 32n])],
      ],
    })
    expect(() => readChangeOps(bigPred)).toThrow(/predecessor counter/)
    // Automerge panics on these (its op ids are two u32s): the reader refuses them before they reach a document.
    expect(() => Automerge.decodeChange(bigPred)).toThrow()
  })

  it('refuses tables, which Automerge 3 never writes and panics applying', () => {
    const table = Automerge.encodeChange({
      actor: bob,
      seq: 1,
      startOp: 1,
      time: 0,
      message: null,
      deps: [],
      author: null,
      ops: [
        { action: 'makeTable', obj: '_root', key: bob, pred: [] },
        { action: 'set', obj: `1@${bob}`, key: 'k', value: 1, pred: [] },
      ],
    } as unknown as Parameters<typeof Automerge.encodeChange>[0])
    expect(() => readChangeOps(table)).toThrow(/table/)
    expect(() => Automerge.applyChanges(Automerge.init(), [table])).toThrow()
  })

  it('refuses an action column that claims more ops than any change has', () => {
    const huge = writeChange({ actor: bob, columns: [[21, stringColumn([bob])], [66, [...sleb(1e9), 1]]] })
    expect(() => readChangeOps(huge)).toThrow(/more values/)
  })
})
