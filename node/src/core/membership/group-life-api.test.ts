import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventPush } from '../../api/contract.js'
import { createDispatcher, type Dispatcher } from '../../api/dispatcher.js'
import { errorOf, openTempCore, resultOf, type TempCore } from '../../api/testing.js'
import type { ConversationSummary, SystemLineView } from '../../api/types.js'

/** A group's name and description, leaving and the timeline's lines, through the API on a real core. */
describe('conversations.update, conversations.leave, conversations.systemLines', () => {
  let alice: TempCore
  let api: Dispatcher
  const pushes: EventPush[] = []
  let n = 0
  const raw = (method: string, params: unknown) => api.handle({ id: ++n, method, params })
  const call = async <T>(method: string, params: unknown): Promise<T> => resultOf<T>(await raw(method, params))

  beforeAll(async () => {
    alice = await openTempCore('alice')
    api = createDispatcher(alice.core)
    api.subscribe((push) => pushes.push(push))
  })
  afterAll(async () => {
    await alice.dispose()
  })

  it('renames and describes a group: the answer and an event say so, and a line tells it', async () => {
    const c = await call<ConversationSummary>('conversations.create', { kind: 'group', name: 'Family' })
    expect(c.description).toBe('')
    pushes.length = 0
    const updated = await call<ConversationSummary>('conversations.update', { conversationId: c.id, name: '  Cousins ', description: 'Sunday lunch' })
    expect(updated).toMatchObject({ name: 'Cousins', description: 'Sunday lunch' })
    expect(pushes.find((p) => p.event === 'conversation.updated')?.payload).toMatchObject({ conversation: { id: c.id, name: 'Cousins' } })
    expect(pushes.some((p) => p.event === 'members.changed')).toBe(true)
    // Nothing changes: no operation, no line.
    await call('conversations.update', { conversationId: c.id, name: 'Cousins' })
    const lines = await call<SystemLineView[]>('conversations.systemLines', { conversationId: c.id })
    expect(lines.map((l) => l.text)).toEqual(['You created the group', 'You renamed the group to Cousins and changed the description'])
    expect(lines[1]).toMatchObject({ kind: 'about', actor: alice.core.whoami().account, target: null })
    expect(lines[1]!.at).toBeGreaterThan(0)
  })

  it('refuses a name or description against the rule, a direct chat, and clears a description with ""', async () => {
    const c = await call<ConversationSummary>('conversations.create', { kind: 'group', name: 'Club' })
    for (const [params, message] of [
      [{ name: '' }, /^The group name must not be empty/],
      [{ name: 'x'.repeat(65) }, /^The group name must be at most 64 characters/],
      [{ name: 'Cl\u202Eub' }, /^The group name must not contain control or direction-override characters/],
      [{ description: 'x'.repeat(501) }, /^The description must be at most 500 characters/],
    ] as const) {
      const error = errorOf(await raw('conversations.update', { conversationId: c.id, ...params }))
      expect(error.code).toBe('INVALID_INPUT')
      expect(error.message).toMatch(message)
    }
    await call('conversations.update', { conversationId: c.id, description: 'something' })
    expect((await call<ConversationSummary>('conversations.update', { conversationId: c.id, description: '' })).description).toBe('')
    const direct = await call<ConversationSummary>('conversations.create', { kind: 'direct', name: 'Bob' })
    expect(direct.description).toBeUndefined()
    expect(errorOf(await raw('conversations.update', { conversationId: direct.id, name: 'Us' }))).toMatchObject({ code: 'INVALID_INPUT' })
  })

  it('the only member leaves: read-only, marked as left, and nothing more can be changed', async () => {
    const c = await call<ConversationSummary>('conversations.create', { kind: 'group', name: 'Alone' })
    const left = await call<ConversationSummary>('conversations.leave', { conversationId: c.id })
    expect(left).toMatchObject({ removed: true, left: true, role: null })
    expect((await call<SystemLineView[]>('conversations.systemLines', { conversationId: c.id })).at(-1)!.text).toBe('You left')
    expect(errorOf(await raw('conversations.leave', { conversationId: c.id }))).toMatchObject({ code: 'NOT_A_MEMBER' })
    expect(errorOf(await raw('conversations.update', { conversationId: c.id, name: 'Back' }))).toMatchObject({ code: 'NOT_A_MEMBER' })
    expect(errorOf(await raw('messages.send', { conversationId: c.id, body: 'hello?' }))).toMatchObject({ code: 'REMOVED' })
  })
})
