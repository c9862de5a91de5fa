import * as Automerge from '@automerge/automerge'
import { compareHlc, decodeHlc, isEncodedHlc, type Hlc } from './hlc.js'
import { isActorId, isMessageId, type ActorId, type MessageId } from './ids.js'
import { MAX_ORDER_SEQ, compareOrderKeys, orderKey, type OrderKey } from './order.js'
import { parseRefKey, refKey, type MessageRef, type RefKey } from './ref.js'
import {
  MAX_ATTACHMENTS,
  MAX_ATTACHMENT_NAME_CHARS,
  MAX_BODY_CHARS,
  MAX_BOX_BYTES,
  MAX_MEDIA_BYTES,
  MAX_EMOJI_CHARS,
  MAX_MENTIONS,
  MAX_MIME_CHARS,
  MESSAGE_KIND_TEXT,
  type Shard,
} from './schema.js'

export interface AttachmentView {
  id: string
  name: string
  size: number
  mime: string
  sha256hex: string
}

export interface MessageView {
  id: MessageId
  author: ActorId
  /** 'unsupported' is a kind this version does not know (sent by a newer client); its body is ''. */
  kind: 'text' | 'unsupported'
  /** The latest edit by HLC, else the original; '' once deleted, and '' when that version is sealed (`box`). */
  body: string
  /** The shown version's text sealed under a key kept outside the document; absent when it is plain or deleted. */
  box?: Uint8Array
  /** The message's files, sealed under the same key (schema.ts `media`); absent when it has none or is deleted. */
  media?: Uint8Array
  /** HLC of the send; edits do not move a message. */
  hlc: Hlc
  seq: number
  orderKey: OrderKey
  edited: boolean
  /** HLC of the edit shown, when edited. */
  editHlc?: Hlc
  deleted: boolean
  replyTo?: MessageRef
  /** Accounts the message mentions (valid, distinct, in the order written); empty once deleted. */
  mentions: string[]
  attachments: AttachmentView[]
  /** emoji -> actor ids that currently react with it, both sorted; emojis with no one left are absent. */
  reactions: Record<string, ActorId[]>
}

// --- defensive parsing -------------------------------------------------------------------------------------------
// A device can write anything into its own subtree. Everything below turns unexpected shapes into "absent" rather
// than throwing, and depends only on the document's content, so every replica skips exactly the same things.

type Obj = Record<string, unknown>

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Automerge.isImmutableString(value)
}

/** Accepts ImmutableString (what we write) and plain strings (what a Text object reads as). */
function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Automerge.isImmutableString(value)) return value.val
  return undefined
}

function boundedStr(value: unknown, max: number): string | undefined {
  const s = str(value)
  return s !== undefined && s.length <= max ? s : undefined
}

const HEX64 = /^[0-9a-f]{64}$/
const ATTACHMENT_ID = /^[A-Za-z0-9_-]{1,64}$/

export function isValidEmoji(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_EMOJI_CHARS
}

export function isValidAttachment(a: AttachmentView): boolean {
  return (
    ATTACHMENT_ID.test(a.id) &&
    a.name.length >= 1 &&
    a.name.length <= MAX_ATTACHMENT_NAME_CHARS &&
    Number.isSafeInteger(a.size) &&
    a.size >= 0 &&
    a.mime.length <= MAX_MIME_CHARS &&
    HEX64.test(a.sha256hex)
  )
}

function parseAttachments(value: unknown): AttachmentView[] {
  if (!Array.isArray(value)) return []
  const out: AttachmentView[] = []
  for (const raw of value.slice(0, MAX_ATTACHMENTS)) {
    if (!isObj(raw)) continue
    const id = str(raw['id'])
    const name = str(raw['name'])
    const mime = str(raw['mime'])
    const sha256hex = str(raw['sha256hex'])
    const size = raw['size']
    if (id === undefined || name === undefined || mime === undefined || sha256hex === undefined) continue
    if (typeof size !== 'number') continue
    const a = { id, name, size, mime, sha256hex }
    if (isValidAttachment(a)) out.push(a)
  }
  return out
}

/** The device subtree of `actor`, if it has the expected two maps. */
export function subtreeOf(doc: Shard, actor: string): { m: Obj; r: Obj } | undefined {
  const sub: unknown = (doc as Obj)[actor]
  if (!isObj(sub)) return undefined
  const m = sub['m']
  const r = sub['r']
  return isObj(m) && isObj(r) ? { m, r } : undefined
}

