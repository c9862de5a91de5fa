import type { MembershipOp } from '../conversation/membership-op.js'
import type { OpHash } from '../ids.js'

/**
 * Membership-log sync: send a peer the operations it lacks, not the whole log, in pages that fit a frame.
 *
 * The requester names its heads. Every head we hold is, with all its ancestors, something the requester has; what is
 * left is what it lacks (when it names heads we do not hold, it has operations we lack, and we pull those from it in
 * turn). Operations go parents first, so the receiver can order them as they arrive.
 */
export function opsMissing(
  ops: ReadonlyMap<OpHash, MembershipOp>,
  theirHeads: readonly string[],
  order: readonly OpHash[],
): MembershipOp[] {
  const theirs = new Set<OpHash>()
  const stack = theirHeads.filter((h) => ops.has(h as OpHash)) as OpHash[]
  while (stack.length > 0) {
    const hash = stack.pop()!
    if (theirs.has(hash)) continue
    theirs.add(hash)
    for (const p of ops.get(hash)?.prev ?? []) if (!theirs.has(p) && ops.has(p)) stack.push(p)
  }
  const out: MembershipOp[] = []
  const placed = new Set<OpHash>()
  for (const hash of order) {
    placed.add(hash)
    const op = ops.get(hash)
    if (op !== undefined && !theirs.has(hash)) out.push(op)
  }
  // Operations we hold but could not order yet (a parent missing): the peer may have that parent.
  for (const [hash, op] of ops) if (!placed.has(hash) && !theirs.has(hash)) out.push(op)
  return out
}

/** Splits encoded operations into pages of at most `maxBytes` and `maxCount`; stops once `totalBytes` is spent. */
export function opPages(ops: readonly MembershipOp[], limits: { maxBytes: number; maxCount: number; totalBytes: number }): Uint8Array[][] {
  const pages: Uint8Array[][] = []
  let page: Uint8Array[] = []
  let bytes = 0
  let total = 0
  for (const op of ops) {
    if (total + op.bytes.length > limits.totalBytes) break
    if (page.length > 0 && (bytes + op.bytes.length > limits.maxBytes || page.length >= limits.maxCount)) {
      pages.push(page)
      page = []
      bytes = 0
    }
    page.push(op.bytes)
    bytes += op.bytes.length
    total += op.bytes.length
  }
  if (page.length > 0) pages.push(page)
  return pages
}
