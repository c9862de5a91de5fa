import { z } from 'zod'
import type { Database, Range } from '../../common/storage/database.js'
import { decodeJson, encodeJson } from '../../common/storage/json-codec.js'
import { decodeNumber, key, prefixRange, splitKey } from '../../common/storage/keyspace.js'
import { SealedValues } from '../../common/storage/sealed-values.js'
import { HearthError } from '../../common/errors.js'
import type { MessageState, MessageView } from '../api/types.js'
import type { ReceiptPayload } from '../history/payloads.js'
import type { ConversationId, DeviceId, EpochId, MessageId } from '../ids.js'

export type { MessageState }

/**
 * The core's keyspace in LevelDB (docs/STORAGE.md is the reference). Anything that holds content or secrets is sealed
 * with the database key and its own record key as associated data; envelopes are stored as received (they are
 * already encrypted end to end and are what we serve to other members).
 *
 *   conv/<conv>                              sealed ConversationRecord
 *   op/<conv>/<opHash>                       sealed membership operation
 *   epoch/<conv>/<epoch>                     sealed epoch secret
 *   own/<conv>/<epoch>                       sealed own chain: initial chain key and next sequence number
 *   stream/<conv>/<epoch>/<device>           sealed StreamState of another device
 *   env/<conv>/<epoch>/<device>/<seq>        envelope bytes
 *   chg/<conv>/<epoch>/<shard>/<n>           sealed Automerge change (n = arrival number within the shard)
 *   ochg/<conv>/<epoch>/<shard>/<n>          sealed copy of one of our own changes (same n): our own document of the shard
 *   msg/<conv>/<orderKey>                    sealed MessageRow (what the UI reads, in display order)
 *   mid/<conv>/<messageId>                   orderKey
 *   mine/<conv>/<epoch>/<seq>                messageId of our own message at that position
 *   rcpt/<conv>/<device>                     sealed Receipt last heard from that device
 *   src/<conv>/<epoch>/<device>/<seq>        ids of the messages another device's envelope at that position created
 *   evid/<conv>/<epoch>/<device>/<seq>/<id>  equivocation evidence: each differing signed envelope at that position
 *   eqv/<conv>/<epoch>/<device>/<seq>        sealed Conflict: that position was signed twice (when we learnt it)
 *   wd/<conv>/<messageId>                    why the message is withdrawn ('conflict' | 'removed')
 *   ck/<conv>/<messageId>                    sealed content key of a message (docs/adr/0020); gone once it is deleted
 *   file/<conv>/<blobId>                     which message a file belongs to, removed from this device or not (core/blobs/file-index.ts)
 *   blob/r/<blobId>                          sealed BlobRecord of an attachment's blob (core/blobs/blob-records.ts)
 *   blob/h/<blobId>                          the blob's hash list (public; checked against the id when read)
 */
/** Why a message was withdrawn on every member: its envelope's position was signed twice, or it came after a removal. */
export type WithdrawnReason = 'conflict' | 'removed'

export interface ConversationRecord {
  id: ConversationId
  root: string
  kind: 'direct' | 'group'
  name: string
  createdAt: number
  lastActivity: number
  /** `author` is the account (absent in records written before renames existed): the summary shows its current name. */
  lastMessage: { body: string; authorName: string; author?: string | undefined; at: number } | null
  unread: number
  /** Unread messages that mention this account (absent in records written before mentions existed). */
  unreadMentions?: number | undefined
  /** Order key of the newest message this device has read. */
  readUpTo: string
  /** Set when this account was removed: the conversation stays readable but is closed. */
  removed: boolean
  /** Newest of our messages some other member has read (from their receipts). */
  theirReadUpTo: string
  /** Relays named by the invite this device joined with (mailboxes for offline delivery). */
  relays?: string[] | undefined
}

/**
 * A message as stored: what the API shows (MessageView, less what is derived when shown) plus where it came from.
 * `seq` is the position of the envelope (of `device`, in `epoch`) that created it, for our messages and others' alike
 * (0 if not known); `shard` is the shard document that holds it, where edits and reactions to it must go.
 */
