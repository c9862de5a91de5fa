import type { ActorId, Hlc, OpResult, Shard } from '../../../../../crdt/src/index.js'
import type { AccountId, EpochId, MessageId } from '../../../ids.js'
import type { MessageRow } from '../../../store/core-store.js'
import type { ConversationRuntime } from '../../conversation-runtime.js'
import type { StoredFile } from '../media-box.js'

/** What a person asks for, by kind of message. Each kind is one file in this folder. */
export type MessageIntent =
  | { kind: 'text'; body: string; replyTo?: MessageId | undefined; mentions?: string[] | undefined }
  | { kind: 'edit'; target: MessageId; body: string; mentions?: string[] | undefined }
  | { kind: 'delete'; target: MessageId }
  | { kind: 'reaction'; target: MessageId; emoji: string | null }
  | { kind: 'media'; body: string; files: StoredFile[]; replyTo?: MessageId | undefined; mentions?: string[] | undefined }

/** The one Automerge change an intent makes, and where. */
export interface ChangePlan {
  /** The shard document it goes to (an earlier epoch's for a reaction, edit or delete of an older message). */
  epoch: EpochId
  shard: number
  /** Reads `doc` (everyone's changes), writes onto `onto` (our own changes only) when given: crdt/src/ops.ts. */
  change(doc: Shard, actor: ActorId, onto?: Shard): OpResult
  /** The message the change creates (a text) or changes (the rest). */
  message: MessageId
  /** Its author's Automerge actor; null when it is ours. */
  author: ActorId | null
  /** True when it creates a message: it counts towards shard routing and its delivery is tracked. */
  creates: boolean
  /** A new message's content key: stored, and sent in the envelope's strippable secrets part (docs/adr/0020). */
  contentKey?: Uint8Array
  /** A delete for everyone: forget the message's key and strip the envelope that carried it. */
  forget?: MessageRow
}

/** What a kind may look at while planning: the conversation, our message count in its current epoch, stored rows. */
export interface PlanContext {
  rt: ConversationRuntime
  /** Our account: what the membership log knows us as (an admin may delete others' messages). */
  me: AccountId
  /** Our messages so far in the current epoch (the next one's CRDT position and shard). */
  ownMessages: number
  /** A stored row, or a refusal the person can act on. */
  row(id: MessageId): Promise<MessageRow>
  newMessageId(): MessageId
  /** The content key of one of our messages, if we hold it. */
  contentKey(id: MessageId): Promise<Uint8Array | undefined>
  /** A fresh timestamp of ours. */
  now(): Hlc
}
