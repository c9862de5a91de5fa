import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BlobEncryptor, CHUNK_BYTES, CHUNK_CIPHER_BYTES, type SealedBlob, type SealedChunk } from '../../../common/blob/format.js'
import { openDatabase, type Database } from '../../../common/storage/database.js'
import { equalBytes, toHex } from '../../../common/util/bytes.js'
import { CoreStore } from '../../store/core-store.js'
import { Logger } from '../logger.js'
import { BlobStore, type BlobStoreOptions } from './blob-store.js'
import { BlobWriteQueue, MAX_UNSYNCED_CHUNKS, type WritingStore } from './blob-write-queue.js'

const CONV = 'a'.repeat(32)

function makeBlob(chunkCount: number): { chunks: SealedChunk[]; blob: SealedBlob; id: string } {
  const data = new Uint8Array(chunkCount * CHUNK_BYTES).map((_, i) => (i * 7 + (i >> 16)) & 0xff)
  const enc = new BlobEncryptor()
  const chunks = [...enc.push(data)]
  const steps = enc.finish()
  for (;;) {
    const step = steps.next()
    if (step.done === true) return { chunks, blob: step.value, id: toHex(step.value.id) }
    chunks.push(step.value)
  }
}

describe('staged writes (stageChunks, commitChunks)', () => {
  let dir: string
  let db: Database
  let core: CoreStore
  let opened: BlobStore[]

  const openStore = async (options: BlobStoreOptions = {}): Promise<BlobStore> => {
    const s = await BlobStore.open(dir, core, Logger.silent(), options)
    opened.push(s)
    return s
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hearth-staging-'))
    db = await openDatabase({ memory: true })
    core = new CoreStore(db, new Uint8Array(32).fill(9))
    opened = []
  })
  afterEach(async () => {
    for (const s of opened) await s.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('a staged chunk is written but not claimed until a commit, which claims everything staged before it', async () => {
    const synced: number[][] = []
    const { chunks, blob, id } = makeBlob(4)
    const store = await openStore({
      afterChunksSynced: async (blobId, indices) => {
        synced.push([...indices])
        // The bytes are on disk before anything claims them.
        const file = await readFile(join(dir, 'blobs', blobId.slice(0, 2), `${blobId}.blob`))
        for (const i of indices) expect(equalBytes(file.subarray(i * CHUNK_CIPHER_BYTES, i * CHUNK_CIPHER_BYTES + chunks[i]!.cipher.length), chunks[i]!.cipher)).toBe(true)
      },
    })
    await store.expect(CONV, id, blob.padded)
    await store.setHashList(id, blob.hashList)
    const bad = { index: 2, cipher: new Uint8Array(chunks[2]!.cipher).fill(1, 0, 8) }
    expect(await store.stageChunks(id, [chunks[0]!, chunks[1]!, bad])).toEqual({ staged: [0, 1], corrupt: [2] })
    expect(await store.stageChunks(id, [chunks[3]!])).toEqual({ staged: [3], corrupt: [] })
    expect(await store.missing(id)).toEqual([0, 1, 2, 3, 4])
    expect(await store.readChunk(id, 0)).toBeUndefined() // not served before it is claimed
    expect(await store.commitChunks(id)).toEqual([0, 1, 3])
    expect(synced).toEqual([[0, 1, 3]])
    expect(await store.missing(id)).toEqual([2, 4])
    expect(await store.commitChunks(id)).toEqual([]) // nothing staged since
    expect(synced).toHaveLength(1)
  })

  it('a restart (kill -9) between stage and commit leaves the staged chunks missing, to be fetched again', async () => {
    const { chunks, blob, id } = makeBlob(3)
    const store = await openStore()
    await store.expect(CONV, id, blob.padded)
    await store.setHashList(id, blob.hashList)
    await store.writeChunks(id, [chunks[0]!])
    await store.stageChunks(id, [chunks[1]!, chunks[2]!])
    const again = await openStore() // same database and directory; the first store's staging is lost with it
    expect(await again.missing(id)).toEqual([1, 2, 3])
    expect((await again.writeChunks(id, chunks.slice(1))).stored).toEqual([1, 2, 3])
    expect(await again.get(id)).toMatchObject({ complete: true })
  })

  it('a blob removed between stage and commit claims nothing, and a commit syncing during the removal claims nothing', async () => {
    const { chunks, blob, id } = makeBlob(2)
    let remove: (() => Promise<void>) | undefined
    const store = await openStore({ afterChunksSynced: async () => remove?.() })
    await store.expect(CONV, id, blob.padded)
    await store.setHashList(id, blob.hashList)
    await store.stageChunks(id, [chunks[0]!])
    await store.remove(id)
    expect(await store.commitChunks(id)).toEqual([])
    await store.expect(CONV, id, blob.padded)
    await store.setHashList(id, blob.hashList)
    await store.stageChunks(id, [chunks[1]!])
    remove = () => store.remove(id)
    expect(await store.commitChunks(id)).toEqual([])
    expect(await store.get(id)).toBeUndefined()
  })
})

describe('BlobWriteQueue', () => {
  it(`never lets more than ${MAX_UNSYNCED_CHUNKS} staged chunks wait for their commit, and settles each chunk once`, async () => {
    let staged = 0
    let maxWaiting = 0
    let releaseCommit: (() => void) | undefined
    const store: WritingStore = {
      writeChunks: () => Promise.reject(new Error('not used')),
      stageChunks: (_id, chunks) => {
        staged += chunks.length
        maxWaiting = Math.max(maxWaiting, staged)
        return Promise.resolve({ staged: chunks.map((c) => c.index), corrupt: [] })
      },
      // A slow disk: each commit waits to be let go.
      commitChunks: async () => {
        const n = staged
        await new Promise<void>((resolve) => (releaseCommit = resolve))
        staged -= n
        return []
      },
    }
    const settled: number[] = []
    const failures: unknown[] = []
    const queue = new BlobWriteQueue<string>(store, 'b', { refused: () => {}, settled: (_held, s) => settled.push(...s), failed: (err) => failures.push(err) })
    const windows = Array.from({ length: 24 }, (_, w) => Array.from({ length: 16 }, (_, k) => ({ index: w * 16 + k, cipher: new Uint8Array(1) })))
    const release = setInterval(() => releaseCommit?.(), 5)
    try {
      // One window at a time, as a fetcher past its backlog hands them over: each waits until it is staged.
      for (const chunks of windows) await queue.write('s', chunks)
      await queue.idle()
    } finally {
      clearInterval(release)
    }
    expect(maxWaiting).toBeGreaterThan(16) // windows do stage while a commit syncs
    expect(maxWaiting).toBeLessThanOrEqual(MAX_UNSYNCED_CHUNKS + 16)
    expect(failures).toEqual([])
    expect(settled.sort((a, b) => a - b)).toEqual(windows.flat().map((c) => c.index))
  })
})
