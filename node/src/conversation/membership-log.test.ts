import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHlc } from '../../../crdt/src/index.js'
import { generateSigningKeyPair } from '../../common/crypto/ed25519.js'
import { toHex } from '../../common/util/bytes.js'
import { Limits } from '../../common/wire/limits.js'
import { issueDeviceCert, type DeviceCert } from '../identity/device-cert.js'
import { createIdentity, restoreIdentity, withDisplayName, type Identity } from '../identity/identity.js'
import type { AccountId, EpochId, OpHash } from '../ids.js'
import { MAX_CLOCK_SKEW_MS, computeLog, mayWrite, memberDevices, needsRotation, type LogState } from './membership-log.js'
import { CONV, Chain, OTHER_CONV, T0, addBody, box, epochFor, grant, inviteId, sign } from './membership-log.testing.js'
import type { MembershipOp, NewEpoch, OpBody } from './membership-op.js'

let alice: Identity
let bob: Identity
let carol: Identity
let dave: Identity
let erin: Identity
let aliceLaptop: Identity // a second device of alice's account, never added
let extras: Identity[] = [] // more people to admit in the property test

beforeAll(async () => {
  const created = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map((n) => createIdentity(n, T0)))
  ;[alice, bob, carol, dave, erin] = created.map((c) => c.identity) as [Identity, Identity, Identity, Identity, Identity]
  aliceLaptop = await restoreIdentity('alice', created[0]!.recoveryPhrase, T0)
  extras = (await Promise.all(['frank', 'grace', 'heidi'].map((n) => createIdentity(n, T0)))).map((c) => c.identity)
})

function groupOfThree() {
  const chain = new Chain()
  const e0 = chain.create(alice)
  chain.append(alice, addBody(bob, e0))
  chain.append(alice, addBody(carol, e0))
  return { chain, e0 }
}

const roles = (s: LogState) => Object.fromEntries([...s.members.values()].map((m) => [m.displayName, m.role]))

