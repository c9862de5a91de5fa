/**
 * The in-process carrier of the core API: turns an untrusted request value into a call on the core and the outcome
 * into a response value, and fans core events out to subscribers. The WebSocket server and the Electron MessagePort
 * are thin transports around this; neither validates or maps errors itself, so all carriers behave the same.
 */
import { z } from 'zod'
import { HearthError, isHearthError, type ErrorCode } from '../../common/errors.js'
import type { Core } from '../core/core.js'
import { Logger } from '../core/logger.js'
import type { AccountId, ConversationId, MessageId } from '../ids.js'
import {
  contract,
  coreEventNames,
  isCoreMethod,
  isMethod,
  requestEnvelope,
  type AppMethod,
  type CoreMethod,
  type EventPush,
  type Method,
  type RequestId,
  type Response,
  type Result,
  type ValidParams,
} from './contract.js'

export interface Dispatcher {
  /** Never rejects: every failure, including malformed input, comes back as `{ ok: false }`. */
  handle(raw: unknown): Promise<Response>
  /** Receives every core event as a push; returns the unsubscribe function. */
  subscribe(listener: (push: EventPush) => void): () => void
}

type Handlers = { [M in CoreMethod]: (core: Core, params: ValidParams<M>) => Result<M> | Promise<Result<M>> }

// Ids were validated by the contract's schemas with the same rules as ids.ts, so the casts below are checked casts.
const cid = (id: string) => id as ConversationId
const aid = (id: string) => id as AccountId
const mid = (id: string) => id as MessageId

