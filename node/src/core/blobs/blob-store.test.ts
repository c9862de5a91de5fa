import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile, open as openFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  BlobEncryptor,
  CHUNK_BYTES,
  CHUNK_CIPHER_BYTES,
  chunkCount,
  hashChunk,
  type SealedBlob,
  type SealedChunk,
} from '../../../common/blob/format.js'
import { isHearthError, type ErrorCode } from '../../../common/errors.js'
import { openDatabase, type Database } from '../../../common/storage/database.js'
import { concatByteList, equalBytes, toHex } from '../../../common/util/bytes.js'
import { CoreStore } from '../../store/core-store.js'
import { Logger } from '../logger.js'
import { BlobKeys } from './blob-records.js'
import { BlobStore, type BlobStoreOptions } from './blob-store.js'

const CONV = 'a'.repeat(32)
const OTHER = 'b'.repeat(32)

function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

async function* pieces(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

/** A blob as a sender makes it, for the receiving side's tests. */
function makeBlob(data: Uint8Array): { chunks: SealedChunk[]; blob: SealedBlob; id: string } {
  const enc = new BlobEncryptor()
  const chunks = [...enc.push(data)]
  const steps = enc.finish()
  for (;;) {
    const step = steps.next()
    if (step.done === true) return { chunks, blob: step.value, id: toHex(step.value.id) }
    chunks.push(step.value)
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(p)
  return concatByteList(parts)
}

/** Chunks as short digests: the runner's deep equality of 64 KiB arrays is slow. */
function digests(chunks: ReadonlyArray<Uint8Array | undefined>): Array<string | undefined> {
  return chunks.map((c) => (c === undefined ? undefined : toHex(hashChunk(c))))
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(p).rejects.toSatisfy((e) => isHearthError(e, code))
}

describe('BlobStore', () => {
  let dir: string
  let db: Database
  let core: CoreStore
  let opened: BlobStore[]
  let clock: number

  const openStore = async (options: BlobStoreOptions = {}): Promise<BlobStore> => {
    const s = await BlobStore.open(dir, core, Logger.silent(), { now: () => clock, ...options })
    opened.push(s)
    return s
  }
  const fileOf = (id: string): string => join(dir, 'blobs', id.slice(0, 2), `${id}.blob`)

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-blobs-'))
    db = await openDatabase({ memory: true })
    core = new CoreStore(db, new Uint8Array(32).fill(9))
    opened = []
    clock = 1_000_000
  })
  afterEach(async () => {
    for (const s of opened) await s.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  describe('importing a file', () => {
    it('stores it encrypted under its id, and readPlain and plainStream give the same bytes back', async () => {
      const store = await openStore()
      for (const size of [0, 1, CHUNK_BYTES, 200_000]) {
        const data = pattern(size, size + 1)
        const ref = await store.importFile(CONV, pieces(data, 10_000), size)
        expect(ref.id).toMatch(/^[0-9a-f]{64}$/)
        expect(ref.size).toBe(size)
        expect(ref.chunks).toBe(chunkCount(ref.padded))
        const record = await store.get(ref.id)
        expect(record).toMatchObject({ conversation: CONV, complete: true, haveCount: ref.chunks, hashListKnown: true })
        expect((await stat(fileOf(ref.id))).size).toBe(ref.padded + 16 * ref.chunks)
        // On disk: ciphertext, not the file.
        const onDisk = await readFile(fileOf(ref.id))
        if (size >= 64) expect(Buffer.from(onDisk).includes(Buffer.from(data.subarray(0, 64)))).toBe(false)
        expect(equalBytes(await store.readPlain(ref.id, ref.key, size, 0, size), data)).toBe(true)
        expect(equalBytes(await collect(store.plainStream(ref.id, ref.key, size)), data)).toBe(true)
        if (size > 100_000) {
          // A range across a chunk boundary decrypts just those chunks.
          const part = await store.readPlain(ref.id, ref.key, size, CHUNK_BYTES - 10, 30)
          expect(equalBytes(part, data.subarray(CHUNK_BYTES - 10, CHUNK_BYTES + 20))).toBe(true)
        }
      }
      expect(await readdir(join(dir, 'blobs', 'tmp'))).toEqual([])
    })

    it('refuses bytes that are not the declared size and leaves nothing behind', async () => {
      const store = await openStore()
      const data = pattern(1000)
      await rejectsWith(store.importFile(CONV, pieces(data, 300), 999), 'INVALID_INPUT')
      await rejectsWith(store.importFile(CONV, pieces(data, 300), 1001), 'INVALID_INPUT')
      expect(await readdir(join(dir, 'blobs', 'tmp'))).toEqual([])
      expect(await db.count(BlobKeys.records())).toBe(0)
      await rejectsWith(store.importFile('not-a-conversation', pieces(data, 300), 1000), 'INVALID_INPUT')
    })

    it('stops when the signal aborts', async () => {
      const store = await openStore()
      const controller = new AbortController()
      async function* source(): AsyncIterable<Uint8Array> {
        yield pattern(100_000)
        controller.abort()
        yield pattern(100_000)
      }
      await expect(store.importFile(CONV, source(), 200_000, { signal: controller.signal })).rejects.toThrow()
      expect(await readdir(join(dir, 'blobs', 'tmp'))).toEqual([])
      expect(await db.count(BlobKeys.records())).toBe(0)
    })

    it('takes an upload in pieces, and drops aborted and idle uploads', async () => {
      const store = await openStore()
      const data = pattern(150_000)
      const up = await store.beginUpload(CONV, data.length)
      expect(await store.appendUpload(up, data.subarray(0, 70_000))).toBe(70_000)
      expect(await store.totalBytes()).toBeGreaterThan(0) // a sealed chunk is on disk already
      expect(await store.appendUpload(up, data.subarray(70_000))).toBe(150_000)
      const ref = await store.finishUpload(up)
      expect(equalBytes(await store.readPlain(ref.id, ref.key, ref.size, 0, ref.size), data)).toBe(true)
      await rejectsWith(store.appendUpload(up, data), 'NOT_FOUND')

      const aborted = await store.beginUpload(CONV, 10)
      await store.appendUpload(aborted, pattern(5))
      await store.abortUpload(aborted)
      await rejectsWith(store.finishUpload(aborted), 'NOT_FOUND')
      expect(await readdir(join(dir, 'blobs', 'tmp'))).toEqual([])

      const idle = await store.beginUpload(CONV, 10)
      clock += 10 * 60_000 + 1
      await store.beginUpload(CONV, 10) // sweeps
      await new Promise((r) => setImmediate(r))
      await rejectsWith(store.appendUpload(idle, pattern(1)), 'NOT_FOUND')
      await rejectsWith(store.appendUpload('../../etc/passwd', pattern(1)), 'INVALID_INPUT')
    })
  })

  describe('receiving a blob', () => {
    it('checks the hash list and every chunk, stores the good ones, and completes', async () => {
      const store = await openStore()
      const data = pattern(5 * CHUNK_BYTES + 123)
      const { chunks, blob, id } = makeBlob(data)
      const n = chunks.length
      await rejectsWith(store.writeChunks(id, [chunks[0]!]), 'NOT_FOUND')
      const record = await store.expect(CONV, id, blob.padded)
      expect(record).toMatchObject({ complete: false, haveCount: 0, chunks: n, hashListKnown: false })
      expect(await store.expect(CONV, id, blob.padded)).toEqual(record) // idempotent
      await rejectsWith(store.expect(CONV, id, blob.padded + 1), 'INVALID_INPUT')
      await rejectsWith(store.writeChunks(id, [chunks[0]!]), 'INVALID_INPUT') // no hash list yet

      const forged = blob.hashList.slice()
      forged[5]! ^= 1
      await rejectsWith(store.setHashList(id, forged), 'CORRUPT_DATA')
      await rejectsWith(store.setHashList(id, blob.hashList.subarray(32)), 'CORRUPT_DATA')
      expect(await store.hashList(id)).toBeUndefined()
      await store.setHashList(id, blob.hashList)
      expect(equalBytes((await store.hashList(id))!, blob.hashList)).toBe(true)

      const flipped = chunks[1]!.cipher.slice()
      flipped[100]! ^= 4
      const result = await store.writeChunks(id, [
        chunks[0]!,
        { index: 1, cipher: flipped },
        { index: 2, cipher: chunks[3]!.cipher }, // another chunk in its place
        { index: 3, cipher: chunks[3]!.cipher.subarray(1) }, // short
        { index: n, cipher: chunks[0]!.cipher }, // out of range
        chunks[0]!, // a duplicate in the same window
      ])
      expect(result).toEqual({ stored: [0], corrupt: [1, 2, 3, n] })
      expect(await store.missing(id)).toEqual([...Array(n).keys()].slice(1))
      expect(await store.missing(id, 2)).toEqual([1, 2])
      // Already held: skipped, neither stored again nor corrupt.
      expect(await store.writeChunks(id, [chunks[0]!])).toEqual({ stored: [], corrupt: [] })
      await rejectsWith(store.readPlain(id, blob.key, blob.size, 0, data.length), 'NOT_FOUND')

      expect((await store.writeChunks(id, chunks.slice(1))).stored).toEqual([...Array(n).keys()].slice(1))
      expect(await store.get(id)).toMatchObject({ complete: true, haveCount: n })
      expect(await store.missing(id)).toEqual([])
      expect(equalBytes(await store.readPlain(id, blob.key, blob.size, 0, blob.size), data)).toBe(true)
      expect(equalBytes((await store.readChunk(id, 2))!, chunks[2]!.cipher)).toBe(true)
      expect(await store.readChunk(id, n)).toBeUndefined()
      await rejectsWith(store.readPlain(id, new Uint8Array(32), blob.size, 0, 10), 'DECRYPT_FAILED')
      await rejectsWith(store.readPlain(id, blob.key, blob.size, blob.size - 5, 10), 'INVALID_INPUT')
      await rejectsWith(store.readPlain(id, blob.key, blob.padded + 1, 0, 10), 'INVALID_INPUT')
    })

    it('serialises concurrent writes to one blob: no window of chunks is lost from the bitmap', async () => {
      const store = await openStore()
      const { chunks, blob, id } = makeBlob(pattern(8 * CHUNK_BYTES))
      await store.expect(CONV, id, blob.padded)
      await store.setHashList(id, blob.hashList)
      const results = await Promise.all(chunks.map((c) => store.writeChunks(id, [c])))
      expect(results.flatMap((r) => r.stored).sort((a, b) => a - b)).toEqual(chunks.map((c) => c.index))
      expect(await store.get(id)).toMatchObject({ complete: true, haveCount: chunks.length })
    })

    it('claims a chunk only after it is synced: a crash before the put refetches it, and nothing claimed is missing', async () => {
      const { chunks, blob, id } = makeBlob(pattern(4 * CHUNK_BYTES))
      let crash = false
      const seen: number[][] = []
      const store = await openStore({
        afterChunksSynced: async (blobId, indices) => {
          seen.push([...indices])
          // The bytes are on disk before the bitmap says so.
          const file = await readFile(fileOf(blobId))
          for (const i of indices) {
            const at = i * CHUNK_CIPHER_BYTES
            expect(equalBytes(file.subarray(at, at + chunks[i]!.cipher.length), chunks[i]!.cipher)).toBe(true)
          }
          expect((await core.getSealed(BlobKeys.record(blobId))) !== undefined).toBe(true)
          if (crash) throw new Error('killed')
        },
      })
      await store.expect(CONV, id, blob.padded)
      await store.setHashList(id, blob.hashList)
      await store.writeChunks(id, chunks.slice(0, 2))
      expect(await store.missing(id)).toEqual([2, 3, 4])
      crash = true
      await expect(store.writeChunks(id, chunks.slice(2, 4))).rejects.toThrow('killed')
      expect(seen).toEqual([[0, 1], [2, 3]])

      // "Restart": a new store on the same database and directory.
      await store.close()
      crash = false
      const again = await openStore({ afterChunksSynced: () => {} })
      expect(await again.missing(id)).toEqual([2, 3, 4]) // written but never claimed: fetched again
      expect((await again.writeChunks(id, chunks.slice(2))).stored).toEqual([2, 3, 4])
      expect(equalBytes(await again.readPlain(id, blob.key, blob.size, 0, blob.size), pattern(4 * CHUNK_BYTES))).toBe(true)
    })
    it('never claims a chunk it cannot serve back exactly, whatever arrives and whatever happens to the file (property)', async () => {
      const data = pattern(6 * CHUNK_BYTES + 7)
      const { chunks, blob, id } = makeBlob(data)
      const n = chunks.length
      const op = fc.oneof(
        fc.record({ t: fc.constant('good' as const), i: fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 4 }) }),
        fc.record({ t: fc.constant('bad' as const), i: fc.integer({ min: 0, max: n - 1 }), at: fc.nat(), cut: fc.boolean() }),
        fc.record({ t: fc.constant('truncate' as const), to: fc.integer({ min: 0, max: n * CHUNK_CIPHER_BYTES }) }),
        fc.record({ t: fc.constant('read' as const), i: fc.integer({ min: 0, max: n - 1 }) }),
      )
      let round = 0
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
          const store = await openStore()
          if ((await store.get(id)) !== undefined) await store.remove(id)
          await store.expect(CONV, id, blob.padded)
          await store.setHashList(id, blob.hashList)
          round++
          for (const o of ops) {
            if (o.t === 'good') {
              const r = await store.writeChunks(id, o.i.map((i) => chunks[i]!))
              expect(r.corrupt).toEqual([])
            } else if (o.t === 'bad') {
              const cipher = o.cut ? chunks[o.i]!.cipher.subarray(0, o.at % chunks[o.i]!.cipher.length) : chunks[o.i]!.cipher.slice()
              if (!o.cut) cipher[o.at % cipher.length]! ^= 1 + (round % 255)
              const r = await store.writeChunks(id, [{ index: o.i, cipher }])
              expect(r.stored).toEqual([])
            } else if (o.t === 'truncate') {
              await truncate(fileOf(id), o.to).catch(() => {})
            } else {
              const got = await store.readChunk(id, o.i)
              if (got !== undefined) expect(equalBytes(got, chunks[o.i]!.cipher)).toBe(true)
            }
          }
          // Every claim is honoured by the disk, or dropped when read; what is served is exactly what was sent.
          for (let i = 0; i < n; i++) {
            const got = await store.readChunk(id, i)
            if (got !== undefined) expect(equalBytes(got, chunks[i]!.cipher)).toBe(true)
          }
          const missing = await store.missing(id)
          await store.writeChunks(id, missing.map((i) => chunks[i]!))
          expect(equalBytes(await store.readPlain(id, blob.key, blob.size, 0, blob.size), data)).toBe(true)
          await store.close()
        }),
        { numRuns: 25 },
      )
    })
  })

  describe('a disk that does not hold what the record claims', () => {
    const setup = async (): Promise<{ store: BlobStore; id: string; key: Uint8Array; size: number; chunks: number; data: Uint8Array }> => {
      const store = await openStore()
      const data = pattern(3 * CHUNK_BYTES + 500)
      const ref = await store.importFile(CONV, pieces(data, 65_536), data.length)
      return { store, id: ref.id, key: ref.key, size: ref.size, chunks: ref.chunks, data }
    }

    it('a truncated file: the cut chunk is not served, its claim is dropped, and it can be stored again', async () => {
      const { store, id, key, size, chunks } = await setup()
      const last = chunks - 1
      const lastCipher = (await store.readChunk(id, last))!
      await truncate(fileOf(id), last * CHUNK_CIPHER_BYTES + 10)
      expect(await store.readChunk(id, last)).toBeUndefined()
      expect(await store.get(id)).toMatchObject({ complete: false, haveCount: chunks - 1 })
      expect(await store.missing(id)).toEqual([last])
      await rejectsWith(store.readPlain(id, key, size, size - 1, 1), 'NOT_FOUND')
      expect((await store.readPlain(id, key, size, 0, 10)).length).toBe(10) // the rest is still readable
      expect(await store.writeChunks(id, [{ index: last, cipher: lastCipher }])).toEqual({ stored: [last], corrupt: [] })
      expect((await store.readPlain(id, key, size, size - 1, 1)).length).toBe(1)
    })

    it('garbage in a chunk and a missing file are detected on read', async () => {
      const { store, id, key, size, chunks } = await setup()
      const file = await openFile(fileOf(id), 'r+')
      await file.write(new Uint8Array(16).fill(0xee), 0, 16, CHUNK_CIPHER_BYTES + 100)
      await file.close()
      expect(await store.readChunk(id, 0)).toBeDefined()
      expect(await store.readChunk(id, 1)).toBeUndefined()
      expect(await store.missing(id)).toEqual([1])
      await expect(collect(store.plainStream(id, key, size))).rejects.toSatisfy((e) => isHearthError(e, 'NOT_FOUND'))

      await rm(fileOf(id))
      // The open handle's link count is looked at once a second (blob-file-handles.ts).
      clock += 1_000
      expect(await store.readChunk(id, 0)).toBeUndefined()
      expect(await store.missing(id)).toEqual([0, 1])
      expect((await store.get(id))?.haveCount).toBe(chunks - 2)
    })

    it('readChunks reads a window together and checks each chunk on its own, as readChunk does', async () => {
      const { store, id, chunks } = await setup()
      const one = await Promise.all(Array.from({ length: chunks }, (_, i) => store.readChunk(id, i)))
      expect(digests(await store.readChunks(id, 0, chunks))).toEqual(digests(one))
      expect(digests(await store.readChunks(id, 1, 2))).toEqual(digests(one.slice(1, 3)))
      // Past the end, or an unknown blob: nothing, and no claim touched.
      expect(await store.readChunks(id, chunks - 1, 2)).toEqual([undefined, undefined])
      expect(await store.readChunks('e'.repeat(64), 0, 1)).toEqual([undefined])
      await rejectsWith(store.readChunks(id, 0, 17), 'INVALID_INPUT')

      const file = await openFile(fileOf(id), 'r+')
      await file.write(new Uint8Array(16).fill(0xee), 0, 16, CHUNK_CIPHER_BYTES + 100)
      await file.close()
      await truncate(fileOf(id), (chunks - 1) * CHUNK_CIPHER_BYTES + 10)
      expect(digests(await store.readChunks(id, 0, chunks))).toEqual(digests([one[0], undefined, one[2], undefined]))
      expect(await store.missing(id)).toEqual([1, chunks - 1])
    })

    it('a blob removed and received again is read from its new file, not through a handle kept to the old one', async () => {
      const store = await openStore()
      const { chunks, blob, id } = makeBlob(pattern(2 * CHUNK_BYTES))
      await store.expect(CONV, id, blob.padded)
      await store.setHashList(id, blob.hashList)
      await store.writeChunks(id, chunks.map(({ index, cipher }) => ({ index, cipher })))
      expect(digests(await store.readChunks(id, 0, chunks.length))).toEqual(digests(chunks.map((c) => c.cipher)))
      await store.remove(id)
      expect(await store.readChunks(id, 0, 1)).toEqual([undefined])
      await store.expect(CONV, id, blob.padded)
      await store.setHashList(id, blob.hashList)
      expect(await store.readChunk(id, 0)).toBeUndefined()
      await store.writeChunks(id, [{ index: 1, cipher: chunks[1]!.cipher }])
      expect(digests(await store.readChunks(id, 0, 2))).toEqual(digests([undefined, chunks[1]!.cipher]))
      expect(await store.get(id)).toMatchObject({ haveCount: 1 })
    })

    it('a damaged stored hash list is dropped so it is fetched again', async () => {
      const store = await openStore()
      const { blob, id } = makeBlob(pattern(1000))
      await store.expect(CONV, id, blob.padded)
      await store.setHashList(id, blob.hashList)
      await store.close()
      const bad = blob.hashList.slice()
      bad[0]! ^= 1
      await db.put(BlobKeys.hashList(id), bad)
      const again = await openStore()
      expect(await again.hashList(id)).toBeUndefined()
      expect(await again.get(id)).toMatchObject({ hashListKnown: false })
      await again.setHashList(id, blob.hashList)
      expect(await again.hashList(id)).toBeDefined()
    })
  })

  describe('removal, accounting and housekeeping', () => {
    it('removes a blob (file and records) and a conversation', async () => {
      const store = await openStore()
      const a = await store.importFile(CONV, [pattern(100_000)], 100_000)
      const b = await store.importFile(CONV, [pattern(10)], 10)
      const c = await store.importFile(OTHER, [pattern(70_000)], 70_000)
      const usage = await store.usage()
      expect(usage.get(CONV)).toBe(a.padded + 16 * a.chunks + b.padded + 16 * b.chunks)
      expect(usage.get(OTHER)).toBe(c.padded + 16 * c.chunks)
      expect(await store.totalBytes()).toBe(usage.get(CONV)! + usage.get(OTHER)!)

      await store.remove(a.id)
      expect(await store.get(a.id)).toBeUndefined()
      expect(await db.get(BlobKeys.hashList(a.id))).toBeUndefined()
      await expect(stat(fileOf(a.id))).rejects.toThrow()
      await store.remove(a.id) // again: nothing to do

      expect(await store.removeConversation(CONV)).toBe(1)
      expect(await store.get(b.id)).toBeUndefined()
      await expect(stat(fileOf(b.id))).rejects.toThrow()
      expect(await store.get(c.id)).toBeDefined()
      expect([...(await store.usage()).keys()]).toEqual([OTHER])
    })

    it('counts the bytes of a partly received blob', async () => {
      const store = await openStore()
      const { chunks, blob, id } = makeBlob(pattern(3 * CHUNK_BYTES))
      await store.expect(CONV, id, blob.padded)
      expect(await store.totalBytes()).toBe(0)
      await store.setHashList(id, blob.hashList)
      const last = chunks.at(-1)!
      await store.writeChunks(id, [chunks[0]!, last])
      expect(await store.totalBytes()).toBe(CHUNK_CIPHER_BYTES + last.cipher.length)
      expect(await store.recordFailure(id)).toBe(1)
      expect(await store.recordFailure(id)).toBe(2)
    })

    it('empties the temp dir and removes blob files no record names at open', async () => {
      const store = await openStore()
      const kept = await store.importFile(CONV, [pattern(10)], 10)
      await store.close()
      const orphan = 'c'.repeat(64)
      await mkdir(join(dir, 'blobs', 'cc'), { recursive: true })
      await writeFile(fileOf(orphan), pattern(100))
      await writeFile(join(dir, 'blobs', 'tmp', 'dead.part'), pattern(100))
      await writeFile(join(dir, 'blobs', 'cc', 'notes.txt'), 'not ours')
      await openStore()
      expect(await readdir(join(dir, 'blobs', 'tmp'))).toEqual([])
      await expect(stat(fileOf(orphan))).rejects.toThrow()
      expect((await stat(fileOf(kept.id))).isFile()).toBe(true)
      expect(await readdir(join(dir, 'blobs', 'cc'))).toEqual(['notes.txt']) // only files it could have made
    })

    it('refuses ids that are not 64 lowercase hex before touching a path', async () => {
      const store = await openStore()
      const attempts = ['../../../etc/passwd', '..', `${'a'.repeat(62)}/x`, 'A'.repeat(64), 'a'.repeat(63), '', 'a'.repeat(64) + '\0']
      for (const id of attempts) {
        await rejectsWith(store.get(id), 'INVALID_INPUT')
        await rejectsWith(store.readChunk(id, 0), 'INVALID_INPUT')
        await rejectsWith(store.writeChunks(id, []), 'INVALID_INPUT')
        await rejectsWith(store.remove(id), 'INVALID_INPUT')
        await rejectsWith(store.expect(CONV, id, 541), 'INVALID_INPUT')
      }
      await rejectsWith(store.expect(CONV, 'd'.repeat(64), 0), 'INVALID_INPUT')
      await rejectsWith(store.expect(CONV, 'd'.repeat(64), 2 ** 40), 'INVALID_INPUT')
    })
  })
})
