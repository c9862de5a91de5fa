import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../../common/storage/database.js'
import type { AccountId } from '../../ids.js'
import { CoreStore } from '../../store/core-store.js'
import { VerifiedPeople } from './verified-people.js'

const acct = (n: number) => n.toString(16).padStart(64, '0') as AccountId

describe('VerifiedPeople', () => {
  let db: Database
  let store: CoreStore
  let people: VerifiedPeople

  beforeEach(async () => {
    db = await openDatabase({ memory: true })
    store = new CoreStore(db, new Uint8Array(32).fill(9))
    people = new VerifiedPeople(store, () => 42)
  })
  afterEach(async () => {
    await db.close()
  })

  it('nobody is verified at first; a verification holds for the key that was verified, and survives a reload', async () => {
    expect(people.stateOf(acct(1), acct(1))).toEqual({ verified: false })
    await people.verify(acct(1), acct(1), 'scanned')
    expect(people.stateOf(acct(1), acct(1))).toEqual({ verified: true })
    expect(people.stateOf(acct(2), acct(2))).toEqual({ verified: false })

    const reloaded = new VerifiedPeople(store, () => 0)
    await reloaded.load()
    expect(reloaded.stateOf(acct(1), acct(1))).toEqual({ verified: true })
  })

  it('says "key changed" when the account now has another key than the verified one', async () => {
    await people.verify(acct(1), acct(1), 'compared')
    expect(people.stateOf(acct(1), acct(7))).toEqual({ verified: false, verifiedKeyChanged: true })
  })

  it('unverify forgets it, on disk too', async () => {
    await people.verify(acct(1), acct(1), 'compared')
    await people.unverify(acct(1))
    expect(people.stateOf(acct(1), acct(1))).toEqual({ verified: false })
    const reloaded = new VerifiedPeople(store, () => 0)
    await reloaded.load()
    expect(reloaded.stateOf(acct(1), acct(1))).toEqual({ verified: false })
  })

  it('a stored record of the wrong shape is CORRUPT_DATA, not a silent "verified"', async () => {
    await store.commit([store.sealJson(`verified\u0000${acct(3)}`, { key: 'nothex', at: 1, how: 'scanned' })], true)
    await expect(new VerifiedPeople(store, () => 0).load()).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
  })
})

describe('VerifiedPeople: bound to the devices seen at verification (ADR 0031 addendum)', () => {
  let db: Database
  let store: CoreStore

  beforeEach(async () => {
    db = await openDatabase({ memory: true })
    store = new CoreStore(db, new Uint8Array(32).fill(9))
  })
  afterEach(async () => {
    await db.close()
  })

  const dev = (n: number) => `d${n}`.padEnd(64, '0')

  it('a device outside the verified set reads "needs re-verification"; a device gone does not; verifying again clears it', async () => {
    const people = new VerifiedPeople(store, () => 42)
    await people.verify(acct(1), acct(1), 'compared', [dev(2), dev(1), dev(1)])
    expect(people.recordOf(acct(1))?.devices).toEqual([dev(1), dev(2)])
    expect(people.stateOf(acct(1), acct(1), [dev(1), dev(2)])).toEqual({ verified: true })
    expect(people.stateOf(acct(1), acct(1), [dev(2)])).toEqual({ verified: true })
    expect(people.stateOf(acct(1), acct(1), [dev(1), dev(3)])).toEqual({ verified: false, verifiedDevicesChanged: true })

    const reloaded = new VerifiedPeople(store, () => 0)
    await reloaded.load()
    expect(reloaded.stateOf(acct(1), acct(1), [dev(3)])).toEqual({ verified: false, verifiedDevicesChanged: true })
    await reloaded.verify(acct(1), acct(1), 'scanned', [dev(1), dev(3)])
    expect(reloaded.stateOf(acct(1), acct(1), [dev(1), dev(3)])).toEqual({ verified: true })
    // the key check comes first: another key is "key changed", whatever the devices
    expect(reloaded.stateOf(acct(1), acct(7), [dev(9)])).toEqual({ verified: false, verifiedKeyChanged: true })
  })

  it('a record made before devices were kept stays verified (it has no set to compare against)', async () => {
    await store.commit([store.sealJson(`verified\u0000${acct(4)}`, { key: acct(4), at: 1, how: 'compared' })], true)
    const people = new VerifiedPeople(store, () => 0)
    await people.load()
    expect(people.stateOf(acct(4), acct(4), [dev(5)])).toEqual({ verified: true })
  })

  it('a stored device list of the wrong shape is CORRUPT_DATA', async () => {
    await store.commit([store.sealJson(`verified\u0000${acct(5)}`, { key: acct(5), at: 1, how: 'compared', devices: ['nothex'] })], true)
    await expect(new VerifiedPeople(store, () => 0).load()).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
  })
})

describe('VerifiedPeople: marks from another device of ours', () => {
  let db: Database
  let store: CoreStore

  beforeEach(async () => {
    db = await openDatabase({ memory: true })
    store = new CoreStore(db, new Uint8Array(32).fill(9))
  })
  afterEach(async () => {
    await db.close()
  })

  it('replace sets the record as sent (key and devices), clears it with null, and keeps it on disk', async () => {
    const people = new VerifiedPeople(store, () => 0)
    const record = { key: acct(8), at: 3, how: 'scanned' as const, devices: [acct(2)] }
    expect(await people.replace(acct(1), record, () => true)).toBe(true)
    // The record names key 8: for account 1 under key 1 that is "not the key you verified".
    expect(people.stateOf(acct(1), acct(1), [acct(2)])).toEqual({ verified: false, verifiedKeyChanged: true })
    expect(people.stateOf(acct(1), acct(8), [acct(2)])).toEqual({ verified: true })
    const reloaded = new VerifiedPeople(store, () => 0)
    await reloaded.load()
    expect(reloaded.recordOf(acct(1))).toEqual(record)
    expect(await reloaded.replace(acct(1), null, () => true)).toBe(true)
    expect(reloaded.all().size).toBe(0)
    await people.load()
    expect(people.recordOf(acct(1))).toBeUndefined()
  })

  it('a change made here meanwhile wins: replace writes nothing once it is no longer wanted', async () => {
    const people = new VerifiedPeople(store, () => 7)
    let stamped = false
    const told: unknown[] = []
    // The local mark is told within its write, so the stamp exists before the queued replace takes its turn.
    const local = people.verify(acct(1), acct(1), 'compared', [], (r) => {
      told.push(r)
      stamped = true
    })
    const remote = people.replace(acct(1), null, () => !stamped)
    await local
    expect(await remote).toBe(false)
    expect(told).toEqual([{ key: acct(1), at: 7, how: 'compared', devices: [] }])
    expect(people.stateOf(acct(1), acct(1))).toEqual({ verified: true })
  })

  it('a record of the wrong shape is refused, and nothing is written', async () => {
    const people = new VerifiedPeople(store, () => 0)
    await expect(people.replace(acct(1), { key: 'x', at: 1, how: 'compared' }, () => true)).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
    expect(people.all().size).toBe(0)
  })
})
