import { HearthError } from '../../../common/errors.js'
import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { formatMessage } from '../format.js'

/** Streams new messages until Ctrl-C (or until the daemon it follows stops). */
export async function runFollow(ctx: Context, ref: string | undefined): Promise<void> {
  await withSession(ctx, async (session) => {
    const only = ref === undefined ? undefined : await findConversation(session, ref)
    const names = new Map((await session.call('conversations.list')).map((c) => [c.id, c.name]))
    session.on('conversation.updated', ({ conversation }) => names.set(conversation.id, conversation.name))
    session.on('message.added', ({ conversation, message }) => {
      if (only !== undefined && conversation !== only.id) return
      // One JSON object per line with --json, so a script can consume the stream as it comes.
      if (ctx.json) process.stdout.write(JSON.stringify({ conversation, message }) + '\n')
      else {
        const name = only === undefined ? (names.get(conversation) ?? conversation.slice(0, 8)) : undefined
        process.stdout.write(formatMessage(message, ctx.now(), name === undefined ? {} : { conversationName: name }) + '\n')
      }
    })
    ctx.note(`following ${only === undefined ? 'all conversations' : `“${only.name}”`} (Ctrl-C to stop)`)
    await new Promise<void>((resolve, reject) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
      session.onDisconnect(() => reject(new HearthError('NOT_RUNNING', 'the Hearth daemon stopped')))
    })
  })
}
