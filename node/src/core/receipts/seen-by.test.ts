import { describe, expect, it } from 'vitest'
import type { AccountId, DeviceId, EpochId } from '../../ids.js'
import type { Receipt } from '../../store/core-store.js'
import { MAX_EARLIER_EPOCHS, heldIn, nextReceiptRecord } from './earlier-epochs.js'
import { epochCandidates, whoSaw, type Candidate } from './seen-by.js'

const MINE = 'a'.repeat(32)
const THEIRS = 'b'.repeat(32)
const E1 = '1111111111111111'
const E2 = '2222222222222222'
const E3 = '3333333333333333'
const keepMine = (device: string) => device === MINE
const receipt = (epoch: string, have: Record<string, number>, readUpTo = '', hlc = '1'): Receipt => ({ hlc, epoch, have, readUpTo })

describe('earlier epochs in a device receipt', () => {
  it('a receipt of a new epoch keeps what the replaced one said about our streams, and nothing about others', () => {
    const first = nextReceiptRecord(undefined, receipt(E1, { [MINE]: 7, [THEIRS]: 3 }), keepMine)
    expect(first.earlier).toBeUndefined()
    const second = nextReceiptRecord(first, receipt(E2, { [MINE]: 1 }), keepMine)
    expect(second).toEqual({ hlc: '1', epoch: E2, have: { [MINE]: 1 }, readUpTo: '', earlier: [{ epoch: E1, have: { [MINE]: 7 } }] })
    expect(heldIn(second, E1, MINE)).toBe(7)
    expect(heldIn(second, E2, MINE)).toBe(1)
    expect(heldIn(second, E1, THEIRS)).toBe(0)
    expect(heldIn(second, E3, MINE)).toBe(0)
    // Another receipt of the same epoch carries the earlier ones on.
    expect(nextReceiptRecord(second, receipt(E2, { [MINE]: 2 }), keepMine).earlier).toEqual([{ epoch: E1, have: { [MINE]: 7 } }])
  })

  it('never takes back a position: a lagging receipt of the old epoch with less leaves the most that was said', () => {
    const a = nextReceiptRecord(undefined, receipt(E1, { [MINE]: 7 }), keepMine)
    const b = nextReceiptRecord(a, receipt(E2, { [MINE]: 1 }), keepMine)
    const c = nextReceiptRecord(b, receipt(E1, { [MINE]: 4 }), keepMine)
    expect(heldIn(c, E1, MINE)).toBe(7)
    const d = nextReceiptRecord(c, receipt(E2, { [MINE]: 2 }), keepMine)
    expect(heldIn(d, E1, MINE)).toBe(7)
    expect(heldIn(d, E2, MINE)).toBe(2)
  })

  it('remembers a bounded number of epochs, the latest ones', () => {
    let r: Receipt | undefined
    const epochs = Array.from({ length: MAX_EARLIER_EPOCHS + 5 }, (_, i) => i.toString(16).padStart(16, '0'))
    for (const [i, epoch] of epochs.entries()) r = nextReceiptRecord(r, receipt(epoch, { [MINE]: i + 1 }), keepMine)
    expect(r!.earlier).toHaveLength(MAX_EARLIER_EPOCHS)
    expect(heldIn(r!, epochs[0]!, MINE)).toBe(0)
    expect(heldIn(r!, epochs.at(-2)!, MINE)).toBe(epochs.length - 1)
  })
})

describe('who saw a message', () => {
  const key = (wall: number, seq: number) => `${String(wall).padStart(13, '0')}-000000.${MINE}.${String(seq).padStart(10, '0')}`
  const message = { author: 'alice', epoch: E1, device: MINE, seq: 5, orderKey: key(1000, 5) }
  const dev = (n: number) => String(n).repeat(32) as DeviceId
  const candidates: Candidate[] = [
    { device: dev(1), account: 'bob' as AccountId },
    { device: dev(2), account: 'bob' as AccountId },
    { device: dev(3), account: 'carol' as AccountId },
    { device: dev(4), account: 'dave' as AccountId },
    { device: dev(5), account: 'alice' as AccountId },
  ]

  it('read from the read position, held from the epoch position (after a rotation too), the author never listed', () => {
    const rotated = nextReceiptRecord(receipt(E1, { [MINE]: 5 }), receipt(E2, { [MINE]: 1 }), keepMine)
    const receipts = new Map<DeviceId, Receipt>([
      [dev(1), receipt(E2, {}, '')],
      // Bob read it on his second device.
      [dev(2), receipt(E2, {}, key(2000, 1))],
      [dev(3), rotated],
      // Dave's last receipt of E1 stopped before it: he is not said to hold it.
      [dev(4), nextReceiptRecord(receipt(E1, { [MINE]: 4 }), receipt(E2, {}), keepMine)],
      [dev(5), receipt(E2, {}, key(3000, 1))],
    ])
    const seen = whoSaw(message, candidates, (d) => receipts.get(d))
    expect([...seen.read]).toEqual(['bob'])
    expect([...seen.held]).toEqual(['carol'])
  })

  it('only devices sealed into the message epoch are asked: one that joined after a rotation has not read it', () => {
    const cert = (device: DeviceId, account: string) => [device, { account }] as const
    const log = {
      epochs: new Map([
        [E1 as EpochId, { devices: new Set([dev(1), dev(3)]) }],
        [E2 as EpochId, { devices: new Set([dev(1), dev(6)]) }],
      ]),
      knownDevices: new Map([cert(dev(1), 'bob'), cert(dev(3), 'carol'), cert(dev(6), 'erin')]),
    } as unknown as Parameters<typeof epochCandidates>[0]
    expect(epochCandidates(log, E1 as EpochId).map((c) => c.account)).toEqual(['bob', 'carol'])
    // Erin read everything she holds, all of it newer than the message: her read position is past it.
    const erinRead = receipt(E2, {}, key(9000, 1))
    const seen = whoSaw(message, epochCandidates(log, E1 as EpochId), () => erinRead)
    expect([...seen.read].sort()).toEqual(['bob', 'carol'])
    expect(whoSaw(message, epochCandidates(log, E2 as EpochId), () => erinRead).read.has('erin' as AccountId)).toBe(true)
    expect(epochCandidates(log, E3 as EpochId)).toEqual([])
  })
})
