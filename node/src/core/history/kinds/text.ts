import { sendMessage, shardOf } from '../../../../../crdt/src/index.js'
import { HearthError } from '../../../../common/errors.js'
import { actorOf } from '../../actor.js'
import { newContentKey, sealText } from '../content-keys.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'

/** Distinct accounts to mention, each a member of the conversation (a new message and an edit alike). */
export function checkMentions(ctx: PlanContext, list: readonly string[]): string[] {
  const mentions = [...new Set(list)]
  for (const account of mentions) {
    if (!ctx.rt.log.members.has(account as never)) throw new HearthError('INVALID_INPUT', 'you can only mention members of this conversation')
  }
  return mentions
}

/** A new text message, perhaps answering another and mentioning members. */
export async function planText(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'text' }>): Promise<ChangePlan> {
  const replyTo = intent.replyTo === undefined ? undefined : await ctx.row(intent.replyTo)
  const mentions = checkMentions(ctx, intent.mentions ?? [])
  const id = ctx.newMessageId()
  const seq = ctx.ownMessages
  const hlc = ctx.now()
  // The text is sealed under a key of its own, kept outside the history: deleting forgets it (docs/adr/0020).
  const contentKey = newContentKey()
  const box = sealText(contentKey, ctx.rt.id, id, intent.body)
  return {
    epoch: ctx.rt.log.currentEpoch,
    shard: shardOf(seq),
    message: id,
    author: null,
    creates: true,
    contentKey,
    change: (doc, actor, onto) => {
      const reply = replyTo === undefined ? undefined : { author: actorOf(replyTo.device), id: replyTo.id as never }
      return sendMessage(doc, actor, { id: id as never, body: '', box, hlc, seq, replyTo: reply, mentions }, onto)
    },
  }
}
