import type { ReceiptPayload } from '../../history/payloads.js'
import type { Receipt } from '../../store/core-store.js'

/**
 * A receipt names positions in one epoch only (the one current for its sender), and each device's latest receipt
 * replaces its previous one. After a rotation (someone removed, a key rotation) the next receipt is of the new epoch,
 * and what the device said about the old epoch's streams would be lost: who holds a message written before the
 * rotation could no longer be told. So when a receipt of another epoch replaces the stored one, the positions the
 * replaced one gave are kept with it, under their epoch, for the streams whose messages seen-by is asked about: our
 * own devices' (the details dialog shows who holds and who read *our* messages). Nothing changes on the wire.
 */

/** How many earlier epochs are remembered per device: beyond that, only "read" (from `readUpTo`) is known. */
export const MAX_EARLIER_EPOCHS = 32

export type EpochPositions = NonNullable<Receipt['earlier']>[number]

/**
 * The record to store when `next` (already known to be newer) replaces `previous` from the same device. `keep` says
 * which streams' positions are worth remembering (by their device).
 */
export function nextReceiptRecord(previous: Receipt | undefined, next: ReceiptPayload, keep: (device: string) => boolean): Receipt {
  let earlier: EpochPositions[] = previous?.earlier ?? []
  if (previous !== undefined && previous.epoch !== next.epoch) {
    const kept = Object.entries(previous.have).filter(([device]) => keep(device))
    if (kept.length > 0) {
      const before = earlier.find((p) => p.epoch === previous.epoch)?.have ?? {}
      // Positions only grow: a receipt with less (sent by a device that lagged) never takes back what one said before.
      const have: Record<string, number> = { ...before }
      for (const [device, seq] of kept) have[device] = Math.max(have[device] ?? 0, seq)
      earlier = [...earlier.filter((p) => p.epoch !== previous.epoch), { epoch: previous.epoch, have }].slice(-MAX_EARLIER_EPOCHS)
    }
  }
  const record: Receipt = { hlc: next.hlc, epoch: next.epoch, have: next.have, readUpTo: next.readUpTo }
  return earlier.length > 0 ? { ...record, earlier } : record
}

/** How far the receipt's device holds `device`'s stream of `epoch`, from its latest receipt or an earlier one (0: unknown). */
export function heldIn(receipt: Receipt, epoch: string, device: string): number {
  const now = receipt.epoch === epoch ? (receipt.have[device] ?? 0) : 0
  const before = receipt.earlier?.find((p) => p.epoch === epoch)?.have[device] ?? 0
  return Math.max(now, before)
}