describe('computeLog: create, invite, add', () => {
  it('create alone: the creator is the only admin, the create epoch is current', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const s = chain.state()
    expect(s.conversation).toBe(CONV)
    expect(s.kind).toBe('group')
    expect(s.name).toBe('Family')
    expect(roles(s)).toEqual({ alice: 'admin' })
    expect(s.currentEpoch).toBe(e0)
    expect([...s.epochs.get(e0)!.devices]).toEqual([alice.deviceId])
    expect(s.heads).toEqual([chain.root])
    expect(s.order).toEqual([chain.root])
    expect(s.invalid.size).toBe(0)
    expect(needsRotation(s)).toBe(false)
  })

  it('admits a member through an invite: member set, devices, epoch readers, invite marked used', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const invite = grant({ singleUse: true })
    chain.append(alice, { type: 'invite', invite })
    const add = chain.append(alice, addBody(bob, e0, { via: invite.id }))
    const s = chain.state()
    expect(s.invalid).toEqual(new Map())
    expect(roles(s)).toEqual({ alice: 'admin', bob: 'member' })
    expect(s.members.get(bob.account)!.addedBy).toBe(add.hash)
    expect([...s.members.get(bob.account)!.devices.keys()]).toEqual([bob.deviceId])
    expect([...memberDevices(s).keys()].sort()).toEqual([alice.deviceId, bob.deviceId].sort())
    expect(s.knownDevices.has(bob.deviceId)).toBe(true)
    expect([...s.epochs.get(e0)!.devices].sort()).toEqual([alice.deviceId, bob.deviceId].sort())
    expect(s.epochs.get(e0)!.seals.get(bob.deviceId)).toEqual(box(bob.deviceId))
    expect(s.invites.get(invite.id)).toMatchObject({ revoked: false, usedBy: bob.account, createdBy: alice.account })
    expect(s.heads).toEqual([add.hash])
    expect(needsRotation(s)).toBe(false)
  })

  it("ignores seals in an add for devices that are not the added member's", () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const body = addBody(bob, e0)
    if (body.type !== 'add') throw new Error('unreachable')
    body.seals.push({ device: carol.deviceId, box: box(carol.deviceId) })
    chain.append(alice, body)
    const s = chain.state()
    expect(s.epochs.get(e0)!.devices.has(carol.deviceId)).toBe(false)
    expect(s.epochs.get(e0)!.devices.has(bob.deviceId)).toBe(true)
  })

  it("a non-admin's add is invalid and has no effect", () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0))
    const bad = chain.append(bob, addBody(carol, e0))
    const s = chain.state()
    expect(s.invalid.get(bad.hash)).toBe('author is not an admin')
    expect(s.members.has(carol.account)).toBe(false)
    expect(s.epochs.get(e0)!.devices.has(carol.deviceId)).toBe(false)
    // invalid operations stay in the DAG: they are ordered and can be heads
    expect(s.order).toContain(bad.hash)
    // Its author had no authority in its causal past, which never changes: it is not kept, so it is no head either.
    expect(s.unauthorized.has(bad.hash)).toBe(true)
    expect(s.heads).not.toContain(bad.hash)
  })

  it("a non-member's operation, and one from a device of the admin's account the log never admitted, are invalid", () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const stranger = chain.append(carol, addBody(dave, e0))
    const otherDevice = chain.append(aliceLaptop, addBody(dave, e0))
    expect(aliceLaptop.account).toBe(alice.account)
    const s = chain.state()
    expect(s.invalid.get(stranger.hash)).toBe('author is not a member')
    expect(s.invalid.get(otherDevice.hash)).toBe('author device is not a device of that member')
    expect(s.members.has(dave.account)).toBe(false)
  })

  it('an invite used after its expiry is invalid; at the expiry millisecond it is still valid; 0 never expires', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const expiring = grant({ expiresAt: T0 + 1_000, singleUse: false })
    const forever = grant({ expiresAt: 0, singleUse: false })
    chain.append(alice, { type: 'invite', invite: expiring })
    chain.append(alice, { type: 'invite', invite: forever })
    const onTime = chain.append(alice, addBody(bob, e0, { via: expiring.id }), { wall: T0 + 1_000 })
    const late = chain.append(alice, addBody(carol, e0, { via: expiring.id }), { wall: T0 + 1_001 })
    const never = chain.append(alice, addBody(dave, e0, { via: forever.id }), { wall: T0 + 10 ** 12 })
    const s = chain.state()
    expect(s.invalid.has(onTime.hash)).toBe(false)
    expect(s.invalid.get(late.hash)).toBe('invite had expired')
    expect(s.invalid.has(never.hash)).toBe(false)
    expect(roles(s)).toEqual({ alice: 'admin', bob: 'member', dave: 'member' })
  })

  it('a revoked invite admits nobody; revoking an unknown invite is invalid', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const invite = grant({ singleUse: false })
    chain.append(alice, { type: 'invite', invite })
    chain.append(alice, { type: 'revoke-invite', inviteId: invite.id })
    const add = chain.append(alice, addBody(bob, e0, { via: invite.id }))
    const unknownRevoke = chain.append(alice, { type: 'revoke-invite', inviteId: inviteId() })
    const unknownInvite = chain.append(alice, addBody(carol, e0, { via: inviteId() }))
    const s = chain.state()
    expect(s.invites.get(invite.id)!.revoked).toBe(true)
    expect(s.invalid.get(add.hash)).toBe('invite was revoked')
    expect(s.invalid.get(unknownRevoke.hash)).toBe('unknown invite')
    expect(s.invalid.get(unknownInvite.hash)).toBe('unknown invite')
    expect(roles(s)).toEqual({ alice: 'admin' })
  })

  it('a single-use invite admits one member; a multi-use invite admits several', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const once = grant({ singleUse: true })
    const many = grant({ singleUse: false })
    chain.append(alice, { type: 'invite', invite: once })
    chain.append(alice, { type: 'invite', invite: many })
    chain.append(alice, addBody(bob, e0, { via: once.id }))
    const second = chain.append(alice, addBody(carol, e0, { via: once.id }))
    chain.append(alice, addBody(dave, e0, { via: many.id }))
    chain.append(alice, addBody(erin, e0, { via: many.id }))
    const s = chain.state()
    expect(s.invalid.get(second.hash)).toBe('single-use invite was already used')
    expect(s.invites.get(once.id)!.usedBy).toBe(bob.account)
    expect(Object.keys(roles(s)).sort()).toEqual(['alice', 'bob', 'dave', 'erin'])
  })

  it('rejects a reused invite id, a duplicate member, an unknown epoch, and a third member of a direct chat', () => {
    const chain = new Chain()
    const e0 = chain.create(alice, 'direct')
    const invite = grant()
    chain.append(alice, { type: 'invite', invite })
    const dupInvite = chain.append(alice, { type: 'invite', invite: { ...invite, singleUse: false } })
    const unknownEpoch = chain.append(alice, addBody(bob, '00ff00ff00ff00ff' as EpochId))
    chain.append(alice, addBody(bob, e0))
    const again = chain.append(alice, addBody(bob, e0))
    const third = chain.append(alice, addBody(carol, e0))
    const s = chain.state()
    expect(s.kind).toBe('direct')
    expect(s.invalid.get(dupInvite.hash)).toBe('invite id already used')
    expect(s.invites.get(invite.id)!.grant.singleUse).toBe(true)
    expect(s.invalid.get(unknownEpoch.hash)).toBe('unknown epoch')
    expect(s.invalid.get(again.hash)).toBe('already a member')
    expect(s.invalid.get(third.hash)).toBe('a direct conversation has two members')
    expect(roles(s)).toEqual({ alice: 'admin', bob: 'member' })
  })

  it(`a group holds at most Limits.maxMembers members`, () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const person = () => {
      const account = generateSigningKeyPair()
      const device = generateSigningKeyPair()
      return issueDeviceCert({
        accountSeed: account.seed,
        accountPublic: account.publicKey,
        devicePublic: device.publicKey,
        dhPublic: new Uint8Array(32).fill(1),
        peerId: '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2',
        displayName: 'p',
        createdAt: 1,
      })
    }
    const ops = [...chain.ops]
    let prev = [chain.root]
    const add = (cert: DeviceCert) => {
      const op = sign(alice, prev, encodeHlc({ wall: T0 + 10 + ops.length, counter: 0 }), {
        type: 'add',
        certs: [cert],
        role: 'member',
        via: null,
        epoch: e0,
        seals: [],
      })
      ops.push(op)
      prev = [op.hash]
      return op
    }
    for (let i = 1; i < Limits.maxMembers; i++) add(person())
    const last = add(person())
    const s = computeLog(ops, chain.root)!
    expect(s.members.size).toBe(Limits.maxMembers)
    expect(s.invalid.get(last.hash)).toMatch(/at most/)
    expect(s.invalid.size).toBe(1)
  })

  it('an add that turns out invalid does not use up a single-use invite', () => {
    // Reachable by honest admins: alice and bob remove each other concurrently; carol has only seen bob's removal,
    // so she admits dave (single-use invite) into the epoch that removal opened. Alice is senior, so bob's removal
    // has no effect, its epoch never exists, and carol's add is invalid ('unknown epoch'). An invalid operation must
    // have no effect: the invite must still be unused, so dave can be admitted again.
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0, { role: 'admin' }))
    chain.append(alice, addBody(carol, e0, { role: 'admin' }))
    const invite = grant({ singleUse: true })
    chain.append(carol, { type: 'invite', invite })
    const heads = chain.state().heads
    const aliceRemove = chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId, carol.deviceId]) }, { prev: heads, wall: T0 + 30 })
    const bobRemove = chain.append(bob, { type: 'remove', account: alice.account, cutoffs: {}, epoch: epochFor([bob.deviceId, carol.deviceId]) }, { prev: heads, wall: T0 + 20 })
    const carolsView = chain.state(chain.ops.filter((o) => o !== aliceRemove))
    expect(carolsView.invalid.size).toBe(0)
    const bad = chain.append(carol, addBody(dave, carolsView.currentEpoch, { via: invite.id }), { prev: carolsView.heads, wall: T0 + 40 })
    const merged = chain.state()
    expect(merged.invalid.get(bobRemove.hash)).toBe('author was removed concurrently')
    expect(merged.invalid.get(bad.hash)).toBe('unknown epoch')
    expect(merged.members.has(dave.account)).toBe(false)
    expect(merged.invites.get(invite.id)!.usedBy).toBeNull()
    const retry = chain.append(carol, addBody(dave, merged.currentEpoch, { via: invite.id }))
    const s = chain.state()
    expect(s.invalid.has(retry.hash)).toBe(false)
    expect(s.members.has(dave.account)).toBe(true)
  })

  it('an add whose HLC is not an encoded HLC cannot slip past an invite expiry', () => {
    // membership-log reads the wall clock of `hlc` to check expiry; membership-op accepts any string of <= 40 chars.
    const chain = new Chain()
    const e0 = chain.create(alice)
    const expired = grant({ expiresAt: T0 + 1, singleUse: false })
    chain.append(alice, { type: 'invite', invite: expired })
    let op: MembershipOp | undefined
    try {
      op = chain.append(alice, addBody(bob, e0, { via: expired.id }), { hlc: 'zzzzzzzzzzzzz-000000' })
    } catch {
      return // rejecting the operation outright is also fine
    }
    const s = chain.state()
    expect(s.invalid.get(op.hash)).toBeDefined()
    expect(s.members.has(bob.account)).toBe(false)
  })
})

