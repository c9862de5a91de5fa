import { isActorId, type ActorId } from './ids.js'
import type { Shard } from './schema.js'

/** Automerge's hidden object id on every materialised map and list (constants.js `OBJECT_ID`). */
const OBJECT_ID = Symbol.for('_am_objectId')

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null
}

function objectId(v: Obj): unknown {
  return Reflect.get(v, OBJECT_ID)
}

/**
 * Deeper than anything Hearth writes (a message's edits or attachments are three levels below it). A peer may nest
 * maps as deep as its change allows; past this the values count as different, so the recursion stays bounded and the
 * worst case is a message reported as touched that did not change.
 */
const MAX_DEPTH = 32

/**
 * Whether two materialised values are the same Automerge value: for maps and lists the same object (its id is the op
 * that made it, so a replacement counts as a change even with equal content) with equal contents, for scalars the
 * same value. Both come from the same document at two points in its history, so they hold only Automerge's types.
 */
export function sameValue(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true
  if (depth > MAX_DEPTH) return false
  if (!isObj(a) || !isObj(b)) return false
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  const idA = objectId(a)
  const idB = objectId(b)
  if (idA !== idB) return false
  if (idA === undefined) {
    // Not an Automerge map or list: a datatype wrapper (ImmutableString `val`, Counter `value`): compare its fields.
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  for (const k of keysA) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !sameValue(a[k], b[k], depth + 1)) return false
  }
  return true
}

/** The keys of two maps whose values differ (present in one only, or not `sameValue`). */
function changedKeys(before: Obj, after: Obj): string[] {
  const out: string[] = []
  for (const k of Object.keys(before)) if (!Object.prototype.hasOwnProperty.call(after, k) || !sameValue(before[k], after[k])) out.push(k)
  for (const k of Object.keys(after)) if (!Object.prototype.hasOwnProperty.call(before, k)) out.push(k)
  return out
}

export interface TouchSink {
  addMessage(author: ActorId, id: unknown): void
  addTarget(key: unknown): void
  addSubtree(state: Shard, author: ActorId, section: 'm' | 'r' | undefined): void
  addMarks(state: Shard, author: ActorId): void
}

/**
 * What `touchedBetween` derives from `Automerge.diff(before, after)`, found by comparing the two materialised states
 * instead, for the bulk path (which has both and no patches). It follows the same rules level by level: a device's
 * subtree replaced or removed expands to everything in it before and after, a whole `m`, `r` or `x` map replaced
 * expands to its keys, otherwise each key whose value differs is touched.
 * One difference, on purpose: the diff also reports a key rewritten with an equal value by a new op (e.g. a reaction
 * turned on and off again in the same batch, over an earlier `false`); a comparison of states cannot see it. Such a
 * message reads exactly as before, so not re-reading it loses nothing (bulk-apply.test.ts checks that every ref the
 * diff reports and this does not reads the same before and after).
 */
export function compareTouched(before: Shard, after: Shard, sink: TouchSink): void {
  const rootBefore = before as unknown as Obj
  const rootAfter = after as unknown as Obj
  for (const author of allKeys(rootBefore, rootAfter)) {
    if (!isActorId(author)) continue
    const subBefore = rootBefore[author]
    const subAfter = rootAfter[author]
    if (!isObj(subBefore) || !isObj(subAfter) || objectId(subBefore) !== objectId(subAfter) || Array.isArray(subBefore) !== Array.isArray(subAfter)) {
      if (sameValue(subBefore, subAfter)) continue
      for (const state of [before, after]) {
        sink.addSubtree(state, author, undefined)
        sink.addMarks(state, author)
      }
      continue
    }
    for (const section of allKeys(subBefore, subAfter)) {
      if (section !== 'm' && section !== 'r' && section !== 'x') continue
      const secBefore = subBefore[section]
      const secAfter = subAfter[section]
      if (!isObj(secBefore) || !isObj(secAfter) || objectId(secBefore) !== objectId(secAfter)) {
        if (sameValue(secBefore, secAfter)) continue
        for (const state of [before, after]) {
          if (section === 'x') sink.addMarks(state, author)
          else sink.addSubtree(state, author, section)
        }
        continue
      }
      for (const key of changedKeys(secBefore, secAfter)) {
        if (section === 'm') sink.addMessage(author, key)
        else sink.addTarget(key)
      }
    }
  }
}

/** Every key of either map, each once: which of them changed is decided per level by the caller. */
function allKeys(a: Obj, b: Obj): string[] {
  const keys = Object.keys(a)
  for (const k of Object.keys(b)) if (!Object.prototype.hasOwnProperty.call(a, k)) keys.push(k)
  return keys
}
