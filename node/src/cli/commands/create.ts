import type { Context } from '../context.js'
import { noteOfflineInvite, withSession } from '../context.js'
import { UsageError } from '../args.js'
import { expiryText, inviteLinks } from '../format.js'

export interface CreateOptions {
  group?: string
  direct?: string
}

export async function runCreate(ctx: Context, options: CreateOptions): Promise<void> {
  if ((options.group === undefined) === (options.direct === undefined)) {
    throw new UsageError('give exactly one of --group <name> or --direct <name>')
  }
  const kind = options.group === undefined ? 'direct' : 'group'
  const name = (options.group ?? options.direct)!
  await withSession(ctx, async (session) => {
    const conversation = await session.call('conversations.create', { kind, name })
    const invite = await session.call('conversations.invite', { conversationId: conversation.id, singleUse: true })
    ctx.print(
      () =>
        [
          `Created ${kind} “${conversation.name}”`,
          `  id      ${conversation.id}`,
          `  invite  single use, ${expiryText(invite.expiresAt, ctx.now())} (another: hearth invite ${conversation.id.slice(0, 8)})`,
          '',
          ...inviteLinks(invite),
        ].join('\n'),
      { conversation, invite },
    )
    noteOfflineInvite(ctx, session)
  })
}
