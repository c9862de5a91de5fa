import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { TestCore } from './cores.js'

/** alice creates a group and admits each of the others with a single-use invite; waits until all see everyone. */
export async function makeGroup(admin: TestCore, others: TestCore[], name = 'Family'): Promise<ConversationId> {
  const group = await admin.core.createConversation({ kind: 'group', name })
  const id = group.id as ConversationId
  for (const other of others) {
    const invite = await admin.core.createInvite(id, { singleUse: true })
    await other.core.join(invite.code)
  }
  const size = others.length + 1
  for (const c of [admin, ...others]) await waitFor(() => c.core.members(id).length === size, { timeoutMs: 20_000 })
  return id
}

export async function bodies(c: TestCore, id: ConversationId, limit = 500): Promise<string[]> {
  return (await c.core.page(id, { limit })).messages.map((m) => `${m.authorName}: ${m.body}`)
}

export async function waitForCount(c: TestCore, id: ConversationId, n: number, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await c.core.page(id, { limit: 500 })).messages.length >= n, {
    timeoutMs,
    message: `${c.name} to hold ${n} messages`,
  })
}
