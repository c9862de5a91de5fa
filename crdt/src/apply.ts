import * as Automerge from '@automerge/automerge'
import type { Heads, Patch } from '@automerge/automerge'
import { isActorId, isMessageId, type ActorId } from './ids.js'
import { parseRefKey, type MessageRef } from './ref.js'
import type { Shard } from './schema.js'
import { subtreeOf } from './selectors.js'

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
 * Applies remote changes in one `Automerge.applyChanges` call (one call per batch is far cheaper than one per
 * change). Every change must already have passed `validateRemoteChange` against its sender: this function does not
 * know who sent what. Duplicates are harmless; changes whose dependencies have not arrived wait inside the document
 * (see `missingDeps`) and are reported as touched when they finally apply.
 * Consumes `doc` like the ops do: keep only the returned document.
 */
export function applyRemoteChanges(doc: Shard, changes: readonly Uint8Array[]): ApplyResult {
  const before = Automerge.getHeads(doc)
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

/**
 * Derived from `Automerge.diff` rather than from the decoded ops: patches carry document paths
 * ([actor, 'm' | 'r', key, ...]), while ops only name object ids, which would need a walk of the document to map
 * back to messages. A patch above the key level (a device creating or replacing its subtree or a whole map) may
 * change any entry under it, so those are expanded to every key that existed before or exists after.
 */
export function touchedBetween(doc: Shard, before: Heads, after: Heads): TouchedSet {
  const messages = new Map<string, MessageRef>()
  const targets = new Map<string, MessageRef>()
  let beforeView: Shard | undefined
  const addMessage = (author: ActorId, id: unknown): void => {
    if (isMessageId(id)) messages.set(author + id, { author, id })
  }
  const addTarget = (key: unknown): void => {
    const ref = typeof key === 'string' ? parseRefKey(key) : undefined
    if (ref !== undefined) targets.set(key as string, ref)
  }
  const expand = (author: ActorId, section: 'm' | 'r' | undefined): void => {
    beforeView ??= Automerge.view(doc, before)
    for (const state of [beforeView, doc]) {
      const sub = subtreeOf(state, author)
      if (sub === undefined) continue
      if (section !== 'r') for (const id of Object.keys(sub.m)) addMessage(author, id)
      if (section !== 'm') for (const key of Object.keys(sub.r)) addTarget(key)
    }
  }
  const expandMarks = (author: ActorId): void => {
    beforeView ??= Automerge.view(doc, before)
    for (const state of [beforeView, doc]) {
      const marks: unknown = (state as unknown as Record<string, Record<string, unknown> | undefined>)[author]?.['x']
      if (typeof marks === 'object' && marks !== null) for (const key of Object.keys(marks)) addTarget(key)
    }
  }
  const patches: Patch[] = Automerge.diff(doc, before, after)
  for (const patch of patches) {
    const [author, section, key] = patch.path
    if (typeof author !== 'string' || !isActorId(author)) continue
    // An admin's delete mark (`x`) changes how its target reads, as a reaction does.
    if (section === 'x') {
      if (key === undefined) expandMarks(author)
      else addTarget(key)
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
    else if (section === 'm') addMessage(author, key)
    else addTarget(key)
  }
  const sorted = (m: Map<string, MessageRef>): MessageRef[] =>
    [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, ref]) => ref)
  return { messages: sorted(messages), reactionTargets: sorted(targets) }
}

