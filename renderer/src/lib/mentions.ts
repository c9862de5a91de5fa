/**
 * Mentions in the composer: finding the `@name` being typed at the caret, the members it could mean, inserting the
 * chosen one, and which of the chosen ones are still in the text when it is sent.
 *
 * A mention is recorded when the person picks it from the list (never guessed from text that merely looks like one,
 * as in Signal and Slack): `@Bob` typed by hand notifies nobody, and deleting an inserted `@Bob` un-mentions Bob.
 */

export interface Mentionable {
  account: string
  displayName: string
}

/** A mention picked from the list: the name as inserted and whom it means. */
export interface PickedMention {
  account: string
  name: string
}

export interface MentionQuery {
  /** Index of the `@`. */
  start: number
  /** What follows the `@` up to the caret. */
  query: string
}

/** Beyond this, what follows an `@` is a sentence, not a name being typed. */
const MAX_QUERY = 40
/** The list shows at most this many members (a group can be large; typing narrows it). */
export const MAX_SUGGESTIONS = 8

/**
 * The `@query` the caret is in, or null. The `@` must start the text or follow a space or an opening bracket (so an
 * e-mail address is not a mention), and the query may hold spaces (names do) but not a line break.
 */
export function activeMention(text: string, caret: number): MentionQuery | null {
  const from = Math.max(0, caret - MAX_QUERY - 1)
  for (let i = caret - 1; i >= from; i--) {
    const c = text[i]!
    if (c === '\n') return null
    if (c !== '@') continue
    const before = i === 0 ? ' ' : text[i - 1]!
    if (!/[\s([{"'“‘]/u.test(before)) continue
    const query = text.slice(i + 1, caret)
    // A query that starts with a space is an `@` on its own ("meet @ 5"), not the start of a name.
    return /^\s/u.test(query) ? null : { start: i, query }
  }
  return null
}

function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase()
}

/**
 * Members whose name matches what was typed: the whole name or any of its words starts with it, ignoring case and
 * accents ("@zoe" finds Zoë). Names that start with it come first, then by name.
 */
export function suggestMentions(members: readonly Mentionable[], query: string): Mentionable[] {
  const q = fold(query)
  const ranked: Array<{ member: Mentionable; rank: number }> = []
  for (const member of members) {
    const name = fold(member.displayName)
    if (name.startsWith(q)) ranked.push({ member, rank: 0 })
    else if (name.split(/\s+/u).some((word) => word.startsWith(q))) ranked.push({ member, rank: 1 })
  }
  ranked.sort((a, b) => a.rank - b.rank || a.member.displayName.localeCompare(b.member.displayName) || a.member.account.localeCompare(b.member.account))
  return ranked.slice(0, MAX_SUGGESTIONS).map((r) => r.member)
}

/** The text with `@query` replaced by `@Name ` and the caret after it. */
export function insertMention(text: string, at: MentionQuery, name: string): { text: string; caret: number } {
  const inserted = `@${name} `
  const end = at.start + 1 + at.query.length
  // A space already after the query is reused rather than doubled.
  const rest = text.slice(end).startsWith(' ') ? text.slice(end + 1) : text.slice(end)
  return { text: text.slice(0, at.start) + inserted + rest, caret: at.start + inserted.length }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The accounts of picked mentions whose `@Name` is still in the text (as a whole name: `@Bob` is not in `@Bobby`),
 * once each, limited to `members` (someone removed since the pick cannot be mentioned).
 */
export function mentionsInText(text: string, picked: readonly PickedMention[], members: ReadonlySet<string>): string[] {
  const accounts: string[] = []
  for (const { account, name } of picked) {
    if (accounts.includes(account) || !members.has(account)) continue
    if (new RegExp(`@${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, 'u').test(text)) accounts.push(account)
  }
  return accounts
}
