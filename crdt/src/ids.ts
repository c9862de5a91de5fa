import { CrdtError } from './errors.js'

/**
 * Branded ids. A brand costs nothing at run time but stops a message id being passed where an actor id is expected,
 * and forces every id that comes from outside (wire, disk, UI) through a validator once.
 */
export type ActorId = string & { readonly __brand: 'ActorId' }
export type MessageId = string & { readonly __brand: 'MessageId' }
export type ShardIndex = number & { readonly __brand: 'ShardIndex' }

// Lowercase only: Automerge prints actor ids in lowercase hex, and the authorship check compares them as strings,
// so an uppercase spelling of the same bytes would be a different (and always rejected) author.
const HEX32 = /^[0-9a-f]{32}$/

/** An actor id is 16 bytes as 32 lowercase hex chars; the core derives it from the device key. */
export function isActorId(value: unknown): value is ActorId {
  return typeof value === 'string' && HEX32.test(value)
}

export function asActorId(value: string): ActorId {
  if (!isActorId(value)) throw new CrdtError('INVALID_INPUT', 'actor id must be 32 lowercase hex chars')
  return value
}

/** Message ids are 16 random bytes as 32 lowercase hex chars, chosen by the sending device. */
export function isMessageId(value: unknown): value is MessageId {
  return typeof value === 'string' && HEX32.test(value)
}

export function asMessageId(value: string): MessageId {
  if (!isMessageId(value)) throw new CrdtError('INVALID_INPUT', 'message id must be 32 lowercase hex chars')
  return value
}

export function isShardIndex(value: unknown): value is ShardIndex {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

export function asShardIndex(value: number): ShardIndex {
  if (!isShardIndex(value)) throw new CrdtError('INVALID_INPUT', 'shard index must be a non-negative safe integer')
  return value
}