const handlers: Handlers = {
  'identity.whoami': (core) => core.whoami(),

  'conversations.list': (core) => core.listConversations(),
  'conversations.get': (core, p) => core.getConversation(cid(p.conversationId)),
  'conversations.create': (core, p) => core.createConversation({ kind: p.kind, name: p.name }),
  'conversations.invite': (core, p) =>
    core.createInvite(cid(p.conversationId), {
      ...(p.expiresInMs === undefined ? {} : { expiresInMs: p.expiresInMs }),
      ...(p.singleUse === undefined ? {} : { singleUse: p.singleUse }),
    }),
  'conversations.revokeInvite': async (core, p) => {
    await core.revokeInvite(cid(p.conversationId), p.inviteId)
    return null
  },
  'conversations.invites': (core, p) => core.invites(cid(p.conversationId)),
  'conversations.join': (core, p) => core.join(p.code),
  'conversations.members': (core, p) => core.members(cid(p.conversationId)),
  'conversations.remove': async (core, p) => {
    await core.removeMember(cid(p.conversationId), p.account)
    return null
  },
  'conversations.removed': (core, p) => core.removedMembers(cid(p.conversationId)),
  'conversations.addBack': async (core, p) => {
    await core.addBack(cid(p.conversationId), p.account)
    return null
  },
  'conversations.setPrefs': (core, p) =>
    core.setConversationPrefs(cid(p.conversationId), {
      ...(p.mute === undefined ? {} : { mute: p.mute }),
      ...(p.archived === undefined ? {} : { archived: p.archived }),
      ...(p.pinned === undefined ? {} : { pinned: p.pinned }),
    }),
  'conversations.update': (core, p) =>
    core.updateGroup(cid(p.conversationId), {
      ...(p.name === undefined ? {} : { name: p.name }),
      ...(p.description === undefined ? {} : { description: p.description }),
    }),
  'conversations.leave': (core, p) => core.leaveGroup(cid(p.conversationId)),
  'conversations.dismissJoin': async (core, p) => {
    await core.dismissJoin(cid(p.conversationId))
    return null
  },
  'conversations.systemLines': (core, p) => core.systemLines(cid(p.conversationId)),
  'conversations.setRole': async (core, p) => {
    await core.setRole(cid(p.conversationId), p.account, p.role)
    return null
  },

  'messages.send': (core, p) =>
    p.attachments === undefined
      ? core.send(cid(p.conversationId), p.body, { replyTo: p.replyTo, mentions: p.mentions })
      : core.files.send(cid(p.conversationId), p.body, p.attachments, { replyTo: p.replyTo, mentions: p.mentions }),
  'messages.edit': (core, p) => core.edit(cid(p.conversationId), p.messageId, p.body, { mentions: p.mentions }),
  'messages.react': (core, p) => core.react(cid(p.conversationId), p.messageId, p.emoji),
  'messages.delete': async (core, p) => {
    await core.deleteMessage(cid(p.conversationId), p.messageId, p.forEveryone)
    return null
  },
  'messages.versions': (core, p) => core.details.versions(cid(p.conversationId), mid(p.messageId)),
  'messages.seenBy': (core, p) => core.details.seenBy(cid(p.conversationId), mid(p.messageId)),
  'messages.typing': async (core, p) => {
    await core.typing(cid(p.conversationId))
    return null
  },
  'messages.page': (core, p) => core.page(cid(p.conversationId), { before: p.before, limit: p.limit }),
  'messages.markRead': (core, p) => core.markRead(cid(p.conversationId), p.upTo),
  'messages.retry': (core, p) => core.retry(cid(p.conversationId), p.messageId),

  'files.begin': (core, p) => core.files.begin(cid(p.conversationId), p.name, p.size),
  'files.append': (core, p) => core.files.append(p.uploadId, Buffer.from(p.data, 'base64')),
  'files.abort': async (core, p) => {
    await core.files.abort(p.uploadId)
    return null
  },
  'files.read': (core, p) => core.files.read(cid(p.conversationId), p.messageId, p.index, p.offset, p.length),
  'files.save': async (core, p) => {
    await core.files.save(cid(p.conversationId), p.messageId, p.index, p.path)
    return null
  },
  'files.info': (core, p) => core.files.info(cid(p.conversationId), p.messageId, p.index),
  'files.download': async (core, p) => {
    await core.files.download(cid(p.conversationId), p.messageId, p.index)
    return null
  },
  'files.cancel': async (core, p) => {
    await core.files.cancel(cid(p.conversationId), p.messageId, p.index)
    return null
  },
  'files.usage': (core) => core.files.usage(),
  'files.clear': async (core, p) => {
    await core.files.clear(cid(p.conversationId))
    return null
  },

  'people.safetyNumber': (core, p) => core.people.safetyNumber(aid(p.account)),
  'people.verify': async (core, p) => {
    await core.people.verify(aid(p.account), p.scanned)
    return null
  },
  'people.unverify': async (core, p) => {
    await core.people.unverify(aid(p.account))
    return null
  },
  'devices.list': (core) => core.devices.list(),
  'devices.link': (core, p) => core.devices.link(p.code),
  'devices.confirmLink': (core, p) => {
    core.devices.confirmLink(p.accept)
    return null
  },
  'devices.rename': (core, p) => core.devices.rename(p.device, p.name),
  'drafts.get': (core, p) => core.drafts.get(cid(p.conversationId)),
  'drafts.set': (core, p) => {
    core.drafts.set(cid(p.conversationId), p.text)
    return null
  },
  'devices.revoke': async (core, p) => {
    await core.devices.revoke(p.device)
    return null
  },

  'network.peers': (core) => core.peers(),
  'chats.requests': (core) => core.chatRequests.list(),
  'chats.request': (core, p) => core.chatRequests.ask(p.peerId),
  'chats.accept': (core, p) => core.chatRequests.accept(p.requestId),
  'chats.decline': async (core, p) => {
    await core.chatRequests.decline(p.requestId)
    return null
  },
  'network.status': (core) => ({
    whoami: core.whoami(),
    peers: core.peers(),
    counters: core.counters.snapshot(),
    relays: core.relayStatus(),
  }),

  'settings.get': (core) => core.settings(),
  'settings.update': (core, p) =>
    core.updateSettings({
      displayName: p.displayName,
      relays: p.relays,
      autoDownloadPeerBytes: p.autoDownloadPeerBytes,
      autoDownloadRelayBytes: p.autoDownloadRelayBytes,
      maxFileBytes: p.maxFileBytes,
      keepReceivedBytes: p.keepReceivedBytes,
    }),
}

