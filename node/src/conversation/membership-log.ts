import { Limits } from '../../common/wire/limits.js'
import { displayNameProblem, type DeviceCert } from '../identity/device-cert.js'
import type { AccountId, ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import type { ConversationKind, InviteGrant, MembershipOp, NewEpoch, Role } from './membership-op.js'

/**
 * The membership log's state, computed from its operations.
 *
 * Invariant: every member computes the same state from the same set of operations, whatever order they arrived in.
 * Operations are applied in a deterministic topological order (parents first; among the ready ones, lowest HLC, then
 * lowest hash). Each is checked against the state just before it; an invalid operation is kept (so the DAG stays
 * connected) but has no effect. Only operations descending from the conversation's root (the create operation whose
 * hash the invite carries) count, so nobody can forge a second "create".
 */
export interface MemberState {
  account: AccountId
  role: Role
  devices: Map<DeviceId, DeviceCert>
  displayName: string
  addedBy: OpHash
}

export interface EpochState {
  id: EpochId
  createdBy: OpHash
  /** Devices that may read and write in this epoch (those the secret was sealed to). */
  devices: Set<DeviceId>
  /** The sealed secret for each device, so a device can find its own. */
  seals: Map<DeviceId, Uint8Array>
}

export interface InviteState {
  grant: InviteGrant
  createdBy: AccountId
  revoked: boolean
  usedBy: AccountId | null
}

export interface RemovalState {
  /** `${epoch}/${device}` → the last sequence number accepted from that removed device in that epoch. */
  cutoffs: Record<string, number>
}

export interface LogState {
  conversation: ConversationId
  root: OpHash
  kind: ConversationKind
  name: string
  members: Map<AccountId, MemberState>
  removed: Map<AccountId, RemovalState>
  /** Every account's latest display name, removed members included: their old messages keep showing a name. */
  names: Map<AccountId, string>
  /** Every device ever admitted, removed ones included: their earlier envelopes still verify. */
  knownDevices: Map<DeviceId, DeviceCert>
  epochs: Map<EpochId, EpochState>
  currentEpoch: EpochId
  invites: Map<string, InviteState>
  /** Operations no other operation names as a parent: the `prev` of the next local operation. */
  heads: OpHash[]
  /** Applied order, valid and invalid alike. */
  order: OpHash[]
  invalid: Map<OpHash, string>
  /** Operations waiting for a parent we have not seen. */
  pending: OpHash[]
}

const hlcWall = (hlc: string): number => Number.parseInt(hlc.slice(0, 13), 10)

function compareOps(a: MembershipOp, b: MembershipOp): number {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1
  return a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0
}

function openEpoch(epoch: NewEpoch, createdBy: OpHash): EpochState {
  return {
    id: epoch.id,
    createdBy,
    devices: new Set(epoch.seals.map((s) => s.device)),
    seals: new Map(epoch.seals.map((s) => [s.device, s.box])),
  }
}

/** Computes the state, or undefined if the root operation is missing or is not a valid create. */
export function computeLog(ops: Iterable<MembershipOp>, root: OpHash): LogState | undefined {
  const byHash = new Map<OpHash, MembershipOp>()
  for (const op of ops) byHash.set(op.hash, op)
  const rootOp = byHash.get(root)
  if (rootOp === undefined || rootOp.body.type !== 'create' || rootOp.prev.length !== 0) return undefined

  const state: LogState = {
    conversation: rootOp.conversation,
    root,
    kind: rootOp.body.kind,
    name: rootOp.body.name,
    members: new Map(),
    removed: new Map(),
    names: new Map(),
    knownDevices: new Map(),
    epochs: new Map(),
    currentEpoch: rootOp.body.epoch.id,
    invites: new Map(),
    heads: [],
    order: [],
    invalid: new Map(),
    pending: [],
  }

  // Kahn's algorithm over the DAG restricted to descendants of the root.
  const children = new Map<OpHash, OpHash[]>()
  const missingParents = new Map<OpHash, number>()
  for (const op of byHash.values()) {
    if (op.hash === root) continue
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
    if (op.prev.length === 0) missing = Number.POSITIVE_INFINITY // a second root: never applied
    missingParents.set(op.hash, missing)
  }

  const ready: MembershipOp[] = [rootOp]
  const applied = new Set<OpHash>()
  while (ready.length > 0) {
    ready.sort(compareOps)
    const op = ready.shift()!
    applied.add(op.hash)
    state.order.push(op.hash)
    const reason = op.conversation === state.conversation ? apply(state, op) : 'operation names another conversation'
    if (reason !== undefined) state.invalid.set(op.hash, reason)
    for (const child of children.get(op.hash) ?? []) {
      const left = (missingParents.get(child) ?? 0) - 1
      missingParents.set(child, left)
      if (left === 0) ready.push(byHash.get(child)!)
    }
  }

  const referenced = new Set<OpHash>()
  for (const hash of applied) for (const p of byHash.get(hash)!.prev) referenced.add(p)
  state.heads = [...applied].filter((h) => !referenced.has(h)).sort()
  state.pending = [...byHash.keys()].filter((h) => !applied.has(h)).sort()
  return state
}

/** Applies one operation; returns why it is invalid, or undefined when it took effect. */
function apply(state: LogState, op: MembershipOp): string | undefined {
  const body = op.body
  if (body.type === 'create') {
    if (op.hash !== state.root) return 'a second create operation'
    state.members.set(op.author.account, {
      account: op.author.account,
      role: 'admin',
      devices: new Map([[op.author.device, op.author]]),
      displayName: op.author.displayName,
      addedBy: op.hash,
    })
    state.names.set(op.author.account, op.author.displayName)
    state.knownDevices.set(op.author.device, op.author)
    state.epochs.set(body.epoch.id, openEpoch(body.epoch, op.hash))
    state.currentEpoch = body.epoch.id
    return undefined
  }

  const author = state.members.get(op.author.account)
  if (author === undefined) return 'author is not a member'
  if (!author.devices.has(op.author.device)) return 'author device is not a device of that member'
  if (body.type === 'profile') {
    // Anyone may rename themselves, nobody else: the name is the author's own account's.
    const problem = displayNameProblem(body.name)
    if (problem !== undefined) return problem
    author.displayName = body.name
    state.names.set(author.account, body.name)
    return undefined
  }
  if (author.role !== 'admin') return 'author is not an admin'

  switch (body.type) {
    case 'invite':
      if (state.invites.has(body.invite.id)) return 'invite id already used'
      state.invites.set(body.invite.id, { grant: body.invite, createdBy: author.account, revoked: false, usedBy: null })
      return undefined
    case 'revoke-invite': {
      const invite = state.invites.get(body.inviteId)
      if (invite === undefined) return 'unknown invite'
      invite.revoked = true
      return undefined
    }
    case 'add': {
      const account = body.certs[0]!.account
      if (state.members.has(account)) return 'already a member'
      if (state.kind === 'direct' && state.members.size >= 2) return 'a direct conversation has two members'
      if (state.members.size >= Limits.maxMembers) return `a conversation has at most ${Limits.maxMembers} members`
      // Every check comes before any change: an invalid add must not use up its invite.
      const invite = body.via === null ? undefined : state.invites.get(body.via)
      if (body.via !== null) {
        if (invite === undefined) return 'unknown invite'
        if (invite.revoked) return 'invite was revoked'
        if (invite.grant.expiresAt !== 0 && hlcWall(op.hlc) > invite.grant.expiresAt) return 'invite had expired'
        if (invite.grant.singleUse && invite.usedBy !== null) return 'single-use invite was already used'
      }
      const epoch = state.epochs.get(body.epoch)
      if (epoch === undefined) return 'unknown epoch'
      if (invite !== undefined) invite.usedBy = account
      state.removed.delete(account)
      state.members.set(account, {
        account,
        role: body.role,
        devices: new Map(body.certs.map((c) => [c.device, c])),
        displayName: body.certs[0]!.displayName,
        addedBy: op.hash,
      })
      state.names.set(account, body.certs[0]!.displayName)
      for (const c of body.certs) state.knownDevices.set(c.device, c)
      for (const seal of body.seals) {
        if (!body.certs.some((c) => c.device === seal.device)) continue
        epoch.devices.add(seal.device)
        epoch.seals.set(seal.device, seal.box)
      }
      return undefined
    }
    case 'remove': {
      const member = state.members.get(body.account)
      if (member === undefined) return 'not a member'
      if (state.epochs.has(body.epoch.id)) return 'epoch already exists'
      state.members.delete(body.account)
      state.removed.set(body.account, { cutoffs: { ...body.cutoffs } })
      state.epochs.set(body.epoch.id, openEpoch(body.epoch, op.hash))
      state.currentEpoch = body.epoch.id
      return undefined
    }
    case 'rotate':
      if (state.epochs.has(body.epoch.id)) return 'epoch already exists'
      state.epochs.set(body.epoch.id, openEpoch(body.epoch, op.hash))
      state.currentEpoch = body.epoch.id
      return undefined
    case 'role': {
      const member = state.members.get(body.account)
      if (member === undefined) return 'not a member'
      member.role = body.role
      return undefined
    }
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
