import { beforeAll, describe, expect, it } from 'vitest'
import { Limits } from '../../common/wire/limits.js'
import { createIdentity, restoreIdentity, type Identity } from '../identity/identity.js'
import type { EpochId } from '../ids.js'
import { mayWrite, memberDevices, needsRotation } from './membership-log.js'
import { Chain, T0, addBody, box, epochFor } from './membership-log.testing.js'
import { decodeOp, type OpBody } from './membership-op.js'

let alice: Identity
let laptop: Identity // alice's second device
let tablet: Identity // alice's third device
let bob: Identity
let bobPhone: Identity // bob's second device
let phrase: string

beforeAll(async () => {
  const made = await createIdentity('alice', T0)
  alice = made.identity
  phrase = made.recoveryPhrase
  laptop = await restoreIdentity('alice', phrase, T0)
  tablet = await restoreIdentity('alice', phrase, T0)
  const b = await createIdentity('bob', T0)
  bob = b.identity
  bobPhone = await restoreIdentity('bob', b.recoveryPhrase, T0)
})

const addDevice = (who: Identity, epochs: EpochId[]): OpBody => ({
  type: 'add-device',
  cert: who.cert,
  seals: epochs.map((epoch) => ({ epoch, box: box(who.deviceId) })),
})

function aliceAndBob() {
  const chain = new Chain()
  const e0 = chain.create(alice)
  chain.append(alice, addBody(bob, e0))
  return { chain, e0 }
}

/** alice's laptop admitted, then an epoch rotation so the log has history before and after the link. */
function withLaptop() {
  const { chain, e0 } = aliceAndBob()
  const link = chain.append(alice, addDevice(laptop, [e0]))
  return { chain, e0, link }
}

const revoke = (chain: Chain, device: Identity, remaining: Identity[], cutoffs: Record<string, number> = {}): OpBody => ({
  type: 'revoke-device',
  device: device.deviceId,
  cutoffs,
  epoch: epochFor(remaining.map((r) => r.deviceId)),
})

describe('add-device: a device of a member adds another device of the same account', () => {
  it('the new device is alice’s, reads every epoch it was sealed into, and writes there', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0))
    const e1 = epochFor([alice.deviceId, bob.deviceId])
    chain.append(alice, { type: 'rotate', epoch: e1 })
    chain.append(alice, addDevice(laptop, [e0, e1.id]))
    const s = chain.state()
    expect(s.invalid.size).toBe(0)
    expect([...s.members.get(alice.account)!.devices.keys()].sort()).toEqual([alice.deviceId, laptop.deviceId].sort())
    expect(s.epochs.get(e0)!.devices.has(laptop.deviceId)).toBe(true)
    expect(s.epochs.get(e1.id)!.seals.get(laptop.deviceId)).toEqual(box(laptop.deviceId))
    expect(memberDevices(s).has(laptop.deviceId)).toBe(true)
    expect(needsRotation(s)).toBe(false)
    expect(mayWrite(s, e1.id, laptop.deviceId, 5, alice.account)).toBe(true)
  })

  it('the operation survives its encoding byte for byte', () => {
    const { link } = withLaptop()
    const again = decodeOp(link.bytes)
    expect(again.hash).toBe(link.hash)
    expect(again.body).toMatchObject({ type: 'add-device', seals: [{ box: box(laptop.deviceId) }] })
  })

  it('added without the current epoch, the device makes the log ask for a rotation', () => {
    const { chain } = aliceAndBob()
    chain.append(alice, addDevice(laptop, []))
    expect(needsRotation(chain.state())).toBe(true)
  })

  it('bob cannot add a device to alice’s account, even holding a certificate alice’s account signed', () => {
    const { chain, e0 } = aliceAndBob()
    const op = chain.append(bob, addDevice(laptop, [e0]))
    const s = chain.state()
    expect(s.unauthorized.has(op.hash)).toBe(true)
    expect(s.invalid.get(op.hash)).toBe('a device adds devices of its own account only')
    expect(memberDevices(s).has(laptop.deviceId)).toBe(false)
  })

  it('a device restored from the phrase introduces itself, bringing no secrets: the log then wants it sealed in', () => {
    const { chain, e0 } = aliceAndBob()
    const withSeals = chain.append(laptop, addDevice(laptop, [e0]))
    expect(chain.state().invalid.get(withSeals.hash)).toBe('a device introducing itself has no epoch secrets to hand on')
    chain.append(laptop, addDevice(laptop, []))
    const s = chain.state()
    expect(s.members.get(alice.account)!.devices.has(laptop.deviceId)).toBe(true)
    expect(s.epochs.get(e0)!.devices.has(laptop.deviceId)).toBe(false)
    expect(needsRotation(s)).toBe(true)
  })

  it('an introduction does not bring back a revoked device nor an account that is no longer a member', () => {
    const { chain } = withLaptop()
    chain.append(alice, revoke(chain, laptop, [alice, bob]))
    const again = chain.append(laptop, addDevice(laptop, []))
    expect(chain.state().invalid.get(again.hash)).toBe('a revoked device does not come back')
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId]) })
    const bobBack = chain.append(bobPhone, addDevice(bobPhone, []))
    expect(chain.state().invalid.get(bobBack.hash)).toBe('author is not a member')
  })

  it('a seal for an epoch the author does not read is refused', () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0))
    // bob's second device, admitted after a rotation that left it out of nothing: it reads e1 only.
    const e1 = epochFor([alice.deviceId, bob.deviceId])
    chain.append(alice, { type: 'rotate', epoch: e1 })
    chain.append(bob, addDevice(bobPhone, [e1.id]))
    // alice's laptop added by alice is fine; a seal naming an epoch nobody created is not.
    const bad = chain.append(alice, addDevice(laptop, ['ffffffffffffffff' as EpochId]))
    expect(chain.state().invalid.get(bad.hash)).toBe('a seal names an unknown epoch')
    const s = chain.state()
    expect(s.epochs.get(e0)!.devices.has(bobPhone.deviceId)).toBe(false)
    expect(s.epochs.get(e1.id)!.devices.has(bobPhone.deviceId)).toBe(true)
  })

  it('an account has at most maxDevicesPerMember devices', async () => {
    const { chain, e0 } = aliceAndBob()
    const extra = await Promise.all(Array.from({ length: Limits.maxDevicesPerMember }, () => restoreIdentity('alice', phrase, T0)))
    const ops = extra.map((d) => chain.append(alice, addDevice(d, [e0])))
    const s = chain.state()
    expect(s.members.get(alice.account)!.devices.size).toBe(Limits.maxDevicesPerMember)
    expect(s.invalid.get(ops.at(-1)!.hash)).toBe(`an account has at most ${Limits.maxDevicesPerMember} devices`)
  })
})

