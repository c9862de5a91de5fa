import { CrdtError } from './errors.js'

/**
 * Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a counter that breaks ties and absorbs clock
 * steps backwards, so timestamps are monotonic per device and a reply is stamped after what it answers even when the
 * replier's clock is behind. Physical time is always passed in: crdt/ never reads a clock itself.
 */
export interface Hlc {
  readonly wall: number
  readonly counter: number
}

const WALL_DIGITS = 13
const COUNTER_DIGITS = 6
/** 13 decimal digits of milliseconds reach the year 2286. */
export const HLC_MAX_WALL = 10 ** WALL_DIGITS - 1
export const HLC_MAX_COUNTER = 10 ** COUNTER_DIGITS - 1
/**
 * A remote timestamp further than this ahead of our physical clock is not adopted. Without a bound, one peer with a
 * clock set to 2200 (or a malicious one) would drag every member's clock there for good, and everything sent
 * afterwards would sort after messages that have not been written yet.
 */
export const HLC_MAX_DRIFT_MS = 60 * 60 * 1000

export const HLC_ZERO: Hlc = { wall: 0, counter: 0 }

export function isHlc(value: unknown): value is Hlc {
  if (typeof value !== 'object' || value === null) return false
  const { wall, counter } = value as { wall?: unknown; counter?: unknown }
  return (
    typeof wall === 'number' &&
    typeof counter === 'number' &&
    Number.isInteger(wall) &&
    Number.isInteger(counter) &&
    wall >= 0 &&
    wall <= HLC_MAX_WALL &&
    counter >= 0 &&
    counter <= HLC_MAX_COUNTER
  )
}

function assertHlc(value: Hlc, what: string): void {
  if (!isHlc(value)) throw new CrdtError('INVALID_INPUT', `${what} is not a valid HLC`)
}

function physical(nowMs: number): number {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new CrdtError('INVALID_INPUT', 'physical time must be >= 0 ms')
  return Math.min(Math.floor(nowMs), HLC_MAX_WALL)
}

/** Counter overflow moves the wall forward by 1 ms instead of failing: order is kept, and it needs 10^6 events/ms. */
function bump(wall: number, counter: number): Hlc {
  if (counter <= HLC_MAX_COUNTER) return { wall, counter }
  if (wall >= HLC_MAX_WALL) throw new CrdtError('INVALID_INPUT', 'HLC exhausted')
  return { wall: wall + 1, counter: 0 }
}

export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  return 0
}

/** Timestamp for a local event: strictly greater than `prev`, and at least the physical time. */
export function hlcNow(prev: Hlc, physicalNowMs: number): Hlc {
  assertHlc(prev, 'previous clock')
  const now = physical(physicalNowMs)
  if (now > prev.wall) return { wall: now, counter: 0 }
  return bump(prev.wall, prev.counter + 1)
}

/**
 * Clock after receiving `remote`: strictly greater than `local`, and strictly greater than `remote` unless `remote` is
 * more than `maxDriftMs` ahead of our physical time, in which case it is ignored (see HLC_MAX_DRIFT_MS).
 */
export function hlcReceive(local: Hlc, remote: Hlc, physicalNowMs: number, maxDriftMs: number = HLC_MAX_DRIFT_MS): Hlc {
  assertHlc(local, 'local clock')
  assertHlc(remote, 'remote clock')
  const now = physical(physicalNowMs)
  if (remote.wall > now + maxDriftMs) return hlcNow(local, now)
  const wall = Math.max(local.wall, remote.wall, now)
  if (wall === local.wall && wall === remote.wall) return bump(wall, Math.max(local.counter, remote.counter) + 1)
  if (wall === local.wall) return bump(wall, local.counter + 1)
  if (wall === remote.wall) return bump(wall, remote.counter + 1)
  return { wall, counter: 0 }
}

/** Fixed width, zero padded: comparing two encodings as strings gives the same answer as compareHlc. */
export function encodeHlc(h: Hlc): string {
  assertHlc(h, 'clock')
  return `${String(h.wall).padStart(WALL_DIGITS, '0')}-${String(h.counter).padStart(COUNTER_DIGITS, '0')}`
}

const ENCODED = /^(\d{13})-(\d{6})$/

export function isEncodedHlc(value: unknown): value is string {
  return typeof value === 'string' && ENCODED.test(value)
}

export function decodeHlc(s: string): Hlc {
  const m = ENCODED.exec(s)
  if (m === null || m[1] === undefined || m[2] === undefined) throw new CrdtError('INVALID_INPUT', 'malformed HLC')
  return { wall: Number(m[1]), counter: Number(m[2]) }
}
