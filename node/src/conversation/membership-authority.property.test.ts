import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHlc } from '../../../crdt/src/index.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { createIdentity, type Identity } from '../identity/identity.js'
import type { ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import { membershipEvents } from './membership-events.js'
import { computeLog, type LogState } from './membership-log.js'
import { decodeOp, signOp, type MembershipOp, type OpBody } from './membership-op.js'

/**
 * Five members, honest and malicious operations (backdated parents and clocks, forks, operations by removed or demoted
 * authors, re-encoded copies), delivered by random pairwise syncs (partitions heal only when two replicas meet). Every
 * replica ends with the same members, roles and epochs, and no operation takes effect whose author lacked the
 * authority in its own causal past or was removed or demoted concurrently.
 */
const CONV = '0e'.repeat(16) as ConversationId
const T0 = 1_750_000_000_000
const NOW = T0 + 10 ** 12
let people: Identity[] = []
let counter = 0
const epoch = (devices: DeviceId[]) => ({
  id: (++counter).toString(16).padStart(16, '0') as EpochId,
  seals: devices.map((device) => ({ device, box: new Uint8Array(48) })),
})

beforeAll(async () => {
  people = await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map(async (n) => (await createIdentity(n, 1)).identity))
})

type Action =
  | { kind: 'honest'; who: number; target: number; pick: number }
  | { kind: 'backdate'; who: number; target: number; pick: number; lowest: boolean }
  | { kind: 'fork'; who: number; target: number }
  | { kind: 'sync'; a: number; b: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('honest' as const), who: fc.nat(4), target: fc.nat(4), pick: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('backdate' as const), who: fc.nat(4), target: fc.nat(4), pick: fc.nat(5), lowest: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fork' as const), who: fc.nat(4), target: fc.nat(4) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), a: fc.nat(4), b: fc.nat(4) }) },
)

class Replica {
  readonly ops = new Map<OpHash, MembershipOp>()
  wall = T0
  constructor(readonly me: Identity, readonly root: OpHash) {}

  state(): LogState {
    return computeLog(this.ops.values(), this.root, NOW)!
  }
  /** What a core does: keep what arrived, then forget what its author had no authority for. */
  receive(ops: Iterable<MembershipOp>): void {
    for (const op of ops) {
      this.ops.set(op.hash, op)
      this.wall = Math.max(this.wall, Number.parseInt(op.hlc.slice(0, 13), 10))
    }
    for (const h of this.state().unauthorized) this.ops.delete(h)
  }
  sign(body: OpBody, prev: OpHash[], hlc?: string): MembershipOp {
    const op = signOp({ conversation: CONV, prev, hlc: hlc ?? encodeHlc({ wall: ++this.wall, counter: 0 }), author: this.me.cert, deviceSeed: this.me.deviceKey.seed, body })
    // A re-encoded copy is never a second identity of the same operation.
    expect(() => decodeOp(reencoded(op))).toThrow()
    return op
  }
}

/** The same signed content with the wrapper's keys in the other order. */
function reencoded(op: MembershipOp): Uint8Array {
  const { o, s } = decodeCbor(op.bytes, Limits.maxMembershipOpBytes, 't') as { o: Uint8Array; s: Uint8Array }
  return new Uint8Array([0xa2, ...encodeCbor('s'), ...encodeCbor(s), ...encodeCbor('o'), ...encodeCbor(o)])
}

