import * as Automerge from '@automerge/automerge'
import { CrdtError } from './errors.js'
import { compareHlc, encodeHlc, isHlc, type Hlc } from './hlc.js'
import { isActorId, isMessageId, type ActorId, type MessageId } from './ids.js'
import { MAX_ORDER_SEQ } from './order.js'
import { refKey, type MessageRef } from './ref.js'
import {
  MAX_ATTACHMENTS,
  MAX_BODY_CHARS,
  MAX_BOX_BYTES,
  MAX_MEDIA_BYTES,
  MAX_MENTIONS,
  MESSAGE_KIND_TEXT,
  type AttachmentObj,
  type DeviceSubtree,
  type MessageObj,
  type Shard,
  type ShardRoot,
} from './schema.js'
import {
  actorsIn,
  hasReaction,
  isValidAttachment,
  isValidEmoji,
  reactionsOf,
  readMessage,
  subtreeOf,
  type AttachmentView,
} from './selectors.js'

/**
 * The new document and the one Automerge change that produced it, for the core to encrypt and send.
 *
 * Like `Automerge.change`, a successful op consumes its input: the old document can still be read but any later
 * write to it throws "Attempting to change an outdated document". Keep only the returned `doc`. A refused op
 * (CrdtError) leaves the input untouched and writable.
 */
export interface OpResult {
  /** The document written: `onto` when one was given, else the input document. */
  doc: Shard
  change: Uint8Array
}

/*
 * Every op reads `doc` (the shard as this device sees it, everyone's changes merged) and writes into `onto` when given:
 * a document holding only this device's own changes in the shard. A change made there depends on this device's own
 * earlier changes and nothing else, so no member ever waits for, or can never apply, it because of another device's
 * change it lacks (a change a removed member wrote past its cutoff, refused by some members, is one). The caller
 * then applies the change to its merged document like any other. Without `onto` the change depends on everything in
 * `doc` (shards written before own documents existed keep working that way).
 */

export interface SendInput {
  id: MessageId
  body: string
  hlc: Hlc
  /** This device's 0-based count of earlier messages, across all shards (the number `shardOf` was given). */
  seq: number
  replyTo?: MessageRef | undefined
  /** Accounts mentioned (64 lowercase hex characters each). */
  mentions?: readonly string[] | undefined
  attachments?: readonly AttachmentView[] | undefined
  /** The text sealed by the caller; `body` must then be ''. */
  box?: Uint8Array | undefined
  /** The message's files, sealed by the caller (schema.ts `media`); needs `box` (the caption, perhaps empty). */
  media?: Uint8Array | undefined
}

export interface EditInput {
  id: MessageId
  body: string
  hlc: Hlc
  /** The new text sealed by the caller; `body` must then be ''. */
  box?: Uint8Array | undefined
  /** The accounts the new text mentions, replacing the message's (absent: the mentions stay as they are). */
  mentions?: readonly string[] | undefined
}

export interface DeleteInput {
  id: MessageId
}

export interface ReactInput {
  target: MessageRef
  emoji: string
  on: boolean
}

const IS = Automerge.ImmutableString

function checkBody(body: unknown, allowEmpty: boolean): string {
  if (typeof body !== 'string') throw new CrdtError('INVALID_INPUT', 'body must be a string')
  if (body.length > MAX_BODY_CHARS) throw new CrdtError('TOO_LARGE', `body longer than ${MAX_BODY_CHARS} chars`)
  if (!allowEmpty && body.length === 0) throw new CrdtError('INVALID_INPUT', 'body is empty')
  return body
}

function checkBox(box: unknown, body: string): Uint8Array | undefined {
  if (box === undefined) return undefined
  if (!(box instanceof Uint8Array) || box.length === 0) throw new CrdtError('INVALID_INPUT', 'box must be bytes')
  if (box.length > MAX_BOX_BYTES) throw new CrdtError('TOO_LARGE', `sealed body longer than ${MAX_BOX_BYTES} bytes`)
  if (body !== '') throw new CrdtError('INVALID_INPUT', 'a sealed message has no plain body')
  return box
}

