/**
 * A scripted core API for component tests: answers calls from a table of handlers, records every call, and pushes
 * events on demand. It implements the same `Api` as the real clients, so components cannot tell the difference.
 */
import { HearthError } from '../../../node/common/errors.js'
import type { EventName, EventPayload, Method, Params, Result } from '../../../node/src/api/contract.js'
import type { ConversationSummary, MessageView } from '../../../node/src/api/types.js'
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