/** An operation an admin (or, when `anyone`, whoever) could want to sign about `target`, given a state. */
function bodyFor(s: LogState, author: Identity, target: Identity, pick: number): OpBody | undefined {
  const member = s.members.get(target.account)
  const devices = [...s.members.values()].flatMap((m) => [...m.devices.keys()])
  switch (pick) {
    case 0:
      return member ? undefined : { type: 'add', certs: [target.cert], role: 'member', via: null, epoch: s.currentEpoch, seals: [{ device: target.deviceId, box: new Uint8Array(48) }] }
    case 1:
      return member && target.account !== author.account
        ? { type: 'remove', account: target.account, cutoffs: {}, epoch: epoch(devices.filter((d) => d !== target.deviceId)) }
        : undefined
    case 2:
      return member ? { type: 'role', account: target.account, role: member.role === 'admin' ? 'member' : 'admin' } : undefined
    case 3:
      return { type: 'rotate', epoch: epoch(devices) }
    case 4:
      // Renames and descriptions by admins, demoted admins and removed admins (backdated ones too).
      return pick % 2 === 0 ? { type: 'about', name: `${author.cert.displayName}'s ${++counter}` } : { type: 'about', name: `G${++counter}`, description: `by ${author.cert.displayName}` }
    case 5:
      return s.members.has(author.account) ? { type: 'leave', cutoffs: {} } : undefined
    default:
      return { type: 'profile', name: `${author.cert.displayName} ${pick}` }
  }
}

/** Ancestors of `hash` within `ops` (not including itself). */
function ancestors(ops: Map<OpHash, MembershipOp>, hash: OpHash): Set<OpHash> {
  const out = new Set<OpHash>()
  const stack = [...(ops.get(hash)?.prev ?? [])]
  while (stack.length > 0) {
    const h = stack.pop()!
    if (out.has(h) || !ops.has(h)) continue
    out.add(h)
    stack.push(...ops.get(h)!.prev)
  }
  return out
}

const summary = (s: LogState) => ({
  members: [...s.members.values()].map((m) => `${m.account}:${m.role}:${[...m.devices.keys()].sort().join('+')}`).sort(),
  epochs: [...s.epochs.keys()].sort(),
  current: s.currentEpoch,
  removed: [...s.removed.keys()].sort(),
  left: [...s.removed].filter(([, r]) => r.left).map(([a]) => a).sort(),
  name: s.name,
  description: s.description,
})

