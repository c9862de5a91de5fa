import { decodeInvite, type InviteCode } from '../../conversation/invite-code.js'
import type { ConversationId } from '../../ids.js'
import { UsageError } from '../args.js'
import type { Context } from '../context.js'
import { settleWithin, withSession } from '../context.js'
import { shortId, shortPeer } from '../format.js'

export async function runJoin(ctx: Context, code: string): Promise<void> {
  if (code.trim() === '') throw new UsageError('give the invite: the link you were sent (hearth://j/… or hearth://join/…)')
  let invite: InviteCode | undefined
  try {
    invite = decodeInvite(code)
  } catch {
    // The core decodes it again and reports what is wrong with it; here it only serves the progress line.
  }
  await withSession(ctx, async (session) => {
    if (invite !== undefined) ctx.note(`reaching ${shortPeer(invite.peerId)} to join “${invite.name}”…`)
    const joined = await session.call('conversations.join', { code })
    if (joined.joinState !== undefined) {
      // No admin answered directly: the request waits on the conversation's relays (docs/adr/0027).
      ctx.print(
        () =>
          joined.joinState === 'waiting'
            ? [
                `Asked to join “${joined.name}” through its relay: no one who can let you in is online right now.`,
                `You are let in the next time an admin is online while Hearth runs here (hearth start, or the app).`,
              ].join('\n')
            : `Could not join “${joined.name}”: ${joined.joinRefusal ?? 'ask the person who invited you for a new invite.'}`,
        joined,
      )
      return
    }
    if (session.local !== undefined && invite !== undefined) {
      // This process exits next: fetch the history now instead of leaving it to the next run.
      ctx.note('fetching the conversation history…')
      await settleWithin(session.local.opened.core.syncWith(invite.peerId, joined.id as ConversationId), 5_000)
      await session.local.opened.core.settle()
      await session.local.remember([{ peerId: invite.peerId, addresses: invite.addresses }])
    }
    const conversation = await session.call('conversations.get', { conversationId: joined.id })
    ctx.print(
      () =>
        [
          `Joined ${conversation.kind} “${conversation.name}” (${conversation.memberCount} members)`,
          `  id  ${conversation.id}`,
          `Read it with: hearth read ${shortId(conversation.id)}`,
        ].join('\n'),
      conversation,
    )
  })
}
