/**
 * Photos and files between two real cores (opened as every piece opens them: harness.ts), three measures:
 *
 *  1. transfer: alice sends one file of `transferMiB` through the core API (beginFile, appendFile in 512 KiB pieces,
 *     sendFiles); the figure is the time from bob's message.added to bob's file.progress `complete`, in MB/s of file
 *     bytes, against a raw libp2p stream carrying the same number of bytes between two nodes of the same kind
 *     (files-raw.ts), measured before and after the transfer in the same run (their mean is the baseline);
 *  2. time to first image: a 3 MB JPEG, from alice's sendFiles call (after the upload) to bob having read the whole
 *     photo back with readFile in 1 MiB pieces (what the UI does before it shows it), median of `photoSamples`;
 *  3. memory: a `memoryMiB` file to bob in his own process (files-child.ts, --expose-gc), his RSS, V8 heap and buffers
 *     sampled every 500 ms from the message's arrival to the file's completion; "flat" when the peak stays within
 *     `FILES_TARGETS.flatMiB` of the start (RSS, and heap plus buffers).
 *
 * It also runs the store-level bench (blob-store.ts: format, import, read back, receive, no network) in a child with
 * the memory size, so a slow transfer can be told apart from a slow store.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BlobStore } from '../../node/src/core/blobs/blob-store.js'
import type { Core } from '../../node/src/core/core.js'
import type { ConversationId } from '../../node/src/ids.js'
import type { ChildResult, MemorySample } from './files-child.js'
import { rawPair, type RawStreamResult } from './files-raw.js'
import {
  conversationPair,
  disposeAll,
  makeDataDir,
  now,
  openBenchCore,
  profiled,
  progress,
  progressDone,
  summarize,
  waitUntil,
  type BenchCore,
  type Summary,
} from './harness.js'

const MiB = 1024 * 1024
/** The API's largest file piece (base64 and JSON stay within its 1 MiB per message). */
const PIECE_BYTES = 512 * 1024
/** What files.read returns at most per call. */
const READ_BYTES = MiB
const CHILD = fileURLToPath(new URL('./files-child.ts', import.meta.url))
const STORE_BENCH = fileURLToPath(new URL('./blob-store.ts', import.meta.url))

export interface FilesSizes {
  transferMiB: number
  /**
   * Transfers timed, each between its own two raw-stream runs; the row gives the median ratio. The raw stream's rate
   * moves by tens of percent between runs minutes apart on a shared host, so one transfer's ratio says little.
   */
  transferRuns: number
  photoBytes: number
  photoSamples: number
  memoryMiB: number
}
export const FILES_SIZES: FilesSizes = { transferMiB: 64, transferRuns: 3, photoBytes: 3_000_000, photoSamples: 5, memoryMiB: 1024 }
export const FILES_QUICK_SIZES: FilesSizes = { transferMiB: 8, transferRuns: 1, photoBytes: 3_000_000, photoSamples: 5, memoryMiB: 128 }
export const FILES_TARGETS = { throughputRatio: 0.5, flatMiB: 64 }

