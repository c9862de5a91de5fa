import { isActorId, isMessageId, type ActorId, type MessageId } from './ids.js'

/**
 * A message is named by (author, id), never by id alone. Message ids are chosen by the sender, so a malicious member
 * can reuse someone else's id for their own message; if reactions and replies pointed at a bare id, that copy would
 * collect the reactions and replies meant for the original. Pairing the id with the author's actor id (which the
 * authorship rule makes unforgeable) keeps every reference unambiguous.
 */
export interface MessageRef {
  readonly author: ActorId
  readonly id: MessageId
}

/** Fixed width (64 hex chars: actor then id), so no separator is needed and the key parses back unambiguously. */
export type RefKey = string & { readonly __brand: 'RefKey' }

export function refKey(ref: MessageRef): RefKey {
  return (ref.author + ref.id) as RefKey
}

export function parseRefKey(key: string): MessageRef | undefined {
  if (key.length !== 64) return undefined
  const author = key.slice(0, 32)
  const id = key.slice(32)
  return isActorId(author) && isMessageId(id) ? { author, id } : undefined
}

export function sameRef(a: MessageRef, b: MessageRef): boolean {
  return a.author === b.author && a.id === b.id
}
