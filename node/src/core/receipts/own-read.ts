import { HLC_MAX_DRIFT_MS, decodeHlc } from '../../../../crdt/src/index.js'
import type { AccountId, DeviceId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'

/**
 * Read positions across one person's devices. A receipt already says how far its device has read, as the order key of
 * the newest message read (`readUpTo`). Order keys are the same on every device (HLC, author device, sequence: the
 * order of the timeline), so a receipt from another device of our own account is enough to move our own position:
 * no new message, no new record.
 */

/** An order key as crdt/order.ts writes it: `<13-digit wall>-<6-digit counter>.<device>.<10-digit seq>`. */
const ORDER_KEY = /^(\d{13}-\d{6})\.[0-9a-f]{32}\.\d{10}$/

/** True when `device` is one of our account's devices in this conversation's log, and not this one. */
export function isOwnDevice(rt: ConversationRuntime, account: AccountId, device: DeviceId): boolean {
  return rt.log.members.get(account)?.devices.has(device) === true && rt.log.knownDevices.get(device)?.account === account
}

/**
 * Another device of ours has read up to `readUpTo`: move our read position there, never backwards, and count again
 * what is unread after it. The position may be beyond what this device holds yet (the receipt outran the messages):
 * what arrives later at or before it is then not counted as unread (stream-processor.ts compares with `readUpTo`).
 * Runs on the serial queue (the ingest of the signal). Returns true when the position moved.
 */
export async function readOnOtherDevice(kernel: Kernel, rt: ConversationRuntime, readUpTo: string): Promise<boolean> {
  const { store, identity, counters } = kernel
  if (readUpTo <= rt.record.readUpTo) return false
  const match = ORDER_KEY.exec(readUpTo)
  // Even our own device is not trusted with a position from the far future: every later message would arrive read.
  if (match === null || decodeHlc(match[1]!).wall > kernel.now() + HLC_MAX_DRIFT_MS) {
    counters.count('own-read-refused')
    return false
  }
  let unread = 0
  let unreadMentions = 0
  for (const row of await store.messagesAfter(rt.id, readUpTo, 10_000)) {
    if (row.mine || row.withdrawn || row.hidden) continue
    unread++
    if (row.mentions?.includes(identity.account)) unreadMentions++
  }
  // Shown (rt.record) only once written, and the caller announces it at once: nothing reads the new count unannounced.
  const record = { ...rt.record, readUpTo, unread, unreadMentions }
  await store.commit([store.putConversation(record)], false)
  rt.record = record
  return true
}
