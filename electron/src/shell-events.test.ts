import { inflateSync } from 'node:zlib'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { EventName, EventPayload, Method, Result } from '../../node/src/api/contract.js'
import type { ConversationSummary, MessageView } from '../../node/src/api/types.js'
import { MAX_API_MESSAGE_BYTES } from '../../node/src/api/ws-server.js'
import { NotificationPolicy, plain } from './notification-policy.js'
import { crc32, dotPng, encodePng } from './png.js'
import { MAX_REQUEST_BYTES } from './port-client.js'
import { watchShellEvents } from './shell-events.js'
import { badgeLabel, UnreadTracker } from './unread.js'

const NOW = 1_800_000_000_000

function message(overrides: Partial<MessageView> = {}): MessageView {
  return {
    id: '1'.repeat(32),
    conversation: 'a'.repeat(32),
    author: 'b'.repeat(64),
    authorName: 'Bob',
    device: 'c'.repeat(64),
    hlc: 'x',
    sentAt: NOW - 1_000,
    orderKey: 'k',
    body: 'dinner at 7?',
    edited: false,
    deleted: false,
    reactions: {},
    mine: false,
    state: 'delivered',
    failure: null,
    ...overrides,
  }
}

function summary(id: string, unread: number, overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id,
    kind: 'group',
    name: 'Family',
    createdAt: 0,
    lastActivity: 0,
    lastMessage: null,
    unread,
    memberCount: 3,
    role: 'member',
    removed: false,
    ...overrides,
  }
}

describe('notifications', () => {
  it('only for other people’s recent messages while the window is not focused', () => {
    const policy = new NotificationPolicy({ perConversationIntervalMs: 0 })
    const ctx = { windowFocused: false, now: NOW }
    expect(policy.decide(message(), ctx)).toEqual({ conversationId: 'a'.repeat(32), title: 'Bob', body: 'dinner at 7?' })
    expect(policy.decide(message({ mine: true }), ctx)).toBeNull()
    expect(policy.decide(message({ deleted: true }), ctx)).toBeNull()
    expect(policy.decide(message(), { ...ctx, windowFocused: true })).toBeNull()
    // A catch-up of old history after being offline does not notify.
    expect(policy.decide(message({ sentAt: NOW - 3_600_000 }), ctx)).toBeNull()
  })

  it('names the group and never floods one conversation', () => {
    const policy = new NotificationPolicy({ perConversationIntervalMs: 5_000 })
    const conversation = { name: 'Family', kind: 'group' as const }
    expect(policy.decide(message(), { windowFocused: false, now: NOW, conversation })?.title).toBe('Bob in Family')
    expect(policy.decide(message(), { windowFocused: false, now: NOW + 1_000, conversation })).toBeNull()
    expect(policy.decide(message({ conversation: 'd'.repeat(32) }), { windowFocused: false, now: NOW + 1_000 })).not.toBeNull()
    expect(policy.decide(message(), { windowFocused: false, now: NOW + 5_000, conversation })).not.toBeNull()
  })

  it('shows one bounded line of plain text', () => {
    expect(plain('a\nb\u0000c\u202Ed  e', 100)).toBe('a b c d e')
    expect(plain('😀'.repeat(300), 10)).toBe(`${'😀'.repeat(9)}…`)
    const policy = new NotificationPolicy()
    const long = policy.decide(message({ body: 'x'.repeat(5_000), authorName: '' }), { windowFocused: false, now: NOW })
    expect(long?.body.length).toBeLessThanOrEqual(200)
    expect(long?.title).toBe('Someone')
  })
})

describe('the unread badge', () => {
  it('sums unread counts, leaving out conversations we were removed from', () => {
    const tracker = new UnreadTracker()
    tracker.reset([summary('a', 2), summary('b', 5)])
    expect(tracker.total()).toBe(7)
    tracker.update(summary('a', 0))
    tracker.update(summary('c', 3, { removed: true }))
    expect(tracker.total()).toBe(5)
    expect(badgeLabel(0)).toBe('')
    expect(badgeLabel(7)).toBe('7')
    expect(badgeLabel(100)).toBe('99+')
  })
})

/** The part of main's API client the shell events use, driven by the test. */
class FakeClient {
  state: 'ready' | 'locked' = 'ready'
  conversations: ConversationSummary[] = []
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>()
  call<M extends Method>(method: M): Promise<Result<M>> {
    if (method === 'app.status') return Promise.resolve({ state: this.state, needsPassphrase: false } as Result<M>)
    if (method === 'conversations.list') return Promise.resolve(this.conversations as Result<M>)
    return Promise.reject(new Error(`unexpected ${method}`))
  }
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, (set = new Set()))
    set.add(listener as (payload: unknown) => void)
    return () => set.delete(listener as (payload: unknown) => void)
  }
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners.get(event) ?? []) l(payload)
  }
}

