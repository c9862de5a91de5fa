import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../../common/wire/cbor.js'
import type { AccountId } from '../../ids.js'
import { MAX_VERIFIED_DEVICES, type VerifiedRecord } from '../people/verified-people.js'
import { decodeSyncRequest, decodeSyncResponse, encodeSyncRequest, valueSchemaOf } from './own-sync-frames.js'
import { currentMarks, isVerifiedSyncKey, verifiedSyncKey } from './own-sync-verified.js'

const hex = (n: number) => n.toString(16).padStart(64, '0')
const BOB = hex(0xb0b) as AccountId
const DEVICE = hex(0xd)
const H = '0000000000001-000000'
const mark: VerifiedRecord = { key: BOB, at: 5, how: 'compared', devices: [hex(1), hex(2)] }

/** A request of one `v/` entry, as raw CBOR so any value (hostile ones too) can be sent. */
const rawRequest = (key: string, value: unknown) => encodeCbor({ v: 1, w: false, e: [[key, value, H, DEVICE]] })

describe('own-sync verified marks: the wire', () => {
  it('a mark and a clearing go through the codec unchanged, key and devices included', () => {
    const entries: Array<[string, { v: unknown; h: string; d: string }]> = [
      [verifiedSyncKey(BOB), { v: mark, h: H, d: DEVICE }],
      [verifiedSyncKey(hex(0xc) as AccountId), { v: null, h: H, d: DEVICE }],
    ]
    expect(decodeSyncRequest(encodeSyncRequest({ whole: true, entries })).entries).toEqual(entries)
    // An older record (no device set) is a mark too.
    const old = { key: BOB, at: 1, how: 'scanned' }
    expect(decodeSyncResponse(encodeCbor({ e: [[verifiedSyncKey(BOB), old, H, DEVICE]] }))[0]![1].v).toEqual(old)
  })

  it.each([
    ['a key that is not hex', { ...mark, key: 'z'.repeat(64) }],
    ['a short key', { ...mark, key: 'ab' }],
    ['no key', { at: 5, how: 'compared' }],
    ['an unknown way of verifying', { ...mark, how: 'guessed' }],
    ['a negative time', { ...mark, at: -1 }],
    ['an extra field', { ...mark, trusted: true }],
    ['a device id that is not one', { ...mark, devices: ['nothex'] }],
    ['device ids out of order', { ...mark, devices: [hex(2), hex(1)] }],
    ['a device id twice', { ...mark, devices: [hex(1), hex(1)] }],
    ['more devices than a mark keeps', { ...mark, devices: Array.from({ length: MAX_VERIFIED_DEVICES + 1 }, (_, i) => hex(i + 1)) }],
    ['a string', 'verified'],
    ['true', true],
  ])('refuses the whole request for %s', (_what, value) => {
    expect(() => decodeSyncRequest(rawRequest(verifiedSyncKey(BOB), value))).toThrow(expect.objectContaining({ code: 'MALFORMED' }) as Error)
  })

  it('a `v/` key without a well-formed account id is not a mark: skipped, never applied', () => {
    for (const k of ['v/', 'v/bob', `v/${BOB.toUpperCase()}`, `v/${BOB}0`, `v/${BOB.slice(1)}`, `v/${BOB}/x`]) {
      expect(isVerifiedSyncKey(k)).toBe(false)
      expect(valueSchemaOf(k)).toBeUndefined()
      expect(decodeSyncRequest(rawRequest(k, mark)).entries).toEqual([])
    }
    expect(isVerifiedSyncKey(verifiedSyncKey(BOB))).toBe(true)
  })

  it('the most devices a mark keeps fits in one exchange', () => {
    const full = { ...mark, devices: Array.from({ length: MAX_VERIFIED_DEVICES }, (_, i) => hex(i + 1)) }
    expect(decodeSyncRequest(rawRequest(verifiedSyncKey(BOB), full)).entries[0]![1].v).toEqual(full)
  })
})

describe('own-sync verified marks: what is compared with the stamps at start', () => {
  it('every mark held, and null for a stamped mark no longer held; other keys are left alone', () => {
    const carol = hex(0xca) as AccountId
    const held = new Map([[BOB, mark]])
    expect(currentMarks(held, [verifiedSyncKey(BOB), verifiedSyncKey(carol), 'c/' + '0'.repeat(32), 's/name'])).toEqual([
      [verifiedSyncKey(BOB), mark],
      [verifiedSyncKey(carol), null],
    ])
    expect(currentMarks(new Map(), [])).toEqual([])
  })
})
