import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { toHex } from '../util/bytes.js'
import { PRESSURE_FUTURE_MS } from './replay-guard.js'
import {
  MAILBOX_CLOCK_WINDOW_MS,
  ReplayGuard,
  deriveMailboxKeys,
  deriveReaderTag,
  mailboxIdOf,
  signMailboxRequest,
  verifyMailboxRequest,
  type MailboxAuth,
  type MailboxParams,
} from './mailbox-capability.js'

const RELAY = '12D3KooWRelayAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const OTHER_RELAY = '12D3KooWRelayBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const NOW = 1_800_000_000_000
const secret = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const keys = deriveMailboxKeys(secret(7))

const deposit: MailboxParams = { op: 'deposit', ids: [new Uint8Array(16).fill(1), new Uint8Array(32).fill(2)] }
const fetchParams: MailboxParams = { op: 'fetch', after: 'c.00000001', reader: null, limit: 100, waitMs: 0 }
const ack: MailboxParams = { op: 'ack', reader: new Uint8Array(16).fill(9), cursor: 'c.00000002' }
const blobPut: MailboxParams = { op: 'blob-put-chunks', blob: new Uint8Array(32).fill(3), indices: [0, 1] }
const blobGet: MailboxParams = { op: 'blob-get-chunks', blob: new Uint8Array(32).fill(3), first: 0, count: 16 }

function check(auth: MailboxAuth, params: MailboxParams, relay = RELAY, guard = new ReplayGuard(), now = NOW) {
  return verifyMailboxRequest(auth, relay, params, guard, now)
}

describe('mailbox keys', () => {
  it('are deterministic per secret and differ between secrets and roles', () => {
    const again = deriveMailboxKeys(secret(7))
    expect(toHex(again.mailboxId)).toBe(toHex(keys.mailboxId))
    expect(toHex(again.deposit.publicKey)).toBe(toHex(keys.deposit.publicKey))
    const other = deriveMailboxKeys(secret(8))
    expect(toHex(other.mailboxId)).not.toBe(toHex(keys.mailboxId))
    expect(toHex(keys.deposit.publicKey)).not.toBe(toHex(keys.read.publicKey))
    expect(keys.mailboxId).toHaveLength(32)
  })

  it('derive the id from the two public keys only (what the relay recomputes)', () => {
    expect(toHex(mailboxIdOf(keys.deposit.publicKey, keys.read.publicKey))).toBe(toHex(keys.mailboxId))
    expect(toHex(mailboxIdOf(keys.read.publicKey, keys.deposit.publicKey))).not.toBe(toHex(keys.mailboxId))
  })

  it('refuse secrets of the wrong size', () => {
    expect(() => deriveMailboxKeys(new Uint8Array(31))).toThrow(/32 bytes/)
  })

  it('reader tags are per device and per mailbox', () => {
    const device = new Uint8Array(32).fill(3)
    const tag = deriveReaderTag(device, keys.mailboxId)
    expect(tag).toHaveLength(16)
    expect(toHex(deriveReaderTag(device, keys.mailboxId))).toBe(toHex(tag))
    expect(toHex(deriveReaderTag(new Uint8Array(32).fill(4), keys.mailboxId))).not.toBe(toHex(tag))
    expect(toHex(deriveReaderTag(device, deriveMailboxKeys(secret(1)).mailboxId))).not.toBe(toHex(tag))
  })
})

