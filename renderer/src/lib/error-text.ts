/**
 * What the person reads when something fails: one place that turns the core's errors (stable codes, messages written
 * for logs: "not a multiaddr: …", "already a member") into plain words that say what happened and what to do next,
 * and names the form field the error is about so the form can show it there (aria-invalid, aria-describedby).
 * A message the core already writes for people passes through as it is; anything unknown keeps the core's words,
 * made to read as a sentence, rather than hiding what went wrong.
 */
import type { ErrorCode, HearthError } from '../../../node/common/errors.js'
import { toHearthError } from '../api/transport.js'

/** The fields an error can belong to; a form shows an error next to its field when the field is one of its own. */
export type ErrorField = 'relay' | 'displayName' | 'conversationName' | 'invite' | 'passphrase' | 'recoveryPhrase' | 'message' | 'linkCode'

export interface PersonError {
  text: string
  /** The field the error is about, or null when it is about the whole action. */
  field: ErrorField | null
}

interface Rule {
  code: ErrorCode
  /** Tested against the core's message; absent: every error with this code. */
  match?: RegExp
  text: string | ((match: RegExpExecArray) => string)
  field?: ErrorField
}

const RELAY_EXAMPLE = '/dns4/relay.example.org/tcp/443/wss/p2p/12D3KooW…'

/** First match wins: the specific messages of a code before the code's general words. */
const RULES: Rule[] = [
  // Unlocking and onboarding.
  { code: 'WRONG_PASSPHRASE', text: 'That passphrase is not right.', field: 'passphrase' },
  { code: 'INVALID_INPUT', match: /^(a passphrase is needed|passphrase must not be empty)/, text: 'Type your passphrase.', field: 'passphrase' },
  {
    code: 'INVALID_RECOVERY_PHRASE',
    match: /^"(.*)" is not a recovery phrase word/,
    text: (m) => `“${m[1]}” is not one of the recovery phrase words. Check its spelling against your written copy.`,
    field: 'recoveryPhrase',
  },
  {
    code: 'INVALID_RECOVERY_PHRASE',
    match: /^a recovery phrase has (\d+) words, this one has (\d+)/,
    text: (m) => `A recovery phrase has ${m[1]} words; this one has ${m[2]}. Check that none is missing or doubled.`,
    field: 'recoveryPhrase',
  },
  {
    code: 'INVALID_RECOVERY_PHRASE',
    text: 'These words are not a recovery phrase: a word is wrong or out of order. Compare them with your written copy, in order.',
    field: 'recoveryPhrase',
  },
  { code: 'IDENTITY_EXISTS', text: 'This Hearth already has an identity. Unlock it with its passphrase instead of making a new one.' },
  { code: 'NOT_RUNNING', text: 'Hearth is not running. Start it again and reopen this window.' },

  // Settings: relays and the display name.
  {
    code: 'INVALID_INPUT',
    match: /^not a (relay PeerId or )?multiaddr/,
    text: `That is not a relay address. A relay address looks like ${RELAY_EXAMPLE}: copy it whole from whoever runs the relay.`,
    field: 'relay',
  },
  {
    code: 'INVALID_INPUT',
    match: /^relay (address must end with|multiaddr needs) \/p2p\//,
    text: `This address lacks the relay’s id at the end (/p2p/12D3KooW…). Copy the whole address, including its end.`,
    field: 'relay',
  },
  { code: 'INVALID_INPUT', match: /^not a relay PeerId/, text: 'The id at the end of this address (after /p2p/) is not valid. Copy the whole address again.', field: 'relay' },
  { code: 'INVALID_INPUT', match: /^at most (\d+) relays/, text: (m) => `You can use at most ${m[1]} relays. Remove one before adding another.`, field: 'relay' },
  { code: 'INVALID_INPUT', match: /^display name must not contain/, text: 'A name cannot contain control characters or text-direction marks. Type it again by hand.', field: 'displayName' },
  { code: 'INVALID_INPUT', match: /^display name|displayName/, text: 'A name needs 1 to 64 characters.', field: 'displayName' },

  // Conversations and invites.
  { code: 'INVALID_INPUT', match: /^conversation name must be/, text: 'Give it a name of 1 to 100 characters.', field: 'conversationName' },
  { code: 'TOO_LARGE', match: /conversation name is too long/, text: 'That name is too long to fit in an invite. Try a shorter one.', field: 'conversationName' },
  { code: 'INVALID_INPUT', match: /^invalid parameters for conversations\.create/, text: 'Give it a name of 1 to 100 characters.', field: 'conversationName' },
  { code: 'INVALID_INPUT', match: /^already in that conversation/, text: 'You are already in this conversation: it is in your list.', field: 'invite' },
  { code: 'INVALID_INPUT', match: /^(they are )?already a member/, text: 'They are already in this conversation.' },
  { code: 'INVALID_INPUT', match: /^a conversation needs an admin/, text: 'A conversation always needs an admin: make someone else admin first, then step down.' },
  { code: 'INVITE_INVALID', text: 'This is not a complete Hearth invite. Paste the whole link, or ask for it to be sent again.', field: 'invite' },
  { code: 'INVITE_EXPIRED', text: 'This invite has expired. Ask the person who invited you for a new one.', field: 'invite' },
  { code: 'INVITE_REVOKED', text: 'This invite was withdrawn by the person who made it. Ask them for a new one.', field: 'invite' },
  { code: 'INVITE_USED', text: 'This invite was already used: an invite for one person works once. Ask for a new one.', field: 'invite' },
  { code: 'NOT_AN_ADMIN', text: 'Only an admin of this conversation can do that. Ask one of its admins.' },
  { code: 'REMOVED', text: 'You were removed from this conversation. Only one of its admins can add you back.' },
  { code: 'NOT_A_MEMBER', match: /cannot write in this conversation yet/, text: 'This device is not in the conversation yet: it can write once the others have let it in.' },
  { code: 'NOT_A_MEMBER', text: 'You are not in this conversation any more. You can still read what was said before.' },
  { code: 'NOT_FOUND', match: /^no such conversation/, text: 'This conversation is no longer on this device.' },

  // Messages.
  { code: 'INVALID_INPUT', match: /^message is empty/, text: 'Write something first.', field: 'message' },
  {
    code: 'TOO_LARGE',
    match: /^message is (\d+) (characters|bytes); the limit is (\d+)/,
    text: (m) => `This message is ${Number(m[1]).toLocaleString('en-US')} ${m[2]}, over the limit of ${Number(m[3]).toLocaleString('en-US')}. Shorten it, or send it in several parts.`,
    field: 'message',
  },
  { code: 'TOO_LARGE', match: /^message is/, text: 'This message is too long to send. Shorten it, or send it in several parts.', field: 'message' },
  { code: 'INVALID_INPUT', match: /^you can only mention members/, text: 'You can only mention people who are in this conversation.', field: 'message' },

  // Linking a device (the pairing writes its messages for people, without a full stop: see linkFailureText).
  { code: 'LINK_INVALID', match: /^This /, text: (m) => sentence(m.input), field: 'linkCode' },
  { code: 'LINK_INVALID', match: /too many/i, text: 'The code was tried wrongly too many times. Show a new code on the new device.', field: 'linkCode' },
  { code: 'LINK_INVALID', text: 'That code is wrong or has expired. Check it against the one on the new device, or show a new one there.', field: 'linkCode' },
  { code: 'LINK_EXPIRED', text: 'This link code has expired. Show a new one on the new device.', field: 'linkCode' },
  { code: 'LINK_CANCELLED', match: /other device/, text: 'The other device cancelled. Nothing was shared.' },
  { code: 'LINK_CANCELLED', text: 'Linking was cancelled. Nothing was shared.' },
  { code: 'INVALID_INPUT', match: /^This link code was made on this device/, text: 'This code was made on this device. Type it on your other device instead.', field: 'linkCode' },
  { code: 'INVALID_INPUT', match: /^another device is being linked/, text: 'Another device is being linked already. Finish or cancel that first.' },
  { code: 'UNREACHABLE', match: /new device could not be reached/, text: 'The new device could not be reached. Check both are on the same network or online, then try again.', field: 'linkCode' },

  // Reaching others.
  { code: 'TIMEOUT', match: /\bcore\b/, text: 'Hearth did not answer in time. Try again.' },
  { code: 'TIMEOUT', text: 'The other device took too long to answer. Check that it is on and nearby, then try again.' },
  { code: 'RATE_LIMITED', text: 'Too many requests at once. Wait a little, then try again.' },
]

