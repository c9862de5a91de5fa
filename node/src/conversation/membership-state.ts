import { equalBytes } from '../../common/util/bytes.js'
import { Limits } from '../../common/wire/limits.js'
import { displayNameProblem, type DeviceCert } from '../identity/device-cert.js'
import type { AccountId, ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import type { ConversationKind, InviteGrant, MembershipOp, NewEpoch, Role } from './membership-op.js'
import { groupDescriptionProblem, groupNameProblem } from './group-about.js'
import { hlcWall } from './op-graph.js'

/**
 * The membership state and the effect of one operation on it. Who may author an operation is decided in
 * membership-log.ts (causally, with strong removal); this module applies an authorised operation and checks what the
 * operation itself asks for (is the target a member, is the invite usable, is the epoch new).
 */
export interface MemberState {
  account: AccountId
  role: Role
  devices: Map<DeviceId, DeviceCert>
  displayName: string
  addedBy: OpHash
  /** The invite the account joined with (null when an admin added it directly): revoked when it is removed. */
  via: string | null
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
  /** True when the account left by itself (a `leave`), false when an admin removed it. */
  left: boolean
}

export interface LogState {
  conversation: ConversationId
  root: OpHash
  kind: ConversationKind
  /** The group's name: the create's, then the last `about` in the log's order that named one. */
  name: string
  /** The group's description ('' until an `about` gives one). */
  description: string
  members: Map<AccountId, MemberState>
  removed: Map<AccountId, RemovalState>
  /**
   * Devices revoked by their own account (`revoke-device`), with how far each had written in each epoch
   * (`${epoch}/${device}` → last sequence number accepted). A revoked device never becomes a device again.
   */
  revokedDevices: Map<DeviceId, Record<string, number>>
  /** Every account's latest display name, removed members included: their old messages keep showing a name. */
  names: Map<AccountId, string>
  /** Every device ever admitted, removed ones included: their earlier envelopes still verify. */
  knownDevices: Map<DeviceId, DeviceCert>
  epochs: Map<EpochId, EpochState>
  currentEpoch: EpochId
  invites: Map<string, InviteState>
  /** Profile operations that took effect, per account (bounded: a member cannot grow the log with renames). */
  renames: Map<AccountId, number>
  /** Operations no other operation names as a parent: the `prev` of the next local operation. */
  heads: OpHash[]
  /** Applied order, valid and invalid alike. */
  order: OpHash[]
  /** Operations without effect, with the reason. */
  invalid: Map<OpHash, string>
  /**
   * Operations whose author lacked the authority in the operation's own causal past. That never changes whatever
   * arrives later, so the core neither keeps nor forwards them.
   */
  unauthorized: Set<OpHash>
  /** Operations waiting for a parent we have not seen, or dated ahead of our clock. */
  pending: OpHash[]
}

/** How many renames of one account take effect in one conversation. */
export const MAX_RENAMES = 64

export function openEpoch(epoch: NewEpoch, createdBy: OpHash): EpochState {
  return {
    id: epoch.id,
    createdBy,
    devices: new Set(epoch.seals.map((s) => s.device)),
    seals: new Map(epoch.seals.map((s) => [s.device, s.box])),
  }
}

/** The state right after the root `create` (the caller has checked it is one). */
export function initialState(root: MembershipOp): LogState {
  if (root.body.type !== 'create') throw new Error('root is not a create operation')
  const author = root.author
  return {
    conversation: root.conversation,
    root: root.hash,
    kind: root.body.kind,
    name: root.body.name,
    description: '',
    members: new Map([
      [author.account, { account: author.account, role: 'admin', devices: new Map([[author.device, author]]), displayName: author.displayName, addedBy: root.hash, via: null }],
    ]),
    removed: new Map(),
    revokedDevices: new Map(),
    names: new Map([[author.account, author.displayName]]),
    knownDevices: new Map([[author.device, author]]),
    epochs: new Map([[root.body.epoch.id, openEpoch(root.body.epoch, root.hash)]]),
    currentEpoch: root.body.epoch.id,
    invites: new Map(),
    renames: new Map(),
    heads: [],
    order: [root.hash],
    invalid: new Map(),
    unauthorized: new Set(),
    pending: [],
  }
}

/**
 * A copy that `applyEffect` can change without touching the original: maps are copied, their entries are replaced
 * (never mutated) by `applyEffect`, so a copy costs one pass over the maps and nothing deeper.
 */
export function cloneState(s: LogState): LogState {
  return {
    ...s,
    members: new Map(s.members),
    removed: new Map(s.removed),
    revokedDevices: new Map(s.revokedDevices),
    names: new Map(s.names),
    knownDevices: new Map(s.knownDevices),
    epochs: new Map(s.epochs),
    invites: new Map(s.invites),
    renames: new Map(s.renames),
  }
}

/** Operations only an admin may author; the rest any member may (each for the author's own account). */
export const needsAdmin = (op: MembershipOp): boolean => !MEMBER_OPS.has(op.body.type)
const MEMBER_OPS = new Set<MembershipOp['body']['type']>(['profile', 'merge', 'leave', 'add-device', 'revoke-device', 'reseal'])

/** Why the account cannot leave now: the last admin of a group with other members must hand over first. */
export function leaveProblem(state: LogState, account: AccountId): string | undefined {
  const member = state.members.get(account)
  if (member === undefined) return 'not a member'
  if (state.kind !== 'group') return 'only a group can be left'
  if (member.role !== 'admin' || state.members.size === 1) return undefined
  for (const m of state.members.values()) if (m.account !== account && m.role === 'admin') return undefined
  return 'the last admin cannot leave while others remain: make someone else an admin first'
}

/**
 * Takes an account out (removed by an admin, or left by itself): it stops being a member, its envelopes count only up
 * to the cutoffs, and what it could use to come back, or hand to others, stops working.
 */
function dropMember(state: LogState, member: MemberState, cutoffs: Record<string, number>, left: boolean): void {
  state.members.delete(member.account)
  state.removed.set(member.account, { cutoffs: { ...cutoffs }, left })
  for (const [id, invite] of state.invites) {
    if (invite.createdBy === member.account || id === member.via) state.invites.set(id, { ...invite, revoked: true })
  }
}

/** What an operation's author must be, in the state it is judged against. */
export function authorityProblem(state: LogState, op: MembershipOp): string | undefined {
  const author = state.members.get(op.author.account)
  if (author === undefined) return 'author is not a member'
  // A device restored from the recovery phrase introduces itself: the certificate the member's account key signed is
  // the authority (docs/adr/0032). It brings no secrets: members seal them to it (`reseal`, or a rotation).
  if (isIntroduction(op)) return op.body.type === 'add-device' && op.body.seals.length > 0 ? 'a device introducing itself has no epoch secrets to hand on' : undefined
  if (!author.devices.has(op.author.device)) return 'author device is not a device of that member'
  // A device acts for its own account's devices only: another member can neither add a device to an account nor
  // take one away, whatever certificate it holds.
  if (op.body.type === 'add-device' && op.body.cert.account !== op.author.account) return 'a device adds devices of its own account only'
  // An account goes with a `leave`, which names no new epoch. A removal of oneself would start one that its author,
  // the account on its way out, knows: it could go on reading what the others believe it no longer can.
  if (op.body.type === 'remove' && op.body.account === op.author.account) return 'an account leaves with a leave, not a remove of itself'
  if (op.body.type === 'revoke-device') {
    if (!author.devices.has(op.body.device)) return 'a device revokes devices of its own account only'
    if (op.body.device === op.author.device) return 'a device cannot revoke itself: another device of the account does'
  }
  if (!needsAdmin(op)) return undefined
  if (author.role !== 'admin') return 'author is not an admin'
  return undefined
}

/** An `add-device` of its own author: a device (restored from the phrase) joining its account's membership. */
export const isIntroduction = (op: MembershipOp): boolean => op.body.type === 'add-device' && op.body.cert.device === op.author.device

/** Applies an authorised operation; returns why it has no effect, or undefined when it took effect. */
export function applyEffect(state: LogState, op: MembershipOp): string | undefined {
  const body = op.body
  switch (body.type) {
    case 'create':
      return 'a second create operation'
    case 'merge':
      return undefined
    case 'profile': {
      // Anyone may rename themselves, nobody else: the name is the author's own account's.
      const problem = displayNameProblem(body.name)
      if (problem !== undefined) return problem
      const count = state.renames.get(op.author.account) ?? 0
      if (count >= MAX_RENAMES) return `at most ${MAX_RENAMES} name changes per member`
      state.renames.set(op.author.account, count + 1)
      state.members.set(op.author.account, { ...state.members.get(op.author.account)!, displayName: body.name })
      state.names.set(op.author.account, body.name)
      return undefined
    }
    case 'invite':
      if (state.invites.has(body.invite.id)) return 'invite id already used'
      state.invites.set(body.invite.id, { grant: body.invite, createdBy: op.author.account, revoked: false, usedBy: null })
      return undefined
    case 'revoke-invite': {
      const invite = state.invites.get(body.inviteId)
      if (invite === undefined) return 'unknown invite'
      state.invites.set(body.inviteId, { ...invite, revoked: true })
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
        if (state.removed.has(account)) return 'a removed member comes back only when an admin adds them back'
        if (invite.revoked) return 'invite was revoked'
        if (invite.grant.expiresAt !== 0 && hlcWall(op.hlc) > invite.grant.expiresAt) return 'invite had expired'
        if (invite.grant.singleUse && invite.usedBy !== null) return 'single-use invite was already used'
      }
      const current = state.epochs.get(body.epoch)
      if (current === undefined) return 'unknown epoch'
      if (invite !== undefined) state.invites.set(invite.grant.id, { ...invite, usedBy: account })
      // Certificates the log already holds say nothing newer than the renames since: an account added back with
      // them keeps the name it last had; a new certificate brings its own.
      const known = body.certs.every((c) => { const had = state.knownDevices.get(c.device); return had !== undefined && equalBytes(had.bytes, c.bytes) })
      const displayName = (known ? state.names.get(account) : undefined) ?? body.certs[0]!.displayName
      state.removed.delete(account)
      state.members.set(account, {
        account,
        role: body.role,
        devices: new Map(body.certs.map((c) => [c.device, c])),
        displayName,
        addedBy: op.hash,
        via: body.via,
      })
      state.names.set(account, displayName)
      for (const c of body.certs) state.knownDevices.set(c.device, c)
      const epoch = { ...current, devices: new Set(current.devices), seals: new Map(current.seals) }
      for (const seal of body.seals) {
        if (!body.certs.some((c) => c.device === seal.device)) continue
        epoch.devices.add(seal.device)
        epoch.seals.set(seal.device, seal.box)
      }
      state.epochs.set(epoch.id, epoch)
      return undefined
    }
    case 'remove': {
      const member = state.members.get(body.account)
      if (member === undefined) return 'not a member'
      if (state.epochs.has(body.epoch.id)) return 'epoch already exists'
      dropMember(state, member, body.cutoffs, false)
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
      state.members.set(body.account, { ...member, role: body.role })
      return undefined
    }
    case 'about': {
      if (state.kind !== 'group') return 'only a group has a name and description to change'
      const problem =
        (body.name === undefined ? undefined : groupNameProblem(body.name)) ??
        (body.description === undefined ? undefined : groupDescriptionProblem(body.description))
      if (problem !== undefined) return problem
      if (body.name !== undefined) state.name = body.name
      if (body.description !== undefined) state.description = body.description
      return undefined
    }
    case 'add-device':
      return addDevice(state, op, body)
    case 'reseal':
      return reseal(state, op, body)
    case 'revoke-device': {
      const member = state.members.get(op.author.account)!
      if (!member.devices.has(body.device)) return 'not a device of the account'
      if (state.epochs.has(body.epoch.id)) return 'epoch already exists'
      if (!Object.keys(body.cutoffs).every((key) => key.slice(17) === body.device)) return 'cutoffs name a device other than the revoked one'
      const devices = new Map(member.devices)
      devices.delete(body.device)
      state.members.set(member.account, { ...member, devices })
      state.revokedDevices.set(body.device, { ...body.cutoffs })
      state.epochs.set(body.epoch.id, openEpoch(body.epoch, op.hash))
      state.currentEpoch = body.epoch.id
      return undefined
    }
    case 'leave': {
      const problem = leaveProblem(state, op.author.account)
      if (problem !== undefined) return problem
      // Cutoffs name only the leaver's own devices: it cannot end anyone else's writing.
      const prefixOk = (key: string) => state.members.get(op.author.account)!.devices.has(key.slice(17) as DeviceId)
      if (!Object.keys(body.cutoffs).every(prefixOk)) return 'cutoffs name a device that is not the leaver’s'
      dropMember(state, state.members.get(op.author.account)!, body.cutoffs, true)
      return undefined
    }
  }
}

