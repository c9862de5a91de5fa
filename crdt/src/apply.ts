import * as Automerge from '@automerge/automerge'
import type { Heads, Patch } from '@automerge/automerge'
import { isActorId, isMessageId, type ActorId } from './ids.js'
import { parseRefKey, type MessageRef } from './ref.js'
import type { Shard } from './schema.js'
import { subtreeOf } from './selectors.js'
import { applyWithoutPatches } from './bulk-apply.js'
import { compareTouched, type TouchSink } from './touched-compare.js'

/**
 * What a batch of remote changes touched, so the core re-materialises only those rows:
 * `messages` whose own entry changed, and `reactionTargets` whose reactions changed. Both sorted and deduplicated.
 * Refs come from the document's paths, so a target may name a message this shard does not hold (yet, or ever).
 */
export interface TouchedSet {
  messages: MessageRef[]
  reactionTargets: MessageRef[]
}

export interface RejectedChange {
  change: Uint8Array
  reason: string
}

export interface ApplyResult {
  doc: Shard
  touched: TouchedSet
  /** Changes Automerge refused (e.g. a second, different change with an already used seq). Empty normally. */
  rejected: RejectedChange[]
}

function sameHeads(a: Heads, b: Heads): boolean {
  return a.length === b.length && a.every((h, i) => h === b[i])
}

/**
 * The bulk path is taken when the batch has at least this many changes per entry (message, reaction target, mark)
 * the shard already holds, and for any batch onto an empty shard. It rebuilds the whole shard's JavaScript document,
 * so its cost grows with the shard while the materialising apply's grows with the batch. On `test/bench/apply-cost.ts`
 * the two cost about the same per change from a quarter to a third of the shard, and the bulk path is 30-45 % cheaper
 * from a half (docs/PERFORMANCE.md, ADR 0028 section).
 */
export const BULK_MIN_SHARE = 0.5

/**
 * Applies remote changes in one call (one call per batch is far cheaper than one per change). Every change must
 * already have passed `validateRemoteChange` against its sender: this function does not know who sent what.
 * Duplicates are harmless; changes whose dependencies have not arrived wait inside the document (see `missingDeps`)
 * and are reported as touched when they finally apply.
 * A batch large for its shard (BULK_MIN_SHARE: catching up) takes the bulk path (bulk-apply.ts): the changes go to
 * Automerge's WebAssembly document alone, the shard is read out once, and what changed is found by comparing the
 * states before and after (touched-compare.ts) instead of a diff. Smaller batches go through the materialising
 * `Automerge.applyChanges`, which keeps the JavaScript document in step patch by patch.
 * Consumes `doc` like the ops do: keep only the returned document.
 */
export function applyRemoteChanges(doc: Shard, changes: readonly Uint8Array[]): ApplyResult {
  const before = Automerge.getHeads(doc)
  const bulk = changes.length > 0 && (before.length === 0 || entriesIn(doc, changes.length / BULK_MIN_SHARE) <= changes.length / BULK_MIN_SHARE)
  return bulk ? applyBulk(doc, changes, before) : applyMaterialising(doc, changes, before)
}

/** `applyRemoteChanges` through the bulk path, whatever the batch's size. */
export function applyBulk(doc: Shard, changes: readonly Uint8Array[], before = Automerge.getHeads(doc)): ApplyResult {
  const { doc: next, rejected } = applyWithoutPatches(doc, changes)
  if (next === doc) return { doc, touched: { messages: [], reactionTargets: [] }, rejected }
  const collector = new TouchCollector()
  // From nothing, everything is new: no need to compare.
  if (before.length === 0) for (const author of Object.keys(next)) collector.addAll(next, author)
  else compareTouched(doc, next, collector)
  return { doc: next, touched: collector.result(), rejected }
}

/**
 * Entries in the shard, two levels down (messages, reaction targets, delete marks, and whatever else a device put in
 * its subtree): what rebuilding its JavaScript document costs in, so that a subtree padded with other maps does not
 * make every small batch look large. Counting stops once past `enough` (a live message's batch of one looks at a
 * section or two, not the whole shard).
 */
function entriesIn(doc: Shard, enough: number): number {
  let n = 0
  for (const sub of Object.values(doc as unknown as Record<string, unknown>)) {
    if (typeof sub !== 'object' || sub === null) continue
    for (const section of Object.values(sub as Record<string, unknown>)) {
      if (typeof section === 'object' && section !== null) n += Object.keys(section).length
      if (n > enough) return n
    }
  }
  return n
}

