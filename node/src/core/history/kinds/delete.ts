import { deleteMessage } from '../../../../../crdt/src/index.js'
import { HearthError } from '../../../../common/errors.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { targetShard } from './target.js'

/** Delete for everyone: one of our messages, marked deleted and its text dropped on every member. */
export async function planDelete(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'delete' }>): Promise<ChangePlan> {
  const row = await ctx.row(intent.target)
  if (!row.mine) throw new HearthError('UNAUTHORIZED', 'you can only delete your own messages for everyone')
  if (row.deleted) throw new HearthError('NOT_FOUND', 'that message was already deleted')
  return { ...targetShard(ctx.rt, row), message: row.id, author: null, creates: false, forget: row, change: (doc, actor, onto) => deleteMessage(doc, actor, { id: row.id as never }, onto) }
}
