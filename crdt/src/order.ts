import { CrdtError } from './errors.js'
import { encodeHlc, type Hlc } from './hlc.js'
import { isActorId } from './ids.js'

const SEQ_DIGITS = 10
export const MAX_ORDER_SEQ = 10 ** SEQ_DIGITS - 1

/**
 * The display order: by HLC, then device, then the device's message sequence number. Every field is fixed width
 * (20 + 1 + 32 + 1 + 10 chars), so plain string comparison equals tuple comparison, which lets the core use the key
 * directly as a LevelDB index key. (hlc, device, seq) is unique for honest devices because seq is; the selectors
 * break the remaining tie (a device that lies about its own seq) by message id.
 */
export type OrderKey = string & { readonly __brand: 'OrderKey' }

export function orderKey(hlc: Hlc, deviceId: string, seq: number): OrderKey {
  if (!isActorId(deviceId)) throw new CrdtError('INVALID_INPUT', 'device id must be 32 lowercase hex chars')
  if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_ORDER_SEQ) {
    throw new CrdtError('INVALID_INPUT', 'seq out of range')
  }
  return `${encodeHlc(hlc)}.${deviceId}.${String(seq).padStart(SEQ_DIGITS, '0')}` as OrderKey
}

export function compareOrderKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The device's message sequence number an order key ends with (how its shard was chosen). */
export function orderKeySeq(key: string): number {
  const seq = Number.parseInt(key.slice(-SEQ_DIGITS), 10)
  if (!Number.isSafeInteger(seq) || seq < 0) throw new CrdtError('INVALID_INPUT', 'not an order key')
  return seq
}
