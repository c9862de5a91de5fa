import { setReaction } from '../../../../../crdt/src/index.js'
import { actorOf } from '../../actor.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { targetShard } from './target.js'

/** Our one reaction to a message (null takes it away); a new one replaces the old. */
export async function planReaction(ctx: PlanContext, intent: Extract<MessageIntent, { kind: 'reaction' }>): Promise<ChangePlan> {
  const row = await ctx.row(intent.target)
  const target = { author: actorOf(row.device), id: row.id as never }
  return { ...targetShard(ctx.rt, row), message: row.id, author: target.author, creates: false, change: (doc, actor, onto) => setReaction(doc, actor, { target, emoji: intent.emoji }, onto) }
}
