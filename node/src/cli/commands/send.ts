import { drop } from '../../../common/errors.js'
import type { MessageView } from '../../api/types.js'
import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { UsageError } from '../args.js'
import { stateMark } from '../format.js'
import { readStdin } from '../prompt.js'

/** How long `send` waits for the message to leave before exiting; it is durable either way. */
const LOCAL_WAIT_MS = 3_000
const DAEMON_WAIT_MS = 1_000
const RETRY_EVERY_MS = 400

export async function runSend(ctx: Context, ref: string, words: string[]): Promise<void> {
  const body = words.length === 1 && words[0] === '-' ? (await readStdin()).replace(/\r?\n$/, '') : words.join(' ')
  if (body.trim().length === 0) throw new UsageError('nothing to send: give the text, or - to read it from stdin')
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    // Updates can race the send's own reply, so collect them by id from before the call.
    const updates = new Map<string, MessageView>()
    let wake = () => {}
    const off = session.on('message.updated', ({ message }) => {
      updates.set(message.id, message)
      wake()
    })
    let message = await session.call('messages.send', { conversationId: conversation.id, body })
    const local = session.local
    const deadline = Date.now() + (local ? LOCAL_WAIT_MS : DAEMON_WAIT_MS)
    let lastRetry = Date.now()
    while (Date.now() < deadline) {
      message = updates.get(message.id) ?? message
      if (message.state !== 'pending') break
      // In-process, peers connect during these seconds; re-publishing reaches them as soon as they subscribe.
      if (local !== undefined && local.opened.core.node.connectedPeers().length > 0 && Date.now() - lastRetry >= RETRY_EVERY_MS) {
        lastRetry = Date.now()
        drop(
          session.call('messages.retry', { conversationId: conversation.id, messageId: message.id }).then((m) => {
            if (m.state !== 'pending') updates.set(m.id, m)
          }),
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    off()
    message = updates.get(message.id) ?? message
    ctx.print(() => `${stateMark(message.state, message.failure)} to “${conversation.name}”`, message)
    if (message.state === 'pending') {
      ctx.note(
        local === undefined
          ? 'No member is reachable right now; the running daemon sends it when one connects.'
          : 'No member was reachable; it is saved and goes out the next time Hearth runs here while a member is online (`hearth start` keeps this device online).',
      )
    }
  })
}