describe('computeLog: clocks', () => {
  it('an operation dated at or before a parent is refused as unauthorized, whatever its author may do', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const invite = chain.append(alice, { type: 'invite', invite: grant() })
    const backdated = chain.append(alice, addBody(bob, e0), { prev: [invite.hash], hlc: encodeHlc({ wall: 1, counter: 0 }) })
    const same = chain.append(alice, addBody(carol, e0), { prev: [invite.hash], hlc: invite.hlc })
    const s = chain.state()
    expect(s.invalid.get(backdated.hash)).toBe('clock is not after its parents')
    expect(s.invalid.get(same.hash)).toBe('clock is not after its parents')
    expect(s.unauthorized.has(backdated.hash)).toBe(true)
    expect(s.members.size).toBe(1)
  })

  it('an operation dated more than a minute past the reader’s clock waits, with its descendants, until the clock gets there', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const future = T0 + 3_600_000
    const add = chain.append(alice, addBody(bob, e0), { wall: future })
    const child = chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const early = computeLog(chain.ops, chain.root, future - MAX_CLOCK_SKEW_MS - 1)!
    expect(early.pending).toEqual([add.hash, child.hash].sort())
    expect(early.members.size).toBe(1)
    const inTime = computeLog(chain.ops, chain.root, future + 1 - MAX_CLOCK_SKEW_MS)!
    expect(inTime.pending).toEqual([])
    expect(inTime.members.get(bob.account)?.role).toBe('admin')
  })
})

