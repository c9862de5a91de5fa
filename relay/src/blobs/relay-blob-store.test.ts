import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm, stat, open as openFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BlobEncryptor, CHUNK_CIPHER_BYTES, openChunk, type SealedBlob, type SealedChunk } from '../../../node/common/blob/format.js'
import { openDatabase, type Database } from '../../../node/common/storage/database.js'
import { concatByteList, toBase64Url, toHex } from '../../../node/common/util/bytes.js'
import type { BlobChunk } from '../../../node/common/wire/relay-blob.js'
import { BLOB_OVERHEAD_BYTES, blobFilePath } from './blob-layout.js'
import { RelayBlobStore, cipherBytesOf, type BlobLimits } from './relay-blob-store.js'

const DAY = 24 * 60 * 60 * 1000
const MiB = 1024 * 1024
const LIMITS: BlobLimits = {
  maxBlobBytes: 110 * MiB,
  mailboxMaxBytes: 1024 * MiB,
  peerMaxBytesPerDay: 4096 * MiB,
  maxStoredBytes: 16 * 1024 * MiB,
  retentionMs: 30 * DAY,
  incompleteTtlMs: 3 * DAY,
}
const mailbox = (n: number): Uint8Array => new Uint8Array(32).fill(n)

interface TestBlob {
  plain: Uint8Array
  sealed: SealedBlob
  chunks: SealedChunk[]
}

/** A blob of `size` random-ish bytes, sealed the way a member's store seals it. */
function makeBlob(size: number, seed = 1): TestBlob {
  const plain = new Uint8Array(size)
  for (let i = 0; i < size; i++) plain[i] = (i * 31 + seed * 7) & 0xff
  const enc = new BlobEncryptor()
  const chunks: SealedChunk[] = [...enc.push(plain)]
  const finish = enc.finish()
  for (;;) {
    const r = finish.next()
    if (r.done === true) return { plain, sealed: r.value, chunks: [...chunks] }
    chunks.push(r.value)
  }
}

/** Compared by SHA-256: a deep equality of hundreds of kilobytes is slow in the test runner. */
const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const counted = (b: TestBlob): number => cipherBytesOf(b.sealed.padded) + b.sealed.hashList.length + BLOB_OVERHEAD_BYTES