export interface MessageRow extends Omit<MessageView, 'id' | 'conversation' | 'device' | 'sentAt' | 'withdrawn' | 'replyTo' | 'mentions' | 'mentionsMe' | 'hidden' | 'attachments'> {
  id: MessageId
  conversation: ConversationId
  device: DeviceId
  epoch: EpochId
  seq: number
  /** Absent in rows written before rows recorded it. */
  shard?: number | undefined
  /** The message this one answers (its author's account and its id). */
  replyTo?: { id: MessageId; author: string } | undefined
  /** Accounts mentioned. */
  mentions?: string[] | undefined
  /** Deleted for me: this device no longer shows it. */
  hidden?: boolean | undefined
  /** Set when the message is withdrawn: its body and reactions are gone and views leave it out. */
  withdrawn?: WithdrawnReason | null | undefined
  /** Devices (Automerge actors) whose admin-delete marks on this message were refused; final (docs/adr/0026). */
  moderationRefused?: string[] | undefined
  /** The message's files with their keys (history/media-box.ts `encodeFiles`, base64url); absent when none or deleted. */
  files?: string | undefined
}

/** A stream position some device signed two different envelopes for. */
export interface Conflict {
  epoch: EpochId
  device: DeviceId
  seq: number
  account: string
  /** When this device learnt of it. */
  at: number
}

export interface StreamState {
  /** Highest sequence number received with nothing missing below it. */
  have: number
  /** Highest sequence number processed (decrypted and applied). */
  done: number
  /** Receiving chain positioned at `done + 1`, or null until the sender's keys arrive. */
  chain: { key: string; index: number } | null
  /**
   * The chain as its sender granted it (index 0), kept so a device this one seals into the epoch later can be handed
   * it and read the stream from its start (docs/adr/0033).
   */
  granted?: string
  /** Chains other devices handed on, not yet checked against one of the stream's envelopes (receive/offered-chain.ts). */
  offered?: string[]
}

export interface OwnChain {
  /** Kept so devices that join later in the epoch can read it from its start (docs/SECURITY.md). */
  initialKey: string
  /** The chain positioned at `next`: deriving the next key costs one step, not `next` steps. */
  cursorKey: string
  /** The next sequence number this device will use in the epoch. */
  next: number
  /** New messages written so far in the epoch (shard routing). */
  messages: number
  /** Devices our chain keys were sent to. */
  sentTo: string[]
  /** Highest own sequence number some other member device acknowledged holding. */
  delivered: number
}

/**
 * A member device's latest receipt, as it sent it, and what its last receipt of each earlier epoch said about our own
 * devices' streams (kept when a receipt of a newer epoch replaced it: core/receipts/earlier-epochs.ts).
 */
export type Receipt = ReceiptPayload & { earlier?: Array<{ epoch: string; have: Record<string, number> }> | undefined }

