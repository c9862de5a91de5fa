/**
 * The contract every `Database` must pass (after automerge-repo's `runStorageAdapterTests`): the on-disk LevelDB and
 * the in-memory fake run the same suite, so tests written against the fake hold for the real thing.
 *
 * `open` must return a fresh, empty database on each call; the suite closes it after each test.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isHearthError } from '../errors.js'
import { equalBytes } from '../util/bytes.js'
import type { Database } from './database.js'

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b)

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

export function runDatabaseContractTests(name: string, open: () => Promise<Database>): void {
  describe(`Database contract: ${name}`, () => {
    let opened: Database[] = []
    const setup = async (): Promise<Database> => {
      const db = await open()
      opened.push(db)
      return db
    }
    afterEach(async () => {
      for (const db of opened) await db.close()
      opened = []
    })

    it('starts empty', async () => {
      const db = await setup()
      expect(await db.count()).toBe(0)
      expect(await db.get('anything')).toBeUndefined()
    })

    it('gets what was put, undefined when missing, and forgets what was deleted', async () => {
      const db = await setup()
      await db.put('alice', bytes(1, 2, 3))
      expect(await db.get('alice')).toEqual(bytes(1, 2, 3))
      expect(await db.get('bob')).toBeUndefined()
      await db.put('alice', bytes(4))
      expect(await db.get('alice')).toEqual(bytes(4))
      await db.del('alice')
      expect(await db.get('alice')).toBeUndefined()
      await db.del('never-existed') // deleting a missing key is not an error
    })

    it('returns plain Uint8Arrays', async () => {
      const db = await setup()
      await db.put('k', bytes(1))
      const v = await db.get('k')
      expect(v?.constructor).toBe(Uint8Array)
      const [entry] = await collect(db.iterate())
      expect(entry?.[1].constructor).toBe(Uint8Array)
    })

    it('accepts sync writes', async () => {
      const db = await setup()
      await db.put('a', bytes(1), { sync: true })
      await db.batch([{ type: 'put', key: 'b', value: bytes(2) }], { sync: true })
      await db.del('a', { sync: true })
      expect(await collect(db.keys())).toEqual(['b'])
    })

    it('getMany returns values in the order asked, undefined for missing', async () => {
      const db = await setup()
      await db.batch([
        { type: 'put', key: 'a', value: bytes(1) },
        { type: 'put', key: 'c', value: bytes(3) },
      ])
      expect(await db.getMany(['c', 'b', 'a'])).toEqual([bytes(3), undefined, bytes(1)])
      expect(await db.getMany([])).toEqual([])
    })

    it('round-trips binary values exactly', async () => {
      const db = await setup()
      const all = new Uint8Array(256).map((_, i) => i)
      const big = new Uint8Array(1 << 20)
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff
      const values: Record<string, Uint8Array> = {
        empty: new Uint8Array(0),
        zero: bytes(0x00),
        ff: bytes(0xff),
        zeros: new Uint8Array(64),
        edges: bytes(0x00, 0xff, 0x00, 0xff),
        all,
        big,
        // A view into a larger buffer: only the viewed bytes are stored.
        view: new Uint8Array([9, 9, 1, 2, 3, 9]).subarray(2, 5),
      }
      for (const [k, v] of Object.entries(values)) await db.put(k, v)
      for (const [k, v] of Object.entries(values)) {
        const got = await db.get(k)
        expect(got, k).toBeInstanceOf(Uint8Array)
        expect(got?.length, k).toBe(v.length)
        // equalBytes, not toEqual: deep equality over a megabyte element by element takes seconds.
        expect(got !== undefined && equalBytes(got, v), k).toBe(true)
      }
      expect(await db.get('view')).toEqual(bytes(1, 2, 3))
    })

    it('is not affected by the caller mutating arrays it passed in or got back', async () => {
      const db = await setup()
      const input = bytes(1, 2, 3)
      await db.put('k', input)
      input[0] = 99
      const out = await db.get('k')
      expect(out).toEqual(bytes(1, 2, 3))
      out![1] = 99
      expect(await db.get('k')).toEqual(bytes(1, 2, 3))
      const batchInput = bytes(7)
      await db.batch([{ type: 'put', key: 'b', value: batchInput }])
      batchInput[0] = 0
      expect(await db.get('b')).toEqual(bytes(7))
    })

    it('stores unicode keys and the empty key', async () => {
      const db = await setup()
      const keys = ['', 'ascii', 'é', 'ß', '日本語', '😀 emoji', 'mixed\x01control', 'a\u{10ffff}']
      for (const [i, k] of keys.entries()) await db.put(k, bytes(i))
      for (const [i, k] of keys.entries()) expect(await db.get(k), JSON.stringify(k)).toEqual(bytes(i))
      expect(await db.count()).toBe(keys.length)
    })

    it('orders keys by UTF-8 bytes (code points), not UTF-16 code units', async () => {
      const db = await setup()
      // U+FFFD is one UTF-16 unit 0xfffd; U+1F600 is 0xd83d 0xde00. JS `<` says emoji first, UTF-8 says U+FFFD first.
      const keys = ['\u{1F600}', '\uFFFD', 'z', 'a', '\u00e9']
      for (const k of keys) await db.put(k, bytes(0))
      expect(await collect(db.keys())).toEqual(['a', 'z', '\u00e9', '\uFFFD', '\u{1F600}'])
    })

    it('applies a batch of puts and dels together', async () => {
      const db = await setup()
      await db.put('old', bytes(1))
      await db.batch([
        { type: 'put', key: 'new1', value: bytes(2) },
        { type: 'del', key: 'old' },
        { type: 'put', key: 'new2', value: bytes(3) },
        { type: 'put', key: 'new1', value: bytes(4) }, // later op in the same batch wins
      ])
      expect(await collect(db.iterate())).toEqual([
        ['new1', bytes(4)],
        ['new2', bytes(3)],
      ])
      await db.batch([])
    })

    it('writes nothing of a batch that contains an invalid operation', async () => {
      const db = await setup()
      const bad = [
        { type: 'put', key: 'a', value: bytes(1) },
        { type: 'del', key: 'untouched' },
        { type: 'put', key: 'b', value: 'not bytes' },
      ] as unknown as Parameters<Database['batch']>[0]
      await db.put('untouched', bytes(5))
      await expect(db.batch(bad)).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
      expect(await db.get('a')).toBeUndefined()
      expect(await db.get('untouched')).toEqual(bytes(5))
      const badType = [
        { type: 'put', key: 'a', value: bytes(1) },
        { type: 'merge', key: 'c' },
      ] as unknown as Parameters<Database['batch']>[0]
      await expect(db.batch(badType)).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
      expect(await db.count()).toBe(1)
    })

    it('rejects non-string keys and non-byte values', async () => {
      const db = await setup()
      const anyDb = db as unknown as { put(k: unknown, v: unknown): Promise<void>; get(k: unknown): Promise<unknown> }
      await expect(async () => anyDb.put(1, bytes(1))).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
      await expect(async () => anyDb.put('k', [1, 2])).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
      await expect(async () => anyDb.get(undefined)).rejects.toSatisfy((e) => isHearthError(e, 'INVALID_INPUT'))
    })

    describe('iteration', () => {
      const fill = async (): Promise<Database> => {
        const db = await setup()
        await db.batch(['d', 'a', 'c', 'e', 'b'].map((k, i) => ({ type: 'put' as const, key: k, value: bytes(i) })))
        return db
      }

      it('yields entries in key order with their values', async () => {
        const db = await fill()
        expect(await collect(db.iterate())).toEqual([
          ['a', bytes(1)],
          ['b', bytes(4)],
          ['c', bytes(2)],
          ['d', bytes(0)],
          ['e', bytes(3)],
        ])
      })

      it('honours gt/gte/lt/lte bounds', async () => {
        const db = await fill()
        expect(await collect(db.keys({ gte: 'b', lt: 'd' }))).toEqual(['b', 'c'])
        expect(await collect(db.keys({ gt: 'b', lte: 'd' }))).toEqual(['c', 'd'])
        expect(await collect(db.keys({ gt: 'bb' }))).toEqual(['c', 'd', 'e'])
        expect(await collect(db.keys({ lt: 'a' }))).toEqual([])
        expect(await collect(db.keys({ gte: 'x' }))).toEqual([])
        expect(await collect(db.keys({ gt: 'c', lt: 'c' }))).toEqual([])
      })

      it('iterates in reverse and with a limit', async () => {
        const db = await fill()
        expect(await collect(db.keys({ reverse: true }))).toEqual(['e', 'd', 'c', 'b', 'a'])
        expect(await collect(db.keys({ limit: 2 }))).toEqual(['a', 'b'])
        expect(await collect(db.keys({ reverse: true, limit: 2 }))).toEqual(['e', 'd'])
        expect(await collect(db.keys({ reverse: true, lt: 'd', limit: 2 }))).toEqual(['c', 'b'])
        expect(await collect(db.keys({ limit: 0 }))).toEqual([])
        expect(await collect(db.iterate({ reverse: true, gte: 'd' }))).toEqual([
          ['e', bytes(3)],
          ['d', bytes(0)],
        ])
      })

      it('counts keys in a range', async () => {
        const db = await fill()
        expect(await db.count()).toBe(5)
        expect(await db.count({ gte: 'b', lte: 'd' })).toBe(3)
        expect(await db.count({ limit: 2 })).toBe(2)
      })

      it('can be left early and iterated again', async () => {
        const db = await fill()
        for await (const [k] of db.iterate()) if (k === 'b') break
        expect(await collect(db.keys({ limit: 1 }))).toEqual(['a'])
        await db.put('f', bytes(9)) // writes still work after an abandoned iterator
        expect(await db.count()).toBe(6)
      })

      it('sees a snapshot taken when iteration starts', async () => {
        const db = await fill()
        const seen: string[] = []
        for await (const [k] of db.iterate()) {
          if (k === 'a') await db.batch([{ type: 'put', key: 'aa', value: bytes(0) }, { type: 'del', key: 'e' }])
          seen.push(k)
        }
        // Either snapshot semantics or not, the iteration must terminate and stay ordered; LevelDB and memory-level
        // both read from a snapshot, which this pins down.
        expect(seen).toEqual(['a', 'b', 'c', 'd', 'e'])
      })

      it('rejects malformed ranges', async () => {
        const db = await setup()
        const bad: unknown[] = [{ limit: -1 }, { limit: 1.5 }, { gt: 1 }, { gt: 'a', gte: 'a' }, { lt: 'a', lte: 'b' }]
        for (const range of bad) {
          await expect(async () => db.count(range as Parameters<Database['count']>[0])).rejects.toSatisfy((e) =>
            isHearthError(e, 'INVALID_INPUT'),
          )
        }
      })
    })

    it('rejects operations after close with NOT_RUNNING, and close is idempotent', async () => {
      const db = await open()
      await db.put('k', bytes(1))
      await db.close()
      await db.close()
      await expect(db.get('k')).rejects.toSatisfy((e) => isHearthError(e, 'NOT_RUNNING'))
      await expect(db.put('k', bytes(1))).rejects.toSatisfy((e) => isHearthError(e, 'NOT_RUNNING'))
      await expect(collect(db.iterate())).rejects.toSatisfy((e) => isHearthError(e, 'NOT_RUNNING'))
    })
  })
}
