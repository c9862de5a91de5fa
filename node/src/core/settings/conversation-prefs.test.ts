import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isHearthError } from '../../../common/errors.js'
import { openDatabase, type Database } from '../../../common/storage/database.js'
import type { ConversationId } from '../../ids.js'
import { CoreStore } from '../../store/core-store.js'
import { ConversationPrefsStore, DEFAULT_PREFS, MAX_PINNED, validatePatch } from './conversation-prefs.js'

const HOUR = 3600_000
const conv = (n: number) => n.toString(16).padStart(32, '0') as ConversationId

describe('ConversationPrefsStore', () => {
  let db: Database
  let store: CoreStore
  let clock: number
  let prefs: ConversationPrefsStore

  beforeEach(async () => {
    db = await openDatabase({ memory: true })
    store = new CoreStore(db, new Uint8Array(32).fill(7))
    clock = 1_000_000
    prefs = new ConversationPrefsStore(store, () => clock)
  })
  afterEach(async () => {
    await db.close()
  })

  it('starts with nothing muted, archived or pinned', () => {
    expect(prefs.get(conv(1))).toEqual(DEFAULT_PREFS)
  })

  it('a timed mute lapses by itself when its time is up, with nothing rewritten', async () => {
    await prefs.set(conv(1), { mute: { level: 'nothing', forMs: HOUR } })
    expect(prefs.get(conv(1)).mute).toEqual({ level: 'nothing', until: 1_000_000 + HOUR })
    clock += HOUR - 1
    expect(prefs.get(conv(1)).mute.level).toBe('nothing')
    clock += 1
    expect(prefs.get(conv(1)).mute).toEqual({ level: 'all', until: null })
  })

  it('"always" has no end; level all unmutes whatever the duration said', async () => {
    await prefs.set(conv(1), { mute: { level: 'mentions', forMs: null } })
    clock += 10 * 365 * 24 * HOUR
    expect(prefs.get(conv(1)).mute).toEqual({ level: 'mentions', until: null })
    await prefs.set(conv(1), { mute: { level: 'all', forMs: HOUR } })
    expect(prefs.get(conv(1)).mute).toEqual({ level: 'all', until: null })
  })

  it('is durable: a new store on the same database reads what was set', async () => {
    await prefs.set(conv(1), { mute: { level: 'nothing', forMs: 8 * HOUR }, archived: true })
    await prefs.set(conv(2), { pinned: true })
    const again = new ConversationPrefsStore(store, () => clock)
    await again.load()
    expect(again.get(conv(1))).toEqual({ mute: { level: 'nothing', until: clock + 8 * HOUR }, archived: true, pinnedAt: null })
    expect(again.get(conv(2)).pinnedAt).toBe(clock)
  })

  it('refuses a sixth pin in words, and pins again once one is unpinned; pins keep the order they were made in', async () => {
    for (let i = 1; i <= MAX_PINNED; i++) {
      clock += 1
      await prefs.set(conv(i), { pinned: true })
    }
    const err = await prefs.set(conv(9), { pinned: true }).catch((e: unknown) => e)
    expect(isHearthError(err, 'INVALID_INPUT')).toBe(true)
    expect((err as Error).message).toMatch(/up to 5 conversations/)
    // Pinning one that is pinned already is no new pin.
    await prefs.set(conv(3), { pinned: true })
    expect(prefs.get(conv(3)).pinnedAt).toBe(1_000_003)
    await prefs.set(conv(2), { pinned: false })
    clock += 1
    await prefs.set(conv(9), { pinned: true })
    expect(prefs.get(conv(9)).pinnedAt).toBeGreaterThan(prefs.get(conv(5)).pinnedAt!)
  })

  it('two pins racing for the last place: one wins, the other is refused', async () => {
    for (let i = 1; i < MAX_PINNED; i++) await prefs.set(conv(i), { pinned: true })
    const results = await Promise.allSettled([prefs.set(conv(10), { pinned: true }), prefs.set(conv(11), { pinned: true })])
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
  })

  it('archiving unpins, pinning unarchives', async () => {
    await prefs.set(conv(1), { pinned: true })
    await prefs.set(conv(1), { archived: true })
    expect(prefs.get(conv(1))).toMatchObject({ archived: true, pinnedAt: null })
    await prefs.set(conv(1), { pinned: true })
    expect(prefs.get(conv(1))).toMatchObject({ archived: false, pinnedAt: clock })
  })

  it('a message that would notify brings an archived conversation back; a muted one stays archived unless it mentions us at "mentions"', async () => {
    await prefs.set(conv(1), { archived: true })
    expect(await prefs.arrived(conv(1), false)).toBe(true)
    expect(prefs.get(conv(1)).archived).toBe(false)

    await prefs.set(conv(2), { archived: true, mute: { level: 'nothing', forMs: null } })
    expect(await prefs.arrived(conv(2), true)).toBe(false)
    expect(prefs.get(conv(2)).archived).toBe(true)

    await prefs.set(conv(3), { archived: true, mute: { level: 'mentions', forMs: HOUR } })
    expect(await prefs.arrived(conv(3), false)).toBe(false)
    expect(await prefs.arrived(conv(3), true)).toBe(true)

    // Once a timed mute lapses, the conversation behaves as unmuted again.
    await prefs.set(conv(4), { archived: true, mute: { level: 'nothing', forMs: HOUR } })
    clock += HOUR
    expect(await prefs.arrived(conv(4), false)).toBe(true)
  })

  it.each([
    [{ mute: { level: 'loud', forMs: null } }],
    [{ mute: { level: 'nothing', forMs: 5 } }],
    [{ mute: { level: 'nothing', forMs: 400 * 24 * HOUR } }],
    [{ mute: { level: 'nothing', forMs: HOUR + 0.5 } }],
    [{ mute: { level: 'nothing' } }],
    [{ archived: 'yes' }],
    [{ pinned: true, extra: 1 }],
    ['archived'],
  ])('refuses the malformed patch %j', async (patch) => {
    expect(() => validatePatch(patch)).toThrow(/invalid conversation preferences/)
    await expect(prefs.set(conv(1), patch as never)).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    expect(prefs.get(conv(1))).toEqual(DEFAULT_PREFS)
  })

  it('a stored record of the wrong shape is CORRUPT_DATA, not a wrongly typed value', async () => {
    await store.commit([store.sealJson(`pref\u0000${conv(1)}`, { mute: 'off', archived: true, pinnedAt: null })], true)
    await expect(prefs.load()).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
  })
})
