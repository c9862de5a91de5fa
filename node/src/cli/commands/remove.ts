import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { resolveMember } from '../args.js'

export async function runRemove(ctx: Context, ref: string, accountRef: string): Promise<void> {
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const member = resolveMember(await session.call('conversations.members', { conversationId: conversation.id }), accountRef)
    await session.call('conversations.remove', { conversationId: conversation.id, account: member.account })
    ctx.print(
      `Removed ${member.displayName} from “${conversation.name}”. The conversation's keys were rotated: they cannot read what is sent from now on.`,
      { conversation: conversation.id, removed: member.account },
    )
  })
}
