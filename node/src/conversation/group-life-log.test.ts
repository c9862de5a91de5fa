import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHlc } from '../../../crdt/src/index.js'
import { createIdentity, restoreIdentity, type Identity } from '../identity/identity.js'
import type { AccountId, EpochId } from '../ids.js'
import { groupDescriptionProblem, groupNameProblem } from './group-about.js'
import { eventText, membershipEvents } from './membership-events.js'
import { mayWrite, needsRotation, type LogState } from './membership-log.js'
import { CONV, Chain, T0, addBody, epochFor } from './membership-log.testing.js'
import { decodeOp, signOp, type OpBody } from './membership-op.js'

/** Group life in the membership log: `about` (name and description) and `leave`, and the events the timeline shows. */
let alice: Identity
let bob: Identity
let carol: Identity
let bobPhrase: string

beforeAll(async () => {
  const created = await Promise.all(['alice', 'bob', 'carol'].map((n) => createIdentity(n, T0)))
  ;[alice, bob, carol] = created.map((c) => c.identity) as [Identity, Identity, Identity]
  bobPhrase = created[1]!.recoveryPhrase
})

function group(kind: 'group' | 'direct' = 'group') {
  const chain = new Chain()
  const e0 = epochFor([alice.deviceId])
  chain.append(alice, { type: 'create', kind, name: 'Family', epoch: e0 })
  chain.append(alice, addBody(bob, e0.id))
  if (kind === 'group') chain.append(alice, addBody(carol, e0.id))
  return { chain, e0: e0.id }
}

const cutoffOf = (who: Identity, epoch: EpochId, seq: number) => ({ [`${epoch}/${who.deviceId}`]: seq })
const nameOf = (s: LogState) => (a: AccountId) => s.names.get(a) ?? a.slice(0, 8)

describe('about: codec', () => {
  it('round trips name only, description only and both; refuses an about that changes nothing', () => {
    for (const body of [
      { type: 'about', name: 'Cousins' },
      { type: 'about', description: '' },
      { type: 'about', name: 'Cousins 🌻', description: 'Sunday lunch\nand more' },
    ] as OpBody[]) {
      const op = signOp({ conversation: CONV, prev: [], hlc: encodeHlc({ wall: T0, counter: 0 }), author: alice.cert, deviceSeed: alice.deviceKey.seed, body })
      expect(decodeOp(op.bytes).body).toEqual(body)
    }
    expect(() =>
      signOp({ conversation: CONV, prev: [], hlc: encodeHlc({ wall: T0, counter: 0 }), author: alice.cert, deviceSeed: alice.deviceKey.seed, body: { type: 'about' } }),
    ).toThrow(/changes the name, the description or both/)
  })

  it('round trips a leave with its cutoffs and refuses a malformed cutoff key', () => {
    const body: OpBody = { type: 'leave', cutoffs: { [`${'1'.repeat(16)}/${bob.deviceId}`]: 7 } }
    const op = signOp({ conversation: CONV, prev: [], hlc: encodeHlc({ wall: T0, counter: 0 }), author: bob.cert, deviceSeed: bob.deviceKey.seed, body })
    expect(decodeOp(op.bytes).body).toEqual(body)
    expect(() =>
      signOp({ conversation: CONV, prev: [], hlc: encodeHlc({ wall: T0, counter: 0 }), author: bob.cert, deviceSeed: bob.deviceKey.seed, body: { type: 'leave', cutoffs: { nonsense: 1 } } }),
    ).toThrow()
  })

  it('one rule for names and descriptions', () => {
    expect(groupNameProblem('Family')).toBeUndefined()
    expect(groupNameProblem('')).toMatch(/empty/)
    expect(groupNameProblem(' Family')).toMatch(/spaces/)
    expect(groupNameProblem('x'.repeat(65))).toMatch(/at most 64/)
    expect(groupNameProblem('🌻'.repeat(64))).toBeUndefined()
    expect(groupNameProblem('Fam\u202Eily')).toMatch(/direction-override/)
    expect(groupNameProblem('Fam\nily')).toMatch(/control/)
    expect(groupDescriptionProblem('')).toBeUndefined()
    expect(groupDescriptionProblem('two\nlines')).toBeUndefined()
    expect(groupDescriptionProblem('x'.repeat(501))).toMatch(/at most 500/)
    expect(groupDescriptionProblem('tab\there')).toMatch(/control/)
    expect(groupDescriptionProblem('a\u2066b')).toMatch(/direction-override/)
  })
})

