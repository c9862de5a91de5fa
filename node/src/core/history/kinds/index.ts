import { planDelete } from './delete.js'
import { planEdit } from './edit.js'
import { planMedia } from './media.js'
import type { ChangePlan, MessageIntent, PlanContext } from './intent.js'
import { planReaction } from './reaction.js'
import { planText } from './text.js'

export type { ChangePlan, MessageIntent, PlanContext } from './intent.js'

/** The change a person's intent makes. A kind added to MessageIntent without a case here fails the build. */
export function planChange(ctx: PlanContext, intent: MessageIntent): Promise<ChangePlan> {
  switch (intent.kind) {
    case 'text':
      return planText(ctx, intent)
    case 'edit':
      return planEdit(ctx, intent)
    case 'delete':
      return planDelete(ctx, intent)
    case 'reaction':
      return planReaction(ctx, intent)
    case 'media':
      return planMedia(ctx, intent)
    default:
      return unknownKind(intent)
  }
}

function unknownKind(intent: never): never {
  throw new Error(`no plan for message kind ${JSON.stringify(intent)}`)
}
