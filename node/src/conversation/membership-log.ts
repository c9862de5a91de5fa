import type { DeviceCert } from '../identity/device-cert.js'
import type { AccountId, DeviceId, EpochId, OpHash } from '../ids.js'
import type { MembershipOp } from './membership-op.js'
export { MAX_PARENTS } from './membership-op.js'
import { buildOpGraph, type OpGraph } from './op-graph.js'
import { applyEffect, authorityProblem, cloneState, initialState, needsAdmin, type LogState } from './membership-state.js'

export type { EpochState, InviteState, LogState, MemberState, RemovalState } from './membership-state.js'

/**
 * The membership log's state, computed from its operations (docs/adr/0015-causal-group-authority.md).
 *
 * Invariant: every member computes the same state from the same set of operations, whatever order they arrived in,
 * and nothing an author chooses freely (its HLC, its choice of parents) lets it act with authority it did not have:
 *
 * 1. Causal authority. An operation counts only if its author held the authority it needs (member; admin for
 *    anything but renames, merges and leaving) in the state of its own causal past: the operations it names as parents and
 *    their ancestors. An operation that fails this fails it forever; the core neither keeps nor forwards it.
 * 2. Strong removal and demotion. A removal or demotion that takes effect voids every operation of the target that
 *    is concurrent with it (all of them for a removal; those needing admin for a demotion). Backdating an operation
 *    (parents from before one's removal) therefore makes it concurrent with the removal, and void.
 * 3. Seniority. Removals and demotions are decided most senior author first (the creator, then by the depth of the
 *    chain of grants that made each admin, then by when). One is void when its author is already removed or demoted
 *    by a decided concurrent one, or when its target has itself decided a concurrent removal or demotion: of two
 *    admins removing each other, the senior one stays.
 * 4. What is left is applied in the deterministic topological order (parents first, then HLC, then hash), each
 *    checked against the state just before it (the author still holds its role there; the target is a member; the
 *    invite is usable). An operation's HLC must exceed its parents'; one dated more than a minute past our clock waits.
 */
export const MAX_CLOCK_SKEW_MS = 60_000

/** A removal, demotion or device revocation: decided by seniority before anything else, voiding what it concurs with. */
type Strong = { kind: 'remove' | 'demote'; target: AccountId } | { kind: 'revoke'; target: AccountId; device: DeviceId }

interface Judged {
  graph: OpGraph
  /** Why the operation at a position lacked authority in its causal past (undefined: it had it). */
  unauthorized: Array<string | undefined>
  strong: Array<Strong | undefined>
  byAuthor: Map<AccountId, number[]>
}


/** Computes the state, or undefined if the root operation is missing or is not a valid create. */
export function computeLog(ops: Iterable<MembershipOp>, root: OpHash, now: number = Date.now()): LogState | undefined {
  const all = [...ops]
  const rootOp = all.find((op) => op.hash === root)
  if (rootOp === undefined || rootOp.body.type !== 'create' || rootOp.prev.length !== 0) return undefined
  const graph = buildOpGraph(all, rootOp, now, MAX_CLOCK_SKEW_MS)
  const judged = judge(graph)
  const state = resolve(judged, graph.order.map((_, i) => i), true)
  state.pending = graph.pending
  return state
}

/** Decides, in order, whether each operation's author held the authority in the operation's causal past. */
function judge(graph: OpGraph): Judged {
  const { order, index } = graph
  const judged: Judged = { graph, unauthorized: [undefined], strong: [undefined], byAuthor: new Map() }
  const root = order[0]!
  const base = initialState(root)
  // The state right after each operation, within its own causal past; kept while a single-parent child still needs it.
  const after = new Map<number, LogState>([[0, base]])
  const childrenLeft = new Map<number, number>()
  for (let i = 1; i < order.length; i++) {
    const op = order[i]!
    if (op.prev.length === 1) {
      const p = index.get(op.prev[0]!)!
      childrenLeft.set(p, (childrenLeft.get(p) ?? 0) + 1)
    }
    const list = judged.byAuthor.get(op.author.account)
    if (list) list.push(i)
    else judged.byAuthor.set(op.author.account, [i])
  }

  for (let i = 1; i < order.length; i++) {
    const op = order[i]!
    const parents = op.prev.map((p) => index.get(p)!)
    let causal: LogState
    if (parents.length === 1) {
      const p = parents[0]!
      causal = after.get(p)!
      const left = childrenLeft.get(p)! - 1
      childrenLeft.set(p, left)
      if (left === 0 && p !== 0) after.delete(p)
    } else {
      causal = resolve(judged, [...graph.ancestors(i)], false)
    }
    const problem = structuralProblem(op, root, parents.map((p) => order[p]!)) ?? authorityProblem(causal, op)
    judged.unauthorized.push(problem)
    let strong: Strong | undefined
    if (problem === undefined && op.body.type === 'remove' && causal.members.has(op.body.account)) {
      strong = { kind: 'remove', target: op.body.account }
    }
    if (problem === undefined && op.body.type === 'role' && op.body.role === 'member' && causal.members.get(op.body.account)?.role === 'admin') {
      strong = { kind: 'demote', target: op.body.account }
    }
    if (problem === undefined && op.body.type === 'revoke-device' && causal.members.get(op.author.account)?.devices.has(op.body.device) === true) {
      strong = { kind: 'revoke', target: op.author.account, device: op.body.device }
    }
    judged.strong.push(strong)
    if (childrenLeft.has(i)) {
      const next = cloneState(causal)
      if (problem === undefined) applyEffect(next, op)
      after.set(i, next)
    }
  }
  return judged
}

