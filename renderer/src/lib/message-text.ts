/**
 * A message's text cut into what the bubble shows differently: plain text, web links and mentions. Messages are
 * never rendered as HTML: each piece becomes a text node, a link or a highlighted span.
 */

export type TextSegment =
  | { kind: 'text'; text: string }
  /** `href` is the normalised URL (http or https only); `text` is what was typed. */
  | { kind: 'link'; text: string; href: string }
  /** `me`: the mention names the person reading. */
  | { kind: 'mention'; text: string; me: boolean }

export interface MentionName {
  name: string
  me: boolean
}

// A candidate starts with the scheme at a word boundary ("xhttp://" is not a link) and runs to the next space or to
// a character that cannot be in a typed URL here; trailing punctuation is trimmed afterwards.
const LINK_CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '"', '*', '_'])
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' }

/** The web address a typed candidate stands for, or null (other schemes, no host, unparsable). */
export function safeLink(candidate: string): string | null {
  let url: URL
  try {
    url = new URL(candidate)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.hostname === '') return null
  return url.href
}

/** Drops sentence punctuation after a link, and a closing bracket that closes one opened before the link. */
function trimTrailing(candidate: string): string {
  let end = candidate.length
  for (;;) {
    const last = candidate[end - 1]!
    if (TRAILING.has(last)) {
      end--
      continue
    }
    const opener = CLOSERS[last]
    if (opener !== undefined) {
      const body = candidate.slice(0, end)
      if (count(body, opener) < count(body, last)) {
        end--
        continue
      }
    }
    return candidate.slice(0, end)
  }
}

function count(text: string, char: string): number {
  let n = 0
  for (const c of text) if (c === char) n++
  return n
}

function splitLinks(body: string): TextSegment[] {
  const out: TextSegment[] = []
  let at = 0
  for (const match of body.matchAll(LINK_CANDIDATE)) {
    const text = trimTrailing(match[0])
    const href = safeLink(text)
    if (href === null) continue
    if (match.index > at) out.push({ kind: 'text', text: body.slice(at, match.index) })
    out.push({ kind: 'link', text, href })
    at = match.index + text.length
  }
  if (at < body.length) out.push({ kind: 'text', text: body.slice(at) })
  return out
}

/** Marks "@Name" for each mentioned name, longest names first so "@Ann Lee" wins over "@Ann". */
function splitMentions(text: string, mentions: readonly MentionName[]): TextSegment[] {
  const names = mentions.filter((m) => m.name.length > 0).sort((a, b) => b.name.length - a.name.length)
  if (names.length === 0) return [{ kind: 'text', text }]
  const out: TextSegment[] = []
  let plain = ''
  let i = 0
  outer: while (i < text.length) {
    if (text[i] === '@' && (i === 0 || /\s|[([{"']/.test(text[i - 1]!))) {
      for (const m of names) {
        const token = `@${m.name}`
        if (text.startsWith(token, i) && !/[\p{L}\p{N}_]/u.test(text[i + token.length] ?? '')) {
          if (plain !== '') out.push({ kind: 'text', text: plain })
          plain = ''
          out.push({ kind: 'mention', text: token, me: m.me })
          i += token.length
          continue outer
        }
      }
    }
    plain += text[i]
    i++
  }
  if (plain !== '') out.push({ kind: 'text', text: plain })
  return out
}

export function messageSegments(body: string, mentions: readonly MentionName[] = []): TextSegment[] {
  return splitLinks(body).flatMap((s) => (s.kind === 'text' ? splitMentions(s.text, mentions) : [s]))
}
