import { describe, expect, it } from 'vitest'
import type { ConversationId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { Logger } from '../logger.js'
import { SerialQueue } from '../serial-queue.js'
import type { Arrival } from './ingest.js'
import { Inbox } from './inbox.js'

function setup() {
  const conversations = new Map<ConversationId, ConversationRuntime>()
  for (const id of ['a', 'b'] as ConversationId[]) conversations.set(id, { id } as ConversationRuntime)
  const kernel = { conversations, queue: new SerialQueue(), log: Logger.silent() } as unknown as Kernel
  const calls: Array<{ id: string; items: Arrival[] }> = []
  const inbox = new Inbox(kernel, async (rt, items) => {
    calls.push({ id: rt.id, items })
  })
  return { inbox, calls }
}
const bytes = (n: number) => new Uint8Array([n])
const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('Inbox', () => {
  it('ingests what arrives together in one call per conversation, in arrival order', async () => {
    const { inbox, calls } = setup()
    inbox.enqueue('a' as ConversationId, bytes(1), 'p1')
    inbox.enqueue('b' as ConversationId, bytes(2), 'p2')
    inbox.enqueue('a' as ConversationId, bytes(3), null)
    expect(calls).toEqual([])
    await tick()
    await tick()
    expect(calls).toEqual([
      { id: 'a', items: [{ bytes: bytes(1), from: 'p1' }, { bytes: bytes(3), from: null }] },
      { id: 'b', items: [{ bytes: bytes(2), from: 'p2' }] },
    ])
  })

  it('drops what arrives for a conversation it does not hold, and starts a new batch after a flush', async () => {
    const { inbox, calls } = setup()
    inbox.enqueue('gone' as ConversationId, bytes(9), 'p')
    await inbox.flush()
    expect(calls).toEqual([])
    inbox.enqueue('a' as ConversationId, bytes(4), 'p')
    await inbox.flush()
    expect(calls).toEqual([{ id: 'a', items: [{ bytes: bytes(4), from: 'p' }] }])
  })
})