function checkMedia(media: unknown, box: Uint8Array | undefined): Uint8Array | undefined {
  if (media === undefined) return undefined
  if (!(media instanceof Uint8Array) || media.length === 0) throw new CrdtError('INVALID_INPUT', 'media must be bytes')
  if (media.length > MAX_MEDIA_BYTES) throw new CrdtError('TOO_LARGE', `sealed files longer than ${MAX_MEDIA_BYTES} bytes`)
  if (box === undefined) throw new CrdtError('INVALID_INPUT', 'sealed files need a sealed caption')
  return media
}

function checkActor(doc: Shard, actor: ActorId): void {
  if (!isActorId(actor)) throw new CrdtError('INVALID_INPUT', 'actor id must be 32 lowercase hex chars')
  // Automerge stamps changes with the document's own actor; writing with any other would make our own changes fail
  // the authorship check on every receiver.
  if (Automerge.getActorId(doc) !== actor) {
    throw new CrdtError('INVALID_INPUT', 'shard was not opened with this actor id (use createShard/loadShard)')
  }
  // Our own subtree can only be malformed if the store was tampered with; writing into it would make things worse.
  if ((doc as Record<string, unknown>)[actor] !== undefined && subtreeOf(doc, actor) === undefined) {
    throw new CrdtError('CORRUPT_DATA', 'own subtree in shard is malformed')
  }
}

/** The device's subtree, created in this same change on its first write to the shard. */
function ownSubtree(root: ShardRoot, actor: ActorId): DeviceSubtree {
  const existing = root[actor]
  if (existing !== undefined) return existing
  root[actor] = { m: {}, r: {} }
  const created = root[actor]
  if (created === undefined) throw new CrdtError('CORRUPT_DATA', 'could not create own subtree')
  return created
}

/**
 * Runs `fn` as exactly one change. `time: 0` keeps the change bytes a pure function of the inputs and leaks no
 * timestamp (Automerge otherwise stamps wall-clock seconds). All validation happens before this is called, so `fn`
 * does not throw in practice and the caller's document stays usable when an op is refused.
 */
function commit(doc: Shard, fn: (root: ShardRoot) => void): OpResult {
  const before = Automerge.getHeads(doc)
  const next = Automerge.change<ShardRoot>(doc, { time: 0 }, fn)
  const after = Automerge.getHeads(next)
  // A change that writes only values equal to the current ones produces no change at all, and then
  // getLastLocalChange silently returns the *previous* change. Guard so a stale change is never sent.
  if (after.length === before.length && after.every((h, i) => h === before[i])) {
    throw new CrdtError('INVALID_INPUT', 'operation would not change anything')
  }
  const change = Automerge.getLastLocalChange(next)
  if (change === undefined) throw new CrdtError('INVALID_INPUT', 'operation would not change anything')
  return { doc: next, change }
}

function toAttachmentObj(a: AttachmentView): AttachmentObj {
  return { id: new IS(a.id), name: new IS(a.name), size: a.size, mime: new IS(a.mime), sha256hex: new IS(a.sha256hex) }
}

export function sendMessage(doc: Shard, actor: ActorId, input: SendInput, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  if (!isMessageId(input.id)) throw new CrdtError('INVALID_INPUT', 'message id must be 32 lowercase hex chars')
  if (!isHlc(input.hlc)) throw new CrdtError('INVALID_INPUT', 'invalid HLC')
  if (!Number.isSafeInteger(input.seq) || input.seq < 0 || input.seq > MAX_ORDER_SEQ) {
    throw new CrdtError('INVALID_INPUT', 'seq out of range')
  }
  const attachments = input.attachments ?? []
  if (attachments.length > MAX_ATTACHMENTS) throw new CrdtError('TOO_LARGE', `more than ${MAX_ATTACHMENTS} attachments`)
  if (!attachments.every(isValidAttachment)) throw new CrdtError('INVALID_INPUT', 'invalid attachment')
  const box = checkBox(input.box, input.body)
  const body = checkBody(input.body, attachments.length > 0 || box !== undefined)
  const media = checkMedia(input.media, box)
  const replyTo = input.replyTo
  if (replyTo !== undefined && !(isActorId(replyTo.author) && isMessageId(replyTo.id))) {
    throw new CrdtError('INVALID_INPUT', 'invalid replyTo')
  }
  const mentions = checkMentions(input.mentions ?? [])
  if (subtreeOf(doc, actor)?.m[input.id] !== undefined) {
    throw new CrdtError('INVALID_INPUT', 'message id already used by this device')
  }
  const hlc = encodeHlc(input.hlc)
  const { id, seq } = input
  return commit(onto ?? doc, (root) => {
    const msg: MessageObj = { id: new IS(id), kind: new IS(MESSAGE_KIND_TEXT), body: new IS(body), hlc: new IS(hlc), seq }
    if (replyTo !== undefined) msg.replyTo = new IS(refKey(replyTo))
    if (mentions.length > 0) msg.mentions = mentions.map((m) => new IS(m))
    if (box !== undefined) msg.box = box
    if (media !== undefined) msg.media = media
    if (attachments.length > 0) msg.attachments = attachments.map(toAttachmentObj)
    ownSubtree(root, actor).m[id] = msg
  })
}

