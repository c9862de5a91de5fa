import { editMessage } from '../../../../../crdt/src/index.js'
import { HearthError } from '../../../../common/errors.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { sealText } from '../content-keys.js'
import { targetShard } from './target.js'
import { checkMentions } from './text.js'

/**
 * A new text for one of our messages. Only its author can edit a message: the change is written in our own subtree of
 * the document, and every member's authorship check refuses a change anywhere else, whatever bytes arrive.
 */
export async function planEdit(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'edit' }>): Promise<ChangePlan> {
  const row = await ctx.row(intent.target)
  if (!row.mine) throw new HearthError('UNAUTHORIZED', 'you can only edit your own messages')
  if (row.deleted) throw new HearthError('NOT_FOUND', 'that message was deleted')
  // Given, they replace the message's mentions (the new text may name others); absent, the mentions stay.
  const mentions = intent.mentions === undefined ? undefined : checkMentions(ctx, intent.mentions)
  const hlc = ctx.now()
  // Sealed with the message's own key, like the original; a message from before keys existed is edited in the clear.
  const key = await ctx.contentKey(row.id)
  const box = key === undefined ? undefined : sealText(key, ctx.rt.id, row.id, intent.body)
  const input = { ...(box === undefined ? { id: row.id as never, body: intent.body, hlc } : { id: row.id as never, body: '', box, hlc }), mentions }
  return { ...targetShard(ctx.rt, row), message: row.id, author: null, creates: false, change: (doc, actor, onto) => editMessage(doc, actor, input, onto) }
}