export interface FilesResult {
  sizes: FilesSizes
  /** Every transfer's ratio to its raw runs, in the order run; `transfer` is the one with the median ratio. */
  transferRatios: number[]
  transfer: {
    bytes: number
    /** Raw stream before and after the transfer; `raw` is their mean rate. */
    rawRuns: RawStreamResult[]
    rawMbPerSecond: number
    /** Alice's upload (beginFile, appendFile…): encrypting and storing, before anything is sent. */
    uploadMs: number
    /** sendFiles call → bob's message.added */
    announceMs: number
    /** bob's message.added → file complete: the measured figure */
    downloadMs: number
    mbPerSecond: number
    /** sendFiles → complete */
    endToEndMbPerSecond: number
    ratio: number
    /**
     * Wall time inside the store during the download, summed over calls: bob's stageChunks (verify and write the
     * windows waiting) and commitChunks (one fdatasync and one bitmap put for all staged so far), each one call at a
     * time per blob, so each sum is how long that loop was busy; alice's readChunks (record read, file lease, one read,
     * re-hash per group of chunks; calls overlap, so the sum can exceed the download).
     */
    store: { stageMs: number; stageCalls: number; commitMs: number; commitCalls: number; readChunksMs: number; readCalls: number }
  }
  photo: {
    bytes: number
    /** sendFiles → whole photo read back on bob, per sample */
    samples: number[]
    summary: Summary
    /** of which: until the file was complete on bob (the rest is the reads) */
    completeMs: Summary
  }
  memory: {
    bytes: number
    start: MemorySample
    max: { rssMiB: number; heapMiB: number; buffersMiB: number; heapAndBuffersMiB: number }
    end: MemorySample
    endAfterGc: MemorySample
    samples: number
    /** Eleven samples spread evenly over the download: whether memory levels off or keeps climbing with the bytes. */
    trace: MemorySample[]
    downloadMs: number
    mbPerSecond: number
    rssGrowthMiB: number
    heapAndBuffersGrowthMiB: number
    /**
     * RSS growth over the last 90 % of the bytes (highest RSS from the first sample past 10 % on, minus that sample's):
     * whether memory keeps climbing with the file once the transfer's working set is in place. Information beside the
     * target, which counts from the start.
     */
    lateRssGrowthMiB: number
    flat: boolean
  }
  /** blob-store.ts's lines (MB/s of sealing, hashing, import, read back, receive), or its failure. */
  store: { lines: string[]; ok: boolean }
}

// ------------------------------------------------------------------------------------------------------ uploads

/**
 * A file of `size` bytes in 512 KiB pieces, each a fresh copy of a random block with its index written in, so no two
 * chunks are alike; `head` is written over the first bytes (a JPEG's magic makes the sniffer call it a photo).
 */
async function upload(core: Core, id: ConversationId, name: string, size: number, head?: Uint8Array): Promise<string> {
  const { uploadId } = await core.files.begin(id, name, size)
  const block = new Uint8Array(randomBytes(PIECE_BYTES))
  for (let sent = 0, n = 0; sent < size; n++) {
    const length = Math.min(PIECE_BYTES, size - sent)
    const piece = block.slice(0, length)
    new DataView(piece.buffer).setUint32(length >= 8 ? 4 : 0, n)
    if (sent === 0 && head !== undefined) piece.set(head.subarray(0, length))
    await core.files.append(uploadId, piece)
    sent += length
    if (n % 256 === 255) progress(`  files: alice uploaded ${(sent / MiB).toFixed(0)}/${(size / MiB).toFixed(0)} MiB`)
  }
  progressDone()
  return uploadId
}

/** JPEG start of image and a JFIF APP0 segment: enough for file-type to sniff image/jpeg. */
const JPEG_HEAD = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00])

/** When bob saw each message with files, and when each of their first files was complete. */
function watchFiles(core: Core, id: ConversationId): { added: Map<string, number>; complete: Map<string, number>; off: () => void } {
  const added = new Map<string, number>()
  const complete = new Map<string, number>()
  const offAdded = core.events.on('message.added', (e) => {
    if (e.conversation === id && !e.message.mine && (e.message.attachments?.length ?? 0) > 0 && !added.has(e.message.id)) added.set(e.message.id, now())
  })
  const offProgress = core.events.on('file.progress', (e) => {
    if (e.conversation === id && e.index === 0 && e.state === 'complete' && !complete.has(e.message)) complete.set(e.message, now())
  })
  return {
    added,
    complete,
    off: () => {
      offAdded()
      offProgress()
    },
  }
}

/** Bob's message id for the file alice just sent (the same id on both sides). */
async function completed(watch: ReturnType<typeof watchFiles>, messageId: string, timeoutMs: number, what: string): Promise<{ added: number; complete: number }> {
  await waitUntil(() => watch.added.has(messageId) && watch.complete.has(messageId), timeoutMs, what, 5)
  return { added: watch.added.get(messageId)!, complete: watch.complete.get(messageId)! }
}