/** Refuses with UNAUTHORIZED when the id is only someone else's message, NOT_FOUND when no one has it or it is deleted. */
function ownLiveMessage(doc: Shard, actor: ActorId, id: MessageId): NonNullable<ReturnType<typeof readMessage>> {
  if (!isMessageId(id)) throw new CrdtError('INVALID_INPUT', 'message id must be 32 lowercase hex chars')
  const view = readMessage(doc, actor, id)
  if (view === undefined) {
    const mine = subtreeOf(doc, actor)?.m[id] !== undefined
    const elsewhere = actorsIn(doc).some((a) => a !== actor && subtreeOf(doc, a)?.m[id] !== undefined)
    if (elsewhere && !mine) throw new CrdtError('UNAUTHORIZED', 'only the author can change a message')
    throw new CrdtError('NOT_FOUND', 'no such message in this shard')
  }
  if (view.deleted) throw new CrdtError('NOT_FOUND', 'message was deleted')
  return view
}

/** Distinct mentioned accounts (64 hex), at most MAX_MENTIONS: the same rule for a new message and an edit. */
function checkMentions(list: readonly string[]): string[] {
  const mentions = [...new Set(list)]
  if (mentions.length > MAX_MENTIONS) throw new CrdtError('TOO_LARGE', `more than ${MAX_MENTIONS} mentions`)
  if (!mentions.every((m) => typeof m === 'string' && /^[0-9a-f]{64}$/.test(m))) throw new CrdtError('INVALID_INPUT', 'invalid mention')
  return mentions
}

export function editMessage(doc: Shard, actor: ActorId, input: EditInput, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  const view = ownLiveMessage(doc, actor, input.id)
  if (view.kind !== 'text') throw new CrdtError('INVALID_INPUT', 'only text messages can be edited')
  const box = checkBox(input.box, input.body)
  const body = checkBody(input.body, view.attachments.length > 0 || box !== undefined)
  if (!isHlc(input.hlc)) throw new CrdtError('INVALID_INPUT', 'invalid HLC')
  // "Latest edit by HLC" only shows this edit if its stamp is the greatest; an older stamp would be silently hidden.
  const latest = view.editHlc ?? view.hlc
  if (compareHlc(input.hlc, latest) <= 0) throw new CrdtError('INVALID_INPUT', 'edit HLC must be after the last change')
  const mentions = input.mentions === undefined ? undefined : checkMentions(input.mentions)
  const key = encodeHlc(input.hlc)
  const { id } = input
  return commit(onto ?? doc, (root) => {
    const msg = ownSubtree(root, actor).m[id]
    if (msg === undefined) return
    if (msg.edits === undefined) msg.edits = {}
    msg.edits[key] = box ?? new IS(body)
    // The mentions are the current text's: an edit that names them replaces them (none: the field goes).
    if (mentions !== undefined && mentions.length > 0) msg.mentions = mentions.map((m) => new IS(m))
    else if (mentions !== undefined && msg.mentions !== undefined) delete msg.mentions
  })
}

/**
 * Marks the message deleted and drops its body, edits and attachments from the current state. The old bodies remain
 * in the shard's change history (Automerge cannot truncate history); only retiring the shard removes them.
 */