describe('computeLog: remove, cutoffs and mayWrite', () => {
  it('remove: member gone, a new current epoch without its devices, cutoffs recorded', () => {
    const { chain, e0 } = groupOfThree()
    const e1 = epochFor([alice.deviceId, carol.deviceId])
    const remove = chain.append(alice, {
      type: 'remove',
      account: bob.account,
      cutoffs: { [`${e0}/${bob.deviceId}`]: 5 },
      epoch: e1,
    })
    const s = chain.state()
    expect(s.invalid.size).toBe(0)
    expect(roles(s)).toEqual({ alice: 'admin', carol: 'member' })
    expect(s.currentEpoch).toBe(e1.id)
    expect(s.epochs.get(e1.id)!.createdBy).toBe(remove.hash)
    expect([...s.epochs.get(e1.id)!.devices].sort()).toEqual([alice.deviceId, carol.deviceId].sort())
    expect(s.removed.get(bob.account)).toEqual({ cutoffs: { [`${e0}/${bob.deviceId}`]: 5 }, left: false })
    // removed devices stay known: their earlier envelopes still verify
    expect(s.knownDevices.has(bob.deviceId)).toBe(true)
    expect(needsRotation(s)).toBe(false)

    // cutoffs: up to 5 in e0 accepted, above refused; nothing in the new epoch
    expect(mayWrite(s, e0, bob.deviceId, 1, bob.account)).toBe(true)
    expect(mayWrite(s, e0, bob.deviceId, 5, bob.account)).toBe(true)
    expect(mayWrite(s, e0, bob.deviceId, 6, bob.account)).toBe(false)
    expect(mayWrite(s, e1.id, bob.deviceId, 1, bob.account)).toBe(false)
    // remaining members write in both epochs without limit
    expect(mayWrite(s, e0, carol.deviceId, 10 ** 6, carol.account)).toBe(true)
    expect(mayWrite(s, e1.id, carol.deviceId, 1, carol.account)).toBe(true)
    expect(mayWrite(s, e1.id, alice.deviceId, 3, alice.account)).toBe(true)
    // unknown epoch, or a device that never held the epoch
    expect(mayWrite(s, 'ffffffffffffffff' as EpochId, alice.deviceId, 1, alice.account)).toBe(false)
    expect(mayWrite(s, e0, dave.deviceId, 1, dave.account)).toBe(false)
  })

  it('a removed device with no cutoff for an epoch may write nothing in it', () => {
    const { chain, e0 } = groupOfThree()
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId, carol.deviceId]) })
    const s = chain.state()
    expect(s.epochs.get(e0)!.devices.has(bob.deviceId)).toBe(true)
    expect(mayWrite(s, e0, bob.deviceId, 1, bob.account)).toBe(false)
  })

  it("an admin's removal of its own account is unauthorized: it would start an epoch the account leaving knows", () => {
    const { chain, e0 } = groupOfThree()
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const self = chain.append(alice, { type: 'remove', account: alice.account, cutoffs: {}, epoch: epochFor([bob.deviceId, carol.deviceId]) })
    const s = chain.state()
    expect(s.invalid.get(self.hash)).toBe('an account leaves with a leave, not a remove of itself')
    expect(s.unauthorized.has(self.hash)).toBe(true)
    expect(s.members.has(alice.account)).toBe(true)
    expect(s.currentEpoch).toBe(e0)
    // The way out: a leave names no epoch, and the remaining admin rotates.
    const leave = chain.append(alice, { type: 'leave', cutoffs: {} })
    expect(chain.state().invalid.has(leave.hash)).toBe(false)
    expect(chain.state().members.has(alice.account)).toBe(false)
  })

  it('removing a non-member or reusing an epoch id is invalid', () => {
    const { chain, e0 } = groupOfThree()
    const notMember = chain.append(alice, { type: 'remove', account: dave.account, cutoffs: {}, epoch: epochFor([alice.deviceId]) })
    const reuse = chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: { id: e0, seals: [] } })
    const s = chain.state()
    expect(s.invalid.get(notMember.hash)).toBe('not a member')
    expect(s.invalid.get(reuse.hash)).toBe('epoch already exists')
    expect(s.members.has(bob.account)).toBe(true)
    expect(s.currentEpoch).toBe(e0)
  })

  it('a removed member can be added back, in the current epoch', () => {
    const { chain, e0 } = groupOfThree()
    const e1 = epochFor([alice.deviceId, carol.deviceId])
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: { [`${e0}/${bob.deviceId}`]: 2 }, epoch: e1 })
    chain.append(alice, addBody(bob, e1.id))
    const s = chain.state()
    expect(s.members.has(bob.account)).toBe(true)
    expect(s.removed.has(bob.account)).toBe(false)
    expect(mayWrite(s, e1.id, bob.deviceId, 1, bob.account)).toBe(true)
    expect(needsRotation(s)).toBe(false)
  })

  it('role changes: a promoted member can add, a demoted admin cannot, a role for a non-member is invalid', () => {
    const { chain, e0 } = groupOfThree()
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const bobAdds = chain.append(bob, addBody(dave, e0))
    chain.append(bob, { type: 'role', account: alice.account, role: 'member' })
    const aliceAdds = chain.append(alice, addBody(erin, e0))
    const ghost = chain.append(bob, { type: 'role', account: erin.account, role: 'admin' })
    const s = chain.state()
    expect(s.invalid.has(bobAdds.hash)).toBe(false)
    expect(s.invalid.get(aliceAdds.hash)).toBe('author is not an admin')
    expect(s.invalid.get(ghost.hash)).toBe('not a member')
    expect(roles(s)).toEqual({ alice: 'member', bob: 'admin', carol: 'member', dave: 'member' })
  })
})

