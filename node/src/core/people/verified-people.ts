/**
 * Who this person has verified: a record per account with the account key that was verified (so a later key can be
 * told apart from it) and when. Like conversation preferences, it is a sealed record in the core's store that only
 * the account's own devices learn: own-sync keeps it in step across them (devices/own-sync-verified.ts), whole
 * records, so a mark made elsewhere names the key and devices seen there and is judged here against what this device
 * knows, as one made here would be.
 *
 *   verified/<account>   sealed VerifiedRecord (docs/STORAGE.md)
 *
 * An account id today is its account key, so a different key always arrives as a different account; the key is kept
 * apart anyway, so that "verified, but the key changed" (`verifiedKeyChanged`) keeps its meaning if an account ever
 * outlives its key (docs/adr/0031-safety-numbers.md).
 *
 * The record also keeps the set of the person's device keys seen when they were verified: a device outside it (a new
 * phone, a restore from the phrase) makes the mark read "needs re-verification" (`verifiedDevicesChanged`) until the
 * person is verified again. Devices that go away do not: fewer keys speak for them, none unknown (ADR 0031 addendum).
 */
import { z } from 'zod'
import { HearthError } from '../../../common/errors.js'
import { decodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'
import { asAccountId, type AccountId } from '../../ids.js'
import type { CoreStore } from '../../store/core-store.js'

export interface VerifiedRecord {
  /** The account key (hex) that was verified. */
  key: string
  /** Epoch ms. */
  at: number
  /** Scanned from the other person's screen, or the digits compared by eye. */
  how: 'scanned' | 'compared'
  /** The person's device ids (hex, sorted) seen at verification; absent in records made before devices were kept. */
  devices?: string[] | undefined
}

/** What a member view says about a person (absent for oneself). */
export interface VerifiedState {
  verified: boolean
  /** Verified once, under a different key than the one they have now. */
  verifiedKeyChanged?: true
  /** Verified once, but a device has appeared since that was not among those seen then: verify again. */
  verifiedDevicesChanged?: true
}

/** The most device ids one record keeps; an account with more is not something a person verifies by eye. */
export const MAX_VERIFIED_DEVICES = 256

/** A record's shape, as stored and as another device of ours sends it (own-sync-frames.ts). */
export const verifiedRecordSchema = z.strictObject({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.number().int().min(0),
  how: z.enum(['scanned', 'compared']),
  devices: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(MAX_VERIFIED_DEVICES).optional(),
})

const verifiedKey = (account: string) => key('verified', account)

function parseStored(value: unknown): VerifiedRecord {
  const r = verifiedRecordSchema.safeParse(value)
  if (!r.success) throw new HearthError('CORRUPT_DATA', `stored verification is invalid: ${r.error.issues[0]?.message}`)
  return r.data
}

/** Told, within the write, what the mark of a person now is (null: none); so the stamp follows the writes' order. */
export type MarkWritten = (record: VerifiedRecord | null) => void

export class VerifiedPeople {
  private readonly records = new Map<AccountId, VerifiedRecord>()
  /** Writes one after another: a mark from another device never lands between a change made here and its stamp. */
  private tail: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly store: CoreStore,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    this.records.clear()
    for await (const [k, v] of this.store.db.iterate(prefixRange('verified'))) {
      const account = asAccountId(splitKey(k).at(-1))
      this.records.set(account, decodeJson(this.store.openSealed(k, v), parseStored, 'verification'))
    }
  }

  /** `accountKey` is the key the account has now (hex); `devices`, the device ids it has now. */
  stateOf(account: AccountId, accountKey: string, devices: Iterable<string> = []): VerifiedState {
    const record = this.records.get(account)
    if (record === undefined) return { verified: false }
    if (record.key !== accountKey) return { verified: false, verifiedKeyChanged: true }
    if (record.devices !== undefined) {
      const seen = new Set(record.devices)
      for (const device of devices) if (!seen.has(device)) return { verified: false, verifiedDevicesChanged: true }
    }
    return { verified: true }
  }

  /** The record of a person, if they were ever verified here. */
  recordOf(account: AccountId): VerifiedRecord | undefined {
    return this.records.get(account)
  }

  /** Every mark held here (own-sync's start compares them with their stamps). */
  all(): ReadonlyMap<AccountId, VerifiedRecord> {
    return this.records
  }

  async verify(
    account: AccountId,
    accountKey: string,
    how: VerifiedRecord['how'],
    devices: Iterable<string> = [],
    written?: MarkWritten,
  ): Promise<void> {
    const kept = [...new Set(devices)].sort()
    if (kept.length > MAX_VERIFIED_DEVICES) throw new HearthError('INVALID_INPUT', 'This person has too many devices to verify.')
    await this.write(account, () => ({ key: accountKey, at: this.now(), how, devices: kept }), written)
  }

  async unverify(account: AccountId, written?: MarkWritten): Promise<void> {
    await this.write(account, () => null, written)
  }

  /**
   * Sets the mark another device of ours made (`null`: it cleared it), as it made it. Written only if `stillWanted()`
   * holds once it is this write's turn: a change made here meanwhile wins. True when written.
   */
  async replace(account: AccountId, record: VerifiedRecord | null, stillWanted: () => boolean): Promise<boolean> {
    const checked = record === null ? null : parseStored(record)
    let done = false
    await this.write(account, () => (stillWanted() ? checked : undefined), () => (done = true))
    return done
  }

  /** Runs in turn: `next` gives the record to write (null deletes it, undefined writes nothing). */
  private async write(account: AccountId, next: () => VerifiedRecord | null | undefined, written?: MarkWritten): Promise<void> {
    const run = this.tail.then(async () => {
      const record = next()
      if (record === undefined) return
      await this.store.commit([record === null ? { type: 'del', key: verifiedKey(account) } : this.store.sealJson(verifiedKey(account), record)], true)
      if (record === null) this.records.delete(account)
      else this.records.set(account, record)
      written?.(record)
    })
    this.tail = run.catch(() => {})
    await run
  }
}
