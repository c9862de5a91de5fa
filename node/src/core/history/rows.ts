import { encodeHlc, type MessageRef, type Shard } from '../../../../crdt/src/index.js'
import { readMessage } from '../../../../crdt/src/index.js'
import type { DeviceCert } from '../../identity/device-cert.js'
import type { EpochId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { withdrawRow, type Withdrawals } from '../equivocation.js'
import { toBase64Url } from '../../../common/util/bytes.js'
import { openText } from './content-keys.js'
import { encodeFiles, openFiles } from './media-box.js'
import { moderationVerdict, type ModerationVerdict } from './kinds/moderation.js'

/** The membership log's certificate of the device behind an Automerge actor, if the log knows it. */
export function certOfActor(rt: ConversationRuntime, actor: string): DeviceCert | undefined {
  for (const c of rt.log.knownDevices.values()) if (actorOf(c.device) === actor) return c
  return undefined
}

/**
 * The row for one message as a shard document now shows it; `existing` is its stored row, if any (its delivery state
 * and source position are kept). Undefined when the document holds no such message or its device is unknown.
 */
/** A sealed body's text; '' when the key is not held (never sent to us, or forgotten on delete). */
function openSealedBody(key: Uint8Array | undefined, conversation: string, message: string, box: Uint8Array): string {
  return key === undefined ? '' : (openText(key, conversation, message, box) ?? '')
}

export function materializeRow(
  rt: ConversationRuntime,
  withdrawals: Withdrawals,
  me: string,
  doc: Shard,
  ref: MessageRef,
  where: { epoch: EpochId; shard: number },
  existing: MessageRow | undefined,
  /** The message's content key, for a sealed text (docs/adr/0020); undefined when this device does not hold it. */
  contentKey: (id: MessageId) => Uint8Array | undefined,
): { row: MessageRow; isNew: boolean; refused?: ModerationVerdict['refused'] } | undefined {
  const view = readMessage(doc, ref.author, ref.id)
  if (!view) return undefined
  // An admin's delete of someone else's message (docs/adr/0026); a deletion stays, as its key is forgotten with it, so
  // marks on a message already deleted are not judged (nor counted) again.
  const settled = view.deleted || existing?.deleted === true
  const moderation: ModerationVerdict = settled ? { refused: [] } : moderationVerdict(rt, doc, ref, certOfActor, existing?.moderationRefused)
  const deletedBy = existing?.deletedBy ?? moderation.deletedBy
  const deleted = view.deleted || deletedBy !== undefined || existing?.deleted === true
  const cert = certOfActor(rt, ref.author)
  if (!cert) return undefined
  if (existing && existing.device !== cert.device) return undefined // an id collision by another device: keep the first
  const reactions: Record<string, string[]> = {}
  for (const [emoji, actors] of Object.entries(view.reactions)) {
    reactions[emoji] = actors.map((a) => certOfActor(rt, a)?.account ?? a)
  }
  const id = ref.id as unknown as MessageId
  const replyCert = view.replyTo === undefined ? undefined : certOfActor(rt, view.replyTo.author)
  const row: MessageRow = {
    id,
    conversation: rt.id,
    author: cert.account,
    authorName: rt.log.names.get(cert.account) ?? cert.displayName,
    device: cert.device,
    epoch: where.epoch,
    // The envelope it came from (view.seq is the device's message count, which only orders).
    seq: existing?.seq ?? withdrawals.sourceSeq(rt.id, id),
    shard: where.shard,
    hlc: encodeHlc(view.hlc),
    orderKey: view.orderKey,
    body: deleted ? '' : view.box === undefined ? view.body : openSealedBody(contentKey(id), rt.id, id, view.box),
    edited: view.edited,
    deleted,
    reactions,
    mine: cert.device === me,
    state: existing?.state ?? 'delivered',
    failure: existing?.failure ?? null,
  }
  if (view.replyTo !== undefined && replyCert !== undefined) row.replyTo = { id: view.replyTo.id as unknown as MessageId, author: replyCert.account }
  if (view.mentions.length > 0) row.mentions = view.mentions
  if (!deleted && view.media !== undefined) {
    const files = openFiles(contentKey(id), rt.id, id, view.media)
    if (files.length > 0) row.files = toBase64Url(encodeFiles(files))
  }
  if (existing?.hidden) row.hidden = true
  if (deletedBy !== undefined && !view.deleted) row.deletedBy = deletedBy
  const refused = [...(existing?.moderationRefused ?? []), ...moderation.refused.map((r) => r.actor)]
  if (refused.length > 0) row.moderationRefused = refused
  if (existing === undefined) withdrawals.forget(rt.id, id)
  const withdrawn = existing?.withdrawn ?? withdrawals.reasonFor(rt.id, id)
  const result = { row: withdrawn ? withdrawRow(row, withdrawn) : row, isNew: existing === undefined }
  return moderation.refused.length > 0 ? { ...result, refused: moderation.refused } : result
}
