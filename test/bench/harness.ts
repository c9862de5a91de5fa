/**
 * Shared pieces of the benchmark: statistics, timing, and real cores opened the way the product opens them
 * (`initDataDir` + `openCore`: identity on disk, migrated LevelDB, libp2p with Hearth's wire policy), restricted to TCP
 * loopback with mDNS and the DHT off so the numbers measure Hearth, not the LAN.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import type { NodeOptions } from '../../node/common/net/create-node.js'
import type { MessageView } from '../../node/src/api/types.js'
import type { Core } from '../../node/src/core/core.js'
import { Logger } from '../../node/src/core/logger.js'
import { initDataDir, openCore, type OpenedCore } from '../../node/src/core/open-core.js'
import type { ConversationId } from '../../node/src/ids.js'

/**
 * The network options every bench node uses, the raw baseline nodes included: Hearth's own defaults (gossipsub
 * heartbeat, flood publish, size caps, scoring, StrictNoSign, content ids) with discovery off and loopback listening.
 */
export const BENCH_NETWORK: Partial<NodeOptions> = {
  listen: ['/ip4/127.0.0.1/tcp/0'],
  mdns: false,
  dht: false,
}

/** Identity wrapping only: a cheap scrypt cost so opening a data dir does not dominate timings (not measured). */
export const BENCH_KEYS = passphraseKeyProvider('hearth-bench', { cost: { N: 2 ** 12, r: 8, p: 1 } })

export const now = (): number => performance.now()

export interface Summary {
  n: number
  mean: number
  p50: number
  p90: number
  p99: number
  min: number
  max: number
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN
  const sum = s.reduce((a, b) => a + b, 0)
  return { n: s.length, mean: sum / s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), min: s[0] ?? Number.NaN, max: s[s.length - 1] ?? Number.NaN }
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until `condition` holds; throws after `timeoutMs` so no bench piece can hang. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

/** A promise with its resolver, bounded by a timeout that rejects. */
export function deferred<T>(timeoutMs: number, what: string): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<T>((res, rej) => {
    timer = setTimeout(() => rej(new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
    resolve = (v) => {
      clearTimeout(timer)
      res(v)
    }
  })
  return { promise, resolve }
}

export function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`)
  else process.stderr.write(`${text}\n`)
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K')
}

// ------------------------------------------------------------------------------------------------------- cores

export interface BenchCore {
  name: string
  dir: string
  opened: OpenedCore
  core: Core
  close(): Promise<void>
}

export async function makeDataDir(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hearth-bench-${name}-`))
  await initDataDir(dir, name, BENCH_KEYS)
  return dir
}

/** Opens (or reopens) a data directory as a running core. */
/**
 * The pieces that measure the pipeline's capacity (latency, throughput) send far faster than a person, past the
 * per-device gossip allowance that is policy, not capacity: their cores lift it. The flood piece keeps the default.
 */
export const UNLIMITED_GOSSIP = { burst: 1e9, perSecond: 1e9 }

export async function openBenchCore(
  name: string,
  dir: string,
  syncIntervalMs?: number,
  gossipAllowance?: { burst: number; perSecond: number },
): Promise<BenchCore> {
  const opened = await openCore({
    dataDir: dir,
    keyProvider: BENCH_KEYS,
    network: { ...BENCH_NETWORK, onError: () => {} },
    logger: Logger.silent(),
    ...(syncIntervalMs === undefined ? {} : { syncIntervalMs }),
    ...(gossipAllowance === undefined ? {} : { gossipAllowance }),
  })
  return { name, dir, opened, core: opened.core, close: () => opened.close() }
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}

/** Stops cores and deletes their data directories; never throws (used in finally blocks). */
export async function disposeAll(cores: BenchCore[]): Promise<void> {
  await Promise.allSettled(cores.map((c) => c.close()))
  await Promise.allSettled(cores.map((c) => removeDir(c.dir)))
}

