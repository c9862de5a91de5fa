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
