/**
 * Turning what a person types into API values: durations, and conversation / member references that may be a full
 * id, a unique id prefix or a name.
 */
import { HearthError, type ErrorCode } from '../../common/errors.js'
import type { ConversationSummary, MemberView } from '../api/types.js'
import { shortId } from './format.js'

/** A mistake in how the command was typed: exit code 2, like commander's own usage errors. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A failure whose fitting advice depends on the situation, not just on its code: main prints `hint` instead. */
export class HintedError extends HearthError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(code, message)
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 24 * 3600_000, w: 7 * 24 * 3600_000 }

/** `90s`, `30m`, `1h`, `7d`, `2w`, or `never` (0: the invite does not expire). */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase()
  if (trimmed === 'never') return 0
  const match = /^(\d{1,6})\s*([smhdw])$/.exec(trimmed)
  if (!match) throw new UsageError(`invalid duration "${text}": use a number and a unit, like 30m, 1h, 7d, 2w (or "never")`)
  const ms = Number(match[1]) * UNITS[match[2]!]!
  if (ms === 0) throw new UsageError('duration must be more than zero (or "never")')
  return ms
}

export function parseLimit(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new UsageError(`--limit must be a whole number from 1 to 500, not "${text}"`)
  return n
}

const MIN_PREFIX = 4

/** Full id, unique id prefix (4+ hex chars), or exact name (case-insensitive if that is unique). */
export function resolveConversation(list: ConversationSummary[], ref: string): ConversationSummary {
  const text = ref.trim()
  const exact = list.find((c) => c.id === text)
  if (exact) return exact
  if (/^[0-9a-f]+$/.test(text) && text.length >= MIN_PREFIX) {
    const byPrefix = list.filter((c) => c.id.startsWith(text))
    if (byPrefix.length === 1) return byPrefix[0]!
    if (byPrefix.length > 1) throw ambiguous(text, byPrefix)
  }
  for (const same of [(c: ConversationSummary) => c.name === text, (c: ConversationSummary) => c.name.toLowerCase() === text.toLowerCase()]) {
    const byName = list.filter(same)
    if (byName.length === 1) return byName[0]!
    if (byName.length > 1) throw ambiguous(text, byName)
  }
  throw new HearthError('NOT_FOUND', `no conversation matches "${text}" (\`hearth list\` shows them)`)
}

function ambiguous(text: string, matches: ConversationSummary[]): HearthError {
  const names = matches.map((c) => `${shortId(c.id)} ${c.name}`).join(', ')
  return new HearthError('INVALID_INPUT', `"${text}" matches several conversations (${names}): use more of the id`)
}

/** Full account key, unique prefix (8+ hex chars, spaces from a fingerprint allowed), or exact display name. */
export function resolveMember<M extends Pick<MemberView, 'account' | 'displayName'>>(members: M[], ref: string): M {
  const text = ref.trim()
  const hex = text.replace(/\s+/g, '').toLowerCase()
  if (/^[0-9a-f]{8,64}$/.test(hex)) {
    const byPrefix = members.filter((m) => m.account.startsWith(hex))
    if (byPrefix.length === 1) return byPrefix[0]!
    if (byPrefix.length > 1) throw new HearthError('INVALID_INPUT', `"${text}" matches several members: use more of the account`)
  }
  const byName = members.filter((m) => m.displayName === text)
  if (byName.length === 1) return byName[0]!
  if (byName.length > 1) throw new HearthError('INVALID_INPUT', `several members are called "${text}": give their account instead`)
  throw new HearthError('NOT_FOUND', `no member matches "${text}" (\`hearth members <conversation>\` lists them)`)
}