describe('about: who may, and convergence', () => {
  it('an admin renames and describes the group; the last one in the order wins', () => {
    const { chain } = group()
    chain.append(alice, { type: 'about', name: 'Cousins' })
    chain.append(alice, { type: 'about', description: 'Sunday lunch' })
    const s = chain.state()
    expect(s.name).toBe('Cousins')
    expect(s.description).toBe('Sunday lunch')
    expect(s.invalid.size).toBe(0)
  })

  it('a member cannot: refused in its causal past, so the core drops it', () => {
    const { chain } = group()
    const op = chain.append(bob, { type: 'about', name: 'Bob’s group' })
    const s = chain.state()
    expect(s.name).toBe('Family')
    expect(s.unauthorized.has(op.hash)).toBe(true)
  })

  it('a name or description breaking the rule has no effect', () => {
    const { chain } = group()
    const bad = [
      chain.append(alice, { type: 'about', name: '' }),
      chain.append(alice, { type: 'about', name: 'x'.repeat(65) }),
      chain.append(alice, { type: 'about', name: 'Fam\u202Eily' }),
      chain.append(alice, { type: 'about', name: 'Good', description: 'x'.repeat(501) }),
    ]
    const s = chain.state()
    for (const op of bad) expect(s.invalid.has(op.hash)).toBe(true)
    expect(s.name).toBe('Family')
  })

  it('a direct chat has no name to change', () => {
    const { chain } = group('direct')
    const op = chain.append(alice, { type: 'about', name: 'Us' })
    expect(chain.state().invalid.get(op.hash)).toMatch(/only a group/)
  })

  it('a rename concurrent with the author’s demotion has no effect; concurrent renames converge in any arrival order', () => {
    const { chain } = group()
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const base = chain.state().heads
    const demote = chain.append(alice, { type: 'role', account: bob.account, role: 'member' }, { prev: base })
    const byBob = chain.append(bob, { type: 'about', name: 'Bob’s' }, { prev: base })
    const byAlice = chain.append(alice, { type: 'about', name: 'Alice’s', description: 'hers' }, { prev: base })
    const s = chain.state()
    expect(s.invalid.get(byBob.hash)).toMatch(/demoted concurrently/)
    expect(s.invalid.has(byAlice.hash)).toBe(false)
    expect(s.invalid.has(demote.hash)).toBe(false)
    expect(s.name).toBe('Alice’s')
    const reversed = chain.state([...chain.ops].reverse())
    expect([reversed.name, reversed.description]).toEqual([s.name, s.description])
  })

  it('a rename by a removed admin, backdated before the removal, has no effect', () => {
    const { chain } = group()
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const before = chain.state().heads
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId, carol.deviceId]) })
    const late = chain.append(bob, { type: 'about', name: 'Mine now' }, { prev: before })
    const s = chain.state()
    expect(s.invalid.get(late.hash)).toMatch(/removed concurrently/)
    expect(s.name).toBe('Family')
  })
})

