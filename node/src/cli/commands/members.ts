import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { formatMembers } from '../format.js'

export async function runMembers(ctx: Context, ref: string): Promise<void> {
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const members = await session.call('conversations.members', { conversationId: conversation.id })
    ctx.print(() => formatMembers(members), members)
  })
}
