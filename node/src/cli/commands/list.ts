import type { Context } from '../context.js'
import { withSession } from '../context.js'
import { formatConversations } from '../format.js'

export async function runList(ctx: Context): Promise<void> {
  await withSession(ctx, async (session) => {
    const list = await session.call('conversations.list')
    ctx.print(() => formatConversations(list, ctx.now()), list)
  })
}
