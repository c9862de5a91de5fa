import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../../../common/wire/cbor.js'
import { decodeSyncRequest, decodeSyncResponse, encodeSyncRequest, MAX_SYNC_ENTRIES } from './own-sync-frames.js'
import { beats, entriesToAnswer, mergeEntries, type SyncEntry } from './own-sync-map.js'

const hlc = (wall: number, counter = 0) => `${String(wall).padStart(13, '0')}-${String(counter).padStart(6, '0')}`
const dev = (c: string) => c.repeat(64)

const entryArb = fc.record({
  v: fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 3 })),
  // Few distinct clocks and devices, so ties are common.
  h: fc.integer({ min: 0, max: 3 }).map((w) => hlc(1_700_000_000_000 + w)),
  d: fc.constantFrom(dev('a'), dev('b'), dev('c')),
})
const keyedArb = fc.array(fc.tuple(fc.constantFrom('c/1', 'c/2', 's/name'), entryArb), { maxLength: 30 })

const asObject = (m: ReadonlyMap<string, SyncEntry>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)))

describe('own-sync last-writer-wins map', () => {
  it('a later HLC wins; at the same HLC the larger device id', () => {
    const older = { v: 1, h: hlc(1), d: dev('f') }
    const newer = { v: 2, h: hlc(2), d: dev('a') }
    expect(beats(newer, older)).toBe(true)
    expect(beats(older, newer)).toBe(false)
    expect(beats({ ...older, d: dev('e') }, older)).toBe(false)
    expect(beats(older, { ...older, d: dev('e') })).toBe(true)
    expect(beats(older, undefined)).toBe(true)
    expect(beats(older, older)).toBe(false)
  })

  it('any order of the same entries, merged in any batches, converges to the same map', () => {
    fc.assert(
      fc.property(keyedArb, fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 5 }), (entries, seed, batch) => {
        const one = mergeEntries(new Map(), entries).map
        // A shuffle of the same entries, merged a few at a time as exchanges would bring them.
        const shuffled = [...entries].sort((a, b) => ((entries.indexOf(a) * 7919 + seed) % 101) - ((entries.indexOf(b) * 7919 + seed) % 101))
        let other = new Map<string, SyncEntry>()
        for (let i = 0; i < shuffled.length; i += batch) other = mergeEntries(other, shuffled.slice(i, i + batch)).map
        expect(asObject(other)).toEqual(asObject(one))
      }),
    )
  })

  it('two devices that exchange (request, answer, merge both ways) end with the same map', () => {
    fc.assert(
      fc.property(keyedArb, keyedArb, fc.boolean(), (a, b, whole) => {
        const mapA = mergeEntries(new Map(), a).map
        const mapB = mergeEntries(new Map(), b).map
        // A sends its whole map; B answers from what it held before merging, then both merge.
        const answer = entriesToAnswer(mapB, mapA, true)
        const afterB = mergeEntries(mapB, mapA).map
        const afterA = mergeEntries(mapA, answer).map
        expect(asObject(afterA)).toEqual(asObject(afterB))
        expect(asObject(afterA)).toEqual(asObject(mergeEntries(new Map(), [...a, ...b]).map))
        // Answering only the keys it was sent leaves out what A lacks, never what A holds an older value of.
        const partial = entriesToAnswer(mapB, mapA, whole)
        for (const [k, e] of partial) expect(beats(e, mapA.get(k)) || whole).toBe(true)
      }),
    )
  })

  it('merging tells which keys changed, and only those', () => {
    const base = mergeEntries(new Map(), [['c/1', { v: 1, h: hlc(5), d: dev('a') }]]).map
    const { changed } = mergeEntries(base, [
      ['c/1', { v: 0, h: hlc(4), d: dev('b') }],
      ['c/2', { v: 2, h: hlc(1), d: dev('b') }],
    ])
    expect(changed).toEqual(['c/2'])
  })
})

describe('own-sync frames', () => {
  const prefs = { mute: { level: 'nothing', until: null }, archived: false, pinnedAt: 5 }
  const conv = `c/${'1'.repeat(32)}`

  it('round-trips known keys and skips unknown ones', () => {
    const bytes = encodeSyncRequest({
      whole: true,
      entries: [
        [conv, { v: prefs, h: hlc(1), d: dev('a') }],
        ['s/name', { v: 'Alice', h: hlc(2), d: dev('a') }],
        ['x/future', { v: 1, h: hlc(3), d: dev('a') }],
      ],
    })
    const decoded = decodeSyncRequest(bytes)
    expect(decoded.whole).toBe(true)
    expect(decoded.entries.map(([k]) => k)).toEqual([conv, 's/name'])
  })

  it('refuses a known key with a bad value, a bad clock or device, and too many entries', () => {
    const bad = (e: unknown[]) => () => decodeSyncRequest(encodeCbor({ v: 1, w: false, e: [e] }))
    expect(bad([conv, { ...prefs, archived: 'yes' }, hlc(1), dev('a')])).toThrow(/malformed|invalid/)
    expect(bad([conv, prefs, 'tomorrow', dev('a')])).toThrow(/invalid/)
    expect(bad([conv, prefs, hlc(1), 'me'])).toThrow(/invalid/)
    expect(bad(['s/relays', ['x'.repeat(2000)], hlc(1), dev('a')])).toThrow(/invalid/)
    const many = Array.from({ length: MAX_SYNC_ENTRIES + 1 }, (_, i) => [`x/${i}`, 0, hlc(1), dev('a')])
    expect(() => decodeSyncRequest(encodeCbor({ v: 1, w: false, e: many }))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }))
    expect(() => decodeSyncResponse(encodeCbor({ e: many }))).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }))
  })

  it('any bytes, and any CBOR of roughly the right shape, decode or fail with a HearthError', () => {
    const isHearth = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        expect((err as { code?: unknown }).code).toEqual(expect.any(String))
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => isHearth(() => decodeSyncRequest(b))))
    const anything = fc.anything({ maxDepth: 3 })
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.constantFrom(conv, 's/name', 's/relays'), fc.string()), anything, anything, anything)), fc.anything(), (e, w) => {
        let request: Uint8Array
        let response: Uint8Array
        try {
          request = encodeCbor({ v: 1, w, e })
          response = encodeCbor({ e })
        } catch {
          return // a value CBOR cannot carry (undefined and the like) never reaches a decoder
        }
        isHearth(() => decodeSyncRequest(request))
        isHearth(() => decodeSyncResponse(response))
      }),
    )
  })
})