describe('computeLog: display names', () => {
  const names = (s: LogState) => Object.fromEntries([...s.names.entries()].map(([account, name]) => [account.slice(0, 6), name]))

  it('a member renames themself (admin or not); the name follows into members and names', () => {
    const { chain } = groupOfThree()
    const op = chain.append(bob, { type: 'profile', name: 'Bobby' })
    const s = chain.state()
    expect(s.invalid.has(op.hash)).toBe(false)
    expect(s.members.get(bob.account)!.displayName).toBe('Bobby')
    expect(s.names.get(bob.account)).toBe('Bobby')
    expect(s.names.get(alice.account)).toBe('alice')
    expect(s.members.get(bob.account)!.role).toBe('member')
  })

  it("a non-member's rename and a malformed name are invalid and change nothing", () => {
    const { chain } = groupOfThree()
    const outsider = chain.append(dave, { type: 'profile', name: 'Dave' })
    const bad = ['', ' Bob', 'x'.repeat(65), 'a\u202Eb', 'a\nb'].map((name) => chain.append(bob, { type: 'profile', name }))
    const s = chain.state()
    expect(s.invalid.get(outsider.hash)).toBe('author is not a member')
    for (const op of bad) expect(s.invalid.has(op.hash)).toBe(true)
    expect(s.names.get(bob.account)).toBe('bob')
    expect(s.names.has(dave.account)).toBe(false)
  })

  it('concurrent renames: the later in the order wins on every replica; a removed member keeps its last name', () => {
    const { chain, e0 } = groupOfThree()
    const heads = chain.state().heads
    chain.append(bob, { type: 'profile', name: 'Robert' }, { prev: heads, wall: T0 + 50 })
    chain.append(bob, { type: 'profile', name: 'Bobby' }, { prev: heads, wall: T0 + 40 })
    const states = [chain.ops, [...chain.ops].reverse(), shuffled(chain.ops, 3)].map((o) => chain.state(o))
    for (const s of states) expect(names(s)).toEqual(names(states[0]!))
    expect(states[0]!.names.get(bob.account)).toBe('Robert')
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: { [`${e0}/${bob.deviceId}`]: 0 }, epoch: epochFor([alice.deviceId, carol.deviceId]) })
    const late = chain.append(bob, { type: 'profile', name: 'Ghost' })
    const s = chain.state()
    expect(s.members.has(bob.account)).toBe(false)
    expect(s.names.get(bob.account)).toBe('Robert')
    expect(s.invalid.get(late.hash)).toBe('author is not a member')
  })

  it('an account added back with the certificates the log holds keeps its last name; a newer certificate brings its own', () => {
    const { chain, e0 } = groupOfThree()
    chain.append(bob, { type: 'profile', name: 'Robert' })
    const e1 = epochFor([alice.deviceId, carol.deviceId])
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: { [`${e0}/${bob.deviceId}`]: 0 }, epoch: e1 })
    chain.append(alice, addBody(bob, e1.id))
    expect(chain.state().names.get(bob.account)).toBe('Robert')
    expect(chain.state().members.get(bob.account)!.displayName).toBe('Robert')
    const e2 = epochFor([alice.deviceId, carol.deviceId])
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: e2 })
    chain.append(alice, addBody(withDisplayName(bob, 'Bobby'), e2.id))
    expect(chain.state().names.get(bob.account)).toBe('Bobby')
  })
})

