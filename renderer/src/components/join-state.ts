import type { ConversationSummary } from '../../../node/src/api/types.js'

/** What the conversation list says under a join that is not finished (ADR 0027), or null for a conversation we are in. */
export function joinStateText(c: Pick<ConversationSummary, 'joinState' | 'joinRefusal'>): string | null {
  if (c.joinState === 'waiting') return 'Waiting for the group to let you in (asked through the relay)'
  if (c.joinState === 'refused') return c.joinRefusal ?? 'You could not join: ask the person who invited you for a new invite.'
  return null
}