const conversationSchema = z.object({
  id: z.string(),
  root: z.string(),
  kind: z.enum(['direct', 'group']),
  name: z.string(),
  createdAt: z.number(),
  lastActivity: z.number(),
  lastMessage: z.object({ body: z.string(), authorName: z.string(), author: z.string().optional(), at: z.number() }).nullable(),
  unread: z.number(),
  unreadMentions: z.number().optional(),
  readUpTo: z.string(),
  removed: z.boolean(),
  theirReadUpTo: z.string(),
  /** Relays learnt from the invite this device joined with (absent in records written before relays existed). */
  relays: z.array(z.string()).optional(),
})
const messageSchema = z.object({
  id: z.string(),
  conversation: z.string(),
  author: z.string(),
  authorName: z.string(),
  device: z.string(),
  epoch: z.string(),
  seq: z.number(),
  hlc: z.string(),
  orderKey: z.string(),
  body: z.string(),
  edited: z.boolean(),
  deleted: z.boolean(),
  deletedBy: z.string().optional(),
  moderationRefused: z.array(z.string()).optional(),
  files: z.string().max(32 * 1024).optional(),
  reactions: z.record(z.string(), z.array(z.string())),
  mine: z.boolean(),
  state: z.enum(['pending', 'sent', 'delivered', 'read', 'failed']),
  failure: z.string().nullable(),
  withdrawn: z.enum(['conflict', 'removed']).nullable().optional(),
  shard: z.number().int().min(0).optional(),
  replyTo: z.object({ id: z.string(), author: z.string() }).optional(),
  mentions: z.array(z.string()).optional(),
  hidden: z.boolean().optional(),
})
const conflictSchema = z.object({ epoch: z.string(), device: z.string(), seq: z.number().int().min(1), account: z.string(), at: z.number() })
const streamSchema = z.object({
  have: z.number(),
  done: z.number(),
  chain: z.object({ key: z.string(), index: z.number() }).nullable(),
  granted: z.string().optional(),
  offered: z.array(z.string()).optional(),
})
const ownSchema = z.object({
  initialKey: z.string(),
  cursorKey: z.string(),
  next: z.number(),
  messages: z.number(),
  sentTo: z.array(z.string()),
  delivered: z.number(),
})
const receiptSchema = z.object({
  hlc: z.string(),
  epoch: z.string(),
  have: z.record(z.string(), z.number()),
  readUpTo: z.string(),
  earlier: z.array(z.object({ epoch: z.string(), have: z.record(z.string(), z.number()) })).optional(),
})

const parser =
  <T>(schema: z.ZodType<T>) =>
  (value: unknown): T => {
    const r = schema.safeParse(value)
    if (!r.success) throw new HearthError('CORRUPT_DATA', `stored record is invalid: ${r.error.issues[0]?.message}`)
    return r.data
  }
const parseConversation = parser(conversationSchema) as (v: unknown) => ConversationRecord
const parseMessage = parser(messageSchema) as (v: unknown) => MessageRow
const parseStream = parser(streamSchema) as (v: unknown) => StreamState
const parseHandedOn = parser(z.array(z.string()))
const parseOwn = parser(ownSchema)
const parseReceipt = parser(receiptSchema)
const parseConflict = parser(conflictSchema) as (v: unknown) => Conflict
const settingsSchema = z.object({
  relays: z.array(z.string().max(1024)).max(32),
  /** Absent: the defaults (core/blobs/file-policy.ts). */
  files: z
    .object({
      autoDownloadPeerBytes: z.number().int().min(0),
      autoDownloadRelayBytes: z.number().int().min(0),
      maxFileBytes: z.number().int().min(1),
      // Absent in settings written before the budget existed: the default applies (settings.ts).
      keepReceivedBytes: z.number().int().min(0).optional(),
    })
    .optional(),
})
export type StoredSettings = z.infer<typeof settingsSchema>
const parseSettings = parser(settingsSchema)
const pendingNameSchema = z.object({ name: z.string().max(1024) })
const parsePendingName = parser(pendingNameSchema)
const relayCursorSchema = z.object({ deposited: z.number().int().min(0), cursor: z.string().max(64).nullable() })
export type RelayCursorRecord = z.infer<typeof relayCursorSchema>
const parseRelayCursor = parser(relayCursorSchema)

export type Put = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