/**
 * A bare dispatcher sits on a core that is already open (the headless daemon), so of the app host's onboarding
 * methods it can only say that: ready, nothing to create or unlock. This lets the same UI drive a daemon.
 */
function answerAppMethod(method: AppMethod): Result<'app.status'> {
  switch (method) {
    case 'app.status':
    case 'app.unlock':
      return { state: 'ready', needsPassphrase: false }
    case 'app.create':
    case 'app.restore':
    case 'app.confirmRecovery':
    case 'app.linkStart':
    case 'app.linkConfirm':
    case 'app.linkCancel':
      throw new HearthError('IDENTITY_EXISTS', 'this core already has an identity')
    case 'app.info':
    case 'account.status':
    case 'account.recoveryPhrase':
    case 'account.changePassphrase':
      throw new HearthError('NOT_FOUND', `${method} is answered by the app host, not by a headless core`)
  }
}

export interface DispatcherOptions {
  logger?: Logger
}

export function createDispatcher(core: Core, options: DispatcherOptions = {}): Dispatcher {
  const log = options.logger ?? Logger.silent()

  async function handle(raw: unknown): Promise<Response> {
    const request = parseRequest(raw)
    if (!request.ok) return request.response
    const { id, method, params } = request
    return answer(id, method, log, async () => {
      if (!isCoreMethod(method)) return answerAppMethod(method)
      return (handlers[method] as (core: Core, params: unknown) => unknown)(core, params)
    })
  }

  function subscribe(listener: (push: EventPush) => void): () => void {
    const unsubscribers = coreEventNames.map((event) =>
      core.events.on(event, (payload) => {
        // Listeners run inside the core's emit: a throwing transport must not break the core's own code path.
        try {
          listener({ event, payload } as EventPush)
        } catch (err) {
          log.warn({ err, event }, 'event listener failed')
        }
      }),
    )
    return () => {
      for (const u of unsubscribers) u()
    }
  }

  return { handle, subscribe }
}

/** A request whose envelope and parameters were checked against the contract. */
export type ParsedRequest =
  | { ok: true; id: RequestId; method: Method; params: unknown }
  | { ok: false; response: Response }

/**
 * Checks an untrusted request value: the envelope, the method name, then the method's own strict schema. Shared by
 * every dispatcher (the core's and the app host's) so they refuse bad input in the same words.
 */
export function parseRequest(raw: unknown): ParsedRequest {
  const envelope = requestEnvelope.safeParse(raw)
  if (!envelope.success) return { ok: false, response: failure(idOf(raw), 'INVALID_INPUT', `invalid request: ${describe(envelope.error)}`) }
  const { id, method, params } = envelope.data
  if (!isMethod(method)) return { ok: false, response: failure(id, 'INVALID_INPUT', `unknown method: ${method}`) }
  // Methods without parameters may omit them; everything else is checked by the method's strict schema.
  const parsed = contract[method].params.safeParse(params ?? {})
  if (!parsed.success) {
    return { ok: false, response: failure(id, 'INVALID_INPUT', `invalid parameters for ${method}: ${describe(parsed.error)}`) }
  }
  return { ok: true, id, method, params: parsed.data }
}

/** Runs a validated call and turns its outcome into a response; unexpected exceptions are logged, never shown. */
export async function answer(id: RequestId, method: Method, log: Logger, run: () => unknown): Promise<Response> {
  try {
    const result = await run()
    return { id, ok: true, result: result ?? null }
  } catch (err) {
    if (isHearthError(err)) return failure(id, err.code, err.message)
    // An unexpected exception is a bug: its detail goes to the log, never to the client (it may hold paths or state).
    log.error({ err, method }, 'core API call failed')
    return failure(id, 'INTERNAL', 'internal error (see the core log)')
  }
}

export function failure(id: RequestId | null, code: ErrorCode, message: string): Response {
  return { id, ok: false, error: { code, message } }
}

/** Echoes a well-formed id even when the rest of the request is not, so the client can match the error to its call. */
function idOf(raw: unknown): RequestId | null {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null
  const id = requestEnvelope.shape.id.safeParse(raw.id)
  return id.success ? id.data : null
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ')
}
