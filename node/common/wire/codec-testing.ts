import { HearthError, type ErrorCode } from '../errors.js'

/**
 * Helpers for codec tests (decoders fed mutated and random bytes). Test-only, kept beside the codecs so the tests of
 * node/ and node/common share one copy without importing test/.
 */

/** The HearthError code `fn` throws, or 'ok'. Any other exception fails the test: decoders throw HearthError only. */
export function codeOf(fn: () => unknown): ErrorCode | 'ok' {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (!(err instanceof HearthError)) throw new Error(`not a HearthError: ${String(err)}`, { cause: err })
    return err.code
  }
}

/** Every copy of `bytes` with one byte XORed by one of `flips`, with the index changed. */
export function* byteFlips(bytes: Uint8Array, flips: readonly number[] = [0x01, 0x80, 0xff]): Generator<[Uint8Array, number]> {
  for (let i = 0; i < bytes.length; i++) {
    for (const flip of flips) {
      const m = new Uint8Array(bytes)
      m[i] = m[i]! ^ flip
      yield [m, i]
    }
  }
}
