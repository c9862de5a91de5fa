/**
 * A member who shares many conversations with one device catches up on all of them when they meet again, with no
 * anti-entropy round to rescue the ones a burst of syncs would have had refused (libp2p accepts 32 streams per
 * protocol and connection; the sync client opens at most 8 at once per peer); and anti-entropy over all of them stays
 * under the peer's sync rate limit (the client paces its requests).
 */
import { afterEach, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'

const COUNT = 40
let cores: TestCore[] = []

afterEach(async () => {
  await stopAll(cores)
  cores = []
})

it(`catches up on ${COUNT} conversations with one peer at once`, async () => {
  // No anti-entropy on either side: it would rescue what the burst lost (bob), and every second over 40 conversations
  // it would ask more than the sync rate limit allows (alice), which is a test of something else.
  const alice = await startCore('alice', { syncIntervalMs: 10 * 60_000 })
  let bob = await startCore('bob', { syncIntervalMs: 10 * 60_000 })
  cores.push(alice, bob)
  await connect(alice, bob)
  const ids: ConversationId[] = []
  for (let i = 0; i < COUNT; i++) {
    const c = await alice.core.createConversation({ kind: 'group', name: `Group ${i}` })
    ids.push(c.id as ConversationId)
    const code = (await alice.core.createInvite(c.id as ConversationId)).code
    // Joins are limited to 2 a second after a burst of 20 (JOIN_LIMITS); past the burst, keep under the rate rather
    // than be refused (and scored down for it).
    if (i >= 16) await new Promise((resolve) => setTimeout(resolve, 700))
    await bob.core.join(code)
  }
  await bob.stop()
  for (const id of ids) await alice.core.send(id, `while bob was away in ${id}`)

  bob = await bob.restart()
  cores.push(bob)
  await connect(bob, alice)
  const caughtUp = async () => {
    let n = 0
    for (const id of ids) if ((await bob.core.page(id, { limit: 5 })).messages.length === 1) n++
    return n
  }
  await waitFor(async () => (await caughtUp()) === COUNT, { timeoutMs: 60_000, message: 'every conversation caught up' }).catch(async () => {
    throw new Error(`only ${await caughtUp()} of ${COUNT} caught up`)
  })
  expect(await caughtUp()).toBe(COUNT)

  // Anti-entropy rounds back to back over every conversation: more requests than bob's sync limit takes at once
  // (20/s after a burst of 60). Paced, none is refused and alice is never scored down, let alone banned.
  const sync = (alice.core as unknown as { syncClient: { everyone(): void; idle(): Promise<void> } }).syncClient
  for (let round = 0; round < 4; round++) {
    sync.everyone()
    await new Promise((resolve) => setTimeout(resolve, 400))
    await sync.idle()
  }
  const penalties = bob.core.node.penalties!
  expect(penalties.counts()['rr-rate-limited'] ?? 0).toBe(0)
  expect(penalties.weight(alice.core.node.peerId.toString())).toBe(0)
}, 180_000)
