import type { Context } from '../context.js'
import { catchUp, findConversation, withSession } from '../context.js'
import { parseLimit } from '../args.js'
import { formatMessages, shortId } from '../format.js'

export interface ReadOptions {
  limit?: string
  before?: string
}

export async function runRead(ctx: Context, ref: string, options: ReadOptions): Promise<void> {
  const limit = options.limit === undefined ? 50 : parseLimit(options.limit)
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    await catchUp(session, conversation.id)
    const page = await session.call('messages.page', {
      conversationId: conversation.id,
      limit,
      ...(options.before === undefined ? {} : { before: options.before }),
    })
    // Showing the newest page is reading it: members see their messages as read, as they would in the app.
    const newest = page.messages.at(-1)
    if (options.before === undefined && newest !== undefined) {
      await session.call('messages.markRead', { conversationId: conversation.id, upTo: newest.orderKey })
    }
    ctx.print(() => {
      // Past the oldest message (or a cursor that names none): "no messages yet" would say the chat is empty.
      const lines = [options.before !== undefined && page.messages.length === 0 ? 'No older messages.' : formatMessages(page.messages, ctx.now())]
      if (page.nextBefore !== null) lines.push('', `(older: hearth read ${shortId(conversation.id)} --before ${page.nextBefore})`)
      return lines.join('\n')
    }, { conversation, ...page })
  })
}