describe('reseal: history for a restored device', () => {
  it('a member seals the epochs alice read to alice’s restored device; never epochs her account did not read', async () => {
    const chain = new Chain()
    const e0 = chain.create(alice)
    chain.append(alice, addBody(bob, e0))
    const e1 = epochFor([alice.deviceId, bob.deviceId])
    chain.append(alice, { type: 'rotate', epoch: e1 })
    chain.append(tablet, addDevice(tablet, []))
    const resealed = chain.append(bob, { type: 'reseal', device: tablet.deviceId, seals: [e0, e1.id].map((epoch) => ({ epoch, box: box(tablet.deviceId) })) })
    let s = chain.state()
    expect(s.invalid.has(resealed.hash)).toBe(false)
    expect(s.epochs.get(e0)!.devices.has(tablet.deviceId)).toBe(true)
    expect(needsRotation(s)).toBe(false)

    // carol joins later: nobody can hand her account the epochs before it.
    const carol = (await createIdentity('carol', T0)).identity
    const e2 = epochFor([alice.deviceId, bob.deviceId, tablet.deviceId])
    chain.append(alice, { type: 'rotate', epoch: e2 })
    chain.append(alice, addBody(carol, e2.id))
    const leak = chain.append(bob, { type: 'reseal', device: carol.deviceId, seals: [{ epoch: e0, box: box(carol.deviceId) }] })
    const twice = chain.append(bob, { type: 'reseal', device: tablet.deviceId, seals: [{ epoch: e0, box: box(tablet.deviceId) }] })
    s = chain.state()
    expect(s.invalid.get(leak.hash)).toBe('its account did not read that epoch')
    expect(s.invalid.get(twice.hash)).toBe('the device reads that epoch already')
    expect(s.epochs.get(e0)!.devices.has(carol.deviceId)).toBe(false)
  })

  it('only what the author reads, and only for a member device', () => {
    const { chain, e0 } = aliceAndBob()
    const e1 = epochFor([alice.deviceId])
    chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: e1 })
    chain.append(tablet, addDevice(tablet, []))
    const notMember = chain.append(alice, { type: 'reseal', device: bob.deviceId, seals: [{ epoch: e1.id, box: box(bob.deviceId) }] })
    expect(chain.state().invalid.get(notMember.hash)).toBe('not a device of a member')
    const ok = chain.append(alice, { type: 'reseal', device: tablet.deviceId, seals: [{ epoch: e0, box: box(tablet.deviceId) }] })
    expect(chain.state().invalid.has(ok.hash)).toBe(false)
    chain.append(laptop, addDevice(laptop, []))
    const blind = chain.append(tablet, { type: 'reseal', device: laptop.deviceId, seals: [{ epoch: e1.id, box: box(laptop.deviceId) }] })
    expect(chain.state().invalid.get(blind.hash)).toBe('a seal names an epoch the author does not read')
  })
})

