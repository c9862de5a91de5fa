import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventPush } from './contract.js'
import { createDispatcher, type Dispatcher } from './dispatcher.js'
import { errorOf, openTempCore, resultOf, type TempCore } from './testing.js'
import type { ConversationSummary } from './types.js'

/** Mute, archive and pin through the API on a real core: what every window sees, and what it refuses. */
describe('conversations.setPrefs', () => {
  let alice: TempCore
  let api: Dispatcher
  const pushes: EventPush[] = []
  let n = 0
  const call = async <T>(method: string, params: unknown): Promise<T> => resultOf<T>(await api.handle({ id: ++n, method, params }))

  beforeAll(async () => {
    alice = await openTempCore('alice')
    api = createDispatcher(alice.core)
    api.subscribe((push) => pushes.push(push))
  })
  afterAll(async () => {
    await alice.dispose()
  })

  it('a new conversation is not muted, archived or pinned', async () => {
    const created = await call<ConversationSummary>('conversations.create', { kind: 'group', name: 'Family' })
    expect(created).toMatchObject({ mute: { level: 'all', until: null }, archived: false, pinnedAt: null })
  })

  it('mutes for an hour, archives and pins: the answer, the list and an event to every window say so', async () => {
    const c = await call<ConversationSummary>('conversations.create', { kind: 'group', name: 'Club' })
    pushes.length = 0
    const before = Date.now()
    const muted = await call<ConversationSummary>('conversations.setPrefs', { conversationId: c.id, mute: { level: 'mentions', forMs: 3_600_000 } })
    expect(muted.mute!.level).toBe('mentions')
    expect(muted.mute!.until).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(muted.mute!.until).toBeLessThanOrEqual(Date.now() + 3_600_000)
    const event = pushes.find((p) => p.event === 'conversation.updated')
    expect(event?.payload).toMatchObject({ conversation: { id: c.id, mute: { level: 'mentions' } } })

    const pinned = await call<ConversationSummary>('conversations.setPrefs', { conversationId: c.id, pinned: true })
    expect(pinned.pinnedAt).toBeTypeOf('number')
    const archived = await call<ConversationSummary>('conversations.setPrefs', { conversationId: c.id, archived: true })
    expect(archived).toMatchObject({ archived: true, pinnedAt: null })
    const listed = (await call<ConversationSummary[]>('conversations.list', {})).find((x) => x.id === c.id)
    expect(listed).toMatchObject({ archived: true, mute: { level: 'mentions' } })

    const unmuted = await call<ConversationSummary>('conversations.setPrefs', { conversationId: c.id, mute: { level: 'all', forMs: null } })
    expect(unmuted.mute).toEqual({ level: 'all', until: null })
  })

  it('says in words when five conversations are pinned already', async () => {
    const ids: string[] = []
    for (let i = 0; i < 6; i++) ids.push((await call<ConversationSummary>('conversations.create', { kind: 'group', name: `G${i}` })).id)
    for (const id of ids.slice(0, 5)) await call('conversations.setPrefs', { conversationId: id, pinned: true })
    const error = errorOf(await api.handle({ id: ++n, method: 'conversations.setPrefs', params: { conversationId: ids[5], pinned: true } }))
    expect(error).toEqual({ code: 'INVALID_INPUT', message: 'You can pin up to 5 conversations. Unpin one to pin this one.' })
  })

  it.each([
    [{ conversationId: '0'.repeat(32), archived: true }, 'NOT_FOUND'],
    [{ conversationId: '0'.repeat(32), mute: { level: 'nothing', forMs: 10 } }, 'INVALID_INPUT'],
    [{ conversationId: '0'.repeat(32), mute: { level: 'silent', forMs: null } }, 'INVALID_INPUT'],
    [{ conversationId: '0'.repeat(32), pinned: 'yes' }, 'INVALID_INPUT'],
    [{ conversationId: '0'.repeat(32), colour: 'red' }, 'INVALID_INPUT'],
  ])('refuses %j with %s', async (params, code) => {
    expect(errorOf(await api.handle({ id: ++n, method: 'conversations.setPrefs', params })).code).toBe(code)
  })
})
