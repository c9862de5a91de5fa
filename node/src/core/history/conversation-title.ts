import type { LogState } from '../../conversation/membership-state.js'
import type { AccountId } from '../../ids.js'

/**
 * The title a conversation is shown under. A group is called what its members named it. A direct chat is called
 * after the other person, on both sides, so neither sees a chat named after themselves: the name the creator typed
 * is what the creator expects to call the other person, and it is the invitee's own name on the invitee's screen.
 * The other person's name comes from the membership log, so it follows their renames; before they join (only the
 * creator is in the log) the name the creator typed stands in. A person removed from the chat keeps the last name
 * they had: the chat is still about them.
 */
export function conversationTitle(
  kind: 'direct' | 'group',
  typedName: string,
  log: Pick<LogState, 'members' | 'names'>,
  me: AccountId,
): string {
  if (kind !== 'direct') return typedName
  for (const account of log.members.keys()) if (account !== me) return log.names.get(account) ?? typedName
  let former: string | undefined
  for (const [account, name] of log.names) if (account !== me) former = name
  return former ?? typedName
}