function structuralProblem(op: MembershipOp, root: MembershipOp, parents: MembershipOp[]): string | undefined {
  if (op.conversation !== root.conversation) return 'operation names another conversation'
  if (op.body.type === 'create') return 'a second create operation'
  for (const p of parents) if (op.hlc <= p.hlc) return 'clock is not after its parents'
  return undefined
}

/**
 * When each device was first admitted in a set of operations (its position): of two devices of one account revoking
 * each other concurrently, the one that was there first stays, whatever clocks or parents the other chose.
 */
function deviceSeniority(judged: Judged, positions: number[]): Map<DeviceId, number> {
  const { order } = judged.graph
  const since = new Map<DeviceId, number>([[order[0]!.author.device, 0]])
  for (const i of positions) {
    if (i === 0 || judged.unauthorized[i] !== undefined) continue
    const body = order[i]!.body
    const admitted = body.type === 'add' ? body.certs.map((c) => c.device) : body.type === 'add-device' ? [body.cert.device] : []
    for (const d of admitted) if (!since.has(d)) since.set(d, i)
  }
  return since
}

/** Whether the decided strong operation `s` strikes the author of `op` (voids it when concurrent). */
function strikes(s: Strong, op: MembershipOp): boolean {
  switch (s.kind) {
    case 'remove':
      return s.target === op.author.account
    case 'demote':
      return s.target === op.author.account && needsAdmin(op)
    case 'revoke':
      return s.device === op.author.device
  }
}

/** Seniority of each admin in a set of operations: [depth in the chain of grants, position of the first grant]. */
function ranks(judged: Judged, positions: number[]): Map<AccountId, [number, number]> {
  const { order } = judged.graph
  const rank = new Map<AccountId, [number, number]>([[order[0]!.author.account, [0, 0]]])
  for (const i of positions) {
    if (i === 0 || judged.unauthorized[i] !== undefined) continue
    const body = order[i]!.body
    const target =
      body.type === 'add' && body.role === 'admin' ? body.certs[0]!.account : body.type === 'role' && body.role === 'admin' ? body.account : undefined
    if (target === undefined || rank.has(target)) continue
    const depth = rank.get(order[i]!.author.account)?.[0] ?? Number.MAX_SAFE_INTEGER - 1
    rank.set(target, [depth + 1, i])
  }
  return rank
}

/**
 * The state of a causally closed set of operations (positions ascending; `full` also records order, reasons and
 * heads). Removals and demotions are decided first by seniority; one decided that then fails in order (its author had
 * lost the role to something else) is set aside and the decision taken again without it, so the result never
 * depends on a removal that did not happen.
 */
