/**
 * What both carriers of the core API and every client agree on, kept free of run-time imports so the renderer and the
 * sandboxed preload can load it without zod, Node or `ws`.
 */

/**
 * The WebSocket carrier's token travels as the subprotocol `hearth.<token>`: the only header a browser lets a page
 * set on a WebSocket. `?token=` works too, for clients that cannot set protocols.
 */
export const API_PROTOCOL_PREFIX = 'hearth.'

/**
 * The largest request either carrier parses, in UTF-8 bytes. A larger one is answered TOO_LARGE without being parsed,
 * and the connection stays up. Far above any real request: a message body is at most 32 KiB (docs/LIMITS.md).
 */
export const MAX_API_MESSAGE_BYTES = 1024 * 1024

/** The request ids the carriers echo: what the dispatcher accepts as an id. */
export type SniffedId = number | string

const LEADING_ID = /^\s*\{\s*"id"\s*:\s*(\d{1,16}|"[^"\\]{1,64}")/
// Only a top-level last member can be followed by the object's closing brace and nothing else.
const TRAILING_ID = /,\s*"id"\s*:\s*(\d{1,16}|"[^"\\]{1,64}")\s*\}\s*$/

/**
 * The id of a request too large to parse, read from its first or last bytes only (clients here write it first), so
 * the caller's pending call can be settled with the refusal instead of hanging. Null when neither end names one.
 */
export function sniffRequestId(head: string, tail: string = head): SniffedId | null {
  const match = LEADING_ID.exec(head.slice(0, 128)) ?? TRAILING_ID.exec(tail.slice(-128))
  const raw = match?.[1]
  if (raw === undefined) return null
  if (raw.startsWith('"')) return raw.slice(1, -1)
  const n = Number(raw)
  return Number.isSafeInteger(n) ? n : null
}