/** Codes whose messages are for logs only: say what to do instead of showing them. */
const INSIDE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INTERNAL', 'CORRUPT_DATA', 'MALFORMED', 'PROTOCOL_ERROR', 'DECRYPT_FAILED', 'BAD_SIGNATURE'])

export function describeError(err: unknown): PersonError {
  const error: HearthError = toHearthError(err)
  for (const rule of RULES) {
    if (rule.code !== error.code) continue
    const match = rule.match === undefined ? ([error.message] as unknown as RegExpExecArray) : rule.match.exec(error.message)
    if (match === null) continue
    // A code's general words give way to a sentence the core already wrote for people (the core knows more).
    if (rule.match === undefined && isSentence(error.message)) return { text: error.message, field: rule.field ?? null }
    return { text: typeof rule.text === 'string' ? rule.text : rule.text(match), field: rule.field ?? null }
  }
  if (INSIDE.has(error.code)) {
    if (isSentence(error.message)) return { text: error.message, field: null }
    return { text: 'Something went wrong inside Hearth. Try again; if it keeps happening, restart Hearth.', field: null }
  }
  return { text: sentence(error.message), field: null }
}

/** The text to show for a failed call. */
export function errorText(err: unknown): string {
  return describeError(err).text
}

/** The core's messages for people start with a capital letter and end with a full stop; its log lines do not. */
function isSentence(text: string): boolean {
  return /^[A-Z“"].*[.!?]$/s.test(text.trim())
}

/** "you can only edit your own messages" → "You can only edit your own messages." */
function sentence(text: string): string {
  const trimmed = text.trim()
  if (trimmed.length === 0) return 'That did not work. Try again.'
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1)
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`
}

/**
 * The words of a failed link as an event carries them (the pairing's messages, for people but without a full stop):
 * a sentence, with what to do next when the message does not say.
 */
export function linkFailureText(message: string | undefined): string {
  if (message === undefined || message.trim().length === 0) return 'Linking did not finish. Try again.'
  const said = sentence(message)
  if (/cancel|show a new one|try again|check /i.test(said)) return said
  return `${said} Try again.`
}
