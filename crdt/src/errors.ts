/**
 * The one error type crdt/ throws. crdt/ may not import node/common, so the codes are a subset of the strings in
 * node/common/errors.ts `ErrorCodes`; the core rethrows them as `HearthError` with the same code, no mapping table.
 */
export type CrdtErrorCode = 'INVALID_INPUT' | 'TOO_LARGE' | 'NOT_FOUND' | 'UNAUTHORIZED' | 'CORRUPT_DATA'

export class CrdtError extends Error {
  override readonly name = 'CrdtError'
  readonly code: CrdtErrorCode

  constructor(code: CrdtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }
}

export function isCrdtError(err: unknown, code?: CrdtErrorCode): err is CrdtError {
  return err instanceof CrdtError && (code === undefined || err.code === code)
}
