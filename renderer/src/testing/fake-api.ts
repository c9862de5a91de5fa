/**
 * A scripted core API for component tests: answers calls from a table of handlers, records every call, and pushes
 * events on demand. It implements the same `Api` as the real clients, so components cannot tell the difference.
 */
import { HearthError } from '../../../node/common/errors.js'
import type { EventName, EventPayload, Method, Params, Result } from '../../../node/src/api/contract.js'
import type { ConversationSummary, MessageVersionView, MessageView, SeenByView } from '../../../node/src/api/types.js'
import type { Api } from '../api/client.js'

export type Handlers = { [M in Method]?: (params: Params<M>) => Result<M> | Promise<Result<M>> }

export interface FakeApi extends Api {
  calls: Array<{ method: Method; params: unknown }>
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void
  close(reason?: string): void
  handlers: Handlers
}

export function fakeApi(handlers: Handlers = {}): FakeApi {
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const closeListeners = new Set<(reason: string) => void>()
  const api: FakeApi = {
    calls: [],
    handlers,
    async call(method, ...params) {
      api.calls.push({ method, params: params[0] })
      const handler = api.handlers[method] as ((p: unknown) => unknown) | undefined
      if (handler === undefined) throw new HearthError('NOT_FOUND', `no fake handler for ${method}`)
      return (await handler(params[0] ?? {})) as Result<typeof method>
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(listener as (payload: unknown) => void)
      return () => set.delete(listener as (payload: unknown) => void)
    },
    onClose(listener) {
      closeListeners.add(listener)
      return () => closeListeners.delete(listener)
    },
    emit(event, payload) {
      for (const l of listeners.get(event) ?? []) l(payload)
    },
    close(reason = 'closed') {
      for (const l of closeListeners) l(reason)
    },
  }
  return api
}

const CONVERSATION = 'c'.repeat(32)

let counter = 0

/** A message with sensible defaults; `orderKey` follows `sentAt` so tests read naturally. */
export function message(overrides: Partial<MessageView> & { body?: string } = {}): MessageView {
  counter++
  const sentAt = overrides.sentAt ?? Date.UTC(2026, 0, 15, 12, 0, counter % 60)
  return {
    id: overrides.id ?? counter.toString(16).padStart(32, '0'),
    conversation: CONVERSATION,
    author: 'b'.repeat(64),
    authorName: 'Bob',
    device: 'd'.repeat(64),
    hlc: `${sentAt}`,
    sentAt,
    orderKey: overrides.orderKey ?? `${String(sentAt).padStart(15, '0')}-${counter.toString().padStart(8, '0')}`,
    body: 'hello',
    edited: false,
    deleted: false,
    reactions: {},
    mine: false,
    state: 'delivered',
    failure: null,
    ...overrides,
  }
}

/** The group "Family" (id CONVERSATION) as its admin sees it. */
export function conversationSummary(overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: CONVERSATION,
    kind: 'group',
    name: 'Family',
    createdAt: 0,
    lastActivity: 0,
    lastMessage: null,
    unread: 0,
    memberCount: 2,
    role: 'admin',
    removed: false,
    ...overrides,
  }
}

export { CONVERSATION }

/** The account `identity.whoami` answers with in `messageActions`. */
export const ME = 'a'.repeat(64)

/**
 * The message actions (react, edit, delete, versions, seen by) over a list of messages, answered as the core answers
 * them: each change comes back as a `message.updated` event. Install with `Object.assign(api.handlers, …)`.
 */
export function messageActions(api: FakeApi, messages: MessageView[], seenBy: SeenByView = { read: [], delivered: [] }): Handlers {
  const versions = new Map<string, MessageVersionView[]>()
  const find = (id: string) => {
    const i = messages.findIndex((m) => m.id === id)
    if (i === -1) throw new HearthError('NOT_FOUND', 'no such message')
    return i
  }
  const update = (i: number, next: MessageView) => {
    messages[i] = next
    api.emit('message.updated', { conversation: next.conversation as never, message: next })
    return next
  }
  return {
    'identity.whoami': () => ({ account: ME, device: 'd'.repeat(64), displayName: 'Alice', peerId: 'p', addresses: [] }),
    'messages.react': ({ messageId, emoji }) => {
      const i = find(messageId)
      const reactions: Record<string, string[]> = {}
      for (const [e, accounts] of Object.entries(messages[i]!.reactions)) {
        const rest = accounts.filter((a) => a !== ME)
        if (rest.length > 0) reactions[e] = rest
      }
      if (emoji !== null) reactions[emoji] = [...(reactions[emoji] ?? []), ME]
      return update(i, { ...messages[i]!, reactions })
    },
    'messages.edit': ({ messageId, body }) => {
      const i = find(messageId)
      const old = messages[i]!
      versions.set(messageId, [...(versions.get(messageId) ?? [{ body: old.body, at: old.sentAt }]), { body, at: old.sentAt + 60_000 }])
      return update(i, { ...old, body, edited: true })
    },
    'messages.versions': ({ messageId }) => versions.get(messageId) ?? [{ body: messages[find(messageId)]!.body, at: messages[find(messageId)]!.sentAt }],
    'messages.delete': ({ messageId, forEveryone }) => {
      const i = find(messageId)
      const old = messages[i]!
      update(i, forEveryone ? { ...old, body: '', deleted: true, reactions: {} } : { ...old, hidden: true })
      if (!forEveryone) messages.splice(i, 1)
      return null
    },
    'messages.seenBy': () => seenBy,
  }
}