/**
 * Times BlobStore.stageChunks, commitChunks and readChunks for every store in this process until `stop` (both cores
 * share the process here: only bob writes chunks and only alice serves them, so each sum is one side's).
 */
function timeStore(): { stop: () => FilesResult['transfer']['store'] } {
  const proto = BlobStore.prototype
  const { stageChunks, commitChunks, readChunks } = proto
  const totals = { stageMs: 0, stageCalls: 0, commitMs: 0, commitCalls: 0, readChunksMs: 0, readCalls: 0 }
  const timed = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, add: (ms: number) => void) =>
    async function (this: BlobStore, ...args: A): Promise<R> {
      const t = now()
      try {
        return await fn.apply(this, args)
      } finally {
        add(now() - t)
      }
    }
  proto.stageChunks = timed(stageChunks, (ms) => ((totals.stageMs += ms), totals.stageCalls++))
  proto.commitChunks = timed(commitChunks, (ms) => ((totals.commitMs += ms), totals.commitCalls++))
  proto.readChunks = timed(readChunks, (ms) => ((totals.readChunksMs += ms), totals.readCalls++))
  return {
    stop() {
      proto.stageChunks = stageChunks
      proto.commitChunks = commitChunks
      proto.readChunks = readChunks
      return { ...totals }
    },
  }
}

// ------------------------------------------------------------------------------------------------------ measures

export async function timeToFirstImage(alice: BenchCore, bob: BenchCore, id: ConversationId, sizes: FilesSizes, log: (t: string) => void): Promise<FilesResult['photo']> {
  const watch = watchFiles(bob.core, id)
  const total: number[] = []
  const toComplete: number[] = []
  try {
    for (let i = 0; i < sizes.photoSamples; i++) {
      const uploadId = await upload(alice.core, id, `photo-${i}.jpg`, sizes.photoBytes, JPEG_HEAD)
      const t = now()
      const sent = await alice.core.files.send(id, '', [{ uploadId, kind: 'image' }])
      const { complete } = await completed(watch, sent.id, 60_000, `photo ${i} on bob`)
      let read = 0
      let first: Uint8Array | undefined
      while (read < sizes.photoBytes) {
        const piece = await bob.core.files.read(id, sent.id, 0, read, READ_BYTES)
        const bytes = Buffer.from(piece.data, 'base64')
        if (read === 0) first = bytes
        read += bytes.length
        if (bytes.length === 0) throw new Error(`photo ${i}: read stopped at ${read} of ${sizes.photoBytes} bytes`)
      }
      total.push(now() - t)
      toComplete.push(complete - t)
      // What bob shows must be what alice sent: the photo's own first bytes, and the kind the UI renders inline.
      if (first === undefined || Buffer.compare(first.subarray(0, JPEG_HEAD.length), JPEG_HEAD) !== 0) throw new Error(`photo ${i}: bob read other bytes`)
      const view = (await bob.core.page(id, { limit: 5 })).messages.find((m) => m.id === sent.id)
      if (view?.attachments?.[0]?.kind !== 'image') throw new Error(`photo ${i}: bob does not show it as an image`)
    }
  } finally {
    watch.off()
  }
  const summary = summarize(total)
  log(`  files: time to first image p50 ${summary.p50.toFixed(0)} ms (${total.map((x) => x.toFixed(0)).join(', ')})`)
  return { bytes: sizes.photoBytes, samples: total, summary, completeMs: summarize(toComplete) }
}