export const Keys = {
  conversation: (c: string) => key('conv', c),
  op: (c: string, hash: string) => key('op', c, hash),
  epoch: (c: string, e: string) => key('epoch', c, e),
  own: (c: string, e: string) => key('own', c, e),
  stream: (c: string, e: string, d: string) => key('stream', c, e, d),
  envelope: (c: string, e: string, d: string, seq: number) => key('env', c, e, d, seq),
  change: (c: string, e: string, shard: number, n: number) => key('chg', c, e, shard, n),
  ownChange: (c: string, e: string, shard: number, n: number) => key('ochg', c, e, shard, n),
  message: (c: string, orderKey: string) => key('msg', c, orderKey),
  messageId: (c: string, id: string) => key('mid', c, id),
  mine: (c: string, e: string, seq: number) => key('mine', c, e, seq),
  receipt: (c: string, d: string) => key('rcpt', c, d),
  settings: () => key('set'),
  pendingName: () => key('name'),
  relayCursor: (c: string, e: string, relay: string) => key('rly', c, e, relay),
  source: (c: string, e: string, d: string, seq: number) => key('src', c, e, d, seq),
  evidence: (c: string, e: string, d: string, seq: number, id: string) => key('evid', c, e, d, seq, id),
  conflict: (c: string, e: string, d: string, seq: number) => key('eqv', c, e, d, seq),
  withdrawn: (c: string, id: string) => key('wd', c, id),
  contentKey: (c: string, id: string) => key('ck', c, id),
  handedOn: (c: string) => key('hand', c),
}

/** Typed, sealed access to the core's records. Writes are returned as batch operations so callers commit atomically. */
export class CoreStore {
  readonly db: Database
  private readonly sealed: SealedValues

  constructor(db: Database, dbKey: Uint8Array) {
    this.db = db
    this.sealed = new SealedValues(dbKey)
  }

  sealPut(k: string, plaintext: Uint8Array): Put {
    return { type: 'put', key: k, value: this.sealed.seal(k, plaintext) }
  }

  sealJson(k: string, value: unknown): Put {
    return this.sealPut(k, encodeJson(value))
  }

  async getSealed(k: string): Promise<Uint8Array | undefined> {
    const stored = await this.db.get(k)
    if (stored === undefined) return undefined
    try {
      return this.sealed.open(k, stored)
    } catch (err) {
      throw new HearthError('CORRUPT_DATA', `record ${k.split('\u0000')[0]} cannot be decrypted`, { cause: err })
    }
  }

  openSealed(k: string, stored: Uint8Array): Uint8Array {
    try {
      return this.sealed.open(k, stored)
    } catch (err) {
      throw new HearthError('CORRUPT_DATA', `record ${k.split('\u0000')[0]} cannot be decrypted`, { cause: err })
    }
  }

  private async getJson<T>(k: string, parse: (v: unknown) => T): Promise<T | undefined> {
    const plain = await this.getSealed(k)
    return plain === undefined ? undefined : decodeJson(plain, parse)
  }

  commit(ops: Put[], sync: boolean): Promise<void> {
    return this.db.batch(ops, { sync })
  }

  // relay mailboxes
  getRelayCursor(c: ConversationId, e: EpochId, relay: string) {
    return this.getJson(Keys.relayCursor(c, e, relay), parseRelayCursor)
  }
  putRelayCursor(c: ConversationId, e: EpochId, relay: string, cursor: RelayCursorRecord): Put {
    return this.sealJson(Keys.relayCursor(c, e, relay), cursor)
  }

  /** A display name change not yet announced in every conversation (written first, deleted when done). */
  async getPendingName(): Promise<string | undefined> {
    return (await this.getJson(Keys.pendingName(), parsePendingName))?.name
  }
  putPendingName(name: string): Put {
    return this.sealJson(Keys.pendingName(), { name })
  }
  deletePendingName(): Put {
    return { type: 'del', key: Keys.pendingName() }
  }

  // settings
  getSettings() {
    return this.getJson(Keys.settings(), parseSettings)
  }
  putSettings(s: StoredSettings): Put {
    return this.sealJson(Keys.settings(), s)
  }