/** Actor ids that have a well-formed subtree in this shard, sorted. */
export function actorsIn(doc: Shard): ActorId[] {
  return Object.keys(doc)
    .filter((k): k is ActorId => isActorId(k) && subtreeOf(doc, k) !== undefined)
    .sort()
}

type Core = Omit<MessageView, 'reactions'>

function parseMessage(author: ActorId, id: string, raw: unknown): Core | undefined {
  if (!isMessageId(id) || !isObj(raw)) return undefined
  if (str(raw['id']) !== id) return undefined
  const hlcStr = str(raw['hlc'])
  if (!isEncodedHlc(hlcStr)) return undefined
  const hlc = decodeHlc(hlcStr)
  const seq = raw['seq']
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || seq > MAX_ORDER_SEQ) return undefined
  const kindStr = str(raw['kind'])
  if (kindStr === undefined) return undefined
  const original = boundedStr(raw['body'], MAX_BODY_CHARS)
  if (original === undefined) return undefined
  const deleted = raw['deleted'] === true
  const kind = kindStr === MESSAGE_KIND_TEXT ? 'text' : 'unsupported'

  let body = original
  let box = boxOf(raw['box'])
  let editHlc: Hlc | undefined
  const edits = raw['edits']
  if (!deleted && isObj(edits)) {
    // Only edits stamped after the send count, so an edit can never make a message appear edited "before" it existed.
    for (const [key, value] of Object.entries(edits)) {
      if (!isEncodedHlc(key)) continue
      const h = decodeHlc(key)
      const b = boundedStr(value, MAX_BODY_CHARS)
      const sealed = boxOf(value)
      if ((b === undefined && sealed === undefined) || compareHlc(h, hlc) <= 0) continue
      if (editHlc === undefined || compareHlc(h, editHlc) > 0) {
        editHlc = h
        body = b ?? ''
        box = sealed
      }
    }
  }

  const view: Core = {
    id,
    author,
    kind,
    body: deleted || kind !== 'text' ? '' : body,
    hlc,
    seq,
    orderKey: orderKey(hlc, author, seq),
    edited: editHlc !== undefined,
    deleted,
    mentions: deleted ? [] : parseMentions(raw['mentions']),
    attachments: deleted ? [] : parseAttachments(raw['attachments']),
  }
  if (editHlc !== undefined) view.editHlc = editHlc
  if (box !== undefined && !deleted && kind === 'text') view.box = box
  const media = raw['media']
  if (!deleted && kind === 'text' && media instanceof Uint8Array && media.length > 0 && media.length <= MAX_MEDIA_BYTES) view.media = media
  const replyTo = str(raw['replyTo'])
  const ref = replyTo === undefined ? undefined : parseRefKey(replyTo)
  if (ref !== undefined) view.replyTo = ref
  return view
}

function boxOf(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array && value.length > 0 && value.length <= MAX_BOX_BYTES ? value : undefined
}

function parseMentions(value: unknown): string[] {
  if (!Array.isArray(value)) return []
  const out: string[] = []
  for (const item of value.slice(0, MAX_MENTIONS)) {
    const account = str(item)
    if (account !== undefined && HEX64.test(account) && !out.includes(account)) out.push(account)
  }
  return out
}

/** One version of a message's text: the original, then each edit shown at its time. */
export interface MessageVersion {
  /** '' when the version is sealed in `box`. */
  body: string
  box?: Uint8Array
  hlc: Hlc
}

/**
 * Every version of a message, oldest first: the original and the edits stamped after it (the same edits `readMessage`
 * chooses the shown body from). Nothing once the message is deleted.
 */
export function messageVersions(doc: Shard, author: ActorId, id: MessageId): MessageVersion[] {
  const raw = subtreeOf(doc, author)?.m[id]
  const core = parseMessage(author, id, raw)
  if (core === undefined || core.deleted || core.kind !== 'text' || !isObj(raw)) return []
  const version = (body: string | undefined, box: Uint8Array | undefined, hlc: Hlc): MessageVersion =>
    box === undefined ? { body: body ?? '', hlc } : { body: '', box, hlc }
  const versions: MessageVersion[] = [version(boundedStr(raw['body'], MAX_BODY_CHARS), boxOf(raw['box']), core.hlc)]
  const edits = raw['edits']
  if (isObj(edits)) {
    for (const [key, value] of Object.entries(edits)) {
      if (!isEncodedHlc(key)) continue
      const h = decodeHlc(key)
      const b = boundedStr(value, MAX_BODY_CHARS)
      const sealed = boxOf(value)
      if ((b !== undefined || sealed !== undefined) && compareHlc(h, core.hlc) > 0) versions.push(version(b, sealed, h))
    }
  }
  return versions.sort((a, b) => compareHlc(a.hlc, b.hlc))
}