export function deleteMessage(doc: Shard, actor: ActorId, input: DeleteInput, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  ownLiveMessage(doc, actor, input.id)
  const { id } = input
  return commit(onto ?? doc, (root) => {
    const msg = ownSubtree(root, actor).m[id]
    if (msg === undefined) return
    msg.body = new IS('')
    msg.deleted = true
    delete msg.box
    delete msg.media
    delete msg.edits
    delete msg.attachments
  })
}

/** Written in the reactor's own subtree of the shard that holds the target message. */
export function react(doc: Shard, actor: ActorId, input: ReactInput, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  const { target, emoji, on } = input
  if (!isActorId(target.author) || !isMessageId(target.id)) throw new CrdtError('INVALID_INPUT', 'invalid target')
  if (!isValidEmoji(emoji)) throw new CrdtError('INVALID_INPUT', 'invalid emoji')
  if (typeof on !== 'boolean') throw new CrdtError('INVALID_INPUT', 'on must be a boolean')
  const view = readMessage(doc, target.author, target.id)
  if (view === undefined) throw new CrdtError('NOT_FOUND', 'no such message in this shard')
  if (on && view.deleted) throw new CrdtError('NOT_FOUND', 'message was deleted')
  // Automerge drops writes of an unchanged value, so a repeated (un)react would produce no change: refuse it here.
  if (hasReaction(doc, actor, target, emoji) === on) throw new CrdtError('INVALID_INPUT', 'reaction already in that state')
  const key = refKey(target)
  return commit(onto ?? doc, (root) => {
    const r = ownSubtree(root, actor).r
    if (r[key] === undefined) r[key] = {}
    const per = r[key]
    if (per !== undefined) per[emoji] = on
  })
}

export interface SetReactionInput {
  target: MessageRef
  /** The one reaction this device shows on the target from now on; null takes its reaction away. */
  emoji: string | null
}

/**
 * One reaction per person per message: the new emoji on and any other of this device's off, in one change (the way
 * Signal and WhatsApp behave). Written in the reactor's own subtree of the shard that holds the target message.
 */
export function setReaction(doc: Shard, actor: ActorId, input: SetReactionInput, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  const { target, emoji } = input
  if (!isActorId(target.author) || !isMessageId(target.id)) throw new CrdtError('INVALID_INPUT', 'invalid target')
  if (emoji !== null && !isValidEmoji(emoji)) throw new CrdtError('INVALID_INPUT', 'invalid emoji')
  const view = readMessage(doc, target.author, target.id)
  if (view === undefined) throw new CrdtError('NOT_FOUND', 'no such message in this shard')
  if (emoji !== null && view.deleted) throw new CrdtError('NOT_FOUND', 'message was deleted')
  const current = reactionsOf(doc, actor, target)
  const off = current.filter((e) => e !== emoji)
  const on = emoji !== null && !current.includes(emoji)
  if (off.length === 0 && !on) throw new CrdtError('INVALID_INPUT', 'reaction already in that state')
  const key = refKey(target)
  return commit(onto ?? doc, (root) => {
    const r = ownSubtree(root, actor).r
    if (r[key] === undefined) r[key] = {}
    const per = r[key]
    if (per === undefined) return
    for (const e of off) per[e] = false
    if (emoji !== null) per[emoji] = true
  })
}

/**
 * An admin's delete for everyone of another device's message: a mark in the admin's own subtree (nobody may write in
 * another's), which readers turn into a deletion only if the membership log lets the admin's account moderate.
 */
export function deleteAsAdmin(doc: Shard, actor: ActorId, input: { target: MessageRef }, onto?: Shard): OpResult {
  checkActor(doc, actor)
  if (onto !== undefined) checkActor(onto, actor)
  const { target } = input
  if (!isActorId(target.author) || !isMessageId(target.id)) throw new CrdtError('INVALID_INPUT', 'invalid target')
  if (target.author === actor) throw new CrdtError('INVALID_INPUT', 'delete your own message with deleteMessage')
  if (readMessage(doc, target.author, target.id) === undefined) throw new CrdtError('NOT_FOUND', 'no such message in this shard')
  const key = refKey(target)
  return commit(onto ?? doc, (root) => {
    const own = ownSubtree(root, actor)
    if (own.x === undefined) own.x = {}
    const marks = own.x
    if (marks !== undefined) marks[key] = true
  })
}