describe('RelayBlobStore', () => {
  let db: Database | undefined
  let clock = 1_800_000_000_000
  const dirs: string[] = []

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-relay-blobs-'))
    dirs.push(dir)
    return dir
  }

  async function open(limits: Partial<BlobLimits> = {}, events = {}, where?: { db: Database; dir: string }): Promise<{ store: RelayBlobStore; dir: string }> {
    const dir = where?.dir ?? (await tempDir())
    db = where?.db ?? (await openDatabase({ memory: true }))
    const store = await RelayBlobStore.open(db, join(dir, 'blobs'), { limits: { ...LIMITS, ...limits }, now: () => clock, events })
    return { store, dir }
  }

  afterEach(async () => {
    await db?.close()
    db = undefined
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  async function upload(store: RelayBlobStore, box: Uint8Array, blob: TestBlob, peer = 'peerA'): Promise<void> {
    const listed = await store.putList(box, peer, blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)
    expect(listed).toMatchObject({ status: 'stored' })
    for (let i = 0; i < blob.chunks.length; i += 16) {
      const window = blob.chunks.slice(i, i + 16).map((c) => ({ index: c.index, cipher: c.cipher }))
      expect(await store.putChunks(box, blob.sealed.id, window)).toEqual({ results: window.map(() => 'stored') })
    }
  }

  async function readAll(store: RelayBlobStore, box: Uint8Array, blob: TestBlob): Promise<BlobChunk[]> {
    const out: BlobChunk[] = []
    for (let first = 0; first < blob.chunks.length; first += 16) {
      const range = await store.readRange(box, blob.sealed.id, first, 16)
      expect(range).toBeDefined()
      for await (const c of range!.chunks) out.push({ index: c.index, cipher: new Uint8Array(c.cipher) })
    }
    return out
  }

  function decrypt(blob: TestBlob, chunks: BlobChunk[]): Uint8Array {
    const last = blob.chunks.length - 1
    const plain = concatByteList(chunks.map((c) => openChunk(blob.sealed.key, c.index, c.index === last, c.cipher)))
    return plain.subarray(0, blob.plain.length)
  }

  it('keeps a whole blob: hash list, then chunks; serves it back so it decrypts to the file', async () => {
    const { store } = await open()
    const blob = makeBlob(700_000)
    await upload(store, mailbox(1), blob)
    expect(await store.getList(mailbox(1), blob.sealed.id)).toEqual({ padded: blob.sealed.padded, hashList: blob.sealed.hashList })
    const back = await readAll(store, mailbox(1), blob)
    expect(back.map((c) => c.index)).toEqual(blob.chunks.map((c) => c.index))
    expect(digest(decrypt(blob, back))).toBe(digest(blob.plain))
    expect(store.totals).toEqual({ bytes: counted(blob), blobs: 1, incomplete: 0 })
    // Listing again is harmless and says what is held (a resumed upload sends nothing).
    const again = await store.putList(mailbox(1), 'peerB', blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)
    expect(again).toMatchObject({ status: 'present' })
    expect(store.totals.bytes).toBe(counted(blob))
  })

  it('answers the have bitmap of a range, padded to the range, and only the held chunks', async () => {
    const { store } = await open()
    const blob = makeBlob(20 * 65_536)
    await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)
    await store.putChunks(mailbox(1), blob.sealed.id, [blob.chunks[1]!, blob.chunks[3]!, blob.chunks[17]!])
    const range = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    expect([...range!.have]).toEqual([0b00001010, 0])
    const got: number[] = []
    for await (const c of range!.chunks) got.push(c.index)
    expect(got).toEqual([1, 3])
    // A window running past the last chunk claims nothing beyond it.
    const tail = await store.readRange(mailbox(1), blob.sealed.id, 16, 16)
    expect([...tail!.have]).toEqual([0b00000010, 0])
    expect(store.totals.incomplete).toBe(1)
  })

  it('refuses a hash list that does not match the blob id or its padded size', async () => {
    const { store } = await open()
    const blob = makeBlob(200_000)
    const otherId = new Uint8Array(blob.sealed.id)
    otherId[0]! ^= 1
    expect(await store.putList(mailbox(1), 'p', otherId, blob.sealed.padded, blob.sealed.hashList)).toEqual({ refused: 'bad-hash-list' })
    const list = new Uint8Array(blob.sealed.hashList)
    list[5]! ^= 1
    expect(await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded, list)).toEqual({ refused: 'bad-hash-list' })
    // Padded sizes with another chunk count do not fit the list.
    expect(await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded + 65_536, blob.sealed.hashList)).toEqual({ refused: 'bad-hash-list' })
    expect(store.totals.blobs).toBe(0)
  })

  it('refuses corrupt chunks (bytes, length, index) and chunks before the hash list; keeps the good ones of a batch', async () => {
    const { store } = await open()
    const blob = makeBlob(300_000)
    const good = blob.chunks[0]!
    expect(await store.putChunks(mailbox(1), blob.sealed.id, [good])).toEqual({ refused: 'no-hash-list' })
    await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)
    const flipped = new Uint8Array(blob.chunks[1]!.cipher)
    flipped[100]! ^= 1
    const result = await store.putChunks(mailbox(1), blob.sealed.id, [
      good,
      { index: 1, cipher: flipped },
      { index: 2, cipher: blob.chunks[2]!.cipher.subarray(0, 1000) },
      // Chunk 3's bytes offered as chunk 4: right bytes, wrong place.
      { index: 4, cipher: blob.chunks[3]!.cipher },
      { index: 999, cipher: blob.chunks[3]!.cipher },
    ])
    expect(result).toEqual({ results: ['stored', 'corrupt', 'corrupt', 'corrupt', 'corrupt'] })
    expect(await store.putChunks(mailbox(1), blob.sealed.id, [good])).toEqual({ results: ['duplicate'] })
    const range = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    expect([...range!.have]).toEqual([0b00000001, 0])
  })

  it('keeps blobs per mailbox: another mailbox neither sees nor can overwrite one by naming its id', async () => {
    const { store } = await open()
    const blob = makeBlob(100_000)
    await upload(store, mailbox(1), blob)
    expect(await store.getList(mailbox(2), blob.sealed.id)).toBeUndefined()
    expect(await store.readRange(mailbox(2), blob.sealed.id, 0, 16)).toBeUndefined()
    expect(await store.putChunks(mailbox(2), blob.sealed.id, [blob.chunks[0]!])).toEqual({ refused: 'no-hash-list' })
  })

  it('refuses a blob over the per-blob cap, over the mailbox quota, over the peer day quota, and larger than the budget', async () => {
    const blob = makeBlob(300_000)
    const size = counted(blob)
    {
      const { store } = await open({ maxBlobBytes: cipherBytesOf(blob.sealed.padded) - 1 })
      expect(await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)).toEqual({ refused: 'blob-too-large' })
      await db!.close()
    }
    {
      const { store } = await open({ mailboxMaxBytes: 2 * size - 1, maxBlobBytes: size })
      await upload(store, mailbox(1), blob)
      const second = makeBlob(300_000, 2)
      expect(await store.putList(mailbox(1), 'p', second.sealed.id, second.sealed.padded, second.sealed.hashList)).toEqual({ refused: 'mailbox-quota' })
      // Another mailbox still has room.
      expect(await store.putList(mailbox(2), 'q', second.sealed.id, second.sealed.padded, second.sealed.hashList)).toMatchObject({ status: 'stored' })
      await db!.close()
    }
    {
      const { store } = await open({ peerMaxBytesPerDay: 2 * size - 1 })
      await upload(store, mailbox(1), blob, 'uploader')
      const second = makeBlob(300_000, 3)
      expect(await store.putList(mailbox(2), 'uploader', second.sealed.id, second.sealed.padded, second.sealed.hashList)).toEqual({ refused: 'peer-quota' })
      // The next UTC day the peer may upload again.
      clock += DAY
      expect(await store.putList(mailbox(2), 'uploader', second.sealed.id, second.sealed.padded, second.sealed.hashList)).toMatchObject({ status: 'stored' })
      await db!.close()
    }
    {
      const { store } = await open({ maxStoredBytes: size - 1 })
      expect(await store.putList(mailbox(1), 'p', blob.sealed.id, blob.sealed.padded, blob.sealed.hashList)).toEqual({ refused: 'disk-full' })
    }
  })

  it('evicts the oldest blobs of the relay (files too) to stay within the budget', async () => {
    const evictions: Array<[number, number]> = []
    const blobs = [1, 2, 3].map((seed) => makeBlob(300_000, seed))
    const size = counted(blobs[0]!)
    // Room for two, and after evicting down to 98 % of the budget still for two: one eviction, not two.
    const { store, dir } = await open({ maxStoredBytes: Math.floor(2.1 * size) }, { onEvicted: (n: number, b: number) => evictions.push([n, b]) })
    await upload(store, mailbox(1), blobs[0]!)
    clock += 1000
    await upload(store, mailbox(2), blobs[1]!)
    clock += 1000
    await upload(store, mailbox(3), blobs[2]!)
    expect(evictions).toEqual([[1, size]])
    expect(store.totals).toMatchObject({ blobs: 2, bytes: 2 * size })
    expect(await store.getList(mailbox(1), blobs[0]!.sealed.id)).toBeUndefined()
    await expect(stat(blobFilePath(join(dir, 'blobs'), toHex(blobs[0]!.sealed.id), toBase64Url(mailbox(1))))).rejects.toThrow()
    expect(digest(decrypt(blobs[2]!, await readAll(store, mailbox(3), blobs[2]!)))).toBe(digest(blobs[2]!.plain))
  })

  it('deletes blobs past retention (records, file, usage) and uploads never completed past their TTL', async () => {
    const expired: Array<[string, number]> = []
    const { store, dir } = await open({}, { onExpired: (why: string, n: number) => expired.push([why, n]) })
    const whole = makeBlob(200_000, 1)
    const partial = makeBlob(200_000, 2)
    await upload(store, mailbox(1), whole)
    await store.putList(mailbox(1), 'p', partial.sealed.id, partial.sealed.padded, partial.sealed.hashList)
    await store.putChunks(mailbox(1), partial.sealed.id, [partial.chunks[0]!])

    clock += 3 * DAY + 1
    expect(await store.sweep()).toMatchObject({ expired: 0, incomplete: 1 })
    expect(await store.getList(mailbox(1), partial.sealed.id)).toBeUndefined()
    expect(await store.getList(mailbox(1), whole.sealed.id)).toBeDefined()

    // Past retention it is not served even before a sweep, then the sweep removes it.
    clock += 27 * DAY
    expect(await store.getList(mailbox(1), whole.sealed.id)).toBeUndefined()
    expect(await store.sweep()).toMatchObject({ expired: 1 })
    expect(expired).toEqual([
      ['incomplete', 1],
      ['retention', 1],
    ])
    expect(store.totals).toEqual({ bytes: 0, blobs: 0, incomplete: 0 })
    const left = await readdir(join(dir, 'blobs'), { recursive: true, withFileTypes: true })
    expect(left.filter((e) => e.isFile())).toEqual([])
    // The mailbox can list again.
    const again = makeBlob(200_000, 4)
    expect(await store.putList(mailbox(1), 'p', again.sealed.id, again.sealed.padded, again.sealed.hashList)).toMatchObject({ status: 'stored' })
  })

  it('keeps stored blobs across a restart (LevelDB on disk), totals included', async () => {
    const dir = await tempDir()
    const blob = makeBlob(500_000)
    {
      const disk = await openDatabase({ path: join(dir, 'db') })
      const { store } = await open({}, {}, { db: disk, dir })
      await upload(store, mailbox(1), blob)
      await store.close()
      await disk.close()
    }
    const disk = await openDatabase({ path: join(dir, 'db') })
    const { store } = await open({}, {}, { db: disk, dir })
    expect(store.totals).toEqual({ bytes: counted(blob), blobs: 1, incomplete: 0 })
    expect(digest(decrypt(blob, await readAll(store, mailbox(1), blob)))).toBe(digest(blob.plain))
  })

  it('never serves a chunk damaged on disk: it is left out, unmarked, and may be uploaded again', async () => {
    let damaged = 0
    const { store, dir } = await open({}, { onDamaged: (n: number) => (damaged += n) })
    const blob = makeBlob(200_000)
    await upload(store, mailbox(1), blob)
    const path = blobFilePath(join(dir, 'blobs'), toHex(blob.sealed.id), toBase64Url(mailbox(1)))
    const file = await openFile(path, 'r+')
    await file.write(Uint8Array.of(0xff ^ blob.chunks[1]!.cipher[7]!), 0, 1, CHUNK_CIPHER_BYTES + 7)
    await file.close()

    const range = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    const served: number[] = []
    for await (const c of range!.chunks) served.push(c.index)
    expect(served).toEqual([0, 2, 3])
    expect(damaged).toBe(1)
    const after = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    expect([...after!.have]).toEqual([0b00001101, 0])
    expect(store.totals.incomplete).toBe(1)
    expect(await store.putChunks(mailbox(1), blob.sealed.id, [blob.chunks[1]!])).toEqual({ results: ['stored'] })
    expect(digest(decrypt(blob, await readAll(store, mailbox(1), blob)))).toBe(digest(blob.plain))
    expect(store.totals.incomplete).toBe(0)
  })

  it('unmarks the chunks of a blob whose file is gone, instead of claiming them', async () => {
    let damaged = 0
    const { store, dir } = await open({}, { onDamaged: (n: number) => (damaged += n) })
    const blob = makeBlob(100_000)
    await upload(store, mailbox(1), blob)
    await rm(blobFilePath(join(dir, 'blobs'), toHex(blob.sealed.id), toBase64Url(mailbox(1))))
    const range = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    const served: number[] = []
    for await (const c of range!.chunks) served.push(c.index)
    expect(served).toEqual([])
    expect(damaged).toBe(2)
    const after = await store.readRange(mailbox(1), blob.sealed.id, 0, 16)
    expect([...after!.have]).toEqual([0, 0])
  })
})