export async function transfer(alice: BenchCore, bob: BenchCore, id: ConversationId, sizes: FilesSizes, log: (t: string) => void): Promise<FilesResult['transfer']> {
  const bytes = sizes.transferMiB * MiB
  // At 1 MB/s a transfer would still finish; slower is a failure worth seeing as one.
  const timeoutMs = Math.max(120_000, (bytes / 1e6) * 1_000)
  const raw = await rawPair()
  try {
    await raw.send(4 * MiB, 60_000) // warm-up: connection windows and JIT
    const before = await raw.send(bytes, timeoutMs)
    log(`  files: raw stream ${before.mbPerSecond.toFixed(1)} MB/s`)

    const watch = watchFiles(bob.core, id)
    try {
      let t = now()
      const uploadId = await upload(alice.core, id, 'transfer.bin', bytes)
      const uploadMs = now() - t
      const timing = timeStore()
      let measured: { t0: number; added: number; complete: number }
      let store: FilesResult['transfer']['store']
      try {
        measured = await profiled('files-transfer', async () => {
          const t0 = now()
          const sent = await alice.core.files.send(id, 'bench file', [{ uploadId, kind: 'file' }])
          return { t0, ...(await completed(watch, sent.id, timeoutMs, `the ${sizes.transferMiB} MiB file on bob`)) }
        })
      } finally {
        store = timing.stop()
      }
      const downloadMs = measured.complete - measured.added
      const mbPerSecond = bytes / 1e6 / (downloadMs / 1e3)
      log(`  files: Hearth ${mbPerSecond.toFixed(1)} MB/s (upload ${(uploadMs / 1e3).toFixed(1)} s)`)

      t = now()
      const after = await raw.send(bytes, timeoutMs)
      log(`  files: raw stream again ${after.mbPerSecond.toFixed(1)} MB/s (${((now() - t) / 1e3).toFixed(1)} s)`)
      const rawMbPerSecond = (before.mbPerSecond + after.mbPerSecond) / 2
      return {
        bytes,
        rawRuns: [before, after],
        rawMbPerSecond,
        uploadMs,
        announceMs: measured.added - measured.t0,
        downloadMs,
        mbPerSecond,
        endToEndMbPerSecond: bytes / 1e6 / ((measured.complete - measured.t0) / 1e3),
        ratio: mbPerSecond / rawMbPerSecond,
        store,
      }
    } finally {
      watch.off()
    }
  } finally {
    await raw.stop()
  }
}

