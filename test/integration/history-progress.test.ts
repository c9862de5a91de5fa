/**
 * How far a conversation's history has arrived, with real cores: a device linked to an account with a few hundred
 * messages is told how much is still coming while it arrives, and nothing once it is all there; envelopes whose
 * sender's keys are missing read as waiting, not as progress that never ends. history/history-progress.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { HistoryProgressView } from '../../node/src/api/types.js'
import { HISTORY_PROGRESS } from '../../node/src/core/history/history-progress.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { StreamState } from '../../node/src/store/core-store.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { familyOfTwo, link } from '../helpers/link-devices.js'

let cores: TestCore[] = []
const tickMs = HISTORY_PROGRESS.tickMs

beforeEach(() => {
  // Cores on one machine move a few hundred messages faster than the progress is looked at: look often enough to see
  // it in between.
  HISTORY_PROGRESS.tickMs = 20
})

afterEach(async () => {
  HISTORY_PROGRESS.tickMs = tickMs
  await stopAll(cores)
  cores = []
})

const MESSAGES = 300

async function count(c: TestCore, id: ConversationId): Promise<number> {
  let n = 0
  let before: string | undefined
  for (;;) {
    const page = await c.core.page(id, { limit: 200, ...(before === undefined ? {} : { before }) })
    n += page.messages.length
    if (page.nextBefore === null) return n
    before = page.nextBefore
  }
}

describe('history progress', () => {
  it('a linked device is told how much history is still coming, and nothing once it all arrived', async () => {
    const { alice, bob, id } = await familyOfTwo(cores)
    for (let i = 0; i < MESSAGES / 2; i++) {
      await alice.core.send(id, `alice ${i}`)
      await bob.core.send(id, `bob ${i}`)
    }
    await waitFor(async () => (await count(alice, id)) === MESSAGES, { message: 'alice holds everything', timeoutMs: 60_000 })

    const { linked } = await link(alice.core)
    const laptop = await startCore('alice-laptop', { identity: linked.identity })
    cores.push(laptop)
    const seen: HistoryProgressView[] = []
    laptop.core.events.on('conversation.updated', ({ conversation }) => {
      if (conversation.id === id && conversation.history !== undefined) seen.push(conversation.history)
    })
    await connect(laptop, alice)
    await connect(laptop, bob)
    await laptop.core.devices.importLinked(linked.conversations, linked.from!.peerId, linked.pending)

    await waitFor(async () => (await count(laptop, id)) === MESSAGES, { message: 'the whole history on the laptop', timeoutMs: 60_000 })
    // Announced without being asked: the field goes once caught up.
    await waitFor(() => laptop.core.getConversation(id).history === undefined, { message: 'caught up', timeoutMs: 10_000 })
    expect(laptop.core.listConversations().find((c) => c.id === id)?.history).toBeUndefined()
    // While it arrived, the laptop knew there was more than it had read (members' vectors and receipts say so).
    const behind = seen.filter((h) => h.have < h.total)
    expect(behind.length).toBeGreaterThan(0)
    for (const h of behind) {
      expect(h.have).toBeGreaterThanOrEqual(0)
      // Envelopes: every message, plus a few control envelopes (keys, membership operations).
      expect(h.total).toBeLessThanOrEqual(MESSAGES + 20)
    }
  })

  it('envelopes whose sender’s keys are missing read as waiting for that person, and stop once the keys are there', async () => {
    const { alice, bob, id } = await familyOfTwo(cores)
    for (let i = 0; i < 5; i++) await bob.core.send(id, `bob ${i}`)
    await waitFor(async () => (await count(alice, id)) === 5)
    // Alice's device holds bob's envelopes; as if it had never been given bob's chain (a device restored while
    // nobody who holds it is online), they cannot be read.
    const rt = (alice.core as unknown as { kernel: { conversations: Map<ConversationId, { streams: Map<string, StreamState> }> } }).kernel.conversations.get(id)!
    const key = [...rt.streams.keys()].find((k) => k.endsWith(`/${bob.identity.deviceId}`))!
    const stream = rt.streams.get(key)!
    const saved = { ...stream }
    const seen: HistoryProgressView[] = []
    alice.core.events.on('conversation.updated', ({ conversation }) => {
      if (conversation.id === id && conversation.history !== undefined) seen.push(conversation.history)
    })
    await bob.stop()
    Object.assign(stream, { done: 0, chain: null })

    await waitFor(() => alice.core.getConversation(id).history?.waiting !== undefined, { message: 'waiting shown', timeoutMs: 15_000 })
    const history = alice.core.getConversation(id).history!
    expect(history.waiting).toBe(saved.have)
    expect(history.waitingFor).toEqual([{ account: bob.identity.account, displayName: 'bob' }])
    // No percentage that would never move.
    expect(history.have).toBe(history.total)
    // Announced, not only there when asked.
    await waitFor(() => seen.some((h) => h.waiting === saved.have), { message: 'waiting announced', timeoutMs: 2_000 })

    Object.assign(stream, saved)
    await waitFor(() => alice.core.getConversation(id).history === undefined, { message: 'nothing waits once the keys are there', timeoutMs: 5_000 })
  })
})