function resolve(judged: Judged, positions: number[], full: boolean): LogState {
  const { graph, strong, unauthorized } = judged
  const { order } = graph
  const inSet = new Uint8Array(order.length)
  for (const i of positions) inSet[i] = 1
  const rank = ranks(judged, positions)
  const since = deviceSeniority(judged, positions)
  const seniority = (i: number): [number, number, number] => {
    const [depth, first] = rank.get(order[i]!.author.account) ?? [Number.MAX_SAFE_INTEGER, i]
    return [depth, first, since.get(order[i]!.author.device) ?? i]
  }
  /** Removals and demotions decided and then failed in order, with why: decided again without them. */
  const setAside = new Map<number, string>()
  for (;;) {
    const candidates = positions
      .filter((i) => strong[i] !== undefined && !setAside.has(i))
      .sort((a, b) => {
        const [da, ia, sa] = seniority(a)
        const [db, ib, sb] = seniority(b)
        return da - db || ia - ib || sa - sb || a - b
      })
    const decided: number[] = []
    for (const d of candidates) {
      const mine = strong[d]!
      const struck = decided.some((e) => strikes(strong[e]!, order[d]!) && graph.concurrent(e, d))
      // The target already acted concurrently (an account's removal or demotion of someone; a device's revocation of
      // another): of two who act against each other, the senior one stays.
      const shielded = decided.some((e) => {
        if (!graph.concurrent(e, d)) return false
        const theirs = strong[e]!
        if (mine.kind === 'revoke') return theirs.kind === 'revoke' && order[e]!.author.device === mine.device
        return theirs.kind !== 'revoke' && order[e]!.author.account === mine.target
      })
      if (!struck && !shielded) decided.push(d)
    }
    const decidedSet = new Set(decided)
    const voided = new Map<number, string>()
    for (const e of decided) {
      const s = strong[e]!
      for (const y of judged.byAuthor.get(s.target) ?? []) {
        if (inSet[y] === 0 || !graph.concurrent(e, y) || !strikes(s, order[y]!)) continue
        if (s.kind === 'remove') voided.set(y, 'author was removed concurrently')
        else if (s.kind === 'revoke') voided.set(y, 'author device was revoked concurrently')
        else if (!voided.has(y)) voided.set(y, 'author was demoted concurrently')
      }
    }

    const state = initialState(order[0]!)
    if (!full) state.order = []
    const failed: Array<[number, string]> = []
    for (const i of positions) {
      if (i === 0) continue
      const op = order[i]!
      let reason = unauthorized[i] ?? voided.get(i) ?? setAside.get(i)
      if (reason === undefined && strong[i] !== undefined && !decidedSet.has(i)) reason = 'lost to a concurrent removal or demotion'
      if (reason === undefined) reason = authorityProblem(state, op) ?? applyEffect(state, op)
      if (reason !== undefined && decidedSet.has(i)) failed.push([i, reason])
      if (full) {
        state.order.push(op.hash)
        if (reason !== undefined) state.invalid.set(op.hash, reason)
        if (unauthorized[i] !== undefined) state.unauthorized.add(op.hash)
      }
    }
    if (failed.length > 0) {
      for (const [f, why] of failed) setAside.set(f, why)
      continue
    }
    if (full) {
      const referenced = new Set<OpHash>()
      for (const op of order) if (!state.unauthorized.has(op.hash)) for (const p of op.prev) referenced.add(p)
      state.heads = order.map((op) => op.hash).filter((h) => !referenced.has(h) && !state.unauthorized.has(h)).sort()
    }
    return state
  }
}

/** Every device of every current member. */
export function memberDevices(state: LogState): Map<DeviceId, DeviceCert> {
  const devices = new Map<DeviceId, DeviceCert>()
  for (const m of state.members.values()) for (const [id, cert] of m.devices) devices.set(id, cert)
  return devices
}

/**
 * Whether an envelope from `device` at `seq` in `epoch` is accepted. The same answer on every member for the same log:
 * a removed member's envelopes count only up to the cutoff the remover recorded, so one it writes after its removal
 * is refused everywhere, and one that was in flight is refused everywhere too.
 */
export function mayWrite(state: LogState, epoch: EpochId, device: DeviceId, seq: number, account: AccountId): boolean {
  const e = state.epochs.get(epoch)
  if (e === undefined || !e.devices.has(device)) return false
  const revoked = state.revokedDevices.get(device)
  if (revoked !== undefined && seq > (revoked[`${epoch}/${device}`] ?? 0)) return false
  const removal = state.removed.get(account)
  if (removal === undefined) return true
  return seq <= (removal.cutoffs[`${epoch}/${device}`] ?? 0)
}

/**
 * True when the current epoch's readers differ from the current members' devices: a member device lacks the secret
 * (added concurrently with a rotation) or a non-member has it (removed concurrently with an add). An admin then
 * publishes a `rotate`, which converges because the last rotation in the order wins.
 */
export function needsRotation(state: LogState): boolean {
  const epoch = state.epochs.get(state.currentEpoch)
  if (epoch === undefined) return false
  const devices = memberDevices(state)
  if (devices.size !== epoch.devices.size) return true
  for (const d of devices.keys()) if (!epoch.devices.has(d)) return true
  return false
}
