import { beforeAll, describe, expect, it } from 'vitest'
import { createIdentity, restoreIdentity, type Identity } from '../identity/identity.js'
import type { AccountId, EpochId } from '../ids.js'
import { eventText, membershipEvents } from './membership-events.js'
import type { LogState } from './membership-log.js'
import { Chain, T0, addBody, box, epochFor } from './membership-log.testing.js'
import type { OpBody } from './membership-op.js'

/** The timeline's lines for a person's own device changes: linking, restoring and revoking a device. */
let alice: Identity
let laptop: Identity // alice's second device
let tablet: Identity // alice's third device
let bob: Identity

beforeAll(async () => {
  const made = await createIdentity('alice', T0)
  alice = made.identity
  laptop = await restoreIdentity('alice', made.recoveryPhrase, T0)
  tablet = await restoreIdentity('alice', made.recoveryPhrase, T0)
  bob = (await createIdentity('bob', T0)).identity
})

const addDevice = (who: Identity, epochs: EpochId[]): OpBody => ({
  type: 'add-device',
  cert: who.cert,
  seals: epochs.map((epoch) => ({ epoch, box: box(who.deviceId) })),
})
const revokeDevice = (device: Identity, remaining: Identity[]): OpBody => ({
  type: 'revoke-device',
  device: device.deviceId,
  cutoffs: {},
  epoch: epochFor(remaining.map((r) => r.deviceId)),
})

const nameOf = (s: LogState) => (a: AccountId) => s.names.get(a) ?? a.slice(0, 8)

function lines(chain: Chain) {
  const s = chain.state()
  const events = membershipEvents(s, new Map(chain.ops.map((o) => [o.hash, o])))
  return { s, events, texts: events.map((e) => eventText(e, nameOf(s), s.kind)) }
}

function aliceAndBob() {
  const chain = new Chain()
  const e0 = chain.create(alice)
  chain.append(alice, addBody(bob, e0))
  return { chain, e0 }
}

describe('membership events: a person’s own devices', () => {
  it('linking a device and removing one are lines about that person, by that person', () => {
    const { chain, e0 } = aliceAndBob()
    const link = chain.append(alice, addDevice(laptop, [e0]))
    const revoke = chain.append(laptop, revokeDevice(alice, [laptop, bob]))
    const { events, texts } = lines(chain)
    expect(texts).toEqual(['alice created the group', 'alice added bob', 'alice linked a new device', 'alice removed a device'])
    expect(events.slice(2)).toEqual([
      { op: link.hash, hlc: link.hlc, kind: 'device-added', actor: alice.account, target: null },
      { op: revoke.hash, hlc: revoke.hlc, kind: 'device-revoked', actor: alice.account, target: null },
    ])
  })

  it('the same in a direct chat, and whatever the order the operations arrived in', () => {
    const chain = new Chain()
    const e0 = chain.create(alice, 'direct')
    chain.append(alice, addBody(bob, e0))
    chain.append(alice, addDevice(laptop, [e0]))
    chain.append(alice, addDevice(tablet, [e0]))
    chain.append(alice, revokeDevice(tablet, [alice, laptop, bob]))
    const { s, events, texts } = lines(chain)
    expect(texts).toEqual(['alice started the chat', 'alice added bob', 'alice linked a new device', 'alice linked a new device', 'alice removed a device'])
    const ops = new Map(chain.ops.map((o) => [o.hash, o]))
    expect(membershipEvents(chain.state([...chain.ops].reverse()), ops)).toEqual(events)
    expect(s.invalid.size).toBe(0)
  })

  it('a device restored from the phrase introducing itself says so; the reseal that follows is no line', () => {
    const { chain, e0 } = aliceAndBob()
    chain.append(tablet, addDevice(tablet, []))
    chain.append(bob, { type: 'reseal', device: tablet.deviceId, seals: [{ epoch: e0, box: box(tablet.deviceId) }] })
    const { s, events, texts } = lines(chain)
    expect(s.invalid.size).toBe(0)
    expect(texts).toEqual(['alice created the group', 'alice added bob', 'alice restored their account on a new device'])
    expect(events[2]).toMatchObject({ kind: 'device-added', actor: alice.account, target: null, restored: true })
    expect(eventText(events[2]!, nameOf(s), s.kind, alice.account)).toBe('You restored your account on a new device')
  })

  it('refused device operations give no line: another account’s device, a revoked device coming back, revoking oneself', () => {
    const { chain, e0 } = aliceAndBob()
    const byBob = chain.append(bob, addDevice(laptop, [e0]))
    chain.append(alice, addDevice(laptop, [e0]))
    const self = chain.append(laptop, revokeDevice(laptop, [alice, bob]))
    chain.append(alice, revokeDevice(laptop, [alice, bob]))
    const back = chain.append(alice, addDevice(laptop, []))
    const bobRevokes = chain.append(bob, revokeDevice(alice, [bob]))
    const { s, texts } = lines(chain)
    for (const op of [byBob, self, back, bobRevokes]) expect(s.invalid.has(op.hash)).toBe(true)
    expect(texts).toEqual(['alice created the group', 'alice added bob', 'alice linked a new device', 'alice removed a device'])
  })

  it('the line uses the person’s current name', () => {
    const { chain, e0 } = aliceAndBob()
    chain.append(alice, addDevice(laptop, [e0]))
    chain.append(laptop, { type: 'profile', name: 'Ally' })
    expect(lines(chain).texts[2]).toBe('Ally linked a new device')
  })
})
