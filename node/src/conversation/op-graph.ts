import type { OpHash } from '../ids.js'
import type { MembershipOp } from './membership-op.js'

/**
 * The membership log as a graph: a deterministic topological order of the operations that descend from the root, and
 * each operation's causal past (its ancestors) as a bit set over that order, so "is A an ancestor of B" and "are A and
 * B concurrent" are answered in constant time. Nothing here judges authority; membership-log.ts does.
 */
export interface OpGraph {
  /** Operations in topological order: parents first; among ready ones, lowest HLC, then lowest hash. */
  order: MembershipOp[]
  /** Position of each ordered operation. */
  index: Map<OpHash, number>
  /** Operations not ordered: a parent is missing, a second root, or dated too far ahead of our clock (and their descendants). */
  pending: OpHash[]
  /** Whether `a` is an ancestor of `b` (both positions in `order`). */
  isAncestor(a: number, b: number): boolean
  concurrent(a: number, b: number): boolean
  /** Positions of `b`'s ancestors, ascending. */
  ancestors(b: number): number[]
}

/** The wall-clock milliseconds of an encoded HLC (its first 13 digits). */
export const hlcWall = (hlc: string): number => Number.parseInt(hlc.slice(0, 13), 10)

function compareOps(a: MembershipOp, b: MembershipOp): number {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0
}

/** A binary min-heap: a flood of sibling operations must not make ordering quadratic. */
class OpHeap {
  readonly #items: MembershipOp[] = []
  get size(): number {
    return this.#items.length
  }
  push(op: MembershipOp): void {
    const a = this.#items
    a.push(op)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (compareOps(a[i]!, a[parent]!) >= 0) break
      ;[a[i], a[parent]] = [a[parent]!, a[i]!]
      i = parent
    }
  }
  pop(): MembershipOp {
    const a = this.#items
    const top = a[0]!
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && compareOps(a[l]!, a[m]!) < 0) m = l
        if (r < a.length && compareOps(a[r]!, a[m]!) < 0) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}

/**
 * Orders the operations reachable from `root`. An operation dated more than `maxSkewMs` past `now` waits (with its
 * descendants) until our clock gets there: an author cannot push its operation after everyone else's by dating it in
 * the future.
 */
export function buildOpGraph(ops: Iterable<MembershipOp>, root: MembershipOp, now: number, maxSkewMs: number): OpGraph {
  const byHash = new Map<OpHash, MembershipOp>()
  for (const op of ops) byHash.set(op.hash, op)
  byHash.set(root.hash, root)

  const children = new Map<OpHash, OpHash[]>()
  const waiting = new Map<OpHash, number>()
  for (const op of byHash.values()) {
    if (op.hash === root.hash) continue
    let missing = 0
    for (const p of op.prev) {
      if (!byHash.has(p)) missing = Number.POSITIVE_INFINITY
      else {
        missing++
        const list = children.get(p)
        if (list) list.push(op.hash)
        else children.set(p, [op.hash])
      }
    }
    if (op.prev.length === 0 || hlcWall(op.hlc) > now + maxSkewMs) missing = Number.POSITIVE_INFINITY
    waiting.set(op.hash, missing)
  }

  const order: MembershipOp[] = []
  const index = new Map<OpHash, number>()
  const heap = new OpHeap()
  heap.push(root)
  while (heap.size > 0) {
    const op = heap.pop()
    index.set(op.hash, order.length)
    order.push(op)
    for (const child of children.get(op.hash) ?? []) {
      const left = (waiting.get(child) ?? 0) - 1
      waiting.set(child, left)
      if (left === 0) heap.push(byHash.get(child)!)
    }
  }

  // Ancestor sets as bit sets over positions: parents come first, so one pass fills them.
  const words = (order.length + 31) >>> 5
  const anc: Uint32Array[] = []
  for (let i = 0; i < order.length; i++) {
    const set = new Uint32Array(words)
    for (const p of order[i]!.prev) {
      const j = index.get(p)!
      const parentSet = anc[j]!
      for (let w = 0; w <= j >>> 5; w++) set[w]! |= parentSet[w]!
      set[j >>> 5]! |= 1 << (j & 31)
    }
    anc.push(set)
  }
  const isAncestor = (a: number, b: number) => (anc[b]![a >>> 5]! & (1 << (a & 31))) !== 0

  return {
    order,
    index,
    pending: [...byHash.keys()].filter((h) => !index.has(h)).sort(),
    isAncestor,
    concurrent: (a, b) => a !== b && !isAncestor(a, b) && !isAncestor(b, a),
    ancestors: (b) => {
      const out: number[] = []
      const set = anc[b]!
      for (let w = 0; w <= b >>> 5; w++) {
        let bits = set[w]!
        while (bits !== 0) {
          const low = bits & -bits
          out.push((w << 5) + 31 - Math.clz32(low))
          bits ^= low
        }
      }
      return out
    },
  }
}
