import * as Automerge from '@automerge/automerge'
import type { Heads } from '@automerge/automerge'
import { CrdtError } from './errors.js'
import { asShardIndex, isActorId, type ActorId, type ShardIndex } from './ids.js'
import type { Shard, ShardRoot } from './schema.js'

/**
 * Messages per device per shard. A shard of a k-device conversation holds up to k * SHARD_CAPACITY messages.
 *
 * Measured (Node 22, Automerge 3.5, median local sendMessage): 0.5 ms with 1 message in the device's map, 0.65-0.75 ms
 * at 256, 1.1-1.3 ms at 1024, 1.9 ms at 2048. The cost follows the size of the writer's own map (a 16-device shard
 * of 4,096 messages, 256 per device, still costs 0.37 ms), so 256 keeps a local change close to the empty-document
 * cost, while 1024 already doubles it.
 */
export const SHARD_CAPACITY = 256

/** The shard for a device's n-th (0-based) new message. Edits, deletes and reactions go to the target's shard. */
export function shardOf(deviceMessageCount: number): ShardIndex {
  if (!Number.isSafeInteger(deviceMessageCount) || deviceMessageCount < 0) {
    throw new CrdtError('INVALID_INPUT', 'message count must be a non-negative safe integer')
  }
  return asShardIndex(Math.floor(deviceMessageCount / SHARD_CAPACITY))
}

function checkActor(actor: ActorId): void {
  if (!isActorId(actor)) throw new CrdtError('INVALID_INPUT', 'actor id must be 32 lowercase hex chars')
}

/**
 * An empty shard. Every replica starts from the same empty document (no initial change), so changes from any device
 * apply to any replica; each device's first change creates its own subtree.
 */
export function createShard(actor: ActorId): Shard {
  checkActor(actor)
  return Automerge.init<ShardRoot>({ actor })
}

/**
 * Loads a saved shard (a `saveShard` snapshot, optionally followed by `saveSince` chunks: the formats concatenate).
 * Throws CrdtError CORRUPT_DATA for anything Automerge rejects, and for empty input, which Automerge would otherwise
 * accept as an empty document and so hide a truncated file.
 */
export function loadShard(bytes: Uint8Array, actor: ActorId): Shard {
  checkActor(actor)
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new CrdtError('CORRUPT_DATA', 'shard data is empty')
  try {
    return Automerge.load<ShardRoot>(bytes, { actor })
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err)
    throw new CrdtError('CORRUPT_DATA', `shard data is corrupt: ${detail}`, { cause: err })
  }
}

export function saveShard(doc: Shard): Uint8Array {
  return Automerge.save(doc)
}

/**
 * Bytes of everything added since `heads`, to append to the stored shard. Use this rather than
 * `Automerge.saveIncremental`, which right after a load returns the whole history again.
 */
export function saveSince(doc: Shard, heads: Heads): Uint8Array {
  return Automerge.saveSince(doc, heads)
}

export function shardHeads(doc: Shard): Heads {
  return Automerge.getHeads(doc)
}

/**
 * Hashes of changes that applied changes depend on but that have not arrived. Changes waiting for them sit in an
 * in-memory queue that `save` does NOT persist, so the core must keep their bytes until this is empty.
 */
export function missingDeps(doc: Shard): Heads {
  return Automerge.getMissingDeps(doc, [])
}
