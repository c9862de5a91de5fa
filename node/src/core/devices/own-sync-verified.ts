import type { AccountId } from '../../ids.js'
import { verifiedRecordSchema, type VerifiedRecord } from '../people/verified-people.js'

/**
 * Who the person verified, kept in step across their devices: one `v/<account>` entry of the own-sync map
 * (own-sync.ts) per person, whose value is the whole verified record (people/verified-people.ts) or null once it was
 * cleared. Whole records, so a mark names the very account key and device ids that were compared: a device that
 * knows that person under another key, or with a device outside the set, shows the mark as changed, exactly as for a
 * mark made on it. A mark made here and a clearing made elsewhere meet by the map's rule: the later wins.
 */
export const VERIFIED_PREFIX = 'v/'
export const verifiedSyncKey = (account: AccountId) => `${VERIFIED_PREFIX}${account}`

/** Only a well-formed account id: any other `v/` key is skipped like a key this build does not know. */
const VERIFIED_KEY = /^v\/[0-9a-f]{64}$/
export const isVerifiedSyncKey = (k: string) => VERIFIED_KEY.test(k)
export const accountOfVerifiedKey = (k: string) => k.slice(VERIFIED_PREFIX.length) as AccountId

/** A mark as another device of ours sends it: the stored record's shape, its device ids sorted once each, or null. */
export const verifiedMarkSchema = verifiedRecordSchema
  .refine((r) => r.devices === undefined || r.devices.every((d, i) => i === 0 || r.devices![i - 1]! < d), 'device ids not sorted and distinct')
  .nullable()

export type VerifiedMark = VerifiedRecord | null

/** What own-sync reads and sets of the marks (people/people.ts). */
export interface OwnVerifiedMarks {
  /** Told of a mark set or cleared on this device, within its write. */
  onChange: ((account: AccountId, record: VerifiedMark) => void) | undefined
  marks(): ReadonlyMap<AccountId, VerifiedRecord>
  applyFromOwnDevice(account: AccountId, record: VerifiedMark, stillWanted: () => boolean): Promise<boolean>
}

/**
 * At start, each mark's current value beside its key, for own-sync to compare with the stamps it holds: every mark
 * held, and null for every stamped one no longer held (cleared without a stamp, before a crash).
 */
export function currentMarks(marks: ReadonlyMap<AccountId, VerifiedRecord>, stamped: Iterable<string>): Array<[string, VerifiedMark]> {
  const out: Array<[string, VerifiedMark]> = [...marks].map(([account, record]) => [verifiedSyncKey(account), record])
  for (const k of stamped) if (isVerifiedSyncKey(k) && !marks.has(accountOfVerifiedKey(k))) out.push([k, null])
  return out
}