/** A device of the author's account joins the account's membership, reading every epoch it was sealed into. */
function addDevice(state: LogState, op: MembershipOp, body: Extract<MembershipOp['body'], { type: 'add-device' }>): string | undefined {
  const member = state.members.get(op.author.account)!
  const cert = body.cert
  if (member.devices.has(cert.device)) return 'already a device of this member'
  if (state.revokedDevices.has(cert.device)) return 'a revoked device does not come back'
  if (member.devices.size >= Limits.maxDevicesPerMember) return `an account has at most ${Limits.maxDevicesPerMember} devices`
  // Only epochs the author reads: it cannot hand on what it never had, and a seal for an epoch the author lacks
  // would let one device vouch for another's access it cannot check.
  for (const seal of body.seals) {
    const epoch = state.epochs.get(seal.epoch)
    if (epoch === undefined) return 'a seal names an unknown epoch'
    if (!epoch.devices.has(op.author.device)) return 'a seal names an epoch the author does not read'
  }
  state.members.set(member.account, { ...member, devices: new Map([...member.devices, [cert.device, cert]]) })
  state.knownDevices.set(cert.device, cert)
  for (const seal of body.seals) {
    const epoch = state.epochs.get(seal.epoch)!
    state.epochs.set(seal.epoch, { ...epoch, devices: new Set([...epoch.devices, cert.device]), seals: new Map([...epoch.seals, [cert.device, seal.box]]) })
  }
  return undefined
}

/** Epoch secrets for a member device that lacks them: only epochs some device of its account read already. */
function reseal(state: LogState, op: MembershipOp, body: Extract<MembershipOp['body'], { type: 'reseal' }>): string | undefined {
  const account = [...state.members.values()].find((m) => m.devices.has(body.device))?.account
  if (account === undefined) return 'not a device of a member'
  for (const seal of body.seals) {
    const epoch = state.epochs.get(seal.epoch)
    if (epoch === undefined) return 'a seal names an unknown epoch'
    if (!epoch.devices.has(op.author.device)) return 'a seal names an epoch the author does not read'
    if (epoch.devices.has(body.device)) return 'the device reads that epoch already'
    // Never history to a newcomer: what its account was never given stays so.
    if (![...epoch.devices].some((d) => state.knownDevices.get(d)?.account === account)) return 'its account did not read that epoch'
  }
  for (const seal of body.seals) {
    const epoch = state.epochs.get(seal.epoch)!
    state.epochs.set(seal.epoch, { ...epoch, devices: new Set([...epoch.devices, body.device]), seals: new Map([...epoch.seals, [body.device, seal.box]]) })
  }
  return undefined
}
