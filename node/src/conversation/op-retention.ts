import type { AccountId, OpHash } from '../ids.js'
import type { MembershipOp } from './membership-op.js'

/**
 * How many of one non-admin account's membership operations a core keeps when nobody else built on them.
 *
 * Judging operations causally cannot bound what a member signs: sibling renames, or operations a removed member
 * backdates to before its removal, are each authorised in their own past (and then void). Kept without limit, a member
 * and one colluder could grow every core's log until it fails. So a core keeps, per account that is not an admin, at
 * most `limit` operations that no operation by *another* account descends from ("unanchored"), the earliest by
 * (HLC, hash); the rest it forgets and does not pass on. Honest operations never depend on the forgotten ones: when
 * another member did build on one, that member's operation anchors it, sync brings it back, and it is kept.
 */
export const MAX_UNANCHORED_OPS_PER_MEMBER = 256

export function unanchoredExcess(
  ops: ReadonlyMap<OpHash, MembershipOp>,
  admins: ReadonlySet<AccountId>,
  limit: number = MAX_UNANCHORED_OPS_PER_MEMBER,
): OpHash[] {
  const children = new Map<OpHash, MembershipOp[]>()
  for (const op of ops.values()) {
    for (const p of op.prev) {
      const list = children.get(p)
      if (list) list.push(op)
      else children.set(p, [op])
    }
  }
  // anchored(X): some descendant of X is by another account. Post-order over the DAG, iteratively (long chains).
  const anchored = new Map<OpHash, boolean>()
  for (const start of ops.values()) {
    if (anchored.has(start.hash)) continue
    const stack: Array<{ op: MembershipOp; expanded: boolean }> = [{ op: start, expanded: false }]
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      if (anchored.has(top.op.hash)) {
        stack.pop()
        continue
      }
      const kids = children.get(top.op.hash) ?? []
      if (!top.expanded) {
        top.expanded = true
        for (const c of kids) if (c.author.account === top.op.author.account && !anchored.has(c.hash)) stack.push({ op: c, expanded: false })
        continue
      }
      stack.pop()
      anchored.set(
        top.op.hash,
        kids.some((c) => c.author.account !== top.op.author.account || anchored.get(c.hash) === true),
      )
    }
  }

  const loose = new Map<AccountId, MembershipOp[]>()
  for (const op of ops.values()) {
    if (anchored.get(op.hash) === true || admins.has(op.author.account)) continue
    const list = loose.get(op.author.account)
    if (list) list.push(op)
    else loose.set(op.author.account, [op])
  }
  const excess: OpHash[] = []
  for (const list of loose.values()) {
    if (list.length <= limit) continue
    list.sort((a, b) => (a.hlc !== b.hlc ? (a.hlc < b.hlc ? -1 : 1) : a.hash < b.hash ? -1 : 1))
    for (const op of list.slice(limit)) excess.push(op.hash)
  }
  return excess
}