describe('group authority (property: 5 members, malicious operations, random delivery)', () => {
  it('every replica converges, and no operation acts with authority its author did not hold', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 10, maxLength: 45 }), fc.nat(1000), (actions, seed) => {
        const [alice, ...others] = people as [Identity, ...Identity[]]
        const create = signOp({ conversation: CONV, prev: [], hlc: encodeHlc({ wall: T0, counter: 0 }), author: alice.cert, deviceSeed: alice.deviceKey.seed, body: { type: 'create', kind: 'group', name: 'Family', epoch: epoch([alice.deviceId]) } })
        const replicas = people.map((p) => new Replica(p, create.hash))
        for (const r of replicas) r.receive([create])
        // Everyone joins first (so there is something to fight over); bob and carol become admins.
        const root = replicas[0]!
        for (const [i, p] of others.entries()) {
          const s = root.state()
          root.receive([root.sign({ type: 'add', certs: [p.cert], role: i < 2 ? 'admin' : 'member', via: null, epoch: s.currentEpoch, seals: [{ device: p.deviceId, box: new Uint8Array(48) }] }, s.heads)])
        }
        for (const r of replicas) r.receive(root.ops.values())

        for (const a of actions) {
          if (a.kind === 'sync') {
            replicas[a.b]!.receive(replicas[a.a]!.ops.values())
            continue
          }
          const r = replicas[a.who]!
          const s = r.state()
          const target = people[a.target]!
          if (a.kind === 'honest') {
            const mine = s.members.get(r.me.account)
            if (mine === undefined) continue
            // A member renames itself or leaves; an admin does anything.
            const body = mine.role === 'admin' ? bodyFor(s, r.me, target, a.pick) : bodyFor(s, r.me, target, a.pick === 5 ? 5 : 6)
            if (body) r.receive([r.sign(body, s.heads)])
          } else if (a.kind === 'backdate') {
            // Parents from an earlier point of what it knows, and a clock of its choosing.
            const order = s.order.filter((h) => r.ops.has(h))
            const cut = order.slice(0, Math.max(1, Math.floor(order.length / 2)))
            const past = computeLog(cut.map((h) => r.ops.get(h)!), create.hash, NOW)!
            const body = bodyFor(past, r.me, target, a.pick)
            if (!body) continue
            const hlc = a.lowest ? encodeHlc({ wall: 1, counter: 0 }) : undefined
            r.receive([r.sign(body, past.heads, hlc)])
          } else {
            const b1 = bodyFor(s, r.me, target, 1) ?? bodyFor(s, r.me, target, 2)
            const b2 = bodyFor(s, r.me, target, 4) ?? bodyFor(s, r.me, target, 6)
            if (b1) r.receive([r.sign(b1, s.heads)])
            if (b2) r.receive([r.sign(b2, s.heads)])
          }
        }

        // Heal: everyone meets everyone (in a seeded order), until nobody learns anything new.
        for (let changed = true; changed; ) {
          changed = false
          for (let i = 0; i < replicas.length * replicas.length; i++) {
            const from = replicas[(seed + i) % replicas.length]!
            const to = replicas[(seed + Math.floor(i / replicas.length)) % replicas.length]!
            const before = to.ops.size
            to.receive(from.ops.values())
            if (to.ops.size !== before) changed = true
          }
        }
        const states = replicas.map((r) => r.state())
        for (const s of states) expect(summary(s)).toEqual(summary(states[0]!))
        // Same operations in any arrival order: the same state.
        const shuffledOps = [...replicas[0]!.ops.values()].sort((x, y) => (x.hash < y.hash ? 1 : -1))
        const again = computeLog(shuffledOps, create.hash, NOW)!
        expect(summary(again)).toEqual(summary(states[0]!))

        // Safety: every operation that took effect had its author's authority in its own causal past, and none by an
        // author whose removal (or demotion, for admin operations) took effect concurrently.
        const final = states[0]!
        const ops = replicas[0]!.ops
        const effective = final.order.filter((h) => h !== create.hash && !final.invalid.has(h))
        const removals = effective.map((h) => ops.get(h)!).filter((op) => op.body.type === 'remove' || (op.body.type === 'role' && op.body.role === 'member'))
        for (const hash of effective) {
          const op = ops.get(hash)!
          const past = ancestors(ops, hash)
          const causal = computeLog([...past].map((h) => ops.get(h)!), create.hash, NOW)!
          const author = causal.members.get(op.author.account)
          expect(author, 'author was a member in its causal past').toBeDefined()
          const needsAdmin = op.body.type !== 'profile' && op.body.type !== 'merge' && op.body.type !== 'leave'
          if (needsAdmin) expect(author!.role).toBe('admin')
          for (const r of removals) {
            const target = r.body.type === 'remove' || r.body.type === 'role' ? r.body.account : undefined
            if (target !== op.author.account || r.hash === hash) continue
            if (r.body.type === 'role' && !needsAdmin) continue
            const concurrent = !past.has(r.hash) && !ancestors(ops, r.hash).has(hash)
            expect(concurrent, 'an operation concurrent with its author’s removal or demotion took effect').toBe(false)
          }
        }
        // The name and description are those of the last effective `about` in the log's order that set them.
        const abouts = effective.map((h) => ops.get(h)!.body).filter((b) => b.type === 'about')
        expect(final.name).toBe(abouts.findLast((b) => b.name !== undefined)?.name ?? 'Family')
        expect(final.description).toBe(abouts.findLast((b) => b.description !== undefined)?.description ?? '')
        // The timeline's lines are the same on every replica.
        const lines = membershipEvents(final, ops)
        for (const [i, s] of states.entries()) expect(membershipEvents(s, replicas[i]!.ops)).toEqual(lines)
      }),
      { numRuns: 60, seed: 9 },
    )
  })
})