describe('computeLog: DAG shape and roots', () => {
  it('an operation naming an unknown parent waits in pending, with its descendants', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const unknown = 'ab'.repeat(32) as OpHash
    const orphan = chain.append(alice, addBody(bob, e0), { prev: [chain.root, unknown] })
    const child = chain.append(alice, addBody(carol, e0), { prev: [orphan.hash] })
    const s = chain.state()
    expect(s.pending).toEqual([orphan.hash, child.hash].sort())
    expect(s.order).toEqual([chain.root])
    expect(s.heads).toEqual([chain.root])
    expect(roles(s)).toEqual({ alice: 'admin' })
  })

  it('a second root create is ignored; a create below the root is invalid', () => {
    const chain = new Chain()
    chain.create(alice)
    const secondRoot = sign(bob, [], encodeHlc({ wall: T0 - 5, counter: 0 }), {
      type: 'create',
      kind: 'group',
      name: 'Forged',
      epoch: epochFor([bob.deviceId]),
    })
    const below = chain.append(bob, { type: 'create', kind: 'group', name: 'Forged', epoch: epochFor([bob.deviceId]) })
    const s = chain.state([...chain.ops, secondRoot])
    expect(s.pending).toEqual([secondRoot.hash])
    expect(s.invalid.get(below.hash)).toBe('a second create operation')
    expect(s.name).toBe('Family')
    expect(roles(s)).toEqual({ alice: 'admin' })
    // the forged root is a root of its own, but not of this conversation's log
    expect(computeLog([...chain.ops, secondRoot], secondRoot.hash)!.members.has(alice.account)).toBe(false)
  })

  it('computeLog is undefined when the root is missing or is not a create', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const add = chain.append(alice, addBody(bob, e0))
    expect(computeLog(chain.ops, 'ee'.repeat(32) as OpHash)).toBeUndefined()
    expect(computeLog(chain.ops, add.hash)).toBeUndefined()
    expect(computeLog([], chain.root)).toBeUndefined()
  })

  it('an operation naming another conversation is invalid, though its descendants apply', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const foreign = chain.append(alice, addBody(bob, e0), { conversation: OTHER_CONV })
    const next = chain.append(alice, addBody(carol, e0))
    const s = chain.state()
    expect(s.invalid.get(foreign.hash)).toBe('operation names another conversation')
    expect(s.invalid.has(next.hash)).toBe(false)
    expect(roles(s)).toEqual({ alice: 'admin', carol: 'member' })
  })

  it('duplicate copies of an operation count once', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0))
    const s = chain.state([...chain.ops, ...chain.ops, chain.ops[1]!])
    expect(s.order).toEqual(chain.ops.map((o) => o.hash))
  })

  it('orders concurrent operations by HLC, then by hash', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    const root = chain.root
    const late = chain.append(alice, addBody(bob, e0), { prev: [root], wall: T0 + 50 })
    const early = chain.append(alice, addBody(carol, e0), { prev: [root], wall: T0 + 10 })
    const tieA = chain.append(alice, addBody(dave, e0), { prev: [root], wall: T0 + 20 })
    const tieB = chain.append(alice, addBody(erin, e0), { prev: [root], wall: T0 + 20 })
    const [lo, hi] = tieA.hash < tieB.hash ? [tieA, tieB] : [tieB, tieA]
    const s = chain.state([...chain.ops].reverse())
    expect(s.order).toEqual([root, early.hash, lo.hash, hi.hash, late.hash])
    expect(s.heads).toEqual([late.hash, early.hash, tieA.hash, tieB.hash].sort())
  })
})

// ---------------------------------------------------------------------------------------------- convergence

/** A comparable picture of everything in a state. */
function snapshot(s: LogState) {
  const byKey = <T>(list: Array<[string, T]>) => list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  return {
    conversation: s.conversation,
    root: s.root,
    kind: s.kind,
    name: s.name,
    members: byKey(
      [...s.members.values()].map((m) => [
        m.account,
        { role: m.role, devices: [...m.devices.keys()].sort(), name: m.displayName, addedBy: m.addedBy },
      ]),
    ),
    removed: byKey([...s.removed.entries()]),
    names: byKey([...s.names.entries()]),
    knownDevices: [...s.knownDevices.keys()].sort(),
    epochs: byKey(
      [...s.epochs.values()].map((e) => [
        e.id,
        { createdBy: e.createdBy, devices: [...e.devices].sort(), seals: byKey([...e.seals.entries()].map(([d, b]) => [d, toHex(b)])) },
      ]),
    ),
    currentEpoch: s.currentEpoch,
    invites: byKey([...s.invites.entries()].map(([id, i]) => [id, { revoked: i.revoked, usedBy: i.usedBy, by: i.createdBy }])),
    heads: s.heads,
    order: s.order,
    invalid: byKey([...s.invalid.entries()]),
    pending: s.pending,
  }
}

function mulberry32(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list]
  const rand = mulberry32(seed)
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

function assertWellFormed(s: LogState, ops: MembershipOp[]): void {
  const position = new Map(s.order.map((h, i) => [h, i]))
  expect(position.size).toBe(s.order.length)
  expect(s.pending).toEqual([])
  expect(s.order.length).toBe(new Set(ops.map((o) => o.hash)).size)
  const referenced = new Set<string>()
  for (const op of ops) {
    for (const p of op.prev) {
      if (!s.unauthorized.has(op.hash)) referenced.add(p)
      expect(position.get(p)!).toBeLessThan(position.get(op.hash)!)
    }
  }
  // Operations whose authors lacked authority in their causal past are not kept: never heads, never a parent.
  expect(s.heads).toEqual(s.order.filter((h) => !referenced.has(h) && !s.unauthorized.has(h)).sort())
  for (const h of s.invalid.keys()) expect(position.has(h)).toBe(true)
  // every current member's devices are known; every admin is a member
  for (const d of memberDevices(s).keys()) expect(s.knownDevices.has(d)).toBe(true)
  expect(s.epochs.has(s.currentEpoch)).toBe(true)
}

type Action =
  | { kind: 'sync'; actor: number; other: number; both: boolean }
  | {
      kind: 'invite' | 'revoke' | 'add' | 'remove' | 'role' | 'rotate' | 'profile'
      actor: number
      target: number
      step: number
      flag: boolean
      pick: number
    }

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), actor: fc.nat(2), other: fc.nat(2), both: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constantFrom('invite' as const, 'revoke' as const, 'add' as const, 'remove' as const, 'role' as const, 'rotate' as const, 'profile' as const),
      actor: fc.nat(2),
      target: fc.nat(7),
      step: fc.nat(3),
      flag: fc.boolean(),
      pick: fc.nat(7),
    }),
  },
)

