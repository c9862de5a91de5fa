import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../../common/storage/database.js'
import type { MemberView, SystemLineView } from '../../api/types.js'
import type { AccountId, ConversationId } from '../../ids.js'
import { CoreStore } from '../../store/core-store.js'
import type { Kernel } from '../kernel.js'
import { DEVICE_CHANGE_KINDS, People } from './people.js'
import { VerifiedPeople } from './verified-people.js'

/**
 * The key-change notice and "needs re-verification", against a kernel reduced to what People reads: the conversations
 * and, in each, who has which devices.
 */
const ME = '1'.repeat(64) as AccountId
const BOB = 'b'.repeat(64) as AccountId
const CAROL = 'c'.repeat(64) as AccountId
const FAMILY = 'f'.repeat(32) as ConversationId
const WORK = 'e'.repeat(32) as ConversationId
const dev = (n: number) => n.toString(16).padStart(64, '0')

type Devices = Map<AccountId, string[]>

function fakeKernel(conversations: Map<ConversationId, Devices>): Kernel {
  const runtimes = new Map(
    [...conversations].map(([id, devices]) => [
      id,
      {
        id,
        log: {
          get members() {
            return new Map([...devices].map(([account, ds]) => [account, { account, devices: new Map(ds.map((d) => [d, {}])) }]))
          },
          names: new Map([
            [BOB, 'Bob'],
            [CAROL, 'Carol'],
          ]),
        },
      },
    ]),
  )
  return {
    identity: { account: ME },
    conversations: runtimes,
    runtime: (id: ConversationId) => runtimes.get(id)!,
    counters: { count: () => {} },
  } as unknown as Kernel
}

function line(kind: string, target: AccountId | null, n: number, actor: AccountId = ME): SystemLineView {
  return { id: n.toString(16).padStart(64, '0'), kind: kind as SystemLineView['kind'], hlc: String(n), at: n, actor, target, text: `line ${n}` }
}

const member = (account: AccountId): MemberView => ({ account, displayName: 'x', role: 'member', devices: [], me: account === ME })

describe('People: verification bound to the devices seen', () => {
  let db: Database
  let family: Devices
  let work: Devices
  let people: People
  const changed: ConversationId[] = []

  beforeEach(async () => {
    db = await openDatabase({ memory: true })
    family = new Map([
      [ME, [dev(1)]],
      [BOB, [dev(2)]],
      [CAROL, [dev(3)]],
    ])
    work = new Map([
      [ME, [dev(1)]],
      [BOB, [dev(2)]],
    ])
    const verified = new VerifiedPeople(new CoreStore(db, new Uint8Array(32).fill(1)), () => 5)
    people = new People(fakeKernel(new Map([[FAMILY, family], [WORK, work]])), verified, (id) => changed.push(id))
  })
  afterEach(async () => {
    await db.close()
  })

  it('a new device of a verified person makes them "needs re-verification" everywhere, until verified again', async () => {
    await people.verify(BOB)
    expect(changed.sort()).toEqual([WORK, FAMILY].sort())
    expect(people.decorate([member(BOB)])[0]).toMatchObject({ verified: true })
    expect(people.safetyNumber(BOB).verified).toBe(true)

    // Bob restores on a new phone, seen in the work chat only: the mark changes in the family group too.
    work.set(BOB, [dev(2), dev(9)])
    expect(people.decorate([member(BOB)])[0]).toMatchObject({ verified: false, verifiedDevicesChanged: true })
    expect(people.safetyNumber(BOB)).toMatchObject({ verified: false, verifiedDevicesChanged: true })

    await people.verify(BOB)
    expect(people.decorate([member(BOB)])[0]).toEqual({ ...member(BOB), verified: true })
    // A device going away (revoked) asks for nothing.
    work.set(BOB, [dev(9)])
    family.set(BOB, [dev(9)])
    expect(people.decorate([member(BOB)])[0]).toMatchObject({ verified: true })
  })

  it('the notice sits on the latest device line of each verified person whose devices changed, and only there', async () => {
    await people.verify(BOB)
    await people.verify(CAROL)
    const lines = [line('joined', null, 1, BOB), line('device-changed', BOB, 2), line('device-added', null, 3, BOB), line('device-added', null, 4, CAROL)]
    // Nothing changed since verifying: the lines are as they came.
    expect(people.decorateLines(FAMILY, lines)).toEqual(lines)

    family.set(BOB, [dev(2), dev(8)])
    const shown = people.decorateLines(FAMILY, lines)
    expect(shown.map((l) => l.verifyAgain?.account ?? null)).toEqual([null, null, BOB, null])
    expect(shown[2]!.verifyAgain).toEqual({ account: BOB, displayName: 'Bob', text: 'Bob’s devices changed since you verified them. Verify Bob again.' })
    expect(shown[2]!.text).toBe('line 3') // the line itself is unchanged

    await people.verify(BOB)
    expect(people.decorateLines(FAMILY, lines)).toEqual(lines)
  })

  it('people never verified get no notice; every device kind is one entry of DEVICE_CHANGE_KINDS', () => {
    family.set(BOB, [dev(2), dev(8)])
    const lines = [line('device-changed', BOB, 1), line('device-revoked', null, 2, BOB)]
    expect(people.decorateLines(FAMILY, lines)).toEqual(lines)
    expect([...DEVICE_CHANGE_KINDS].sort()).toEqual(['device-added', 'device-changed', 'device-revoked'])
  })

  it('a mark from another device of ours shows like one made here and is announced, but is not told back; oneself is refused', async () => {
    const told: Array<[AccountId, unknown]> = []
    people.onChange = (account, record) => told.push([account, record])
    changed.length = 0
    const record = { key: BOB, at: 1, how: 'scanned' as const, devices: [dev(2)] }
    expect(await people.applyFromOwnDevice(BOB, record, () => true)).toBe(true)
    expect(people.decorate([member(BOB)])[0]).toMatchObject({ verified: true })
    expect(changed.sort()).toEqual([WORK, FAMILY].sort())
    expect(told).toEqual([])
    // A mark for another key than the one this device knows for Bob: not verified, "key changed".
    await people.applyFromOwnDevice(BOB, { ...record, key: CAROL }, () => true)
    expect(people.decorate([member(BOB)])[0]).toMatchObject({ verified: false, verifiedKeyChanged: true })
    await expect(people.applyFromOwnDevice(ME, record, () => true)).rejects.toMatchObject({ code: 'MALFORMED' })
    expect(people.marks().has(ME)).toBe(false)

    // Made here: told, within the write, with the record as stored; cleared: told null.
    await people.verify(BOB)
    await people.unverify(BOB)
    expect(told).toEqual([[BOB, { key: BOB, at: 5, how: 'compared', devices: [dev(2)] }], [BOB, null]])
  })
})