/** Alice in this process, bob in files-child.ts: a `memoryMiB` file, bob's memory sampled by himself. */
async function memoryDuringTransfer(sizes: FilesSizes, log: (t: string) => void): Promise<FilesResult['memory']> {
  const bytes = sizes.memoryMiB * MiB
  const alice = await openBenchCore('alice', await makeDataDir('alice-files'))
  const cores = [alice]
  await alice.core.updateSettings({ autoDownloadPeerBytes: 2 ** 30, maxFileBytes: 2 ** 30 })
  const id = (await alice.core.createConversation({ kind: 'direct', name: 'files' })).id as ConversationId
  const invite = await alice.core.createInvite(id, { singleUse: true })
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, invite.code], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const line = async (prefix: string, timeoutMs: number, what: string): Promise<string> => {
    let found: string | undefined
    await waitUntil(() => (found = lines.find((l) => l.startsWith(prefix))) !== undefined || child.exitCode !== null, timeoutMs, what, 20)
    if (found === undefined) throw new Error(`files child exited (${child.exitCode}) before ${what}`)
    return found
  }
  try {
    await line('READY', 60_000, "bob's core joining")
    await waitUntil(() => alice.core.members(id).length === 2, 20_000, 'bob a member on alice')
    // Keys and connection in place before the file: a text message each second until bob has one.
    await waitUntil(
      async () => {
        if (lines.includes('HELLO')) return true
        await alice.core.send(id, 'hello')
        return false
      },
      30_000,
      'a first message on bob',
      1_000,
    )
    const uploadId = await upload(alice.core, id, 'large.bin', bytes)
    await alice.core.files.send(id, 'large file', [{ uploadId, kind: 'file' }])
    const timeoutMs = Math.max(300_000, (bytes / 1e6) * 2_000)
    const result = JSON.parse((await line('RESULT ', timeoutMs, `the ${sizes.memoryMiB} MiB file on bob`)).slice('RESULT '.length)) as ChildResult
    const all = [result.start, ...result.samples, result.end]
    const max = {
      rssMiB: Math.max(...all.map((s) => s.rssMiB)),
      heapMiB: Math.max(...all.map((s) => s.heapMiB)),
      buffersMiB: Math.max(...all.map((s) => s.buffersMiB)),
      heapAndBuffersMiB: Math.max(...all.map((s) => s.heapMiB + s.buffersMiB)),
    }
    const rssGrowthMiB = max.rssMiB - result.start.rssMiB
    const late = all.filter((x) => x.receivedMiB >= sizes.memoryMiB / 10)
    const lateRssGrowthMiB = late.length === 0 ? 0 : Math.max(...late.map((x) => x.rssMiB)) - late[0]!.rssMiB
    const heapAndBuffersGrowthMiB = max.heapAndBuffersMiB - (result.start.heapMiB + result.start.buffersMiB)
    const mbPerSecond = bytes / 1e6 / (result.downloadMs / 1e3)
    log(`  files: ${sizes.memoryMiB} MiB to bob's process at ${mbPerSecond.toFixed(1)} MB/s; RSS +${rssGrowthMiB.toFixed(0)} MiB, heap+buffers +${heapAndBuffersGrowthMiB.toFixed(0)} MiB at most`)
    return {
      bytes,
      start: result.start,
      max,
      end: result.end,
      endAfterGc: result.endAfterGc,
      samples: result.samples.length,
      trace: Array.from({ length: 11 }, (_, i) => all[Math.round((i * (all.length - 1)) / 10)]!),
      downloadMs: result.downloadMs,
      mbPerSecond,
      rssGrowthMiB,
      heapAndBuffersGrowthMiB,
      lateRssGrowthMiB,
      flat: rssGrowthMiB < FILES_TARGETS.flatMiB && heapAndBuffersGrowthMiB < FILES_TARGETS.flatMiB,
    }
  } finally {
    child.stdin.write('exit\n')
    child.stdin.end()
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(killer)
    await disposeAll(cores)
  }
}

/** blob-store.ts in its own process (it needs --expose-gc and exits 1 when its heap bound is broken). */
function storeBench(importMiB: number, receiveMiB: number, log: (t: string) => void): Promise<FilesResult['store']> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', STORE_BENCH, String(importMiB), String(receiveMiB)], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: string[] = []
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
    createInterface({ input: child.stderr }).on('line', (line) => lines.push(line))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      for (const line of lines) log(`  files (store): ${line}`)
      resolve({ lines, ok: code === 0 })
    })
  })
}

export async function filesBench(sizes: FilesSizes, log: (text: string) => void): Promise<FilesResult> {
  const { alice, bob, id } = await conversationPair('direct')
  let photo: FilesResult['photo']
  const runs: Array<FilesResult['transfer']> = []
  try {
    const big = { autoDownloadPeerBytes: 2 ** 30, maxFileBytes: 2 ** 30 }
    await alice.core.updateSettings(big)
    await bob.core.updateSettings(big)
    // The photos first: they also warm the blob path up before the transfer is timed.
    photo = await timeToFirstImage(alice, bob, id, sizes, log)
    for (let i = 0; i < sizes.transferRuns; i++) runs.push(await transfer(alice, bob, id, sizes, log))
  } finally {
    await disposeAll([alice, bob])
  }
  const memory = await memoryDuringTransfer(sizes, log)
  const store = await storeBench(sizes.memoryMiB, sizes.transferMiB, log)
  const byRatio = [...runs].sort((a, b) => a.ratio - b.ratio)
  return { sizes, transferRatios: runs.map((r) => r.ratio), transfer: byRatio[Math.floor((byRatio.length - 1) / 2)]!, photo, memory, store }
}

// ------------------------------------------------------------------------------------------------------ report