describe('leave', () => {
  it('a member leaves: out of the members, marked as left, nothing past its cutoff accepted; the admins must rotate', () => {
    const { chain, e0 } = group()
    chain.append(carol, { type: 'leave', cutoffs: cutoffOf(carol, e0, 3) })
    const s = chain.state()
    expect(s.members.has(carol.account)).toBe(false)
    expect(s.removed.get(carol.account)).toEqual({ cutoffs: cutoffOf(carol, e0, 3), left: true })
    expect(mayWrite(s, e0, carol.deviceId, 3, carol.account)).toBe(true)
    expect(mayWrite(s, e0, carol.deviceId, 4, carol.account)).toBe(false)
    // The leaver still holds the current epoch's secret: the admins seal a new one without it.
    expect(needsRotation(s)).toBe(true)
    chain.append(alice, { type: 'rotate', epoch: epochFor([alice.deviceId, bob.deviceId]) })
    const after = chain.state()
    expect(needsRotation(after)).toBe(false)
    expect(after.epochs.get(after.currentEpoch)!.devices.has(carol.deviceId)).toBe(false)
  })

  it('an operation by the leaver after its leave is refused (no authority in its causal past)', () => {
    const { chain, e0 } = group()
    chain.append(carol, { type: 'leave', cutoffs: cutoffOf(carol, e0, 1) })
    const later = chain.append(carol, { type: 'profile', name: 'Carol again' })
    const s = chain.state()
    expect(s.unauthorized.has(later.hash)).toBe(true)
    expect(s.names.get(carol.account)).toBe('carol')
  })

  it('the last admin of a group with other members cannot leave; once someone else is admin, they can', () => {
    const { chain, e0 } = group()
    const refused = chain.append(alice, { type: 'leave', cutoffs: cutoffOf(alice, e0, 1) })
    expect(chain.state().invalid.get(refused.hash)).toMatch(/last admin/)
    expect(chain.state().members.has(alice.account)).toBe(true)
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const ok = chain.append(alice, { type: 'leave', cutoffs: cutoffOf(alice, e0, 1) })
    const s = chain.state()
    expect(s.invalid.has(ok.hash)).toBe(false)
    expect(s.members.has(alice.account)).toBe(false)
  })

  it('two admins leaving concurrently: the first in the order leaves, the other stays (never a group without an admin)', () => {
    const { chain, e0 } = group()
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    const base = chain.state().heads
    chain.append(alice, { type: 'leave', cutoffs: cutoffOf(alice, e0, 1) }, { prev: base })
    chain.append(bob, { type: 'leave', cutoffs: cutoffOf(bob, e0, 1) }, { prev: base })
    const s = chain.state()
    expect(s.invalid.size).toBe(1)
    expect([...s.members.values()].filter((m) => m.role === 'admin')).toHaveLength(1)
    const reversed = chain.state([...chain.ops].reverse())
    expect([...reversed.members.keys()].sort()).toEqual([...s.members.keys()].sort())
  })

  it('cutoffs may only name the leaver’s own devices; a direct chat cannot be left', () => {
    const { chain, e0 } = group()
    const op = chain.append(carol, { type: 'leave', cutoffs: { ...cutoffOf(carol, e0, 1), ...cutoffOf(bob, e0, 0) } })
    expect(chain.state().invalid.get(op.hash)).toMatch(/not the leaver/)
    const direct = group('direct')
    const leave = direct.chain.append(bob, { type: 'leave', cutoffs: {} })
    expect(direct.chain.state().invalid.get(leave.hash)).toMatch(/only a group/)
  })

  it('invites the leaver made are revoked; an invite never readmits it; an admin adds it back', () => {
    const { chain, e0 } = group()
    chain.append(alice, { type: 'role', account: carol.account, role: 'admin' })
    const invite = { id: 'ab'.repeat(16), key: new Uint8Array(32).fill(7), expiresAt: 0, singleUse: false }
    chain.append(carol, { type: 'invite', invite })
    chain.append(carol, { type: 'leave', cutoffs: cutoffOf(carol, e0, 1) })
    expect(chain.state().invites.get(invite.id)!.revoked).toBe(true)
    const alicesInvite = { ...invite, id: 'cd'.repeat(16) }
    chain.append(alice, { type: 'invite', invite: alicesInvite })
    const viaInvite = chain.append(alice, addBody(carol, chain.state().currentEpoch, { via: alicesInvite.id }))
    expect(chain.state().invalid.get(viaInvite.hash)).toMatch(/adds them back/)
    chain.append(alice, addBody(carol, chain.state().currentEpoch))
    expect(chain.state().members.has(carol.account)).toBe(true)
  })
})