describe('shell events', () => {
  function watched(focused = false) {
    const client = new FakeClient()
    const badges: number[] = []
    const notes: string[] = []
    const events = watchShellEvents({
      client,
      notify: (n) => notes.push(`${n.title}: ${n.body}`),
      setBadge: (n) => badges.push(n),
      isWindowFocused: () => focused,
      now: () => NOW,
    })
    return { client, badges, notes, events }
  }

  it('sets the badge from the full list, then from conversation updates', async () => {
    const { client, badges, events } = watched()
    client.conversations = [summary('a'.repeat(32), 2), summary('b'.repeat(32), 1)]
    await events.refresh()
    client.emit('conversation.updated', { conversation: summary('a'.repeat(32), 4) })
    client.emit('conversation.updated', { conversation: summary('a'.repeat(32), 4, { lastActivity: 1 }) }) // same total
    expect(badges).toEqual([3, 5])
  })

  it('clears the badge while the app is locked', async () => {
    const { client, badges, events } = watched()
    client.conversations = [summary('a'.repeat(32), 2)]
    await events.refresh()
    client.state = 'locked'
    client.emit('app.changed', { status: { state: 'locked', needsPassphrase: true } })
    await new Promise((r) => setTimeout(r, 0))
    expect(badges).toEqual([2, 0])
  })

  it('notifies for someone else’s message with the group’s name, and stops when stopped', async () => {
    const { client, notes, events } = watched()
    client.conversations = [summary('a'.repeat(32), 0, { name: 'Cousins' })]
    await events.refresh()
    client.emit('message.added', { conversation: 'a'.repeat(32) as never, message: message() })
    client.emit('message.added', { conversation: 'a'.repeat(32) as never, message: message({ mine: true, conversation: 'e'.repeat(32) }) })
    expect(notes).toEqual(['Bob in Cousins: dinner at 7?'])
    events.stop()
    client.emit('message.added', { conversation: 'f'.repeat(32) as never, message: message({ conversation: 'f'.repeat(32) }) })
    expect(notes).toHaveLength(1)
  })

  it('a muted conversation stays quiet (for a while or always), mentions get through at "mentions only", and a lapsed mute notifies again', async () => {
    const { client, notes, events } = watched()
    const [a, b, c] = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)]
    client.conversations = [
      summary(a, 0, { name: 'Muted', mute: { level: 'nothing', until: null } }),
      summary(b, 0, { name: 'Mentions', mute: { level: 'mentions', until: NOW + 60_000 } }),
      summary(c, 0, { name: 'Lapsed', mute: { level: 'nothing', until: NOW - 1 } }),
    ]
    await events.refresh()
    const to = (id: string, extra: Partial<MessageView> = {}) => client.emit('message.added', { conversation: id as never, message: message({ conversation: id, ...extra }) })
    to(a, { mentionsMe: true })
    to(b)
    to(b, { id: '2'.repeat(32), mentionsMe: true, body: '@you dinner?' })
    to(c, { body: 'hello again' })
    expect(notes).toEqual(['Bob in Mentions: @you dinner?', 'Bob in Lapsed: hello again'])
    // The mute follows the conversation's updates: unmuted, it notifies.
    client.emit('conversation.updated', { conversation: summary(a, 1, { name: 'Muted', mute: { level: 'all', until: null } }) })
    to(a, { id: '3'.repeat(32), body: 'unmuted now' })
    expect(notes.at(-1)).toBe('Bob in Muted: unmuted now')
  })

  it('does not notify while the window has focus', () => {
    const { client, notes } = watched(true)
    client.emit('message.added', { conversation: 'a'.repeat(32) as never, message: message() })
    expect(notes).toEqual([])
  })
})

describe('PNG and the limits shared with the core', () => {
  it('encodes valid PNG: signature, chunk CRCs and pixels that inflate back', () => {
    const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 1, 2, 3, 4])
    const png = encodePng(2, 2, rgba)
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    const chunks: Array<{ type: string; data: Uint8Array }> = []
    const view = new DataView(png.buffer, png.byteOffset)
    for (let offset = 8; offset < png.length; ) {
      const length = view.getUint32(offset)
      const type = new TextDecoder().decode(png.subarray(offset + 4, offset + 8))
      const data = png.subarray(offset + 8, offset + 8 + length)
      expect(view.getUint32(offset + 8 + length)).toBe(crc32(png.subarray(offset + 4, offset + 8 + length)))
      chunks.push({ type, data })
      offset += 12 + length
    }
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND'])
    const raw = inflateSync(chunks[1]!.data)
    expect([...raw]).toEqual([0, ...rgba.subarray(0, 8), 0, ...rgba.subarray(8)])
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
    expect(dotPng(16, [255, 0, 0]).length).toBeGreaterThan(50)
  })

  it('ships a 1024×1024 app icon', () => {
    const icon = readFileSync(new URL('../resources/icon.png', import.meta.url))
    expect(icon.subarray(12, 16).toString('latin1')).toBe('IHDR')
    expect([icon.readUInt32BE(16), icon.readUInt32BE(20)]).toEqual([1024, 1024])
  })

  it('refuses requests over the carrier’s cap before sending them', () => {
    expect(MAX_REQUEST_BYTES).toBe(MAX_API_MESSAGE_BYTES)
  })
})