/** `applyRemoteChanges` through `Automerge.applyChanges`, which keeps the JavaScript document in step patch by patch. */
export function applyMaterialising(doc: Shard, changes: readonly Uint8Array[], before = Automerge.getHeads(doc)): ApplyResult {
  const rejected: RejectedChange[] = []
  let next: Shard
  try {
    ;[next] = Automerge.applyChanges(doc, [...changes])
  } catch {
    // One bad change fails the whole call, and the call is atomic (the document is unchanged and still usable),
    // so retry one at a time to let the good changes through.
    next = doc
    for (const change of changes) {
      try {
        ;[next] = Automerge.applyChanges(next, [change])
      } catch (err) {
        rejected.push({ change, reason: err instanceof Error ? err.message : String(err) })
      }
    }
  }
  const after = Automerge.getHeads(next)
  const touched = sameHeads(before, after) ? { messages: [], reactionTargets: [] } : touchedBetween(next, before, after)
  return { doc: next, touched, rejected }
}

/** Collects touched refs, keyed so each is reported once, and sorts them at the end. */
class TouchCollector implements TouchSink {
  private readonly messages = new Map<string, MessageRef>()
  private readonly targets = new Map<string, MessageRef>()

  addMessage(author: ActorId, id: unknown): void {
    if (isMessageId(id)) this.messages.set(author + id, { author, id })
  }

  addTarget(key: unknown): void {
    const ref = typeof key === 'string' ? parseRefKey(key) : undefined
    if (ref !== undefined) this.targets.set(key as string, ref)
  }

  /** Every message (section 'm'), reaction target ('r') or both (undefined) under `author`'s subtree in `state`. */
  addSubtree(state: Shard, author: ActorId, section: 'm' | 'r' | undefined): void {
    const sub = subtreeOf(state, author)
    if (sub === undefined) return
    if (section !== 'r') for (const id of Object.keys(sub.m)) this.addMessage(author, id)
    if (section !== 'm') for (const key of Object.keys(sub.r)) this.addTarget(key)
  }

  /** Every target of `author`'s admin delete marks in `state`. */
  addMarks(state: Shard, author: ActorId): void {
    const marks: unknown = (state as unknown as Record<string, Record<string, unknown> | undefined>)[author]?.['x']
    if (typeof marks === 'object' && marks !== null) for (const key of Object.keys(marks)) this.addTarget(key)
  }

  /**
   * Everything under `author` in `state`: what the diff from an empty document reports (it puts every root key, and a
   * put of a device's subtree expands to all of it).
   */
  addAll(state: Shard, author: string): void {
    if (!isActorId(author)) return
    this.addSubtree(state, author, undefined)
    this.addMarks(state, author)
  }

  result(): TouchedSet {
    const sorted = (m: Map<string, MessageRef>): MessageRef[] =>
      [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref)
    return { messages: sorted(this.messages), reactionTargets: sorted(this.targets) }
  }
}

/**
 * Derived from `Automerge.diff` rather than from the decoded ops: patches carry document paths
 * ([actor, 'm' | 'r', key, ...]), while ops only name object ids, which would need a walk of the document to map
 * back to messages. A patch above the key level (a device creating or replacing its subtree or a whole map) may
 * change any entry under it, so those are expanded to every key that existed before or exists after.
 */
export function touchedBetween(doc: Shard, before: Heads, after: Heads): TouchedSet {
  const touched = new TouchCollector()
  let beforeView: Shard | undefined
  const expand = (author: ActorId, section: 'm' | 'r' | undefined): void => {
    beforeView ??= Automerge.view(doc, before)
    for (const state of [beforeView, doc]) touched.addSubtree(state, author, section)
  }
  const expandMarks = (author: ActorId): void => {
    beforeView ??= Automerge.view(doc, before)
    for (const state of [beforeView, doc]) touched.addMarks(state, author)
  }
  const patches: Patch[] = Automerge.diff(doc, before, after)
  for (const patch of patches) {
    const [author, section, key] = patch.path
    if (typeof author !== 'string' || !isActorId(author)) continue
    // An admin's delete mark (`x`) changes how its target reads, as a reaction does.
    if (section === 'x') {
      if (key === undefined) expandMarks(author)
      else touched.addTarget(key)
      continue
    }
    if (section !== 'm' && section !== 'r') {
      if (section === undefined) {
        expand(author, undefined)
        expandMarks(author)
      }
      continue
    }
    if (key === undefined) expand(author, section)
    else if (section === 'm') touched.addMessage(author, key)
    else touched.addTarget(key)
  }
  return touched.result()
}
