import { drop } from '../../../common/errors.js'
import type { MessageView } from '../../api/types.js'
import type { Context } from '../context.js'
import { findConversation, withSession } from '../context.js'
import { UsageError } from '../args.js'
import { readStdin } from '../prompt.js'
import type { Session } from '../session.js'

/**
 * How long `send` waits for the message to reach someone before it says where it is; it is saved either way. In
 * process, the remembered peers connect during these seconds; a daemon is usually connected already.
 */
const LOCAL_WAIT_MS = 3_000
const DAEMON_WAIT_MS = 2_000
const RETRY_EVERY_MS = 400

/**
 * Where the message is when `send` returns, for people and scripts alike: on a member's device (a receipt came
 * back), held by a relay for members who are offline, only saved on this device, or refused.
 */
export type SendState = 'delivered' | 'relayed' | 'saved' | 'failed'

export function sendState(message: MessageView): SendState {
  switch (message.state) {
    case 'delivered':
    case 'read':
      return 'delivered'
    case 'sent':
      return 'relayed'
    case 'pending':
      return 'saved'
    case 'failed':
      return 'failed'
  }
}

export async function runSend(ctx: Context, ref: string, words: string[]): Promise<void> {
  const body = words.length === 1 && words[0] === '-' ? (await readStdin()).replace(/\r?\n$/, '') : words.join(' ')
  if (body.trim().length === 0) throw new UsageError('nothing to send: give the text, or - to read it from stdin')
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const message = await sendAndSettle(session, conversation.id, body)
    const state = sendState(message)
    const name = `“${conversation.name}”`
    const daemon = session.mode === 'daemon'
    ctx.print(
      () => {
        switch (state) {
          case 'delivered':
            return message.state === 'read' ? `✓✓ Sent to ${name}: delivered, and already read.` : `✓✓ Sent to ${name}: delivered to a member's device.`
          case 'relayed':
            return `✓ Sent to ${name}: no member is online, so a relay holds it until one comes online.`
          case 'saved':
            return [
              `… Saved to ${name}, not sent yet: no member and no relay was reachable.`,
              daemon
                ? '  The running daemon sends it as soon as one is.'
                : '  It goes out the next time Hearth runs here while a member or relay is reachable (`hearth start` keeps this device online).',
            ].join('\n')
          case 'failed':
            return `✗ Not sent to ${name}: ${message.failure ?? 'it failed'}.`
        }
      },
      { state, conversation: { id: conversation.id, name: conversation.name }, message },
    )
    if (state === 'failed') process.exitCode = 1
  })
}

/**
 * Sends, then waits until the message reached a member's device, or a relay took it while no member is online, or the
 * time is up. Updates can race the send's own reply, so they are collected by id from before the call.
 */
async function sendAndSettle(session: Session, conversationId: string, body: string): Promise<MessageView> {
  const updates = new Map<string, MessageView>()
  let wake = () => {}
  const off = session.on('message.updated', ({ message }) => {
    updates.set(message.id, message)
    wake()
  })
  try {
    let message = await session.call('messages.send', { conversationId, body })
    const local = session.local
    const deadline = Date.now() + (local ? LOCAL_WAIT_MS : DAEMON_WAIT_MS)
    let lastRetry = Date.now()
    // A daemon is connected already: when no member's device is online and no relay is set, nothing will change soon.
    const membersOnline = await anotherDeviceOnline(session, conversationId)
    const relays = (await session.call('network.status')).relays.length
    // In process, the remembered peers are being dialled: once each was tried and none answered, nobody will take it.
    let triedPeers = false
    if (local !== undefined) drop(local.reachingPeers.then(() => (triedPeers = true)))
    while (Date.now() < deadline) {
      message = updates.get(message.id) ?? message
      const state = sendState(message)
      if (state === 'delivered' || state === 'failed') break
      // A relay has it: worth waiting for a receipt only if some member's device is online to send one.
      if (state === 'relayed' && !membersOnline) break
      if (state === 'saved' && relays === 0) {
        if (local === undefined ? !membersOnline : triedPeers && local.opened.core.node.connectedPeers().length === 0) break
      }
      // In-process, peers connect during these seconds; re-publishing reaches them as soon as they subscribe.
      if (local !== undefined && local.opened.core.node.connectedPeers().length > 0 && Date.now() - lastRetry >= RETRY_EVERY_MS) {
        lastRetry = Date.now()
        drop(
          session.call('messages.retry', { conversationId, messageId: message.id }).then((m) => {
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
    return updates.get(message.id) ?? message
  } finally {
    off()
  }
}

async function anotherDeviceOnline(session: Session, conversationId: string): Promise<boolean> {
  try {
    const members = await session.call('conversations.members', { conversationId })
    return members.some((m) => m.devices.some((d) => d.online) && !m.me)
  } catch {
    return true
  }
}
