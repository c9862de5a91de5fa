import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'

/** `hearth leave`: this account leaves a group (the app's Leave group). The remaining admins rotate its keys. */
export async function runLeave(ctx: Context, ref: string): Promise<void> {
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    await session.call('conversations.leave', { conversationId: conversation.id })
    ctx.print(`You left “${conversation.name}”. Its history stays on this device; nothing new reaches you.`, { conversation: conversation.id, left: true })
  })
}
