import * as Automerge from '@automerge/automerge'
import type { Heads } from '@automerge/automerge'
import type { RejectedChange } from './apply.js'
import type { Shard } from './schema.js'

/**
 * Applies `changes` to the document's WebAssembly side only, then builds the JavaScript document once from the
 * result, instead of `Automerge.applyChanges`, which computes a patch for every op and applies each to the JavaScript
 * object (most of what receiving a large batch costs). Same refusals as `Automerge.applyChanges`: one bad change
 * fails the whole call without changing anything, and then the changes go one at a time so the good ones get in.
 * Consumes `doc` as `Automerge.applyChanges` does: afterwards it reads as before the batch and refuses changes.
 */
export function applyWithoutPatches(doc: Shard, changes: readonly Uint8Array[]): { doc: Shard; rejected: RejectedChange[] } {
  const state = currentState(doc)
  const handle = Automerge.getBackend(doc)
  const before = handle.getHeads()
  const rejected: RejectedChange[] = []
  try {
    handle.applyChanges([...changes])
  } catch {
    for (const change of changes) {
      try {
        handle.applyChanges([change])
      } catch (err) {
        rejected.push({ change, reason: err instanceof Error ? err.message : String(err) })
      }
    }
  }
  const after = handle.getHeads()
  if (after.length === before.length && after.every((h, i) => h === before[i])) return { doc, rejected }
  return { doc: rematerialise(doc, state, before), rejected }
}

/**
 * Automerge's hidden per-document state (internal_state.js, `_state`): the root object holds it under this symbol.
 * `currentState` and `rematerialise` are the only code that relies on Automerge's internals (pinned by
 * bulk-apply.test.ts, against @automerge/automerge 3.5). Why internals: the public API has no apply without patches,
 * and no way to turn a WebAssembly document that moved on into a writable JavaScript document other than a full
 * `save` and `load`.
 */
const STATE = Symbol.for('_am_meta')

interface DocState {
  handle: unknown
  heads: Heads | undefined
  mostRecentPatch?: unknown
}

/** Refuses what `Automerge.applyChanges` refuses before touching the WebAssembly side: an outdated document or view. */
function currentState(doc: Shard): DocState {
  const state = Reflect.get(doc, STATE) as DocState | undefined
  if (state === undefined || typeof state !== 'object' || state.heads !== undefined) {
    throw new RangeError('Attempting to change an outdated document.  Use Automerge.clone() if you wish to make a writable copy.')
  }
  return state
}

/**
 * Does what `Automerge.load` and `Automerge.init` do once they have a handle: `handle.materialize('/', undefined,
 * state)`, with the document's state (handle, freeze flag, patch callback; the handle itself keeps its registered
 * datatypes and freeze setting) and `heads: undefined`, which marks a current, writable document. `mostRecentPatch`
 * is dropped: it caches the diff of an earlier apply, which no longer ends at the document's heads. The diff cursor is
 * moved to the current heads first (materialising seems to move it too in 3.5, but that is not documented), so the
 * next `Automerge.applyChanges` or `change` patches this new object from here on. The old document gets
 * `heads: before`, as `Automerge.applyChanges` leaves it: a read-only view of the state before the batch (its
 * JavaScript objects are that state already).
 */
function rematerialise(doc: Shard, state: DocState, before: Heads): Shard {
  const handle = Automerge.getBackend(doc)
  handle.updateDiffCursor()
  const { mostRecentPatch: _stale, ...kept } = state
  const next = handle.materialize('/', undefined, { ...kept, heads: undefined }) as Shard
  state.heads = before
  return next
}
