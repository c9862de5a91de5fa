import type { AccountId, OpHash } from '../ids.js'
import { applyEffect, initialState, isIntroduction, type LogState } from './membership-state.js'
import type { MembershipOp, Role } from './membership-op.js'

/**
 * What happened in a conversation, as the timeline tells it ("Bob joined", "Alice renamed the group to …"), derived
 * from the membership log alone: every member holding the same operations derives the same list.
 *
 * The valid operations are replayed in the log's order (membership-log.ts decided which are valid and that order), so
 * each one is seen against the state just before it: that is what tells "joined" from "added back". Each valid
 * operation gives at most one event; invalid ones give none; invites, rotations, merges, reseals and renames of one's
 * own display name give none (they change nothing a person in the group needs to be told).
 *
 * A person's own device changes (`add-device`, `revoke-device`) are lines too: they change the keys that speak for
 * that person, which is what a verification is bound to (core/people/people.ts `DEVICE_CHANGE_KINDS`).
 */
export type MembershipEventKind =
  | 'created'
  | 'joined'
  | 'added'
  | 'added-back'
  | 'removed'
  | 'left'
  | 'role'
  | 'about'
  | 'device-changed'
  | 'device-added'
  | 'device-revoked'

export interface MembershipEvent {
  /** The operation the event comes from (unique per event). */
  op: OpHash
  /** Its encoded HLC: where it sits among the messages. */
  hlc: string
  kind: MembershipEventKind
  /** Who did it (for `joined` and `left`, the person who joined or left; for `device-added` and `device-revoked`, the
   * person whose device it is: only their own devices can do either). */
  actor: AccountId
  /** Whom it was done to (added, removed, role, device-changed), else null. */
  target: AccountId | null
  /** `role`: the role given. */
  role?: Role
  /** `about`: the new name, when the operation changed it. */
  name?: string
  /** `about`: true when the operation changed the description. */
  described?: boolean
  /** `added-back`: the account came back with devices other than the ones it had (its device changed). */
  newDevices?: boolean
  /** `device-added`: the device introduced itself (restored from the recovery phrase) rather than being linked. */
  restored?: boolean
}

/** The events of a computed log, oldest first, from the operations it was computed from. */
export function membershipEvents(log: LogState, ops: ReadonlyMap<OpHash, MembershipOp>): MembershipEvent[] {
  const root = ops.get(log.root)
  if (root === undefined) return []
  const state = initialState(root)
  const events: MembershipEvent[] = [{ op: root.hash, hlc: root.hlc, kind: 'created', actor: root.author.account, target: null }]
  for (const hash of log.order) {
    if (hash === log.root || log.invalid.has(hash)) continue
    const op = ops.get(hash)
    if (op === undefined) continue
    const event = describe(state, op)
    // Valid in the full computation means valid here too: the same operations, the same order, the same checks.
    if (applyEffect(state, op) !== undefined) continue
    if (event !== undefined) events.push({ op: op.hash, hlc: op.hlc, actor: op.author.account, target: null, ...event })
  }
  return events
}

type Described = Omit<MembershipEvent, 'op' | 'hlc' | 'actor' | 'target'> & { actor?: AccountId; target?: AccountId | null }

/** The event of `op`, seen against the state just before it. */
function describe(state: LogState, op: MembershipOp): Described | undefined {
  const body = op.body
  switch (body.type) {
    case 'add': {
      const account = body.certs[0]!.account
      const knownBefore = [...state.knownDevices.values()].filter((c) => c.account === account)
      if (state.removed.has(account) || knownBefore.length > 0) {
        const had = new Set(knownBefore.map((c) => c.device))
        const newDevices = body.certs.some((c) => !had.has(c.device))
        return { kind: newDevices ? 'device-changed' : 'added-back', target: account, ...(newDevices ? { newDevices } : {}) }
      }
      // Joining with an invite is the joiner's own act; an admin adding someone directly is the admin's.
      return body.via !== null ? { kind: 'joined', actor: account } : { kind: 'added', target: account }
    }
    case 'add-device':
      // A device admitting itself is a restore from the recovery phrase; any other is linked by a device in use.
      return { kind: 'device-added', ...(isIntroduction(op) ? { restored: true } : {}) }
    case 'revoke-device':
      return { kind: 'device-revoked' }
    case 'remove':
      return { kind: 'removed', target: body.account }
    case 'leave':
      return { kind: 'left' }
    case 'role':
      if (state.members.get(body.account)?.role === body.role) return undefined
      return { kind: 'role', target: body.account, role: body.role }
    case 'about': {
      const renamed = body.name !== undefined && body.name !== state.name
      const described = body.description !== undefined && body.description !== state.description
      if (!renamed && !described) return undefined
      return { kind: 'about', ...(renamed ? { name: body.name! } : {}), ...(described ? { described } : {}) }
    }
    default:
      return undefined
  }
}

/**
 * The line a person reads for an event, with each account's current name. With `self`, the reader's own account is
 * "you" ("Alice removed you", "You made Bob an admin"), as the reader's timeline says it.
 */
export function eventText(event: MembershipEvent, nameOf: (account: AccountId) => string, kind: 'direct' | 'group', self?: AccountId): string {
  // The actor always begins the line, the target never does.
  const actor = event.actor === self ? 'You' : nameOf(event.actor)
  const target = event.target === null ? '' : event.target === self ? 'you' : nameOf(event.target)
  const targets = event.target === self ? 'your' : `${target}’s`
  const theirs = event.actor === self ? 'your' : 'their'
  switch (event.kind) {
    case 'created':
      return kind === 'group' ? `${actor} created the group` : `${actor} started the chat`
    case 'joined':
      return `${actor} joined`
    case 'added':
      return `${actor} added ${target}`
    case 'added-back':
      return `${actor} added ${target} back`
    case 'device-changed':
      return `${actor} added ${target} back · ${targets} device changed`
    case 'device-added':
      return event.restored === true ? `${actor} restored ${theirs} account on a new device` : `${actor} linked a new device`
    case 'device-revoked':
      return `${actor} removed a device`
    case 'removed':
      return `${actor} removed ${target}`
    case 'left':
      return `${actor} left`
    case 'role':
      return `${actor} made ${target} ${event.role === 'admin' ? 'an admin' : 'a member'}`
    case 'about':
      if (event.name !== undefined) return `${actor} renamed the group to ${event.name}${event.described === true ? ' and changed the description' : ''}`
      return `${actor} changed the description`
  }
}
