/**
 * Building blocks for an ordered keyspace.
 *
 * A key is a tuple of parts joined by SEP ('\x00'). Because SEP is the smallest possible byte and may not occur inside
 * a part, byte order of the joined keys equals tuple order of the parts: ('a') < ('a', x) < ('a\x01') < ('ab'), and
 * all children of a prefix are contiguous. Numbers are encoded as 16 lowercase hex digits (zero padded), so byte order
 * equals numeric order for every non-negative safe integer.
 *
 * Order is UTF-8 byte order (what LevelDB compares), which is code point order. It differs from JavaScript's `<` on
 * strings (UTF-16 code units) only for characters above U+FFFF versus U+E000–U+FFFF; do not sort keys with `<`.
 *
 * The keyspace itself (which prefixes exist and what they hold) is documented by the modules that own each prefix;
 * `meta` is reserved for this storage layer (see `migrations.ts`).
 */
import { HearthError } from '../errors.js'

export const SEP = '\x00'
/** The character right after SEP: `prefix + SEP` ≤ every child < `prefix + SEP_END`. */
const SEP_END = '\x01'
const NUMBER_WIDTH = 16
const NUMBER_PATTERN = /^[0-9a-f]{16}$/
// In a `u` regex a well-formed surrogate pair is one code point, so this matches only lone surrogates, which UTF-8
// cannot encode (they would silently become U+FFFD and collide).
const LONE_SURROGATE = /\p{Cs}/u

export type KeyPart = string | number

/** Encodes a non-negative safe integer as 16 hex digits, sortable as bytes. */
export function encodeNumber(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new HearthError('INVALID_INPUT', `key number must be a non-negative safe integer, got ${String(n)}`)
  }
  return n.toString(16).padStart(NUMBER_WIDTH, '0')
}

/** Inverse of `encodeNumber`; throws CORRUPT_DATA on anything it could not have produced. */
export function decodeNumber(part: string): number {
  if (!NUMBER_PATTERN.test(part)) throw new HearthError('CORRUPT_DATA', `not an encoded key number: ${JSON.stringify(part)}`)
  const n = Number.parseInt(part, 16)
  if (!Number.isSafeInteger(n)) throw new HearthError('CORRUPT_DATA', `key number out of range: ${part}`)
  return n
}

function encodePart(part: KeyPart): string {
  if (typeof part === 'number') return encodeNumber(part)
  if (typeof part !== 'string') throw new HearthError('INVALID_INPUT', `key part must be a string or number`)
  if (part.includes(SEP)) throw new HearthError('INVALID_INPUT', `key part contains the separator \\x00: ${JSON.stringify(part)}`)
  if (LONE_SURROGATE.test(part)) throw new HearthError('INVALID_INPUT', `key part is not well-formed Unicode: ${JSON.stringify(part)}`)
  return part
}

/** Joins parts into one key. At least one part. */
export function key(...parts: KeyPart[]): string {
  if (parts.length === 0) throw new HearthError('INVALID_INPUT', 'a key needs at least one part')
  return parts.map(encodePart).join(SEP)
}

/** Splits a key built by `key()` back into its (string) parts; use `decodeNumber` on numeric ones. */
export function splitKey(k: string): string[] {
  return k.split(SEP)
}

/**
 * The range of every key strictly under the prefix: `key(...parts, anything...)`, not `key(...parts)` itself, and not
 * keys that merely start with the same characters (`key('ab')` is not under `key('a')`).
 */
export function prefixRange(...parts: KeyPart[]): { gte: string; lt: string } {
  const prefix = key(...parts)
  return { gte: prefix + SEP, lt: prefix + SEP_END }
}
