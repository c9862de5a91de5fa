/**
 * One error class with stable codes (after hypercore-errors). A code is part of the contract: the CLI, the core API
 * and the UI switch on it, so codes are only ever added, never renamed.
 *
 * `publicMessage` is what may be shown to a remote peer; `message` may carry local detail for logs.
 */
export const ErrorCodes = [
  // input and limits
  'INVALID_INPUT',
  'TOO_LARGE',
  'RATE_LIMITED',
  'TIMEOUT',
  // wire
  'MALFORMED',
  'UNSUPPORTED_VERSION',
  'PROTOCOL_ERROR',
  // crypto and identity
  'BAD_SIGNATURE',
  'DECRYPT_FAILED',
  'WRONG_PASSPHRASE',
  'KEYSTORE_CORRUPT',
  'INVALID_RECOVERY_PHRASE',
  'IDENTITY_EXISTS',
  'NO_IDENTITY',
  // a scanned safety number code that is not the other person's, or shows a different key (docs/adr/0031)
  'VERIFY_MISMATCH',
  // conversations
  'NOT_FOUND',
  'NOT_A_MEMBER',
  'NOT_AN_ADMIN',
  'REMOVED',
  'REPLAYED',
  'WRONG_CONVERSATION',
  'INVITE_EXPIRED',
  'INVITE_REVOKED',
  'INVITE_USED',
  'INVITE_INVALID',
  // linking a device to the account (identity/link-code.ts, core/devices/pair-protocol.ts)
  'LINK_INVALID',
  'LINK_EXPIRED',
  'LINK_CANCELLED',
  'UNREACHABLE',
  // storage and lifecycle
  'CORRUPT_DATA',
  'STORAGE_LOCKED',
  'NOT_RUNNING',
  'UNAUTHORIZED',
  'INTERNAL',
  // relays: refusals a relay gives a client, so the UI can say why ("relay refused: mailbox quota exceeded")
  'QUOTA_EXCEEDED',
  'STORAGE_FULL',
  'CLOCK_SKEW',
] as const

export type ErrorCode = (typeof ErrorCodes)[number]

export class HearthError extends Error {
  override readonly name = 'HearthError'
  readonly code: ErrorCode
  readonly publicMessage: string

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; publicMessage?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.publicMessage = options?.publicMessage ?? message
  }
}

export function isHearthError(err: unknown, code?: ErrorCode): err is HearthError {
  return err instanceof HearthError && (code === undefined || err.code === code)
}

/** Makes a `switch` over a union exhaustive at compile time. */
export function assertNever(value: never, what = 'value'): never {
  throw new HearthError('INTERNAL', `unexpected ${what}: ${String(value)}`)
}

/**
 * Marks a promise that is deliberately not awaited, so the intent is visible and a rejection is still reported
 * instead of becoming an unhandled rejection.
 */
export function drop(promise: Promise<unknown>, onError: (err: unknown) => void = () => {}): void {
  promise.catch(onError)
}
