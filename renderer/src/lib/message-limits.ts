/**
 * How long a message may be, measured the way the core measures it (`Core.send` refuses anything longer with
 * TOO_LARGE), so the composer can say so while the person types instead of after a send that cannot succeed.
 * Two bounds apply: UTF-16 code units (the history model's) and UTF-8 bytes (the wire's); docs/LIMITS.md.
 */
import { Limits } from '../../../node/common/wire/limits.js'

/** `MAX_BODY_CHARS` in crdt/src/schema.ts (the renderer may not import crdt/; a test holds the two equal). */
export const MAX_BODY_CHARS = 16_000
export const MAX_BODY_BYTES: number = Limits.maxBodyBytes

/** Beyond this length the bytes are not counted: the text is over the character bound several times anyway. */
const MAX_COUNTED_UNITS = 4 * MAX_BODY_CHARS

/** From this share of either bound on, the composer shows how much room is left. */
export const NEAR_LIMIT_SHARE = 0.9

export interface BodyMeasure {
  /**
   * Characters that still fit (negative: about how many to remove). Exact while the character bound binds, as it does
   * for Latin text; the byte bound binds first only for text mostly in scripts of 3 UTF-8 bytes a character (Chinese,
   * Hindi…), and is then counted in characters of the text's average size: exact for text in one script.
   */
  left: number
  over: boolean
  near: boolean
  /** Whether the byte bound is the one `left` comes from (then it is an estimate for mixed text). */
  byBytes: boolean
}

export function measureBody(text: string): BodyMeasure {
  const units = text.length
  // A pasted megabyte is far over whatever its bytes: it is not walked on every key press.
  const bytes = units > MAX_COUNTED_UNITS ? units : utf8Length(text)
  const unitsLeft = MAX_BODY_CHARS - units
  const bytesLeft = MAX_BODY_BYTES - bytes
  const over = unitsLeft < 0 || bytesLeft < 0
  // Room in bytes, in characters like those already typed: exact for text in one script.
  const perUnit = units === 0 ? 1 : bytes / units
  const roomInBytes = bytesLeft >= 0 ? Math.floor(bytesLeft / perUnit) : -Math.ceil(-bytesLeft / perUnit)
  const byBytes = roomInBytes < unitsLeft
  const left = byBytes ? roomInBytes : unitsLeft
  const near = over || units >= MAX_BODY_CHARS * NEAR_LIMIT_SHARE || bytes >= MAX_BODY_BYTES * NEAR_LIMIT_SHARE
  return { left, over, near, byBytes }
}

/** UTF-8 length without encoding the text (a pasted megabyte must not be copied on every key press). */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}
