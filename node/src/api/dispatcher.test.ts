import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DEFAULT_FILE_SETTINGS } from '../core/blobs/file-policy.js'
import type { EventPush } from './contract.js'
import { createDispatcher, type Dispatcher } from './dispatcher.js'
import { errorOf, openTempCore, resultOf, type TempCore } from './testing.js'

describe('createDispatcher', () => {
  let alice: TempCore
  let api: Dispatcher

  beforeAll(async () => {
    alice = await openTempCore('alice')
    api = createDispatcher(alice.core)
  })
  afterAll(async () => {
    await alice.dispose()
  })

  it('answers a valid call with the core result, echoing the id', async () => {
    const response = await api.handle({ id: 7, method: 'identity.whoami' })
    expect(response).toMatchObject({ id: 7, ok: true, result: { displayName: 'alice', account: alice.identity.account } })
  })

  it.each([null, 42, 'identity.whoami', [], { method: 'identity.whoami' }, { id: -1, method: 'identity.whoami' }, { id: 1 }])(
    'refuses a malformed request envelope %j with INVALID_INPUT',
    async (raw) => {
      const response = await api.handle(raw)
      expect(errorOf(response).code).toBe('INVALID_INPUT')
    },
  )

  it('refuses an unknown method, and does not treat prototype keys as methods', async () => {
    for (const method of ['nope.nothing', 'toString', '__proto__', 'constructor']) {
      const response = await api.handle({ id: 'x', method, params: {} })
      expect(response.id).toBe('x')
      expect(errorOf(response)).toEqual({ code: 'INVALID_INPUT', message: `unknown method: ${method}` })
    }
  })

  it.each([
    ['conversations.get', { conversationId: 'ABCDEF' }],
    ['conversations.get', { conversationId: 'A'.repeat(32) }],
    ['conversations.get', {}],
    ['conversations.create', { kind: 'channel', name: 'x' }],
    ['conversations.create', { kind: 'group', name: '   ' }],
    ['conversations.create', { kind: 'group', name: 'x', extra: true }],
    ['conversations.remove', { conversationId: '0'.repeat(32), account: 'f'.repeat(63) }],
    ['conversations.invite', { conversationId: '0'.repeat(32), expiresInMs: -5 }],
    ['messages.send', { conversationId: '0'.repeat(32) }],
    ['messages.send', { conversationId: '0'.repeat(32), body: 12 }],
    ['messages.page', { conversationId: '0'.repeat(32), limit: 0 }],
    ['messages.page', { conversationId: '0'.repeat(32), limit: 1.5 }],
    ['identity.whoami', { unexpected: 1 }],
    ['identity.whoami', 'not an object'],
  ])('refuses invalid parameters of %s %j with INVALID_INPUT', async (method, params) => {
    const response = await api.handle({ id: 1, method, params })
    const error = errorOf(response)
    expect(error.code).toBe('INVALID_INPUT')
    expect(error.message).toContain(method)
  })

  it('maps a HearthError from the core to its own code', async () => {
    const response = await api.handle({ id: 1, method: 'conversations.get', params: { conversationId: '0'.repeat(32) } })
    expect(errorOf(response)).toEqual({ code: 'NOT_FOUND', message: 'no such conversation' })
    const tooBig = await api.handle({
      id: 2,
      method: 'messages.send',
      params: { conversationId: '0'.repeat(32), body: 'x'.repeat(40_000) },
    })
    expect(errorOf(tooBig).code).toBe('TOO_LARGE')
  })

  it('maps any other exception to INTERNAL with a generic message that leaks nothing', async () => {
    const spy = vi.spyOn(alice.core, 'listConversations').mockImplementation(() => {
      throw new TypeError('boom at /home/secret/path')
    })
    try {
      const response = await api.handle({ id: 3, method: 'conversations.list' })
      const error = errorOf(response)
      expect(error.code).toBe('INTERNAL')
      expect(error.message).not.toContain('secret')
    } finally {
      spy.mockRestore()
    }
  })

  it('creates, sends, pages and pushes events through the contract', async () => {
    const pushes: EventPush[] = []
    const unsubscribe = api.subscribe((push) => pushes.push(push))
    const group = resultOf<{ id: string; name: string }>(
      await api.handle({ id: 1, method: 'conversations.create', params: { kind: 'group', name: '  Family  ' } }),
    )
    expect(group.name).toBe('Family')
    const sent = resultOf<{ id: string; state: string }>(
      await api.handle({ id: 2, method: 'messages.send', params: { conversationId: group.id, body: 'hello' } }),
    )
    expect(sent.state).toBe('pending')
    const page = resultOf<{ messages: Array<{ body: string }>; nextBefore: string | null }>(
      await api.handle({ id: 3, method: 'messages.page', params: { conversationId: group.id } }),
    )
    expect(page.messages.map((m) => m.body)).toEqual(['hello'])
    expect(pushes.some((p) => p.event === 'message.added' && p.payload.message.id === sent.id)).toBe(true)
    expect(pushes.some((p) => p.event === 'conversation.updated' && p.payload.conversation.id === group.id)).toBe(true)

    unsubscribe()
    const before = pushes.length
    await api.handle({ id: 4, method: 'messages.send', params: { conversationId: group.id, body: 'after' } })
    expect(pushes.length).toBe(before)

    const status = resultOf<{ whoami: { displayName: string }; peers: unknown[]; counters: Record<string, number> }>(
      await api.handle({ id: 5, method: 'network.status' }),
    )
    expect(status.whoami.displayName).toBe('alice')
    expect(status.peers).toEqual([])
    expect(typeof status.counters).toBe('object')
  })

  it('keeps the core running when a subscriber throws', async () => {
    const unsubscribe = api.subscribe(() => {
      throw new Error('listener bug')
    })
    try {
      const response = await api.handle({ id: 1, method: 'conversations.create', params: { kind: 'direct', name: 'Bob' } })
      expect(response.ok).toBe(true)
    } finally {
      unsubscribe()
    }
  })

  it('reads and updates the settings; a relay address must name its PeerId', async () => {
    const settings = resultOf<{ displayName: string; relays: string[] }>(await api.handle({ id: 1, method: 'settings.get' }))
    expect(settings).toEqual({ displayName: 'alice', relays: [], ...DEFAULT_FILE_SETTINGS })
    const relay = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const updated = resultOf<{ relays: string[] }>(await api.handle({ id: 2, method: 'settings.update', params: { relays: [` ${relay} `] } }))
    expect(updated.relays).toEqual([relay])
    const refused = await api.handle({ id: 3, method: 'settings.update', params: { relays: ['/ip4/127.0.0.1/tcp/4001'] } })
    expect(errorOf(refused).code).toBe('INVALID_INPUT')
    expect(errorOf(await api.handle({ id: 4, method: 'settings.update', params: { relays: 'x' } })).code).toBe('INVALID_INPUT')
    await api.handle({ id: 5, method: 'settings.update', params: { relays: [] } })
  })

  it('updates the file sizes; out-of-range sizes are refused and change nothing', async () => {
    const updated = resultOf<{ autoDownloadPeerBytes: number; maxFileBytes: number }>(
      await api.handle({ id: 1, method: 'settings.update', params: { autoDownloadPeerBytes: 1_000_000, maxFileBytes: 2_000_000 } }),
    )
    expect(updated).toMatchObject({ autoDownloadPeerBytes: 1_000_000, maxFileBytes: 2_000_000, autoDownloadRelayBytes: DEFAULT_FILE_SETTINGS.autoDownloadRelayBytes })
    expect(errorOf(await api.handle({ id: 2, method: 'settings.update', params: { maxFileBytes: 0 } })).code).toBe('INVALID_INPUT')
    expect(errorOf(await api.handle({ id: 3, method: 'settings.update', params: { autoDownloadRelayBytes: -1 } })).code).toBe('INVALID_INPUT')
    expect(resultOf<{ maxFileBytes: number }>(await api.handle({ id: 4, method: 'settings.get' })).maxFileBytes).toBe(2_000_000)
    await api.handle({ id: 5, method: 'settings.update', params: { ...DEFAULT_FILE_SETTINGS } })
  })

  it('changes the display name through settings; a bad name changes nothing, not even the relays sent with it', async () => {
    const relay = '/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const bad = await api.handle({ id: 1, method: 'settings.update', params: { displayName: 'x\u202Ey', relays: [relay] } })
    expect(errorOf(bad).code).toBe('INVALID_INPUT')
    expect(resultOf(await api.handle({ id: 2, method: 'settings.get' }))).toEqual({ displayName: 'alice', relays: [], ...DEFAULT_FILE_SETTINGS })
    const renamed = resultOf<{ displayName: string }>(await api.handle({ id: 3, method: 'settings.update', params: { displayName: ' Alice B. ' } }))
    expect(renamed.displayName).toBe('Alice B.')
    expect(resultOf<{ displayName: string }>(await api.handle({ id: 4, method: 'identity.whoami' })).displayName).toBe('Alice B.')
    await api.handle({ id: 5, method: 'settings.update', params: { displayName: 'alice' } })
  })

  it('answers the app host methods as a core that is already open', async () => {
    expect(resultOf(await api.handle({ id: 1, method: 'app.status' }))).toEqual({ state: 'ready', needsPassphrase: false })
    expect(resultOf(await api.handle({ id: 2, method: 'app.unlock', params: {} }))).toEqual({ state: 'ready', needsPassphrase: false })
    expect(errorOf(await api.handle({ id: 3, method: 'app.create', params: { name: 'x', passphrase: 'long enough' } })).code).toBe('IDENTITY_EXISTS')
    expect(errorOf(await api.handle({ id: 4, method: 'app.info' })).code).toBe('NOT_FOUND')
  })
})
