import type { Context } from '../context.js'
import { findConversation, noteOfflineInvite, withSession } from '../context.js'
import { Limits } from '../../../common/wire/limits.js'
import { UsageError, parseDuration } from '../args.js'
import { expiryText, inviteLinks } from '../format.js'

export interface InviteOptions {
  expires?: string
  multi?: boolean
}

export async function runInvite(ctx: Context, ref: string, options: InviteOptions): Promise<void> {
  const expiresInMs = options.expires === undefined ? undefined : parseDuration(options.expires)
  if (expiresInMs !== undefined && expiresInMs > Limits.maxInviteLifetimeMs) {
    throw new UsageError('an invite lasts at most 365 days (--expires 365d), or use --expires never')
  }
  await withSession(ctx, async (session) => {
    const conversation = await findConversation(session, ref)
    const invite = await session.call('conversations.invite', {
      conversationId: conversation.id,
      singleUse: options.multi !== true,
      ...(expiresInMs === undefined ? {} : { expiresInMs }),
    })
    const expiry = expiryText(invite.expiresAt, ctx.now())
    ctx.print(
      () =>
        [
          `Invite to “${conversation.name}” (${options.multi === true ? 'reusable' : 'single use'}, ${expiry})`,
          `  revoke with the invite id ${invite.inviteId}`,
          '',
          ...inviteLinks(invite),
        ].join('\n'),
      { conversation: conversation.id, ...invite },
    )
    noteOfflineInvite(ctx, session)
  })
}
