import type { ConversationSummary } from '../../api/types.js'
import type { ConversationId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Withdrawals } from '../equivocation.js'
import { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { ConversationPrefsStore } from './conversation-prefs.js'

/**
 * The read model with this person's preferences (mute, archive, pin) in every summary it builds, so every
 * `conversation.updated` event and every list carries them without the history code knowing they exist.
 */
export class ReadModelWithPrefs extends ReadModel {
  constructor(
    kernel: Kernel,
    withdrawals: Withdrawals,
    readMoved: (id: ConversationId) => void,
    private readonly prefs: ConversationPrefsStore,
  ) {
    super(kernel, withdrawals, readMoved)
  }

  override summary(rt: ConversationRuntime): ConversationSummary {
    const p = this.prefs.get(rt.id)
    return { ...super.summary(rt), mute: p.mute, archived: p.archived, pinnedAt: p.pinnedAt }
  }
}
