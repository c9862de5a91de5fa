import { decode, encode } from 'cborg'
import { HearthError } from '../errors.js'

/**
 * CBOR with the strict decoder options: no undefined, no indefinite lengths, no duplicate map keys, and a size cap
 * checked before decoding. Encoding is deterministic (cborg sorts map keys), which signatures rely on.
 */
export function encodeCbor(value: unknown): Uint8Array {
  return encode(value)
}

export function decodeCbor(bytes: Uint8Array, maxBytes: number, what: string): unknown {
  if (bytes.length > maxBytes) {
    throw new HearthError('TOO_LARGE', `${what} is ${bytes.length} bytes, over the limit of ${maxBytes}`)
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
