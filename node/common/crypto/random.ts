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

const NONCE_POOL_BYTES = 4096
let noncePool: Uint8Array = new Uint8Array(0)
let noncePoolOffset = 0

/**
 * Random bytes for nonces, which are public: served from a pool refilled 4 KiB at a time, so a record or an envelope
 * costs a slice instead of a call into the system's generator. Never for keys or secrets (a pool holds future values
 * in memory); those come from `randomBytes`.
 */
export function randomNonce(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 64) throw new RangeError(`bad nonce length ${length}`)
  if (noncePoolOffset + length > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_BYTES)
    noncePoolOffset = 0
  }
  const out = noncePool.slice(noncePoolOffset, noncePoolOffset + length)
  noncePoolOffset += length
  return out
}
