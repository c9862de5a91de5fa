/**
 * The files piece's transfer measure alone, several times over one pair of cores, for working on the blob path:
 * one 3 MB photo first (warms the path up), then `runs` transfers of `MiB` each, each with its raw stream before and
 * after (files.ts, `transfer`). HEARTH_BENCH_PROFILE=DIR profiles each download as files.ts does.
 *
 * Usage: npx tsx test/bench/files-transfer.ts [runs=3] [MiB=64]
 */
import { loadavg } from 'node:os'
import type { FilesSizes } from './files.js'
import { timeToFirstImage, transfer } from './files.js'
import { conversationPair, disposeAll } from './harness.js'

const runs = Number(process.argv[2] ?? 3)
const transferMiB = Number(process.argv[3] ?? 64)
const sizes: FilesSizes = { transferMiB, transferRuns: runs, photoBytes: 3_000_000, photoSamples: 1, memoryMiB: 0 }
const log = (t: string): void => console.log(t)
/** The 1-minute load average, as `uptime` prints it. */
const load = (): string => loadavg()[0]!.toFixed(1)

const { alice, bob, id } = await conversationPair('direct')
const ratios: number[] = []
try {
  const big = { autoDownloadPeerBytes: 2 ** 30, maxFileBytes: 2 ** 30 }
  await alice.core.updateSettings(big)
  await bob.core.updateSettings(big)
  await timeToFirstImage(alice, bob, id, sizes, log)
  for (let i = 0; i < runs; i++) {
    const before = load()
    const t = await transfer(alice, bob, id, sizes, log)
    ratios.push(t.ratio)
    const w = t.store
    console.log(
      `run ${i + 1}: ${(t.ratio * 100).toFixed(1)} % (Hearth ${t.mbPerSecond.toFixed(1)}, raw ${t.rawMbPerSecond.toFixed(1)} MB/s; ` +
        `download ${(t.downloadMs / 1e3).toFixed(2)} s: stage ${w.stageCalls} calls ${(w.stageMs / 1e3).toFixed(2)} s, commit ${w.commitCalls} calls ${(w.commitMs / 1e3).toFixed(2)} s, ` +
        `read ${w.readCalls} calls ${(w.readChunksMs / 1e3).toFixed(2)} s; load ${before} → ${load()})`,
    )
  }
} finally {
  await disposeAll([alice, bob])
}
const sorted = [...ratios].sort((a, b) => a - b)
console.log(`ratios ${ratios.map((r) => (r * 100).toFixed(1)).join(', ')} %; median ${(sorted[Math.floor(sorted.length / 2)]! * 100).toFixed(1)} %`)