/**
 * Two cores over TCP loopback sharing one conversation (alice created it, bob joined by invite) with the gossip mesh
 * formed in both directions and bob holding alice's chain key, so the next message takes the full path.
 */
export async function conversationPair(
  kind: 'direct' | 'group',
  gossipAllowance?: { burst: number; perSecond: number },
): Promise<{ alice: BenchCore; bob: BenchCore; id: ConversationId }> {
  const alice = await openBenchCore('alice', await makeDataDir('alice'), undefined, gossipAllowance)
  const bob = await openBenchCore('bob', await makeDataDir('bob'), undefined, gossipAllowance)
  const conv = await alice.core.createConversation({ kind, name: 'bench' })
  const id = conv.id as ConversationId
  const invite = await alice.core.createInvite(id, { singleUse: true })
  await bob.core.join(invite.code)
  await waitUntil(() => bob.core.members(id).length === 2 && alice.core.members(id).length === 2, 20_000, 'membership on both sides')
  // A first message each way proves keys and mesh are in place before anything is measured.
  for (const [from, to] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const got = deferred<void>(30_000, `first message ${from.name} → ${to.name}`)
    const off = to.core.events.on('message.added', (e) => {
      if (e.conversation === id && !e.message.mine) got.resolve()
    })
    await from.core.send(id, `hello from ${from.name}`)
    await got.promise
    off()
  }
  return { alice, bob, id }
}

/** Resolves when `core` emits message.added for a message not its own with the given id. */
export function addedIds(core: Core, id: ConversationId): { seen: Set<string>; off: () => void; onAdd: (cb: (m: MessageView) => void) => void } {
  const seen = new Set<string>()
  let listener: ((m: MessageView) => void) | undefined
  const off = core.events.on('message.added', (e) => {
    if (e.conversation !== id || e.message.mine) return
    seen.add(e.message.id)
    listener?.(e.message)
  })
  return {
    seen,
    off,
    onAdd(cb) {
      listener = cb
    },
  }
}

/** A body of a given UTF-8 length (ASCII, so chars = bytes), unique per index. */
export function body(i: number, bytes = 200): string {
  const head = `bench message ${i} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

export function memoryMb(): { rssMb: number; heapUsedMb: number } {
  const m = process.memoryUsage()
  return { rssMb: round(m.rss / 2 ** 20, 1), heapUsedMb: round(m.heapUsed / 2 ** 20, 1) }
}

/**
 * Context for the latency figures: what one synced LevelDB batch (fsync) costs on this disk. Hearth's full path has
 * three in series (sender's send, receiver's ingest, receiver's apply), so this bounds how close it can get to raw gossip.
 */
export async function syncedBatchCost(samples = 200): Promise<Summary> {
  const { openDatabase } = await import('../../node/common/storage/database.js')
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-fsync-'))
  const db = await openDatabase({ path: join(dir, 'db') })
  try {
    const out: number[] = []
    const value = new Uint8Array(700)
    for (let i = 0; i < samples; i++) {
      const ops = Array.from({ length: 6 }, (_, j) => ({ type: 'put' as const, key: `k/${i}/${j}`, value }))
      const t = now()
      await db.batch(ops, { sync: true })
      out.push(now() - t)
    }
    return summarize(out)
  } finally {
    await db.close()
    await removeDir(dir)
  }
}

/**
 * With HEARTH_BENCH_PROFILE=DIR set, records a CPU profile of `fn` alone (not the setup around it) to
 * DIR/NAME.cpuprofile; summarise it with test/bench/profile-summary.ts. Without it, just runs `fn`.
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.HEARTH_BENCH_PROFILE
  if (dir === undefined || dir === '') return fn()
  const { Session } = await import('node:inspector/promises')
  const { mkdir, writeFile } = await import('node:fs/promises')
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  try {
    return await fn()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    await mkdir(dir, { recursive: true })
    const file = join(dir, `${name}.cpuprofile`)
    await writeFile(file, JSON.stringify(profile))
    console.error(`  profile of ${name} written to ${file}`)
  }
}