describe('revoke-device: one device of an account revokes another', () => {
  it('the revoked device leaves the member, the new epoch is sealed to the others only, it writes only up to its cutoff', () => {
    const { chain, e0 } = withLaptop()
    const body = revoke(chain, laptop, [alice, bob], { [`${e0}/${laptop.deviceId}`]: 3 })
    chain.append(alice, body)
    const s = chain.state()
    expect(s.invalid.size).toBe(0)
    expect(s.members.get(alice.account)!.devices.has(laptop.deviceId)).toBe(false)
    expect(s.members.has(alice.account)).toBe(true)
    expect(s.currentEpoch).not.toBe(e0)
    expect(s.epochs.get(s.currentEpoch)!.devices.has(laptop.deviceId)).toBe(false)
    expect(needsRotation(s)).toBe(false)
    expect(mayWrite(s, e0, laptop.deviceId, 3, alice.account)).toBe(true)
    expect(mayWrite(s, e0, laptop.deviceId, 4, alice.account)).toBe(false)
    // alice's own device is untouched by its own account's revocation of another.
    expect(mayWrite(s, e0, alice.deviceId, 400, alice.account)).toBe(true)
  })

  it('what the revoked device signs afterwards counts for nothing, and it does not come back', () => {
    const { chain } = withLaptop()
    chain.append(alice, revoke(chain, laptop, [alice, bob]))
    const rename = chain.append(laptop, { type: 'profile', name: 'not alice' })
    const relink = chain.append(alice, addDevice(laptop, [chain.state().currentEpoch]))
    const s = chain.state()
    expect(s.unauthorized.has(rename.hash)).toBe(true)
    expect(s.names.get(alice.account)).toBe('alice')
    expect(s.invalid.get(relink.hash)).toBe('a revoked device does not come back')
  })

  it('a device revokes only its own account’s devices, and never itself', () => {
    const { chain } = withLaptop()
    chain.append(bob, addDevice(bobPhone, [chain.state().currentEpoch]))
    const bobRevokesAlice = chain.append(bob, revoke(chain, laptop, [alice, bob, bobPhone]))
    const selfRevoke = chain.append(laptop, revoke(chain, laptop, [alice, bob, bobPhone]))
    const s = chain.state()
    expect(s.invalid.get(bobRevokesAlice.hash)).toBe('a device revokes devices of its own account only')
    expect(s.invalid.get(selfRevoke.hash)).toBe('a device cannot revoke itself: another device of the account does')
    expect(s.members.get(alice.account)!.devices.has(laptop.deviceId)).toBe(true)
  })

  it('cutoffs may name only the revoked device', () => {
    const { chain, e0 } = withLaptop()
    const op = chain.append(alice, revoke(chain, laptop, [alice, bob], { [`${e0}/${bob.deviceId}`]: 0 }))
    expect(chain.state().invalid.get(op.hash)).toBe('cutoffs name a device other than the revoked one')
  })

  it.each([
    ['the newer device dates its revocation later', 10_000],
    ['the newer device dates its revocation earlier', -10_000],
  ])('two devices revoking each other concurrently: the one admitted first stays (%s)', (_name, skew) => {
    const { chain, link } = withLaptop()
    const base = chain.wall
    const fromAlice = chain.append(alice, revoke(chain, laptop, [alice, bob]), { prev: [link.hash], wall: base + 20_000 })
    const fromLaptop = chain.append(laptop, revoke(chain, alice, [laptop, bob]), { prev: [link.hash], wall: base + 20_000 + skew })
    const s = chain.state()
    expect(s.invalid.has(fromAlice.hash)).toBe(false)
    expect(s.invalid.has(fromLaptop.hash)).toBe(true)
    expect([...s.members.get(alice.account)!.devices.keys()]).toEqual([alice.deviceId])
  })

  it('a revoked device backdating an operation to before its revocation gains nothing', () => {
    const { chain, link } = withLaptop()
    chain.append(alice, revoke(chain, laptop, [alice, bob]))
    // Parents from before the revocation: concurrent with it, so void.
    const sneaky = chain.append(laptop, addDevice(tablet, []), { prev: [link.hash] })
    const s = chain.state()
    expect(s.invalid.get(sneaky.hash)).toBe('author device was revoked concurrently')
    expect(memberDevices(s).has(tablet.deviceId)).toBe(false)
  })

  it('removing the account voids a concurrent revocation by one of its devices', () => {
    const { chain, link, e0 } = withLaptop()
    const removal = chain.append(alice, { type: 'remove', account: bob.account, cutoffs: {}, epoch: epochFor([alice.deviceId, laptop.deviceId]) }, { prev: [link.hash] })
    chain.append(bob, addDevice(bobPhone, [e0]), { prev: [link.hash] })
    const s = chain.state()
    expect(s.invalid.has(removal.hash)).toBe(false)
    expect(s.members.has(bob.account)).toBe(false)
    expect(memberDevices(s).has(bobPhone.deviceId)).toBe(false)
  })
})
