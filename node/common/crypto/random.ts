/**
 * The single source of randomness for the crypto layer, so an audit has exactly one place to look and a test has
 * exactly one place to stub.
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`bad random length ${length}`)
  const out = new Uint8Array(length)
  // getRandomValues refuses more than 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)))
  }
  return out
}