describe('computeLog: convergence under concurrency', () => {
  it('every replica computes the same state from the same operations, in any arrival order (property)', () => {
    const admins = () => [alice, bob, carol]
    const everyone = () => [alice, bob, carol, dave, erin, ...extras]

    fc.assert(
      fc.property(
        fc.array(actionArb, { minLength: 4, maxLength: 40, size: 'large' }),
        fc.array(fc.integer(), { minLength: 3, maxLength: 3 }),
        (actions, seeds) => {
          // Shared start: alice creates and makes bob and carol admins.
          const base = new Chain()
          const e0 = base.create(alice)
          base.append(alice, addBody(bob, e0, { role: 'admin' }))
          base.append(alice, addBody(carol, e0, { role: 'admin' }))
          const root = base.root
          const views = admins().map(() => new Map(base.ops.map((o) => [o.hash, o])))
          const walls = admins().map(() => base.wall)

          for (const a of actions) {
            const view = views[a.actor]!
            if (a.kind === 'sync') {
              const other = views[a.other]!
              for (const [h, o] of other) view.set(h, o)
              if (a.both) for (const [h, o] of view) other.set(h, o)
              continue
            }
            const author = admins()[a.actor]!
            const s = computeLog(view.values(), root)!
            walls[a.actor]! += a.step // a step of 0 repeats an HLC: ties are broken by hash
            const target = everyone()[a.target % 8]!
            const inviteIds = [...s.invites.keys()]
            let body: OpBody
            switch (a.kind) {
              case 'invite':
                body = { type: 'invite', invite: grant({ singleUse: a.flag, expiresAt: a.pick % 2 === 0 ? 0 : walls[a.actor]! + a.pick }) }
                break
              case 'revoke':
                body = { type: 'revoke-invite', inviteId: inviteIds[a.pick % Math.max(1, inviteIds.length)] ?? inviteId() }
                break
              case 'add':
                body = addBody(target, s.currentEpoch, {
                  via: a.pick % 3 === 0 ? null : (inviteIds[a.pick % Math.max(1, inviteIds.length)] ?? null),
                  role: a.flag ? 'admin' : 'member',
                })
                break
              case 'remove': {
                const member = s.members.get(target.account as AccountId)
                const cutoffs: Record<string, number> = {}
                for (const d of member?.devices.keys() ?? []) cutoffs[`${s.currentEpoch}/${d}`] = a.pick
                const keep = [...memberDevices(s).values()].filter((c) => c.account !== target.account).map((c) => c.device)
                body = { type: 'remove', account: target.account, cutoffs, epoch: epochFor(keep) }
                break
              }
              case 'role':
                body = { type: 'role', account: target.account, role: a.flag ? 'admin' : 'member' }
                break
              case 'rotate':
                body = { type: 'rotate', epoch: epochFor(memberDevices(s).keys()) }
                break
              case 'profile':
                body = { type: 'profile', name: `name ${a.pick}` }
                break
            }
            const op = sign(author, s.heads, encodeHlc({ wall: walls[a.actor]!, counter: 0 }), body)
            view.set(op.hash, op)
          }

          const all = new Map<OpHash, MembershipOp>()
          for (const v of views) for (const [h, o] of v) all.set(h, o)
          const ops = [...all.values()]
          const reference = computeLog(ops, root)!
          assertWellFormed(reference, ops)
          const expected = snapshot(reference)
          const orders = [[...ops].reverse(), ...seeds.map((seed) => shuffled(ops, seed))]
          for (const order of orders) expect(snapshot(computeLog(order, root)!)).toEqual(expected)
          // a replica that also holds junk (a forged root, an orphan) agrees on everything but `pending`
          const junkRoot = sign(dave, [], encodeHlc({ wall: T0, counter: 0 }), {
            type: 'create',
            kind: 'group',
            name: 'x',
            epoch: epochFor([dave.deviceId]),
          })
          const withJunk = snapshot(computeLog(shuffled([...ops, junkRoot], seeds[0]!), root)!)
          expect({ ...withJunk, pending: [] }).toEqual(expected)
          expect(withJunk.pending).toEqual([junkRoot.hash])
        },
      ),
      { numRuns: 120, seed: 20_240_601 },
    )
  })

  function twoAdmins() {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0, { role: 'admin' }))
    return { chain, e0, heads: chain.state().heads }
  }

  const removeBody = (target: Identity, keep: Identity): OpBody => ({
    type: 'remove',
    account: target.account,
    cutoffs: {},
    epoch: epochFor([keep.deviceId]),
  })

  it.each([
    ['alice dated earlier', T0 + 10, T0 + 20],
    ['bob dated earlier', T0 + 20, T0 + 10],
    ['same HLC', T0 + 10, T0 + 10],
  ])('two admins removing each other concurrently: the senior one stays, whatever the clocks say (%s)', (_name, aliceWall, bobWall) => {
    const { chain, heads } = twoAdmins()
    const aRemovesB = chain.append(alice, removeBody(bob, alice), { prev: heads, wall: aliceWall })
    const bRemovesA = chain.append(bob, removeBody(alice, bob), { prev: heads, wall: bobWall })

    const states = [chain.ops, [...chain.ops].reverse(), shuffled(chain.ops, 1), shuffled(chain.ops, 2)].map((o) => chain.state(o))
    for (const s of states) {
      expect(snapshot(s)).toEqual(snapshot(states[0]!))
      // alice created the group: her authority came first
      expect([...s.members.keys()]).toEqual([alice.account])
      expect(s.invalid.has(aRemovesB.hash)).toBe(false)
      expect(s.invalid.get(bRemovesA.hash)).toBe('author was removed concurrently')
      expect(s.heads).toEqual([aRemovesB.hash, bRemovesA.hash].sort())
      expect(s.currentEpoch).toBe((aRemovesB.body as { epoch: NewEpoch }).epoch.id)
    }
  })

  it('seniority follows the chain of grants: an admin granted by another is junior to them; between siblings the earlier grant', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0, { role: 'admin' }))
    chain.append(bob, addBody(carol, e0, { role: 'admin' }))
    chain.append(alice, addBody(dave, e0, { role: 'admin' }))
    const heads = chain.state().heads
    // carol (granted by bob) against bob: bob stays, although carol dated her removal far earlier
    const carolRemovesBob = chain.append(carol, removeBody(bob, carol), { prev: heads, wall: T0 + 50 })
    const bobRemovesCarol = chain.append(bob, removeBody(carol, bob), { prev: heads, wall: T0 + 900 })
    let s = chain.state()
    expect(s.members.has(bob.account)).toBe(true)
    expect(s.members.has(carol.account)).toBe(false)
    expect(s.invalid.has(bobRemovesCarol.hash)).toBe(false)
    expect(s.invalid.has(carolRemovesBob.hash)).toBe(true)
    // bob and dave were both granted by alice; bob's grant came first
    const next = chain.state().heads
    chain.append(dave, removeBody(bob, dave), { prev: next, wall: T0 + 1000 })
    chain.append(bob, removeBody(dave, bob), { prev: next, wall: T0 + 1001 })
    s = chain.state()
    expect(s.members.has(bob.account)).toBe(true)
    expect(s.members.has(dave.account)).toBe(false)
  })

  it('needsRotation after an add concurrent with a remove; false again after a rotate sealing exactly the members', () => {
    for (const addFirst of [true, false]) {
      const chain = new Chain()
      const e0 = chain.create(alice)
      chain.append(alice, addBody(bob, e0, { role: 'admin' }))
      chain.append(alice, addBody(dave, e0))
      const heads = chain.state().heads
      // alice adds carol in e0 while bob, not yet seeing carol, removes dave and seals e1 to alice and himself
      const add = chain.append(alice, addBody(carol, e0), { prev: heads, wall: addFirst ? T0 + 10 : T0 + 30 })
      const e1 = epochFor([alice.deviceId, bob.deviceId])
      chain.append(bob, { type: 'remove', account: dave.account, cutoffs: {}, epoch: e1 }, { prev: heads, wall: T0 + 20 })

      const merged = chain.state()
      expect(merged.invalid.size).toBe(0)
      expect(Object.keys(roles(merged)).sort()).toEqual(['alice', 'bob', 'carol'])
      expect(merged.currentEpoch).toBe(e1.id)
      expect(merged.epochs.get(e1.id)!.devices.has(carol.deviceId)).toBe(false)
      expect(needsRotation(merged)).toBe(true)
      expect(merged.heads).toContain(add.hash)

      // a rotate that still misses a member device, or includes a non-member, does not heal it
      const partial = chain.append(alice, { type: 'rotate', epoch: epochFor([alice.deviceId, bob.deviceId]) })
      expect(needsRotation(chain.state())).toBe(true)
      chain.append(alice, { type: 'rotate', epoch: epochFor([alice.deviceId, bob.deviceId, carol.deviceId, dave.deviceId]) })
      expect(needsRotation(chain.state())).toBe(true)
      const heal = epochFor([alice.deviceId, bob.deviceId, carol.deviceId])
      chain.append(bob, { type: 'rotate', epoch: heal })
      const healed = chain.state()
      expect(healed.invalid.size).toBe(0)
      expect(healed.currentEpoch).toBe(heal.id)
      expect(needsRotation(healed)).toBe(false)
      expect(healed.epochs.get(heal.id)!.createdBy).not.toBe(partial.hash)
      // dave, removed in e1, is refused in every later epoch and in e0 (no cutoff)
      expect(mayWrite(healed, e0, dave.deviceId, 1, dave.account)).toBe(false)
      expect(mayWrite(healed, heal.id, carol.deviceId, 1, carol.account)).toBe(true)
    }
  })

  it('concurrent rotations: the last in the order wins, the same on every replica', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0, { role: 'admin' }))
    const heads = chain.state().heads
    const r1 = epochFor([alice.deviceId, bob.deviceId])
    const r2 = epochFor([alice.deviceId, bob.deviceId])
    chain.append(alice, { type: 'rotate', epoch: r1 }, { prev: heads, wall: T0 + 40 })
    chain.append(bob, { type: 'rotate', epoch: r2 }, { prev: heads, wall: T0 + 30 })
    for (const order of [chain.ops, [...chain.ops].reverse()]) {
      const s = chain.state(order)
      expect(s.currentEpoch).toBe(r1.id)
      expect(s.epochs.has(r2.id)).toBe(true)
      expect(needsRotation(s)).toBe(false)
    }
  })
})