  // conversations
  getConversation(c: ConversationId) {
    return this.getJson(Keys.conversation(c), parseConversation)
  }
  putConversation(r: ConversationRecord): Put {
    return this.sealJson(Keys.conversation(r.id), r)
  }
  async listConversations(): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = []
    for await (const [k, v] of this.db.iterate(prefixRange('conv'))) {
      out.push(decodeJson(this.openSealed(k, v), parseConversation))
    }
    return out
  }

  // membership operations
  putOp(c: ConversationId, hash: string, bytes: Uint8Array): Put {
    return this.sealPut(Keys.op(c, hash), bytes)
  }
  deleteOp(c: ConversationId, hash: string): Put {
    return { type: 'del', key: Keys.op(c, hash) }
  }
  async listOps(c: ConversationId): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [k, v] of this.db.iterate(prefixRange('op', c))) out.push(this.openSealed(k, v))
    return out
  }

  // epochs and chains
  /** A message's content key (docs/adr/0020): its text, in every version, opens with it; deleting forgets it. */
  putContentKey(c: ConversationId, id: MessageId, contentKey: Uint8Array): Put {
    return this.sealPut(Keys.contentKey(c, id), contentKey)
  }
  deleteContentKey(c: ConversationId, id: MessageId): Put {
    return { type: 'del', key: Keys.contentKey(c, id) }
  }
  async getContentKeys(c: ConversationId, ids: readonly MessageId[]): Promise<Map<MessageId, Uint8Array>> {
    const out = new Map<MessageId, Uint8Array>()
    if (ids.length === 0) return out
    const keys = ids.map((id) => Keys.contentKey(c, id))
    const values = await this.db.getMany(keys)
    ids.forEach((id, i) => {
      const v = values[i]
      if (v !== undefined) out.set(id, this.openSealed(keys[i]!, v))
    })
    return out
  }

  putEpochSecret(c: ConversationId, e: EpochId, secret: Uint8Array): Put {
    return this.sealPut(Keys.epoch(c, e), secret)
  }
  async listEpochSecrets(c: ConversationId): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [k, v] of this.db.iterate(prefixRange('epoch', c))) out.push(this.openSealed(k, v))
    return out
  }
  getOwnChain(c: ConversationId, e: EpochId) {
    return this.getJson(Keys.own(c, e), parseOwn)
  }
  putOwnChain(c: ConversationId, e: EpochId, own: OwnChain): Put {
    return this.sealJson(Keys.own(c, e), own)
  }
  /** `${epoch}/${device}` pairs this device has handed its received chains to (docs/adr/0033). */
  async getHandedOn(c: ConversationId): Promise<string[]> {
    return (await this.getJson(Keys.handedOn(c), parseHandedOn)) ?? []
  }
  putHandedOn(c: ConversationId, pairs: string[]): Put {
    return this.sealJson(Keys.handedOn(c), pairs)
  }
  getStream(c: ConversationId, e: EpochId, d: DeviceId) {
    return this.getJson(Keys.stream(c, e, d), parseStream)
  }
  putStream(c: ConversationId, e: EpochId, d: DeviceId, s: StreamState): Put {
    return this.sealJson(Keys.stream(c, e, d), s)
  }

  // envelopes
  putEnvelope(c: ConversationId, e: EpochId, d: DeviceId, seq: number, bytes: Uint8Array): Put {
    return { type: 'put', key: Keys.envelope(c, e, d, seq), value: bytes }
  }
  getEnvelope(c: ConversationId, e: EpochId, d: DeviceId, seq: number) {
    return this.db.get(Keys.envelope(c, e, d, seq))
  }
  /** Whether each of these envelopes is stored, in one batched read. */
  async hasEnvelopes(c: ConversationId, refs: ReadonlyArray<{ epoch: EpochId; device: DeviceId; seq: number }>): Promise<boolean[]> {
    if (refs.length === 0) return []
    const values = await this.db.getMany(refs.map((r) => Keys.envelope(c, r.epoch, r.device, r.seq)))
    return values.map((v) => v !== undefined)
  }
  /** Envelopes of one stream with seq > after, in order, at most `limit`. */
  async envelopesAfter(c: ConversationId, e: EpochId, d: DeviceId, after: number, limit: number) {
    const range = prefixRange('env', c, e, d)
    const out: Uint8Array[] = []
    for await (const [, v] of this.db.iterate({ gt: Keys.envelope(c, e, d, after), lt: range.lt, limit })) out.push(v)
    return out
  }

  // history
  putChange(c: ConversationId, e: EpochId, shard: number, n: number, change: Uint8Array): Put {
    return this.sealPut(Keys.change(c, e, shard, n), change)
  }
  listChanges(c: ConversationId, e: EpochId, shard: number): Promise<Uint8Array[]> {
    return this.openAll(prefixRange('chg', c, e, shard))
  }
  /** Our own changes of a shard, in order: they rebuild the document we write our next change onto. */
  putOwnChange(c: ConversationId, e: EpochId, shard: number, n: number, change: Uint8Array): Put {
    return this.sealPut(Keys.ownChange(c, e, shard, n), change)
  }
  listOwnChanges(c: ConversationId, e: EpochId, shard: number): Promise<Uint8Array[]> {
    return this.openAll(prefixRange('ochg', c, e, shard))
  }

  /** Every sealed value in a range, opened, in key order. */
  private async openAll(range: Range): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [k, v] of this.db.iterate(range)) out.push(this.openSealed(k, v))
    return out
  }

  // messages
  putMessage(row: MessageRow): Put[] {
    return [
      this.sealJson(Keys.message(row.conversation, row.orderKey), row),
      { type: 'put', key: Keys.messageId(row.conversation, row.id), value: new TextEncoder().encode(row.orderKey) },
    ]
  }
  async getMessage(c: ConversationId, id: MessageId): Promise<MessageRow | undefined> {
    const orderKey = await this.db.get(Keys.messageId(c, id))
    if (orderKey === undefined) return undefined
    return this.getJson(Keys.message(c, new TextDecoder().decode(orderKey)), parseMessage)
  }
  /** The stored rows of these messages (absent ones are left out), in two batched reads however many there are. */
  async getMessages(c: ConversationId, ids: readonly MessageId[]): Promise<Map<MessageId, MessageRow>> {
    const out = new Map<MessageId, MessageRow>()
    if (ids.length === 0) return out
    const orderKeys = await this.db.getMany(ids.map((id) => Keys.messageId(c, id)))
    const found = ids.flatMap((id, i) => {
      const orderKey = orderKeys[i]
      return orderKey === undefined ? [] : [{ id, key: Keys.message(c, new TextDecoder().decode(orderKey)) }]
    })
    const rows = await this.db.getMany(found.map((f) => f.key))
    found.forEach((f, i) => {
      const stored = rows[i]
      if (stored !== undefined) out.set(f.id, decodeJson(this.openSealed(f.key, stored), parseMessage))
    })
    return out
  }

  /** Newest first, strictly before `before` (an order key) when given. */
  async pageMessages(c: ConversationId, limit: number, before?: string): Promise<MessageRow[]> {
    const range = prefixRange('msg', c)
    const out: MessageRow[] = []
    const lt = before === undefined ? range.lt : Keys.message(c, before)
    for await (const [k, v] of this.db.iterate({ gte: range.gte, lt, reverse: true, limit })) {
      out.push(decodeJson(this.openSealed(k, v), parseMessage))
    }
    return out
  }
  /** Messages after an order key, oldest first (unread counting, receipts). */
  async messagesAfter(c: ConversationId, after: string, limit: number): Promise<MessageRow[]> {
    const range = prefixRange('msg', c)
    const gt = after === '' ? range.gte : Keys.message(c, after)
    const out: MessageRow[] = []
    for await (const [k, v] of this.db.iterate({ gt, lt: range.lt, limit })) {
      out.push(decodeJson(this.openSealed(k, v), parseMessage))
    }
    return out
  }
  putMine(c: ConversationId, e: EpochId, seq: number, id: MessageId): Put {
    return { type: 'put', key: Keys.mine(c, e, seq), value: new TextEncoder().encode(id) }
  }
  async mineBetween(c: ConversationId, e: EpochId, after: number, upTo: number): Promise<MessageId[]> {
    const out: MessageId[] = []
    for await (const [, v] of this.db.iterate({ gt: Keys.mine(c, e, after), lte: Keys.mine(c, e, upTo) })) {
      out.push(new TextDecoder().decode(v) as MessageId)
    }
    return out
  }

  /** The stored envelopes at these positions (undefined where none), in one batched read. */
  getEnvelopes(c: ConversationId, refs: ReadonlyArray<{ epoch: EpochId; device: DeviceId; seq: number }>): Promise<Array<Uint8Array | undefined>> {
    if (refs.length === 0) return Promise.resolve([])
    return this.db.getMany(refs.map((r) => Keys.envelope(c, r.epoch, r.device, r.seq)))
  }

  // where messages came from, and equivocation (docs/STORAGE.md)
  putSource(c: ConversationId, e: EpochId, d: DeviceId, seq: number, ids: readonly MessageId[]): Put {
    return { type: 'put', key: Keys.source(c, e, d, seq), value: new TextEncoder().encode(ids.join(',')) }
  }
  /** Messages created by a device's envelopes with seq > after, by position. */
  async sourcesAfter(c: ConversationId, e: EpochId, d: DeviceId, after: number): Promise<Array<{ seq: number; ids: MessageId[] }>> {
    const range = prefixRange('src', c, e, d)
    const out: Array<{ seq: number; ids: MessageId[] }> = []
    for await (const [k, v] of this.db.iterate({ gt: Keys.source(c, e, d, after), lt: range.lt })) {
      out.push({ seq: decodeNumber(splitKey(k).at(-1)!), ids: splitIds(v) })
    }
    return out
  }
  async sourceAt(c: ConversationId, e: EpochId, d: DeviceId, seq: number): Promise<MessageId[]> {
    const v = await this.db.get(Keys.source(c, e, d, seq))
    return v === undefined ? [] : splitIds(v)
  }
  putEvidence(c: ConversationId, e: EpochId, d: DeviceId, seq: number, id: string, bytes: Uint8Array): Put {
    return { type: 'put', key: Keys.evidence(c, e, d, seq, id), value: bytes }
  }
  /** The evidence envelopes stored for one position. */
  async evidenceAt(c: ConversationId, e: EpochId, d: DeviceId, seq: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [, v] of this.db.iterate(prefixRange('evid', c, e, d, seq))) out.push(v)
    return out
  }
  putConflict(c: ConversationId, conflict: Conflict): Put {
    return this.sealJson(Keys.conflict(c, conflict.epoch, conflict.device, conflict.seq), conflict)
  }
  async listConflicts(c: ConversationId): Promise<Conflict[]> {
    const out: Conflict[] = []
    for await (const [k, v] of this.db.iterate(prefixRange('eqv', c))) out.push(decodeJson(this.openSealed(k, v), parseConflict))
    return out
  }
  putWithdrawn(c: ConversationId, id: MessageId, reason: WithdrawnReason): Put {
    return { type: 'put', key: Keys.withdrawn(c, id), value: new TextEncoder().encode(reason) }
  }
  async listWithdrawn(c: ConversationId): Promise<Map<MessageId, WithdrawnReason>> {
    const out = new Map<MessageId, WithdrawnReason>()
    for await (const [k, v] of this.db.iterate(prefixRange('wd', c))) {
      const reason = new TextDecoder().decode(v)
      if (reason === 'conflict' || reason === 'removed') out.set(splitKey(k).at(-1) as MessageId, reason)
    }
    return out
  }

  // receipts
  getReceipt(c: ConversationId, d: DeviceId) {
    return this.getJson(Keys.receipt(c, d), parseReceipt)
  }
  putReceipt(c: ConversationId, d: DeviceId, r: Receipt): Put {
    return this.sealJson(Keys.receipt(c, d), r)
  }
}

function splitIds(v: Uint8Array): MessageId[] {
  const text = new TextDecoder().decode(v)
  return text === '' ? [] : (text.split(',') as MessageId[])
}