describe('membership events', () => {
  it('each valid operation gives at most one event, in the log’s order, the same whatever the arrival order', () => {
    const { chain, e0 } = group()
    chain.append(alice, { type: 'about', name: 'Cousins' })
    chain.append(alice, { type: 'about', description: 'Sunday lunch' })
    chain.append(alice, { type: 'about', name: 'Cousins' }) // changes nothing: no line
    chain.append(bob, { type: 'about', name: 'Refused' }) // not an admin: no line
    chain.append(alice, { type: 'role', account: bob.account, role: 'admin' })
    chain.append(alice, { type: 'role', account: bob.account, role: 'member' })
    chain.append(carol, { type: 'leave', cutoffs: cutoffOf(carol, e0, 0) })
    chain.append(alice, addBody(carol, chain.state().currentEpoch))
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId, carol.deviceId]) })
    const s = chain.state()
    const ops = new Map(chain.ops.map((o) => [o.hash, o]))
    const texts = membershipEvents(s, ops).map((e) => eventText(e, nameOf(s), s.kind))
    expect(texts).toEqual([
      'alice created the group',
      'alice added bob',
      'alice added carol',
      'alice renamed the group to Cousins',
      'alice changed the description',
      'alice made bob an admin',
      'alice made bob a member',
      'carol left',
      'alice added carol back',
      'alice removed bob',
    ])
    const shuffled = chain.state([...chain.ops].reverse())
    expect(membershipEvents(shuffled, ops)).toEqual(membershipEvents(s, ops))
  })

  it('joining with an invite is “joined”; coming back on another device says the device changed', async () => {
    const chain = new Chain()
    const e0 = epochFor([alice.deviceId])
    chain.append(alice, { type: 'create', kind: 'group', name: 'Family', epoch: e0 })
    const invite = { id: 'ef'.repeat(16), key: new Uint8Array(32).fill(7), expiresAt: 0, singleUse: true }
    chain.append(alice, { type: 'invite', invite })
    // The admitting admin signs the add; the invite in it makes it the joiner's own act.
    chain.append(alice, addBody(bob, e0.id, { via: invite.id }))
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId]) })
    chain.append(alice, addBody(bob, chain.state().currentEpoch))
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId]) })
    // Bob's account restored on another device (a new device key and certificate), added back with that one.
    const bobPhone = await restoreIdentity('bob', bobPhrase, T0)
    chain.append(alice, addBody(bobPhone, chain.state().currentEpoch))
    const s = chain.state()
    const texts = membershipEvents(s, new Map(chain.ops.map((o) => [o.hash, o]))).map((e) => eventText(e, nameOf(s), s.kind))
    expect(texts).toEqual([
      'alice created the group',
      'bob joined',
      'alice removed bob',
      'alice added bob back',
      'alice removed bob',
      'alice added bob back · bob’s device changed',
    ])
    // Read by each of them, their own part is "you".
    const events = membershipEvents(s, new Map(chain.ops.map((o) => [o.hash, o])))
    expect(events.map((e) => eventText(e, nameOf(s), s.kind, bob.account))).toEqual([
      'alice created the group',
      'You joined',
      'alice removed you',
      'alice added you back',
      'alice removed you',
      'alice added you back · your device changed',
    ])
    expect(events.map((e) => eventText(e, nameOf(s), s.kind, alice.account)).slice(0, 3)).toEqual(['You created the group', 'bob joined', 'You removed bob'])
  })
})
