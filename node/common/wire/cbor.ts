import { decode, encode } from 'cborg'
import { HearthError } from '../errors.js'

/**
 * CBOR with the strict decoder options: no undefined, no indefinite lengths, no duplicate map keys, and a size cap
 * checked before decoding. Encoding is deterministic (cborg sorts map keys), which signatures rely on.
 */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(value)
}

/**
 * Deepest nesting of arrays, maps and tags accepted. Hearth's formats nest five levels at most. Without a bound, a
 * peer's 3,000-deep map decodes (cborg recurses, and the stack holds) but overflows the stack of whatever walks it
 * next, such as the canonical-encoding check of membership operations: a RangeError instead of a refusal.
 */
export const MAX_CBOR_NESTING = 16

/**
 * Whether `bytes` nests deeper than MAX_CBOR_NESTING, found by walking the item heads without recursion or
 * allocation (one counter per open container). Anything odd (indefinite lengths, truncation, reserved values) ends
 * the walk: the strict decoder refuses it on its own, after at most the depth walked so far.
 */
function nestsTooDeep(bytes: Uint8Array): boolean {
  const open: number[] = []
  // One item is done: count it against its container, closing every container it completes.
  const done = (): void => {
    while (open.length > 0) {
      const left = open[open.length - 1]! - 1
      if (left > 0) {
        open[open.length - 1] = left
        return
      }
      open.pop()
    }
  }
  let pos = 0
  while (pos < bytes.length) {
    const head = bytes[pos++]!
    const major = head >> 5
    const info = head & 0x1f
    let n: number
    if (info < 24) n = info
    else if (info === 24) n = bytes[pos] ?? 0
    else if (info === 25) n = ((bytes[pos] ?? 0) << 8) | (bytes[pos + 1] ?? 0)
    else if (info === 26) n = (((bytes[pos] ?? 0) << 24) >>> 0) + (((bytes[pos + 1] ?? 0) << 16) | ((bytes[pos + 2] ?? 0) << 8) | (bytes[pos + 3] ?? 0))
    else if (info === 27) n = Number.MAX_SAFE_INTEGER // only the byte count matters below: more than any input holds
    else return false
    pos += info < 24 ? 0 : 1 << (info - 24)
    if (major === 2 || major === 3) {
      pos += n
      done()
    } else if (major === 4 || major === 5 || major === 6) {
      // A tag wraps exactly one item; a map holds two per entry.
      const items = major === 6 ? 1 : major === 5 ? 2 * n : n
      if (items === 0) {
        done()
        continue
      }
      open.push(items)
      if (open.length > MAX_CBOR_NESTING) return true
    } else {
      done()
    }
  }
  return false
}

export function decodeCbor(bytes: Uint8Array, maxBytes: number, what: string): unknown {
  if (bytes.length > maxBytes) {
    throw new HearthError('TOO_LARGE', `${what} is ${bytes.length} bytes, over the limit of ${maxBytes}`)
  }
  if (nestsTooDeep(bytes)) {
    throw new HearthError('MALFORMED', `${what} nests deeper than ${MAX_CBOR_NESTING} levels`, { publicMessage: `malformed ${what}` })
  }
  try {
    return decode(bytes, {
      strict: true,
      allowUndefined: false,
      allowIndefinite: false,
      rejectDuplicateMapKeys: true,
      useMaps: false,
    })
  } catch (err) {
    throw new HearthError('MALFORMED', `${what} is not valid CBOR: ${(err as Error).message}`, {
      cause: err,
      publicMessage: `malformed ${what}`,
    })
  }
}
