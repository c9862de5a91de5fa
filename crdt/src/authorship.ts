import * as Automerge from '@automerge/automerge'
import { readChangeOps, type ChangeOps } from './change-ops.js'
import { isActorId, isMessageId, type ActorId, type MessageId } from './ids.js'
import type { Shard } from './schema.js'

/**
 * `created`: the messages the change creates (maps made under a message-id key inside one of the sender's objects),
 * which is all the receive path needs from the ops once the rule holds.
 */
export type ValidationResult = { ok: true; actor: ActorId; created: MessageId[] } | { ok: false; reason: string }

/** The key's bytes as a string when they are ASCII (every key the rule compares is hex), else undefined. */
function asciiKey(key: Uint8Array): string | undefined {
  let out = ''
  for (const b of key) {
    if (b > 0x7f) return undefined
    out += String.fromCharCode(b)
  }
  return out
}

/**
 * The authorship rule. A change from device D is accepted only if
 *  (a) its Automerge actor is D's actor id, and
 *  (b) every op writes either the root key named D, or inside an object that D created (object ids are
 *      `<counter>@<creator actor>`).
 * Objects D creates can only be placed where D may write, so by induction everything D touches lies in D's own
 * subtree, and nobody can create, edit, delete or react on someone else's behalf, whatever change bytes they craft.
 *
 * `expectedActor` must come from the signed envelope (the core), never from the change itself.
 *
 * The ops are read by change-ops.ts, which reports exactly the ops Automerge applies from the bytes or refuses the
 * change (docs/adr/0028); `Automerge.decodeChange` did the same at several times the cost.
 */
export function validateRemoteChange(change: Uint8Array, expectedActor: ActorId): ValidationResult {
  if (!isActorId(expectedActor)) return { ok: false, reason: 'expected actor is not a valid actor id' }
  let read: ChangeOps
  try {
    read = readChangeOps(change)
  } catch (err) {
    return { ok: false, reason: `undecodable change: ${err instanceof Error ? err.message : String(err)}` }
  }
  if (read.actor !== expectedActor) return { ok: false, reason: 'change actor is not the sender' }
  const created: MessageId[] = []
  for (const [i, op] of read.ops.entries()) {
    const key = op.key === null ? undefined : asciiKey(op.key)
    if (op.obj === null) {
      if (key !== expectedActor) return { ok: false, reason: `op ${i} writes outside the sender's subtree at the root` }
      continue
    }
    if (read.actors[op.obj.actor] !== expectedActor) return { ok: false, reason: `op ${i} writes into an object the sender did not create` }
    if (op.action === 'makeMap' && isMessageId(key)) created.push(key)
  }
  return { ok: true, actor: expectedActor, created }
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
      actor = readChangeOps(change).actor
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