/** The emojis `reactor` currently reacts to `target` with (honest clients keep at most one). */
export function reactionsOf(doc: Shard, reactor: ActorId, target: MessageRef): string[] {
  const per = subtreeOf(doc, reactor)?.r[refKey(target)]
  if (!isObj(per)) return []
  return Object.entries(per)
    .filter(([emoji, on]) => on === true && isValidEmoji(emoji))
    .map(([emoji]) => emoji)
}

type ReactionIndex = Map<RefKey, Map<string, ActorId[]>>

function addReactions(index: ReactionIndex, actor: ActorId, r: Obj, only?: RefKey): void {
  const keys = only === undefined ? Object.keys(r) : [only]
  for (const key of keys) {
    const per = r[key]
    if (!isObj(per) || parseRefKey(key) === undefined) continue
    for (const [emoji, on] of Object.entries(per)) {
      if (on !== true || !isValidEmoji(emoji)) continue
      let byEmoji = index.get(key as RefKey)
      if (byEmoji === undefined) index.set(key as RefKey, (byEmoji = new Map()))
      const list = byEmoji.get(emoji)
      if (list === undefined) byEmoji.set(emoji, [actor])
      else list.push(actor)
    }
  }
}

function reactionsFor(index: ReactionIndex, key: RefKey): Record<string, ActorId[]> {
  const out: Record<string, ActorId[]> = {}
  const byEmoji = index.get(key)
  if (byEmoji === undefined) return out
  for (const emoji of [...byEmoji.keys()].sort()) out[emoji] = [...(byEmoji.get(emoji) ?? [])].sort()
  return out
}

/** The message as it should be displayed, or undefined if this shard has no well-formed message (author, id). */
export function readMessage(doc: Shard, author: ActorId, id: MessageId): MessageView | undefined {
  const sub = subtreeOf(doc, author)
  if (sub === undefined) return undefined
  const core = parseMessage(author, id, sub.m[id])
  if (core === undefined) return undefined
  const key = refKey({ author, id })
  const index: ReactionIndex = new Map()
  for (const actor of actorsIn(doc)) {
    const s = subtreeOf(doc, actor)
    if (s !== undefined) addReactions(index, actor, s.r, key)
  }
  return { ...core, reactions: reactionsFor(index, key) }
}

/** Every well-formed message in the shard, in display order (order key, then id as the last tie break). */
export function listMessages(doc: Shard): MessageView[] {
  const index: ReactionIndex = new Map()
  const cores: Core[] = []
  for (const actor of actorsIn(doc)) {
    const sub = subtreeOf(doc, actor)
    if (sub === undefined) continue
    addReactions(index, actor, sub.r)
    for (const [id, raw] of Object.entries(sub.m)) {
      const core = parseMessage(actor, id, raw)
      if (core !== undefined) cores.push(core)
    }
  }
  cores.sort((a, b) => compareOrderKeys(a.orderKey, b.orderKey) || compareOrderKeys(a.id, b.id))
  return cores.map((core) => ({ ...core, reactions: reactionsFor(index, refKey(core)) }))
}

/** How many message entries `actor` has in this shard (deleted ones included: they still occupy their slot). */
export function messageCount(doc: Shard, actor: ActorId): number {
  const sub = subtreeOf(doc, actor)
  return sub === undefined ? 0 : Object.keys(sub.m).length
}

/** Whether `reactor` currently reacts to `target` with `emoji`. */
export function hasReaction(doc: Shard, reactor: ActorId, target: MessageRef, emoji: string): boolean {
  const per = subtreeOf(doc, reactor)?.r[refKey(target)]
  return isObj(per) && per[emoji] === true
}

/** Devices (actors) whose subtree marks `target` as deleted by them as an admin (`x`), sorted; parsed defensively. */
export function adminDeletesOf(doc: Shard, target: MessageRef): ActorId[] {
  const key = refKey(target)
  const out: ActorId[] = []
  for (const actor of actorsIn(doc)) {
    if (actor === target.author) continue
    const marks: unknown = ((doc as Obj)[actor] as Obj)['x']
    if (isObj(marks) && marks[key] === true) out.push(actor)
  }
  return out
}