const mb = (x: number): string => `${x.toFixed(1)} MB/s`
const mib = (x: number): string => `${x.toFixed(0)} MiB`

export function filesRows(r: FilesResult): Array<[string, string, string, string, string, string]> {
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met')
  const t = r.transfer
  const m = r.memory
  const p = r.photo
  return [
    [`file transfer, ${r.sizes.transferMiB} MiB between two cores (vs one raw libp2p stream${r.transferRatios.length > 1 ? `; median of ${r.transferRatios.length}` : ''})`, mb(t.rawMbPerSecond), mb(t.mbPerSecond), `${(t.ratio * 100).toFixed(1)}%`, `≥ ${FILES_TARGETS.throughputRatio * 100}%`, met(t.ratio >= FILES_TARGETS.throughputRatio)],
    [`time to first image, ${(p.bytes / 1e6).toFixed(0)} MB photo, p50 of ${p.samples.length} (sendFiles → read back)`, '', `${p.summary.p50.toFixed(0)} ms`, '', '(info)', ''],
    [
      `receiver memory during a ${mib(r.sizes.memoryMiB)} transfer, growth at peak (RSS; heap + buffers)`,
      '',
      `${mib(m.rssGrowthMiB)}; ${mib(m.heapAndBuffersGrowthMiB)}`,
      '',
      `< ${FILES_TARGETS.flatMiB} MiB (flat)`,
      met(m.flat),
    ],
    ['  same, RSS growth over the last 90 % of the bytes', '', mib(m.lateRssGrowthMiB), '', '(info)', ''],
  ]
}

export function filesDetail(r: FilesResult): string {
  const t = r.transfer
  const m = r.memory
  const p = r.photo
  const s = (x: MemorySample): string => `RSS ${x.rssMiB.toFixed(0)} / heap ${x.heapMiB.toFixed(0)} / buffers ${x.buffersMiB.toFixed(0)}`
  return [
    `files detail: transfer ratios ${r.transferRatios.map((x) => `${(x * 100).toFixed(1)}%`).join(', ')}; the median run's raw stream ${t.rawRuns.map((x) => mb(x.mbPerSecond)).join(' before, ')} after; alice's upload ${(t.bytes / 1e6 / (t.uploadMs / 1e3)).toFixed(1)} MB/s; sendFiles → bob's message ${t.announceMs.toFixed(0)} ms; end to end ${mb(t.endToEndMbPerSecond)}`,
    `  during the download (${(t.downloadMs / 1e3).toFixed(2)} s): bob's stageChunks busy ${(t.store.stageMs / 1e3).toFixed(2)} s (${t.store.stageCalls} calls), commitChunks ${(t.store.commitMs / 1e3).toFixed(2)} s (${t.store.commitCalls} syncs); alice's readChunks ${(t.store.readChunksMs / t.store.readCalls).toFixed(2)} ms per call (${t.store.readCalls} calls)`,
    `  photo: sendFiles → read back ${p.samples.map((x) => x.toFixed(0)).join(', ')} ms (complete on bob p50 ${p.completeMs.p50.toFixed(0)} ms)`,
    ...r.store.lines.map((l) => `  store: ${l}`),
    ...(r.store.ok ? [] : ['  store: blob-store.ts FAILED (exit code not 0)']),
    `  memory (MiB, bob's own process, ${m.samples} samples every 500 ms): start ${s(m.start)}; max RSS ${m.max.rssMiB.toFixed(0)} / heap ${m.max.heapMiB.toFixed(0)} / buffers ${m.max.buffersMiB.toFixed(0)}; end ${s(m.end)}; after GC ${s(m.endAfterGc)}; ${mb(m.mbPerSecond)}`,
    `  memory trace (received MiB: RSS / heap + buffers): ${m.trace.map((x) => `${x.receivedMiB.toFixed(0)}: ${x.rssMiB.toFixed(0)} / ${(x.heapMiB + x.buffersMiB).toFixed(0)}`).join(', ')}`,
  ].join('\n')
}
