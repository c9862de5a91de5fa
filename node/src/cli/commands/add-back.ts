import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { resolveMember } from '../args.js'

export async function runAddBack(ctx: Context, ref: string, accountRef: string): Promise<void> {
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const former = resolveMember(await session.call('conversations.removed', { conversationId: conversation.id }), accountRef)
    await session.call('conversations.addBack', { conversationId: conversation.id, account: former.account })
    ctx.print(
      `Added ${former.displayName} back to “${conversation.name}”. They can read what is sent from now on, not what was said while they were out.`,
      { conversation: conversation.id, added: former.account },
    )
  })
}
