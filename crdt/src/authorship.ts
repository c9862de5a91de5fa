import * as Automerge from '@automerge/automerge'
import type { DecodedChange } from '@automerge/automerge'
import { isActorId, type ActorId } from './ids.js'
import type { Shard } from './schema.js'

export type ValidationResult = { ok: true; decoded: DecodedChange } | { ok: false; reason: string }

const OBJ_ID = /^[1-9][0-9]*@([0-9a-f]+)$/

/**
 * The authorship rule. A change from device D is accepted only if
 *  (a) its Automerge actor is D's actor id, and
 *  (b) every op writes either the root key named D, or inside an object that D created (object ids are
 *      `<counter>@<creator actor>`).
 * Objects D creates can only be placed where D may write, so by induction everything D touches lies in D's own
 * subtree, and nobody can create, edit, delete or react on someone else's behalf, whatever change bytes they craft.
 *
 * `expectedActor` must come from the signed envelope (the core), never from the change itself.
 */
export function validateRemoteChange(change: Uint8Array, expectedActor: ActorId): ValidationResult {
  if (!isActorId(expectedActor)) return { ok: false, reason: 'expected actor is not a valid actor id' }
  let decoded: DecodedChange
  try {
    decoded = Automerge.decodeChange(change)
  } catch (err) {
    return { ok: false, reason: `undecodable change: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (decoded.actor !== expectedActor) return { ok: false, reason: 'change actor is not the sender' }
  const ownSuffix = `@${expectedActor}`
  for (const [i, op] of decoded.ops.entries()) {
    // The installed typings say every op has `key`, but list ops carry `elemId` instead and no `key`; read both as
    // unknown rather than trust the declared shape.
    const obj: unknown = op.obj
    const key: unknown = (op as { key?: unknown }).key
    if (obj === '_root') {
      if (key !== expectedActor) return { ok: false, reason: `op ${i} writes outside the sender's subtree at the root` }
      continue
    }
    if (typeof obj !== 'string' || !OBJ_ID.test(obj) || !obj.endsWith(ownSuffix)) {
      return { ok: false, reason: `op ${i} writes into an object the sender did not create` }
    }
  }
  return { ok: true, decoded }
}

export type HistoryValidation = { ok: true; actors: ActorId[] } | { ok: false; reason: string }

/**
 * Checks every change already in a document, each against its own actor. For shards that arrive whole (a snapshot
 * from another device) rather than change by change; the caller must still check that each returned actor belongs to
 * a member of the conversation. Costs a decode of the whole history: not for the hot path.
 */
export function validateShardHistory(doc: Shard): HistoryValidation {
  const actors = new Set<ActorId>()
  for (const change of Automerge.getAllChanges(doc)) {
    let actor: string
    try {
      actor = Automerge.decodeChange(change).actor
    } catch {
      return { ok: false, reason: 'undecodable change in history' }
    }
    if (!isActorId(actor)) return { ok: false, reason: 'change by an actor id that is not 16 bytes' }
    const result = validateRemoteChange(change, actor)
    if (!result.ok) return { ok: false, reason: `change by ${actor}: ${result.reason}` }
    actors.add(actor)
  }
  return { ok: true, actors: [...actors].sort() }
}