describe('mailbox request signatures', () => {
  it('verify for each operation and return the mailbox id', () => {
    for (const params of [deposit, fetchParams, ack, blobPut, blobGet]) {
      const result = check(signMailboxRequest(keys, RELAY, params, { timestamp: NOW }), params)
      expect(result).toMatchObject({ ok: true })
      if (result.ok) expect(toHex(result.mailboxId)).toBe(toHex(keys.mailboxId))
    }
  })

  it('refuse a deposit (or blob put) signed with the read key and a fetch (or blob get) signed with the deposit key', () => {
    const swapped = { ...keys, deposit: keys.read, read: keys.deposit }
    for (const params of [deposit, fetchParams, ack, blobPut, blobGet]) {
      const auth = signMailboxRequest(swapped, RELAY, params, { timestamp: NOW })
      // The swapped signer signs under the other role's key; the public keys sent are also swapped, so put them back.
      const forged = { ...auth, depositPublic: keys.deposit.publicKey, readPublic: keys.read.publicKey }
      expect(check(forged, params)).toMatchObject({ ok: false, reason: 'unauthorized' })
    }
  })

  it('refuse a request signed for another relay', () => {
    const auth = signMailboxRequest(keys, OTHER_RELAY, fetchParams, { timestamp: NOW })
    expect(check(auth, fetchParams)).toMatchObject({ ok: false, reason: 'unauthorized' })
  })

  it('refuse stale and future timestamps, and accept the edges of the window', () => {
    const at = (t: number) => check(signMailboxRequest(keys, RELAY, fetchParams, { timestamp: t }), fetchParams)
    expect(at(NOW - MAILBOX_CLOCK_WINDOW_MS - 1)).toMatchObject({ ok: false, reason: 'stale' })
    expect(at(NOW + MAILBOX_CLOCK_WINDOW_MS + 1)).toMatchObject({ ok: false, reason: 'stale' })
    expect(at(NOW - MAILBOX_CLOCK_WINDOW_MS)).toMatchObject({ ok: true })
    expect(at(NOW + MAILBOX_CLOCK_WINDOW_MS)).toMatchObject({ ok: true })
  })

  it('refuse a replay, also after other requests, but not the same parameters with a fresh nonce', () => {
    const guard = new ReplayGuard()
    const auth = signMailboxRequest(keys, RELAY, deposit, { timestamp: NOW })
    expect(check(auth, deposit, RELAY, guard)).toMatchObject({ ok: true })
    expect(check(signMailboxRequest(keys, RELAY, deposit, { timestamp: NOW }), deposit, RELAY, guard)).toMatchObject({ ok: true })
    expect(check(auth, deposit, RELAY, guard, NOW + 1000)).toMatchObject({ ok: false, reason: 'replayed' })
    // Once the window has passed, the replay is stale rather than replayed: still refused.
    expect(check(auth, deposit, RELAY, guard, NOW + MAILBOX_CLOCK_WINDOW_MS + 1)).toMatchObject({ ok: false, reason: 'stale' })
  })

  it('do not record the nonce of a forged request', () => {
    const guard = new ReplayGuard()
    const auth = signMailboxRequest(keys, RELAY, deposit, { timestamp: NOW })
    const forged = { ...auth, signature: new Uint8Array(64).fill(5) }
    expect(check(forged, deposit, RELAY, guard)).toMatchObject({ ok: false, reason: 'unauthorized' })
    expect(check(auth, deposit, RELAY, guard)).toMatchObject({ ok: true })
  })

  it('refuse keys that are not valid Ed25519 points, including small-order ones', () => {
    const auth = signMailboxRequest(keys, RELAY, fetchParams, { timestamp: NOW })
    const identity = new Uint8Array(32)
    identity[0] = 1
    expect(check({ ...auth, readPublic: identity }, fetchParams)).toMatchObject({ ok: false, reason: 'unauthorized' })
    expect(check({ ...auth, depositPublic: new Uint8Array(32).fill(0xff) }, fetchParams)).toMatchObject({ ok: false, reason: 'unauthorized' })
  })

  it('property: tampering with any signed field or parameter is refused', () => {
    const paramsArb: fc.Arbitrary<MailboxParams> = fc.oneof(
      fc.record({
        op: fc.constant('deposit' as const),
        ids: fc.array(fc.uint8Array({ minLength: 16, maxLength: 32 }), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({
        op: fc.constant('fetch' as const),
        after: fc.option(fc.stringMatching(/^[a-z0-9.]{1,20}$/), { nil: null }),
        reader: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: null }),
        limit: fc.integer({ min: 1, max: 1000 }),
        waitMs: fc.integer({ min: 0, max: 25_000 }),
      }),
      fc.record({
        op: fc.constant('ack' as const),
        reader: fc.uint8Array({ minLength: 16, maxLength: 32 }),
        cursor: fc.stringMatching(/^[a-z0-9.]{1,20}$/),
      }),
      fc.record({ op: fc.constant('blob-put-list' as const), blob: fc.uint8Array({ minLength: 32, maxLength: 32 }), padded: fc.nat() }),
      fc.record({
        op: fc.constant('blob-put-chunks' as const),
        blob: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        indices: fc.array(fc.nat(20_000), { minLength: 1, maxLength: 16 }),
      }),
      fc.record({ op: fc.constant('blob-get-list' as const), blob: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
      fc.record({
        op: fc.constant('blob-get-chunks' as const),
        blob: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        first: fc.nat(20_000),
        count: fc.integer({ min: 1, max: 16 }),
      }),
    )
    const flipped = (b: Uint8Array, which: number): Uint8Array => {
      const c = new Uint8Array(b)
      c[which % c.length] = c[which % c.length]! ^ 1
      return c
    }
    const tamper = (params: MailboxParams, which: number): MailboxParams => {
      switch (params.op) {
        case 'deposit': {
          const ids = params.ids.map((id) => new Uint8Array(id))
          const first = ids[0]!
          first[which % first.length] = first[which % first.length]! ^ 1
          return { ...params, ids }
        }
        case 'fetch':
          return which % 3 === 0
            ? { ...params, limit: params.limit === 1 ? 2 : params.limit - 1 }
            : which % 3 === 1
              ? { ...params, waitMs: params.waitMs + 1 }
              : { ...params, after: params.after === null ? 'x' : null }
        case 'ack':
          return { ...params, cursor: `${params.cursor}x` }
        case 'blob-put-list':
          return which % 2 === 0 ? { ...params, padded: params.padded + 1 } : { ...params, blob: flipped(params.blob, which) }
        case 'blob-put-chunks':
          return { ...params, indices: [...params.indices, params.indices.length] }
        case 'blob-get-list':
          return { ...params, blob: flipped(params.blob, which) }
        case 'blob-get-chunks':
          return which % 2 === 0 ? { ...params, first: params.first + 1 } : { ...params, count: params.count + 1 }
      }
    }
    fc.assert(
      fc.property(paramsArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 4 }), (params, which, field) => {
        const auth = signMailboxRequest(keys, RELAY, params, { timestamp: NOW })
        expect(check(auth, params)).toMatchObject({ ok: true })
        const flip = (b: Uint8Array): Uint8Array => {
          const c = new Uint8Array(b)
          c[which % c.length] = c[which % c.length]! ^ 0x40
          return c
        }
        const tampered: Array<[MailboxAuth, MailboxParams]> = [
          [auth, tamper(params, which)],
          [{ ...auth, nonce: flip(auth.nonce) }, params],
          [{ ...auth, signature: flip(auth.signature) }, params],
          [{ ...auth, timestamp: auth.timestamp + 1 + field }, params],
          [field % 2 === 0 ? { ...auth, depositPublic: flip(auth.depositPublic) } : { ...auth, readPublic: flip(auth.readPublic) }, params],
        ]
        const [a, p] = tampered[field]!
        const result = check(a, p)
        // Flipping the key not used for this operation changes the mailbox id the signature covers: refused too.
        expect(result.ok).toBe(false)
      }),
      { numRuns: 200 },
    )
  })
})

describe('ReplayGuard against a stranger\'s flood', () => {
  const honestKeys = deriveMailboxKeys(secret(1))
  const strangerKeys = Array.from({ length: 7 }, (_, i) => deriveMailboxKeys(secret(100 + i)))

  it('strangers stamping their own mailboxes at the edge of the window cannot make an honest mailbox stale', () => {
    const guard = new ReplayGuard({ maxEntries: 500 })
    const refusals: string[] = []
    let now = NOW
    for (let round = 0; round < 300; round++) {
      now += 50
      for (const s of strangerKeys) check(signMailboxRequest(s, RELAY, fetchParams, { timestamp: now + guard.windowMs }), fetchParams, RELAY, guard, now)
      // An honest member whose clock is 2 s behind keeps depositing and fetching.
      for (const params of [deposit, fetchParams]) {
        const result = check(signMailboxRequest(honestKeys, RELAY, params, { timestamp: now - 2000 }), params, RELAY, guard, now)
        if (!result.ok) refusals.push(result.reason)
      }
    }
    expect(refusals).toEqual([])
    expect(guard.size).toBeLessThanOrEqual(500)
  })
  it('strangers with a new mailbox for every request cannot make an honest mailbox stale either', () => {
    const guard = new ReplayGuard({ maxEntries: 400 })
    const refusals: string[] = []
    const strangerVerdicts = new Set<string>()
    let now = NOW
    check(signMailboxRequest(honestKeys, RELAY, fetchParams, { timestamp: now }), fetchParams, RELAY, guard, now)
    for (let round = 0; round < 300; round++) {
      now += 100
      for (let i = 0; i < 3; i++) {
        const stranger = deriveMailboxKeys(Uint8Array.of(0xee, i, round >> 8, round & 0xff, ...new Uint8Array(28)))
        // As far ahead as the guard takes: the window's edge, or just ahead of the relay once the guard is half full.
        const ahead = i === 0 ? guard.windowMs : PRESSURE_FUTURE_MS
        const result = check(signMailboxRequest(stranger, RELAY, fetchParams, { timestamp: now + ahead }), fetchParams, RELAY, guard, now)
        strangerVerdicts.add(result.ok ? 'ok' : result.reason)
      }
      const result = check(signMailboxRequest(honestKeys, RELAY, deposit, { timestamp: now - 2000 }), deposit, RELAY, guard, now)
      if (!result.ok) refusals.push(result.reason)
    }
    expect(refusals).toEqual([])
    // The guard was full: stamps ahead were refused as stale, new mailboxes as busy; no floor was raised for others.
    expect(strangerVerdicts).toContain('stale')
    expect(strangerVerdicts).toContain('busy')
    expect(guard.units).toBeLessThanOrEqual(400)
  })
})
