import { deleteAsAdmin, deleteMessage } from '../../../../../crdt/src/index.js'
import { HearthError } from '../../../../common/errors.js'
import { actorOf } from '../../actor.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { targetShard } from './target.js'

/**
 * Delete for everyone: one of our messages, or, in a group where we are an admin, anyone's (docs/adr/0026). Either way
 * the message is marked deleted and its text's key dropped on every member that honours it. Someone else's message is
 * marked in our own subtree (nobody may write in another's); each member checks our role in its membership log.
 */
export async function planDelete(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'delete' }>): Promise<ChangePlan> {
  const row = await ctx.row(intent.target)
  if (row.deleted) throw new HearthError('NOT_FOUND', 'that message was already deleted')
  if (row.mine) {
    return { ...targetShard(ctx.rt, row), message: row.id, author: null, creates: false, forget: row, change: (doc, actor, onto) => deleteMessage(doc, actor, { id: row.id as never }, onto) }
  }
  if (ctx.rt.log.kind !== 'group') throw new HearthError('UNAUTHORIZED', 'in a direct chat you can only delete your own messages for everyone')
  if (ctx.rt.log.members.get(ctx.me)?.role !== 'admin') throw new HearthError('UNAUTHORIZED', "only an admin can delete someone else's message for everyone")
  const target = { author: actorOf(row.device), id: row.id as never }
  return { ...targetShard(ctx.rt, row), message: row.id, author: target.author, creates: false, forget: row, change: (doc, actor, onto) => deleteAsAdmin(doc, actor, { target }, onto) }
}
