/**
 * A scripted core for the browser tests that need a shape of data no real core produces quickly (100k messages in
 * one conversation). It answers the same contract through the same `Dispatcher` interface, so it is served by the
 * real browser-mode web server and the page cannot tell it from a real core.
 */
import type { EventPush, Response } from '../../node/src/api/contract.js'
import type { Dispatcher } from '../../node/src/api/dispatcher.js'
import type { ConversationSummary, MessageView } from '../../node/src/api/types.js'

export const FAKE_CONVERSATION = 'f'.repeat(32)

export interface FakeCore extends Dispatcher {
  messages: MessageView[]
  pageCalls: Array<{ before: string | undefined; limit: number }>
  /** Holds `messages.page` answers until the returned function is called (to look at the page while it waits). */
  hold(): () => void
}

export function fakeCore(count: number, now = Date.now()): FakeCore {
  const start = now - count * 60_000
  const messages: MessageView[] = Array.from({ length: count }, (_, i) => ({
    id: i.toString(16).padStart(32, '0'),
    conversation: FAKE_CONVERSATION,
    author: (i % 3 === 0 ? 'a' : 'b').repeat(64),
    authorName: i % 3 === 0 ? 'Alice' : 'Bob',
    device: 'd'.repeat(64),
    hlc: String(start + i * 60_000),
    sentAt: start + i * 60_000,
    orderKey: String(i).padStart(10, '0'),
    body: i % 7 === 0 ? `Message ${i}\nwith a second line, and a longer text that wraps in the bubble to vary heights` : `Message ${i}`,
    edited: false,
    deleted: false,
    reactions: {},
    mine: i % 3 === 0,
    state: 'read',
    failure: null,
  }))
  const conversation: ConversationSummary = {
    id: FAKE_CONVERSATION,
    kind: 'group',
    name: 'Archive',
    createdAt: start,
    lastActivity: now,
    lastMessage: { body: messages.at(-1)!.body, authorName: messages.at(-1)!.authorName, at: now },
    unread: 0,
    memberCount: 2,
    role: 'admin',
    removed: false,
  }
  const pageCalls: FakeCore['pageCalls'] = []
  let gate: Promise<void> = Promise.resolve()
  const answers: Record<string, (params: Record<string, unknown>) => unknown> = {
    'app.status': () => ({ state: 'ready', needsPassphrase: true }),
    'app.info': () => ({ version: 'test', dataDir: '/nowhere', runtime: {} }),
    'identity.whoami': () => ({ account: 'a'.repeat(64), device: 'd'.repeat(64), displayName: 'Alice', peerId: '12D3KooWfake', addresses: [] }),
    'conversations.list': () => [conversation],
    'network.peers': () => [],
    'messages.markRead': () => conversation,
    'messages.page': async (p) => {
      const limit = typeof p.limit === 'number' ? p.limit : 50
      const before = typeof p.before === 'string' ? p.before : undefined
      pageCalls.push({ before, limit })
      await gate
      // Keys are zero-padded indexes, so the cursor is the index of the first message not to include.
      const end = before === undefined ? messages.length : Number(before)
      const from = Math.max(0, end - limit)
      const slice = messages.slice(from, end)
      return { messages: slice, nextBefore: from === 0 ? null : slice[0]!.orderKey }
    },
  }
  return {
    messages,
    pageCalls,
    async handle(raw: unknown): Promise<Response> {
      const request = raw as { id: number; method: string; params?: Record<string, unknown> }
      const answer = answers[request.method]
      if (answer === undefined) return { id: request.id, ok: false, error: { code: 'NOT_FOUND', message: `fake core has no ${request.method}` } }
      return { id: request.id, ok: true, result: await answer(request.params ?? {}) }
    },
    hold() {
      let release!: () => void
      gate = new Promise((resolve) => (release = resolve))
      return () => release()
    },
    subscribe(_listener: (push: EventPush) => void) {
      return () => {}
    },
  }
}
