/**
 * The core API contract: every request method with its parameter schema and result type, the event names, and the
 * wire shapes. It is the single source both carriers (in-process/MessagePort and the WebSocket) and every client (UI,
 * CLI, tests) are typed from.
 *
 * This file must stay importable from the renderer: zod, type-only imports and nothing that touches Node at runtime.
 */
import { z } from 'zod'
import type { ErrorCode } from '../../common/errors.js'
import { Limits } from '../../common/wire/limits.js'
import type { CoreEventName, CoreEvents } from '../core/events.js'
import type { RelayStatus } from '../core/relays/relay-mailboxes.js'
import type {
  AccountStatus,
  AppInfo,
  AttachmentView,
  ChatRequestView,
  AppStatus,
  ConversationSummary,
  CreatedIdentity,
  DeviceView,
  FileUsageView,
  InviteView,
  LinkOfferView,
  NewDeviceLinkingView,
  MemberView,
  RemovedMemberView,
  SafetyNumberView,
  MessageVersionView,
  MessageView,
  Page,
  SeenByView,
  PeerView,
  SettingsView,
  SystemLineView,
  RecoveryPhraseView,
  WhoAmI,
} from './types.js'

/** A phantom that carries a result type in the contract value without any runtime payload. */
export interface ResultOf<T> {
  readonly __result?: T
}
const result = <T>(): ResultOf<T> => ({})

// Identifiers are validated here with the same rules as `ids.ts`, so a malformed id is refused before the core sees it.
const conversationId = z.string().regex(/^[0-9a-f]{32}$/, 'conversationId must be 32 lowercase hex characters')
const account = z.string().regex(/^[0-9a-f]{64}$/, 'account must be 64 lowercase hex characters')
const messageId = z.string().regex(/^[0-9a-f]{32}$/, 'messageId must be 32 lowercase hex characters')
const inviteId = z.string().regex(/^[0-9a-f]{32}$/, 'inviteId must be 32 lowercase hex characters')
/** Order keys are opaque to clients; they only hand back what a page gave them. */
const cursor = z.string().min(1).max(256)
const body = z.string().min(1).max(256 * 1024)

/** At most this many files in one message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10
/**
 * One files.append or files.read piece, in bytes before base64: its base64 (4/3 larger) and the JSON around it stay
 * well within the API's 1 MiB per message (api/protocol.ts MAX_API_MESSAGE_BYTES), both ways.
 */
