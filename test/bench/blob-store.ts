/**
 * Attachment blobs on one machine, no network: what encrypting and storing a file costs, and that it does not cost
 * memory in proportion to the file.
 *
 *  1. the blob format in memory: seal (XChaCha20-Poly1305) and hash (SHA-256) per 64 KiB chunk, and both together
 *     through BlobEncryptor, in MB/s of file bytes;
 *  2. BlobStore.importFile of a `sizeMiB` file streamed in 1 MiB pieces from a generator (never held whole): MB/s,
 *     and the growth of heap plus buffers still reachable (after a collection every 64 MiB), which must stay under a
 *     bound (exit code 1 otherwise), with the peak including garbage and the RSS growth for reference;
 *  3. reading it back (plainStream, decrypting every chunk) and receiving it (writeChunks in windows of 16 chunks, as
 *     the fetcher does: verify, write, one datasync, one put), in MB/s;
 *  4. only when `transferMiB` is given: one blob of that size between two libp2p nodes on loopback (BlobServer on one,
 *     BlobFetcher with the other as its only source, real stores on both), against a raw libp2p stream of the same
 *     bytes between the same kind of nodes (files-raw.ts) run before and after it, in MB/s of padded blob bytes.
 *     This isolates the blob protocol, the store and the fetcher from the core (files.ts measures the whole path).
 *
 * Usage: npx tsx --expose-gc test/bench/blob-store.ts [sizeMiB=1024] [receiveMiB=256] [transferMiB] [transferRuns=1]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlobEncryptor, CHUNK_BYTES, hashChunk, sealChunk } from '../../node/common/blob/format.js'
import { openDatabase } from '../../node/common/storage/database.js'
import { toHex } from '../../node/common/util/bytes.js'
import { BlobStore } from '../../node/src/core/blobs/blob-store.js'
import { Logger } from '../../node/src/core/logger.js'
import { CoreStore } from '../../node/src/store/core-store.js'

const MiB = 1024 * 1024
const sizeMiB = Number(process.argv[2] ?? 1024)
const receiveMiB = Number(process.argv[3] ?? 256)
const transferMiB = process.argv[4] === undefined ? 0 : Number(process.argv[4])
const transferRuns = Number(process.argv[5] ?? 1)
/** Heap growth allowed while importing any size: a few chunks, the hash list (≤ 545 KB), LevelDB's caches. */
const HEAP_BOUND = 48 * MiB
const CONV = 'c'.repeat(32)

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {
  throw new Error('run with --expose-gc: the memory bound is measured after collections')
})
const mbps = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1e3)).toFixed(0)} MB/s`
const now = (): number => performance.now()

/** `total` bytes in 1 MiB pieces from one reused buffer (varied per piece so chunks differ). */
function* source(total: number): Generator<Uint8Array> {
  const piece = new Uint8Array(MiB)
  for (let i = 0; i < piece.length; i++) piece[i] = (i * 2654435761) >>> 24
  for (let sent = 0, n = 0; sent < total; n++) {
    piece[0] = n & 0xff
    piece[1] = (n >> 8) & 0xff
    const size = Math.min(MiB, total - sent)
    sent += size
    yield size === MiB ? piece : piece.subarray(0, size)
  }
}

function formatThroughput(): void {
  const bytes = 128 * MiB
  const key = new Uint8Array(32).fill(1)
  const plain = new Uint8Array(CHUNK_BYTES).fill(7)
  const chunks = bytes / CHUNK_BYTES
  let t = now()
  let cipher: Uint8Array = new Uint8Array(0)
  for (let i = 0; i < chunks; i++) cipher = sealChunk(key, i, false, plain)
  const sealMs = now() - t
  t = now()
  for (let i = 0; i < chunks; i++) hashChunk(cipher)
  const hashMs = now() - t
  t = now()
  const enc = new BlobEncryptor()
  for (const piece of source(bytes)) for (const _ of enc.push(piece)) void _
  for (const _ of enc.finish()) void _
  const bothMs = now() - t
  console.log(`format, ${bytes / MiB} MiB in memory: seal ${mbps(bytes, sealMs)}, hash ${mbps(bytes, hashMs)}, BlobEncryptor (seal + hash + pad) ${mbps(bytes, bothMs)}`)
}

async function main(): Promise<void> {
  formatThroughput()
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-blobs-'))
  const db = await openDatabase({ path: join(dir, 'db') })
  const core = new CoreStore(db, new Uint8Array(32).fill(3))
  const store = await BlobStore.open(dir, core, Logger.silent())
  let failed = false
  try {
    // 2. import, with memory sampled throughout.
    gc()
    // Buffers live outside the V8 heap (`arrayBuffers`): a store that kept chunks would show there, not in heapUsed.
    const js = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers
    const heap0 = js(process.memoryUsage())
    const rss0 = process.memoryUsage().rss
    let heapMax = heap0
    let retainedMax = heap0
    let rssMax = rss0
    const sample = (): void => {
      const m = process.memoryUsage()
      heapMax = Math.max(heapMax, js(m))
      rssMax = Math.max(rssMax, m.rss)
    }
    // The bound is on what stays reachable (measured after a collection every 64 MiB), not on garbage a busy
    // machine has not collected yet; the peak with garbage is printed too.
    const retained = (): void => {
      gc()
      retainedMax = Math.max(retainedMax, js(process.memoryUsage()))
    }
    const timer = setInterval(sample, 20)
    async function* sampled(): AsyncGenerator<Uint8Array> {
      let n = 0
      for (const piece of source(sizeMiB * MiB)) {
        sample()
        if (++n % 64 === 0) retained()
        yield piece
      }
    }
    let t = now()
    const ref = await store.importFile(CONV, sampled(), sizeMiB * MiB)
    const importMs = now() - t
    clearInterval(timer)
    sample()
    retained()
    const heapGrowth = retainedMax - heap0
    const peakGrowth = heapMax - heap0
    const rssGrowth = rssMax - rss0
    console.log(
      `import ${sizeMiB} MiB (padded ${(ref.padded / MiB).toFixed(1)} MiB, ${ref.chunks} chunks): ${(importMs / 1e3).toFixed(1)} s, ` +
        `${mbps(sizeMiB * MiB, importMs)}; heap + buffers retained growth ${(heapGrowth / MiB).toFixed(1)} MiB (bound ${HEAP_BOUND / MiB}; peak with garbage ${(peakGrowth / MiB).toFixed(1)}), ` +
        `RSS growth ${(rssGrowth / MiB).toFixed(1)} MiB`,
    )
    if (heapGrowth > HEAP_BOUND) {
      console.error(`FAIL: heap and buffers grew ${(heapGrowth / MiB).toFixed(1)} MiB while importing, above the ${HEAP_BOUND / MiB} MiB bound`)
      failed = true
    }

    // 3a. read it all back, decrypting.
    t = now()
    let read = 0
    for await (const piece of store.plainStream(ref.id, ref.key, ref.size)) read += piece.length
    const readMs = now() - t
    if (read !== ref.size) throw new Error(`read ${read} bytes, expected ${ref.size}`)
    console.log(`plainStream ${sizeMiB} MiB (re-hash + decrypt every chunk): ${mbps(read, readMs)}`)

    // 3b. receive a blob of receiveMiB as the fetcher stores it.
    const enc = new BlobEncryptor()
    const sealed: Array<{ index: number; cipher: Uint8Array }> = []
    for (const piece of source(receiveMiB * MiB)) for (const c of enc.push(piece)) sealed.push({ index: c.index, cipher: c.cipher })
    const steps = enc.finish()
    let summary
    for (;;) {
      const step = steps.next()
      if (step.done === true) {
        summary = step.value
        break
      }
      sealed.push({ index: step.value.index, cipher: step.value.cipher })
    }
    const id = toHex(summary.id)
    await store.expect(CONV, id, summary.padded)
    await store.setHashList(id, summary.hashList)
    t = now()
    for (let i = 0; i < sealed.length; i += 16) {
      const { corrupt } = await store.writeChunks(id, sealed.slice(i, i + 16))
      if (corrupt.length > 0) throw new Error('a good chunk was refused')
    }
    const receiveMs = now() - t
    const record = await store.get(id)
    if (record?.complete !== true) throw new Error('the received blob is not complete')
    console.log(`writeChunks ${receiveMiB} MiB in windows of 16 (verify, write, datasync, put): ${mbps(receiveMiB * MiB, receiveMs)}`)
    console.log(`totalBytes on disk: ${((await store.totalBytes()) / MiB).toFixed(1)} MiB`)
  } finally {
    await store.close()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
  if (failed) process.exitCode = 1
}

/** Section 4: the blob protocol between two nodes vs a raw stream between two nodes, alternating. */
async function transfer(): Promise<void> {
  const { rawPair } = await import('./files-raw.js')
  const { BENCH_NETWORK } = await import('./harness.js')
  const { createHearthNode } = await import('../../node/common/net/create-node.js')
  const { BlobServer } = await import('../../node/src/core/blobs/blob-server.js')
  const { BlobFetcher } = await import('../../node/src/core/blobs/blob-fetcher.js')
  const { peerSource } = await import('../../node/src/core/blobs/blob-sources.js')

  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-blob-transfer-'))
  const open = async (name: string): Promise<{ store: BlobStore; close: () => Promise<void> }> => {
    const db = await openDatabase({ path: join(dir, name, 'db') })
    const store = await BlobStore.open(join(dir, name), new CoreStore(db, new Uint8Array(32).fill(5)), Logger.silent())
    return { store, close: async () => { await store.close(); await db.close() } }
  }
  const sender = await open('sender')
  const receiver = await open('receiver')
  const a = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  const b = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  const server = new BlobServer({ node: a, store: sender.store, isMemberDevice: (_c, peer) => peer === b.peerId })
  await server.start()
  await b.dial(a.addresses()[0]!)
  const fetcher = new BlobFetcher({ store: receiver.store })
  const raw = await rawPair()
  try {
    const ref = await sender.store.importFile(CONV, source(transferMiB * MiB), transferMiB * MiB)
    const rawRates: number[] = []
    const blobRates: number[] = []
    // CPU time of this process (both nodes) per MB moved: steadier than wall time on a machine shared with other work.
    const rawCpu: number[] = []
    const blobCpu: number[] = []
    const cpuMsPerMb = (since: NodeJS.CpuUsage): number => {
      const used = process.cpuUsage(since)
      return (used.user + used.system) / 1e3 / (ref.padded / 1e6)
    }
    const rawOnce = async (): Promise<void> => {
      const cpu = process.cpuUsage()
      rawRates.push((await raw.send(ref.padded, 10 * 60_000)).mbPerSecond)
      rawCpu.push(cpuMsPerMb(cpu))
    }
    await rawOnce()
    for (let run = 0; run < transferRuns; run++) {
      const t = now()
      const cpu = process.cpuUsage()
      const result = await fetcher.fetch(CONV, ref.id, ref.padded, () => [peerSource(b, a.peerId)])
      const ms = now() - t
      if (!result.complete) throw new Error(`transfer gave up: ${result.message}`)
      blobRates.push(ref.padded / 1e6 / (ms / 1e3))
      blobCpu.push(cpuMsPerMb(cpu))
      await receiver.store.remove(ref.id)
      await rawOnce()
    }
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length
    const list = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ')
    console.log(
      `transfer ${transferMiB} MiB over loopback (one source): blob ${mean(blobRates).toFixed(1)} MB/s [${list(blobRates)}], ` +
        `raw stream ${mean(rawRates).toFixed(1)} MB/s [${list(rawRates)}], ratio ${(mean(blobRates) / mean(rawRates)).toFixed(2)}; ` +
        `CPU ms per MB: blob ${mean(blobCpu).toFixed(1)} [${list(blobCpu)}], raw ${mean(rawCpu).toFixed(1)}`,
    )
  } finally {
    await raw.stop()
    await server.stop()
    await Promise.allSettled([a.stop(), b.stop()])
    await fetcher.idle()
    await sender.close()
    await receiver.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
if (transferMiB > 0) await transfer()
