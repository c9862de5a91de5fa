import type { LogState } from '../../conversation/membership-state.js'
import type { AccountId, DeviceId, EpochId } from '../../ids.js'
import type { Receipt } from '../../store/core-store.js'
import { heldIn } from './earlier-epochs.js'

/** The parts of a message that say where it is: its epoch, its author's stream and position, its order key. */
export interface PlacedMessage {
  author: string
  epoch: string
  device: string
  seq: number
  orderKey: string
}

/** A device that could hold the message (one its epoch's secret was sealed to), with its account. */
export interface Candidate {
  device: DeviceId
  account: AccountId
}

/** The devices sealed into `epoch` (later-linked devices and joiners of that epoch included), removed ones too. */
export function epochCandidates(log: Pick<LogState, 'epochs' | 'knownDevices'>, epoch: EpochId): Candidate[] {
  const out: Candidate[] = []
  for (const device of log.epochs.get(epoch)?.devices ?? []) {
    const account = log.knownDevices.get(device)?.account
    if (account !== undefined) out.push({ device, account })
  }
  return out
}

/**
 * Who has read a message and who holds it without having read it, per account, from each device's stored receipt.
 *
 * Only devices of the message's own epoch count: a device that was never sealed into that epoch cannot have the
 * message, so a read position past it (a member who joined after a rotation, reading newer messages) says nothing
 * about it. Removed members who were in the epoch do count: they held or read it while they were members. Read is
 * the receipt's `readUpTo` at or past the message's order key (order keys are the same on every device and across
 * epochs); held is the receipt's position in the author's stream of the message's epoch, from the latest receipt or,
 * after a rotation, the last one of that epoch (earlier-epochs.ts). What no receipt says is left out, never guessed.
 */
export function whoSaw(message: PlacedMessage, candidates: Iterable<Candidate>, receiptOf: (device: DeviceId) => Receipt | undefined): { read: Set<AccountId>; held: Set<AccountId> } {
  const read = new Set<AccountId>()
  const held = new Set<AccountId>()
  for (const { device, account } of candidates) {
    if (account === message.author) continue
    const receipt = receiptOf(device)
    if (receipt === undefined) continue
    if (receipt.readUpTo >= message.orderKey) read.add(account)
    else if (message.seq > 0 && heldIn(receipt, message.epoch, message.device) >= message.seq) held.add(account)
  }
  for (const account of read) held.delete(account)
  return { read, held }
}
