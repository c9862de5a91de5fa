import type { ProtocolLimits } from '../../../common/net/request-response.js'
import { Limits } from '../../../common/wire/limits.js'

/** `/hearth/restore/1.0.0` (restore.ts serves it; restore.ts and linked-logs.ts ask it). docs/PROTOCOL.md. */
export const RESTORE_PROTOCOL = '/hearth/restore/1.0.0'

/** Introductions in one request. */
export const MAX_INTRODUCTIONS = 200

export const RESTORE_LIMITS: ProtocolLimits = {
  maxRequestBytes: MAX_INTRODUCTIONS * 8 * 1024,
  maxResponseBytes: Limits.maxFrameBytes,
  timeoutMs: 60_000,
  // A restore asks each member once or twice; a linked device fetching its logs over a relay asks once per relayed
  // connection (each carries what the relay allows). More is someone probing.
  ratePerSecond: 1,
  burst: 5,
  runOnLimitedConnection: true,
}