export const MAX_FILE_PIECE_BYTES = 512 * 1024
/** The most the size limit setting may be raised to: the blob format's own cap (1 GiB). */
export const MAX_FILE_BYTES_LIMIT = 1024 * 1024 * 1024
const uploadId = z.string().regex(/^[0-9a-f]{32}$/, 'uploadId must be 32 lowercase hex characters')
const fileName = z.string().trim().min(1, 'a file needs a name').max(255)
const attachmentIndex = z.number().int().min(0).max(MAX_ATTACHMENTS_PER_MESSAGE - 1)
const base64Piece = z.string().min(1).max(Math.ceil(MAX_FILE_PIECE_BYTES / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'data must be base64')
const byteSetting = z.number().int().min(0).max(MAX_FILE_BYTES_LIMIT)
const attachmentParam = z.strictObject({
  uploadId,
  kind: z.enum(['image', 'file']),
  width: z.number().int().min(1).max(65_535).optional(),
  height: z.number().int().min(1).max(65_535).optional(),
  // A thumbhash is ~25 bytes; 64 bytes of base64 is plenty.
  thumbhash: z.string().min(1).max(88).regex(/^[A-Za-z0-9+/]*={0,2}$/).optional(),
})

const noParams = z.strictObject({})
const byConversation = z.strictObject({ conversationId })

export interface NetworkStatus {
  whoami: WhoAmI
  peers: PeerView[]
  /** Refusals by reason (forged, replayed, malformed…): an attack is visible rather than silently absorbed. */
  counters: Record<string, number>
  /** Each relay in use and how it answered last (ok, refused with a reason, unreachable). */
  relays: RelayStatus[]
}

export interface InviteResult {
  code: string
  inviteId: string
  /** Epoch ms; 0 means the invite never expires. */
  expiresAt: number
  /** The short link (`hearth://j/…`) of the same invite; null when this device has no address to name in it. */
  shortLink: string | null
}

/** Methods a running core answers (the dispatcher). */
export const coreContract = {
  'identity.whoami': { params: noParams, result: result<WhoAmI>() },

  'conversations.list': { params: noParams, result: result<ConversationSummary[]>() },
  'conversations.get': { params: byConversation, result: result<ConversationSummary>() },
  'conversations.create': {
    // The core counts the 100-character limit in code points; UTF-16 length can be twice that for emoji.
    params: z.strictObject({ kind: z.enum(['direct', 'group']), name: z.string().trim().min(1).max(200) }),
    result: result<ConversationSummary>(),
  },
  'conversations.invite': {
    params: z.strictObject({
      conversationId,
      /** 0 makes an invite that never expires; absent means the core's default (7 days). */
      expiresInMs: z.number().int().min(0).max(Limits.maxInviteLifetimeMs).optional(),
      singleUse: z.boolean().optional(),
    }),
    result: result<InviteResult>(),
  },
  'conversations.revokeInvite': { params: z.strictObject({ conversationId, inviteId }), result: result<null>() },
  /** The invites that can still admit someone, newest first. */
  'conversations.invites': { params: byConversation, result: result<InviteView[]>() },
  // The core enforces the real invite limit (and says INVITE_INVALID); this bound only stops absurd input early.
  'conversations.join': { params: z.strictObject({ code: z.string().min(1).max(4096) }), result: result<ConversationSummary>() },
  'conversations.members': { params: byConversation, result: result<MemberView[]>() },
  'conversations.remove': { params: z.strictObject({ conversationId, account }), result: result<null>() },
  /** Accounts that were members and were removed: an admin may add one back (never an invite). */
  'conversations.removed': { params: byConversation, result: result<RemovedMemberView[]>() },
  'conversations.addBack': { params: z.strictObject({ conversationId, account }), result: result<null>() },
  /** This person's own mute, archive and pin for one conversation; kept in step across their devices (own-device sync). */
  'conversations.setPrefs': {
    params: z.strictObject({
      conversationId,
      // forMs: null mutes until changed; the UI offers 1 h, 8 h, 1 day and 1 week. Level 'all' unmutes.
      mute: z.strictObject({ level: z.enum(['all', 'mentions', 'nothing']), forMs: z.number().int().min(60_000).max(366 * 24 * 3600_000).nullable() }).optional(),
      archived: z.boolean().optional(),
      pinned: z.boolean().optional(),
    }),
    result: result<ConversationSummary>(),
  },
  /** A group's new name and/or description ('' clears it); admins only. The core applies the real rule. */
  'conversations.update': {
    params: z.strictObject({ conversationId, name: z.string().max(1024).optional(), description: z.string().max(4096).optional() }),
    result: result<ConversationSummary>(),
  },
  /** Leaves a group (its history stays readable here); the last admin must make someone else admin first. */
  'conversations.leave': { params: byConversation, result: result<ConversationSummary>() },
  /** Forgets a join still waiting for an admin, or refused (ADR 0027): the list stops showing it. */
  'conversations.dismissJoin': { params: byConversation, result: result<null>() },
  /** What happened in the conversation (joins, leaves, renames…), oldest first: the timeline's quiet lines. */
  'conversations.systemLines': { params: byConversation, result: result<SystemLineView[]>() },
  'conversations.setRole': {
    params: z.strictObject({ conversationId, account, role: z.enum(['admin', 'member']) }),
    result: result<null>(),
  },

  'messages.send': {
    // The core checks the real size limit in bytes and answers TOO_LARGE; this bound only caps the work of parsing.
    // With attachments the body is their caption and may be empty.
    params: z
      .strictObject({
        conversationId,
        body: body.or(z.literal('')),
        replyTo: messageId.optional(),
        mentions: z.array(account).max(50).optional(),
        attachments: z.array(attachmentParam).min(1).max(MAX_ATTACHMENTS_PER_MESSAGE).optional(),
      })
      .refine((p) => p.body !== '' || p.attachments !== undefined, { message: 'a message needs some text or a file', path: ['body'] }),
    result: result<MessageView>(),
  },
  'messages.edit': {
    // `mentions`, when given, replaces the message's mentions (checked as for a send).
    params: z.strictObject({ conversationId, messageId, body, mentions: z.array(account).max(50).optional() }),
    result: result<MessageView>(),
  },
  'messages.react': {
    // One reaction per person per message: a new emoji replaces the old one; null takes it away.
    params: z.strictObject({ conversationId, messageId, emoji: z.string().min(1).max(32).nullable() }),
    result: result<MessageView>(),
  },
  'messages.delete': { params: z.strictObject({ conversationId, messageId, forEveryone: z.boolean() }), result: result<null>() },
  'messages.versions': { params: z.strictObject({ conversationId, messageId }), result: result<MessageVersionView[]>() },
  'messages.seenBy': { params: z.strictObject({ conversationId, messageId }), result: result<SeenByView>() },
  'messages.typing': { params: byConversation, result: result<null>() },
  'messages.page': {
    params: z.strictObject({ conversationId, before: cursor.optional(), limit: z.number().int().min(1).max(500).optional() }),
    result: result<Page>(),
  },
  'messages.markRead': { params: z.strictObject({ conversationId, upTo: cursor.optional() }), result: result<ConversationSummary>() },
  'messages.retry': { params: z.strictObject({ conversationId, messageId }), result: result<MessageView>() },

  /** Sending a file: begin, append its bytes in pieces (base64, ≤ 512 KiB each), then name the upload in messages.send. */
  'files.begin': {
    params: z.strictObject({ conversationId, name: fileName, size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
    result: result<{ uploadId: string }>(),
  },
  'files.append': { params: z.strictObject({ uploadId, data: base64Piece }), result: result<{ received: number }>() },
  'files.abort': { params: z.strictObject({ uploadId }), result: result<null>() },
  /** Decrypted bytes of a complete file of a message, a range at a time. */
  'files.read': {
    params: z.strictObject({
      conversationId,
      messageId,
      index: attachmentIndex,
      offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      length: z.number().int().min(1).max(MAX_FILE_PIECE_BYTES),
    }),
    result: result<{ data: string; size: number; mime: string }>(),
  },
  /** Writes a complete file to a path the person chose (the desktop's save dialog, or the CLI). */
  'files.save': {
    params: z.strictObject({ conversationId, messageId, index: attachmentIndex, path: z.string().min(1).max(4096) }),
    result: result<null>(),
  },
  /** One file of a message as its message shows it now (the desktop shell's Open asks what it is opening). */
  'files.info': { params: z.strictObject({ conversationId, messageId, index: attachmentIndex }), result: result<AttachmentView>() },
  /** Starts (or resumes) downloading a file that did not download by itself, or retries a failed one. */
  'files.download': { params: z.strictObject({ conversationId, messageId, index: attachmentIndex }), result: result<null>() },
  /** Stops a download; what was verified is kept and it resumes from there. */
  'files.cancel': { params: z.strictObject({ conversationId, messageId, index: attachmentIndex }), result: result<null>() },
  /** Bytes of files kept on this device, by conversation. */
  'files.usage': { params: noParams, result: result<FileUsageView[]>() },
  /** Removes a conversation's files from this device; the messages stay and show the files as removed. */
  'files.clear': { params: byConversation, result: result<null>() },

  /** The safety number between this account and a person this device shares a conversation with (docs/adr/0031). */
  'people.safetyNumber': { params: z.strictObject({ account }), result: result<SafetyNumberView>() },
  /** Marks a person verified (on all of this account's devices, by own-device sync); with `scanned` (the text of their QR code) only when it matches. */
  'people.verify': {
    params: z.strictObject({ account, scanned: z.string().min(1).max(256).optional() }),
    result: result<null>(),
  },
  'people.unverify': { params: z.strictObject({ account }), result: result<null>() },

  /** This account's devices (Settings → Devices). */
  'devices.list': { params: noParams, result: result<DeviceView[]>() },
  /**
   * Links the new device showing `code` (its QR or typed short code): resolves once it is admitted to every
   * conversation, up to 10 minutes; 'devices.linking' events tell each step, and the confirmation code to compare.
   */
  'devices.link': { params: z.strictObject({ code: z.string().min(1).max(400) }), result: result<DeviceView>() },
  /** The person compared the confirmation code on both screens: accept to go on, or refuse (the link stops). */
  'devices.confirmLink': { params: z.strictObject({ accept: z.boolean() }), result: result<null>() },
  /** Renames one of this account's devices (any of them, from any of them); every device of the account shows it. */
  'devices.rename': { params: z.strictObject({ device: z.string().regex(/^[0-9a-f]{64}$/, 'device must be 64 lowercase hex characters'), name: z.string().min(1).max(200) }), result: result<DeviceView>() },
  /** Revokes another device of this account: it is taken out of every conversation, which moves to new keys. */
  'devices.revoke': { params: z.strictObject({ device: z.string().regex(/^[0-9a-f]{64}$/, 'device must be 64 lowercase hex characters') }), result: result<null>() },

  /** A conversation's unsent text as this account's devices keep it in step; `at` (ms) is when it was set, null if never. */
  'drafts.get': { params: byConversation, result: result<{ text: string; at: number | null }>() },
  /** Sets a conversation's draft ('' clears it) on every device of this account; at most 65536 UTF-16 code units. */
  'drafts.set': { params: z.strictObject({ conversationId, text: z.string().max(65_536) }), result: result<null>() },

  'network.peers': { params: noParams, result: result<PeerView[]>() },
  /** Requests to start a direct chat with a device nearby, both ways. */
  'chats.requests': { params: noParams, result: result<ChatRequestView[]>() },
  /** Asks a connected device to chat: makes the direct conversation and sends it a request with a single-use invite. */
  'chats.request': {
    params: z.strictObject({ peerId: z.string().min(1).max(128).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'peerId must be base58') }),
    // request is null when there is a direct chat with that person already: the answer is that chat.
    result: result<{ request: ChatRequestView | null; conversation: ConversationSummary }>(),
  },
  'chats.accept': { params: z.strictObject({ requestId: z.string().regex(/^[0-9a-f]{32}$/) }), result: result<ConversationSummary>() },
  'chats.decline': { params: z.strictObject({ requestId: z.string().regex(/^[0-9a-f]{32}$/) }), result: result<null>() },
  'network.status': { params: noParams, result: result<NetworkStatus>() },

  'settings.get': { params: noParams, result: result<SettingsView>() },
  'settings.update': {
    // The core validates the name and each address (a multiaddr ending in /p2p/<PeerId>) and the count; this only
    // bounds parsing.
    params: z.strictObject({
      displayName: z.string().max(1024).optional(),
      relays: z.array(z.string().trim().min(1).max(1024)).max(64).optional(),
      autoDownloadPeerBytes: byteSetting.optional(),
      autoDownloadRelayBytes: byteSetting.optional(),
      maxFileBytes: z.number().int().min(1).max(MAX_FILE_BYTES_LIMIT).optional(),
      keepReceivedBytes: z.number().int().min(0).max(2 ** 50).optional(),
    }),
    result: result<SettingsView>(),
  },
} as const

/** A passphrase as typed; NFC normalisation happens in the key provider. The floor applies to new identities only. */
const passphrase = z.string().min(1).max(1024)
const newPassphrase = z.string().min(8, 'passphrase must be at least 8 characters').max(1024)
const displayName = z.string().trim().min(1).max(200)

/**
 * Methods the app host answers itself, before and after the core is open: onboarding (create with a recovery phrase
 * confirmed before anything is saved, restore, unlock) and what the UI shows about the app. `app.status` is also
 * answered by a bare dispatcher (always `ready`), so the UI can drive a headless daemon too.
 */
export const appContract = {
  'app.status': { params: noParams, result: result<AppStatus>() },
  'app.info': { params: noParams, result: result<AppInfo>() },
  'app.create': {
    params: z.strictObject({ name: displayName, passphrase: newPassphrase.optional() }),
    result: result<CreatedIdentity>(),
  },
  'app.confirmRecovery': {
    // The words at `confirmPositions`, in that order.
    params: z.strictObject({ words: z.array(z.string().trim().min(1).max(32)).min(1).max(24) }),
    result: result<AppStatus>(),
  },
  'app.restore': {
    params: z.strictObject({ name: displayName, phrase: z.string().min(1).max(1024), passphrase: newPassphrase.optional() }),
    result: result<AppStatus>(),
  },
  'app.unlock': { params: z.strictObject({ passphrase: passphrase.optional() }), result: result<AppStatus>() },
  /**
   * Makes this new device one of an account already in use on another device: answers with the code to show (QR and
   * text) once it exists; 'app.linking' events tell each step. The identity is saved, under `passphrase`, only once
   * the other device admitted this one.
   */
  'app.linkStart': {
    params: z.strictObject({ name: displayName.optional(), passphrase: newPassphrase.optional() }),
    result: result<LinkOfferView>(),
  },
  /** The person compared the 6 digits on both screens: accept to go on, or refuse (the link stops, nothing is saved). */
  'app.linkConfirm': { params: z.strictObject({ accept: z.boolean() }), result: result<null>() },
  /** Stops linking and goes back to the start; nothing is saved. */
  'app.linkCancel': { params: noParams, result: result<null>() },

  /** Whether this device can show its recovery phrase, and what wraps its keys (Settings, Account). */
  'account.status': { params: noParams, result: result<AccountStatus>() },
  /**
   * The recovery phrase again. Where a passphrase wraps the keys it must be given (wrong ones are rate-limited);
   * with the OS keychain the UI asks the person to confirm instead. The answer is never logged.
   */
  'account.recoveryPhrase': { params: z.strictObject({ passphrase: passphrase.optional() }), result: result<RecoveryPhraseView>() },
  /** Re-wraps the identity file under a new passphrase, atomically; a wrong current one changes nothing. */
  'account.changePassphrase': { params: z.strictObject({ current: passphrase, next: newPassphrase }), result: result<null>() },
} as const

export const contract = { ...coreContract, ...appContract }

export type CoreContract = typeof coreContract
export type CoreMethod = keyof CoreContract
export type AppMethod = keyof typeof appContract
export type Contract = typeof contract
export type Method = keyof Contract
/** What a caller passes (before defaults and trimming). */
export type Params<M extends Method> = z.input<Contract[M]['params']>
/** What a handler receives after validation. */
export type ValidParams<M extends Method> = z.output<Contract[M]['params']>
export type Result<M extends Method> = Contract[M]['result'] extends ResultOf<infer T> ? T : never

export const methods = Object.keys(contract) as Method[]

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.hasOwn(contract, name)
}

export function isCoreMethod(name: unknown): name is CoreMethod {
  return typeof name === 'string' && Object.hasOwn(coreContract, name)
}

export function isAppMethod(name: unknown): name is AppMethod {
  return typeof name === 'string' && Object.hasOwn(appContract, name)
}

// ------------------------------------------------------------------------------------------------------- events

/** Events the app host pushes itself. */
export interface AppEvents {
  /** The app's state changed (created, unlocked, stopped…). */
  'app.changed': { status: AppStatus }
  /** Linking this new device (`app.linkStart`): the code shown, the digits to compare, receiving, or why it failed. */
  'app.linking': NewDeviceLinkingView
}

export type EventName = CoreEventName | keyof AppEvents
export type EventPayload<E extends EventName> = E extends CoreEventName ? CoreEvents[E] : E extends keyof AppEvents ? AppEvents[E] : never

/** Every core event the API pushes. The `satisfies` check and the type below fail to compile if CoreEvents changes. */
export const coreEventNames = [
  'message.added',
  'message.updated',
  'conversation.updated',
  'members.changed',
  'peer.changed',
  'security.rejected',
  'security.equivocation',
  'relay.changed',
  'typing',
  'chat-requests.changed',
  'file.progress',
  'devices.changed',
  'devices.linking',
  'device.revoked',
  'draft.changed',
] as const satisfies readonly CoreEventName[]
type _AllEventsListed = Exclude<CoreEventName, (typeof coreEventNames)[number]> extends never ? true : never
export const _allEventsListed: _AllEventsListed = true

/** Every event any carrier may push. */
export const eventNames = [...coreEventNames, 'app.changed', 'app.linking'] as const satisfies readonly EventName[]

// --------------------------------------------------------------------------------------------------------- wire

// Kept apart so that a client loads no zod just for this constant.
export { API_PROTOCOL_PREFIX } from './protocol.js'

export type RequestId = number | string

export interface Request<M extends Method = Method> {
  id: RequestId
  method: M
  params?: Params<M>
}

export interface ApiError {
  code: ErrorCode
  message: string
}

export type Response<R = unknown> =
  | { id: RequestId | null; ok: true; result: R }
  | { id: RequestId | null; ok: false; error: ApiError }

export type EventPush<E extends EventName = EventName> = { [K in E]: { event: K; payload: EventPayload<K> } }[E]

/** Any message a server sends: a response to a request, or an event. */
export type ServerMessage = Response | EventPush

/** The envelope of a request; `params` is checked against the method's own schema afterwards. */
export const requestEnvelope = z.strictObject({
  id: z.union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(64)]),
  method: z.string().min(1).max(64),
  params: z.unknown().optional(),
})

export function isEventPush(message: ServerMessage): message is EventPush {
  return 'event' in message
}
