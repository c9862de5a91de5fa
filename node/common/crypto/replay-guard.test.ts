import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAILBOX_RECORD_UNITS, PRESSURE_FUTURE_MS, ReplayGuard } from './replay-guard.js'

const NOW = 1_800_000_000_000
const WINDOW = 30_000

describe('ReplayGuard', () => {
  it('refuses a nonce seen before in the same mailbox, not in another', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW })
    expect(guard.record('a', 'n1', NOW, NOW)).toBe('fresh')
    expect(guard.record('a', 'n1', NOW, NOW + 10)).toBe('replayed')
    expect(guard.record('b', 'n1', NOW, NOW + 10)).toBe('fresh')
    expect(guard.record('a', 'n2', NOW - 5, NOW + 10)).toBe('fresh')
  })

  it('accepts the edges of the window and refuses beyond', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW })
    expect(guard.record('a', '1', NOW - WINDOW - 1, NOW)).toBe('stale')
    expect(guard.record('a', '2', NOW + WINDOW + 1, NOW)).toBe('stale')
    expect(guard.record('a', '3', NOW - WINDOW, NOW)).toBe('fresh')
    expect(guard.record('a', '4', NOW + WINDOW, NOW)).toBe('fresh')
    expect(guard.record('a', '5', 1.5, NOW)).toBe('stale')
  })

  it('a mailbox over its own bound forgets its oldest and refuses what it forgot, alone', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxPerMailbox: 10 })
    for (let i = 0; i < 30; i++) expect(guard.record('flooded', `k${i}`, NOW + i, NOW)).toBe('fresh')
    expect(guard.size).toBe(10)
    // Every forgotten nonce is refused (stale: at or below the mailbox's floor), every remembered one as replayed.
    for (let i = 0; i < 30; i++) expect(guard.record('flooded', `k${i}`, NOW + i, NOW + 100)).toBe(i < 20 ? 'stale' : 'replayed')
    // Another mailbox is untouched by that floor, even with an older timestamp.
    expect(guard.record('quiet', 'k0', NOW - 1000, NOW + 100)).toBe('fresh')
  })

  it('drops records whose timestamps left the window, without raising any floor', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries: 1000 })
    for (let i = 0; i < 20; i++) guard.record(`box${i}`, 'n', NOW, NOW)
    expect(guard.mailboxes).toBe(20)
    expect(guard.record('later', 'n', NOW + 3 * WINDOW, NOW + 3 * WINDOW)).toBe('fresh')
    expect(guard.mailboxes).toBe(1)
    expect(guard.size).toBe(1)
    expect(guard.record('box0', 'other', NOW + 2 * WINDOW + 1, NOW + 3 * WINDOW)).toBe('fresh')
  })

  it('when full, drops a record that is safely in the past; the floor of unknown mailboxes stays below now', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries: 10 * (MAILBOX_RECORD_UNITS + 1) })
    for (let i = 0; i < 10; i++) expect(guard.record(`old${i}`, 'n', NOW, NOW)).toBe('fresh')
    const later = NOW + 10_000
    expect(guard.record('new', 'n', later, later)).toBe('fresh')
    expect(guard.mailboxes).toBe(10)
    // old0 was dropped: its replay is refused by the floor of unknown mailboxes, which is NOW, not `later`.
    expect(guard.record('old0', 'n', NOW, later)).toBe('stale')
    expect(guard.record('another-new', 'n', later - guard.marginMs, later)).toBe('fresh')
  })

  it('when full of fresh records, the mailbox holding the most nonces pays, then new mailboxes wait (busy)', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries: 140 })
    for (let i = 0; i < 60; i++) expect(guard.record('flooder', `k${i}`, NOW + WINDOW, NOW)).toBe('fresh')
    expect(guard.record('honest', 'h0', NOW, NOW)).toBe('fresh')
    // New mailboxes take their room from the flooder's, whose own floor rises; it is the only one hurt.
    for (let i = 0; i < 16; i++) expect(guard.record(`new${i}`, 'n', NOW, NOW)).toBe('fresh')
    expect(guard.units).toBeLessThanOrEqual(140)
    expect(guard.record('flooder', 'k0', NOW + WINDOW, NOW)).toBe('stale')
    // A known mailbox makes room from its own nonces: the honest one is always served.
    for (let i = 1; i < 50; i++) expect(guard.record('honest', `h${i}`, NOW + i, NOW + i)).toBe('fresh')
    // More than half full, nothing new may be stamped ahead of the relay's clock (it could not be dropped in time).
    expect(guard.record('stranger', 'n', NOW + 100 + PRESSURE_FUTURE_MS + 1, NOW + 100)).toBe('stale')
    // Once every record holds one nonce and none is old enough to drop, a new mailbox is told to come back.
    let verdict = 'fresh'
    for (let i = 0; i < 40 && verdict === 'fresh'; i++) verdict = guard.record(`stranger${i}`, 'n', NOW + 100 + PRESSURE_FUTURE_MS, NOW + 100)
    expect(verdict).toBe('busy')
    expect(guard.units).toBeLessThanOrEqual(140)
    expect(guard.retryAfterMs(NOW + 100)).toBeGreaterThanOrEqual(1000)
    expect(guard.retryAfterMs(NOW + 100)).toBeLessThanOrEqual(PRESSURE_FUTURE_MS + guard.marginMs + WINDOW / 16)
    const retryAt = NOW + 100 + guard.retryAfterMs(NOW + 100)
    expect(guard.record('late-honest', 'n', retryAt, retryAt)).toBe('fresh')
    expect(guard.record('honest', 'h-late', retryAt, retryAt)).toBe('fresh')
  })

  it('never drops a mailbox used more than once to make room: a stranger\'s new mailboxes wait instead', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries: 100 })
    let now = NOW
    // An honest client deposits and fetches, then uses its mailbox every 10 s, its clock 3 s behind; strangers make a
    // new mailbox every 50 ms.
    expect(guard.record('honest', 'deposit', now - 3000, now)).toBe('fresh')
    const verdicts = new Map<string, number>()
    for (let i = 0; now < NOW + 5 * WINDOW; i++) {
      now += 50
      const stranger = guard.record(`stranger${i}`, 'n', now + PRESSURE_FUTURE_MS, now)
      verdicts.set(stranger, (verdicts.get(stranger) ?? 0) + 1)
      if (i % 200 === 0) expect(guard.record('honest', `h${i}`, now - 3000, now)).toBe('fresh')
      expect(guard.units).toBeLessThanOrEqual(100)
    }
    expect(verdicts.get('busy')).toBeGreaterThan(0)
    expect(verdicts.get('fresh')).toBeGreaterThan(0)
  })

  it('members of one mailbox whose clocks disagree by seconds are both served while it gives up memory', () => {
    const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries: 200 })
    let now = NOW
    const refusals: string[] = []
    const offsets = [-3000, 3000]
    for (let i = 0; i < 400; i++) {
      now += 100
      // Two members share the mailbox, one clock 3 s behind, one 3 s ahead; strangers' new mailboxes make it pay.
      // Like MailboxClient, a member refused as stale takes the relay's clock and signs again, once.
      const member = i % 2
      let verdict = guard.record('group', `m${i}`, now + offsets[member]!, now)
      if (verdict === 'stale') {
        offsets[member] = 0
        verdict = guard.record('group', `m${i}-again`, now, now)
      }
      if (verdict !== 'fresh') refusals.push(`${i}:${verdict}`)
      guard.record(`stranger${i}`, 'n', now, now)
    }
    expect(refusals).toEqual([])
  })

  it('property: an accepted request is never accepted again, and memory stays bounded', () => {
    const step = fc.record({
      mailbox: fc.integer({ min: 0, max: 12 }),
      nonce: fc.integer({ min: 0, max: 30 }),
      // Time moves forward in jumps of up to a third of the window; timestamps anywhere around the window.
      advance: fc.integer({ min: 0, max: WINDOW / 3 }),
      skew: fc.integer({ min: -WINDOW - 2000, max: WINDOW + 2000 }),
    })
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), fc.integer({ min: MAILBOX_RECORD_UNITS + 1, max: 80 }), fc.integer({ min: 1, max: 8 }), (steps, maxEntries, maxPerMailbox) => {
        const guard = new ReplayGuard({ windowMs: WINDOW, maxEntries, maxPerMailbox })
        // key → timestamp: a replay is the same signed request, so it carries the timestamp it was accepted with.
        const accepted = new Map<string, number>()
        let now = NOW
        for (const s of steps) {
          now += s.advance
          const key = `${s.mailbox}/${s.nonce}`
          const replay = accepted.get(key)
          const verdict = guard.record(String(s.mailbox), String(s.nonce), replay ?? now + s.skew, now)
          if (replay !== undefined) expect(verdict).not.toBe('fresh')
          if (verdict === 'fresh') accepted.set(key, now + s.skew)
          expect(guard.units).toBeLessThanOrEqual(maxEntries)
        }
      }),
      { numRuns: 300 },
    )
  })
})
