/**
 * `hearth://` deep links. The OS hands them to us from anywhere (a web page, a chat in another app, a crafted
 * shortcut), so they are untrusted input: only the one shape we issue is accepted, and what reaches the renderer is a
 * link rebuilt from the validated parts, never the raw string.
 *
 * The code itself is checked again, fully, by the core when the person accepts the invite; here we only make sure the
 * link is an invite link of sane size made of base64url characters.
 */
import { Limits } from '../../node/common/wire/limits.js'

export const DEEP_LINK_SCHEME = 'hearth'
/** Same as INVITE_PREFIX in node/src/conversation/invite-code.ts (a test checks they agree). */
export const JOIN_PREFIX = `${DEEP_LINK_SCHEME}://join/`
/** Same as SHORT_INVITE_PREFIX in node/src/conversation/short-invite.ts (a test checks they agree). */
export const SHORT_JOIN_PREFIX = `${DEEP_LINK_SCHEME}://j/`

export interface InviteLink {
  kind: 'join'
  /** The normalized link, `hearth://join/<code>` or `hearth://j/<code>@<locator>`, as `conversations.join` accepts it. */
  url: string
}

// An invite's CBOR carries at least a 32-byte secret, a 32-byte root and ids: far over 64 base64url characters.
const MIN_CODE_CHARS = 64
const MAX_LINK_CHARS = Limits.maxInviteChars
// Scheme and host are case-insensitive in URLs (some launchers lowercase them); the code is case-sensitive base64url.
// A trailing slash is tolerated because some browsers and Windows shells append one.
const JOIN_LINK = /^hearth:\/\/join\/([A-Za-z0-9_-]+)\/?$/i
// A short invite: 20 Crockford base32 symbols (dashes allowed for reading), `@`, a locator of the same alphabet with
// its own check symbol (at most a 96-byte multiaddr: 155 symbols).
const SHORT_JOIN_LINK = /^hearth:\/\/j\/([0-9A-Za-z-]{20,40}@[0-9A-Za-z-]{2,200})\/?$/i

/** The invite link in `raw`, or null for anything else (other hosts, queries, fragments, credentials, junk). */
export function parseDeepLink(raw: unknown): InviteLink | null {
  if (typeof raw !== 'string') return null
  const text = raw.trim()
  if (text.length === 0 || text.length > MAX_LINK_CHARS + 1) return null
  const short = SHORT_JOIN_LINK.exec(text)?.[1]
  if (short !== undefined) return { kind: 'join', url: SHORT_JOIN_PREFIX + short }
  const match = JOIN_LINK.exec(text)
  const code = match?.[1]
  if (code === undefined || code.length < MIN_CODE_CHARS) return null
  const url = JOIN_PREFIX + code
  if (url.length > MAX_LINK_CHARS) return null
  return { kind: 'join', url }
}

/**
 * The deep link in a command line (Windows and Linux start us, or a second instance, with the link as an argument).
 * Only an argument that is itself a `hearth:` link is considered: the other arguments are Chromium's and ours.
 */
export function deepLinkFromArgv(argv: readonly string[]): InviteLink | null {
  for (const arg of argv) {
    if (arg.slice(0, DEEP_LINK_SCHEME.length + 1).toLowerCase() !== `${DEEP_LINK_SCHEME}:`) continue
    const link = parseDeepLink(arg)
    if (link !== null) return link
  }
  return null
}
