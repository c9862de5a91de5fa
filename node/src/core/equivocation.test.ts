import * as Automerge from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { createShard, hlcNow, HLC_ZERO, react, sendMessage } from '../../../crdt/src/index.js'
import type { LogState } from '../conversation/membership-log.js'
import type { AccountId, DeviceId, EpochId, MessageId } from '../ids.js'
import type { MessageRow } from '../store/core-store.js'
import { SeenPositions, conflictViews, createdMessages, lastWritable, withdrawRow } from './equivocation.js'

const C = 'c'.repeat(32) as never
const E = 'e'.repeat(16) as EpochId
const D = 'd'.repeat(64) as DeviceId
const A = 'a'.repeat(64) as AccountId

describe('SeenPositions', () => {
  it('tells a duplicate from a second version, and forgets the oldest positions first', () => {
    const seen = new SeenPositions(2)
    expect(seen.lookup(C, `${E}/${D}/1`, 'x')).toBe('unknown')
    seen.note(C, `${E}/${D}/1`, 'x')
    expect(seen.lookup(C, `${E}/${D}/1`, 'x')).toBe('same')
    expect(seen.lookup(C, `${E}/${D}/1`, 'y')).toBe('other')
    seen.note(C, `${E}/${D}/1`, 'y')
    expect(seen.lookup(C, `${E}/${D}/1`, 'y')).toBe('same')
    seen.note(C, `${E}/${D}/2`, 'z')
    seen.note(C, `${E}/${D}/3`, 'w')
    expect(seen.lookup(C, `${E}/${D}/1`, 'x')).toBe('unknown')
    expect(seen.lookup(C, `${E}/${D}/3`, 'w')).toBe('same')
  })
})

describe('createdMessages', () => {
  it('lists the messages a change creates, not the reactions or edits it makes', () => {
    const actor = '1'.repeat(32) as never
    const m1 = '2'.repeat(32)
    const m2 = '3'.repeat(32)
    const first = sendMessage(createShard(actor), actor, { id: m1 as never, body: 'one', hlc: hlcNow(HLC_ZERO, 1000), seq: 0 })
    expect(createdMessages(Automerge.decodeChange(first.change))).toEqual([m1])
    const second = sendMessage(first.doc, actor, { id: m2 as never, body: 'two', hlc: hlcNow(HLC_ZERO, 2000), seq: 1 })
    expect(createdMessages(Automerge.decodeChange(second.change))).toEqual([m2])
    const reaction = react(second.doc, actor, { target: { author: actor, id: m1 as never }, emoji: '👍', on: true })
    expect(createdMessages(Automerge.decodeChange(reaction.change))).toEqual([])
  })
})

describe('lastWritable', () => {
  const log = (cutoff: number | undefined, revoked?: number) =>
    ({
      epochs: new Map([[E, { devices: new Set([D]) }]]),
      removed: cutoff === undefined ? new Map() : new Map([[A, { cutoffs: { [`${E}/${D}`]: cutoff } }]]),
      revokedDevices: revoked === undefined ? new Map() : new Map([[D, { [`${E}/${D}`]: revoked }]]),
    }) as unknown as LogState
  it('is the cutoff of a removed device, or everything for a member', () => {
    expect(lastWritable(log(undefined), E, D, A, 40)).toBe(40)
    for (const cutoff of [0, 1, 7, 39, 40, 99]) expect(lastWritable(log(cutoff), E, D, A, 40)).toBe(Math.min(cutoff, 40))
    expect(lastWritable(log(3), E, D, A, 0)).toBe(0)
  })
  it('is the cutoff of a revoked device whose account is still a member', () => {
    for (const cutoff of [0, 5, 40, 99]) expect(lastWritable(log(undefined, cutoff), E, D, A, 40)).toBe(Math.min(cutoff, 40))
  })
})

describe('withdrawRow and conflictViews', () => {
  it('a withdrawn row keeps where it was and who wrote it, nothing it said', () => {
    const row = { id: 'f'.repeat(32) as MessageId, body: 'secret', edited: true, reactions: { '👍': [A] }, author: A } as unknown as MessageRow
    expect(withdrawRow(row, 'conflict')).toMatchObject({ id: row.id, author: A, body: '', edited: false, reactions: {}, withdrawn: 'conflict' })
  })
  it('groups conflicts by device under the current name, earliest first', () => {
    const other = '9'.repeat(64)
    const views = conflictViews(
      [
        { epoch: E, device: D, seq: 3, account: A, at: 50 },
        { epoch: E, device: D, seq: 9, account: A, at: 20 },
        { epoch: E, device: other as DeviceId, seq: 1, account: other, at: 30 },
      ],
      new Map([[A, 'Mallory']]),
    )
    expect(views).toEqual([
      { account: A, displayName: 'Mallory', device: D, positions: 2, at: 20 },
      { account: other, displayName: other.slice(0, 8), device: other, positions: 1, at: 30 },
    ])
  })
})
