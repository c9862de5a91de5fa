/**
 * Hearth benchmark. Measures in one run, on this machine:
 *   floor       the durable floor: raw gossipsub plus the least a durable, encrypted messenger does per message (seal
 *               and sign, one synced write; verify and open, one synced write), latency and throughput
 *               (test/bench/floor.ts); latency and throughput compare the full path with it too
 *   latency     raw gossipsub vs Hearth full path, publish→receive p50/p99 (sequential, ping-style)
 *   throughput  raw gossipsub vs Hearth, both pipelined with the same bounded window
 *   scale       cost of `send` for messages 1..1k vs 99,001..100k of one conversation
 *   page        newest page of that 100k-message conversation after a reopen, cold and warm
 *   catchup     bob away while alice writes 10k; time from bob's start until he has them all
 *   memory      core RSS/heap at rest with 50 conversations × 2k messages (child processes, forced GC)
 *   relay       one relay process: ingest envelopes/s vs a do-nothing server, 500-envelope page, 10k catch-up,
 *               2,000 clients held with page-fetch latency meanwhile (test/bench/relay.ts)
 *   flood       honest p50/p99 latency in a group of three, quiet vs while one member floods from its own process
 *               (test/bench/flood.ts)
 *   heal        a member cut off by the connection gaters, both sides write, time from the heal until every member
 *               holds every message (test/bench/heal.ts)
 *   join        join through a relay circuit with unreachable addresses in the invite, until the history is held
 *               (test/bench/join.ts)
 *   join-offline  a join waiting on the relay while the only admin is away: from the admin's app starting again to
 *               the joiner's first message (test/bench/join-offline.ts)
 *   relay-catchup  messages written while bob was away, fetched from a relay alone (test/bench/relay-catchup.ts)
 *   link        a newly linked device taking 50 conversations and 10k messages from the other device, vs another
 *               account's device joining the same conversations (test/bench/link.ts)
 *   cli         `hearth list` / `whoami` against a running core vs `node -e ''` (test/bench/cli.ts)
 *   files       file transfer between two cores vs a raw libp2p stream, time to first image, receiver memory during
 *               a 1 GiB transfer (test/bench/files.ts)
 *
 * Usage: npx tsx test/bench/run.ts [pieces...] [--quick]     (default: all pieces; --quick shrinks every size)
 * Prints a table and writes test/bench/results.json (or $HEARTH_BENCH_OUT). docs/PERFORMANCE.md explains the figures.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, totalmem, release, platform } from 'node:os'
import { fileURLToPath } from 'node:url'
import { baselineLatency, baselineThroughput, type LatencyResult, type ThroughputResult } from './baseline.js'
import { catchup, type CatchupResult } from './catchup.js'
import { cliLatency, type CliBenchResult } from './cli.js'
import { memberFlood, type FloodResult } from './flood.js'
import { durableFloor, type FloorResult } from './floor.js'
import { FILES_QUICK_SIZES, FILES_SIZES, filesBench, filesDetail, filesRows, type FilesResult } from './files.js'
import { envelopeSize, fullPath, type FullPathResult } from './fullpath.js'
import { now, round, syncedBatchCost, type Summary } from './harness.js'
import { JOIN_QUICK_SIZES, JOIN_SIZES, JOIN_TARGET_MS, joinDetail, joinOverRelay, joinRows, type JoinResult } from './join.js'
import { JOIN_OFFLINE_QUICK_SIZES, JOIN_OFFLINE_SIZES, joinOffline, type JoinOfflineResult } from './join-offline.js'
import { MAILBOX_FETCH_LIMIT } from '../../node/src/core/relays/relay-mailboxes.js'
import { RELAY_CATCHUP_QUICK_SIZES, RELAY_CATCHUP_SIZES, relayCatchUp, type RelayCatchUpResult } from './relay-catchup.js'
import { LINK_QUICK_SIZES, LINK_SIZES, linkBench, linkDetail, linkRows, type LinkResult } from './link.js'
import { HEAL_QUICK_SIZES, HEAL_SIZES, HEAL_TARGET_MS, heal, healDetail, healRows, type HealResult } from './heal.js'
import { memory, type MemoryResult } from './memory.js'
import { dropBig, newestPage, scale, type BigConversation, type PageResult, type ScaleResult } from './scale.js'
import { RELAY_QUICK_SIZES, RELAY_SIZES, relayBench, relayDetail, relayRows, type RelayResult } from './relay.js'

const PIECES = ['floor', 'latency', 'throughput', 'scale', 'page', 'catchup', 'memory', 'relay', 'flood', 'heal', 'join', 'join-offline', 'relay-catchup', 'link', 'cli', 'files'] as const
type Piece = (typeof PIECES)[number]

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const unknown = args.filter((a) => a !== '--quick' && !(PIECES as readonly string[]).includes(a))
if (unknown.length > 0) {
  console.error(`unknown piece(s): ${unknown.join(', ')}; pieces: ${PIECES.join(' ')} (and --quick)`)
  process.exit(2)
}
const chosen = args.filter((a): a is Piece => (PIECES as readonly string[]).includes(a))
const pieces: Piece[] = chosen.length === 0 ? [...PIECES] : PIECES.filter((p) => chosen.includes(p))

const SIZES = quick
  ? { bodyBytes: 200, latencySamples: 100, warmup: 20, baselineMessages: 1_000, floodSamples: 60, window: 64, fullMessages: 300, scaleTotal: 5_000, scaleWindow: 500, catchup: 1_000, memConvs: 5, memMsgs: 200, cliSamples: 10 }
  : { bodyBytes: 200, latencySamples: 1_000, warmup: 100, baselineMessages: 5_000, floodSamples: 240, window: 64, fullMessages: 2_000, scaleTotal: 100_000, scaleWindow: 1_000, catchup: 10_000, memConvs: 50, memMsgs: 2_000, cliSamples: 40 }

const TARGETS = { latencyRatio: 3, throughputRatio: 0.4, floorLatencyRatio: 2, floorThroughputRatio: 0.5, costRatio: 1.5, pageMs: 150, catchupMs: 2_000, memoryMb: 200, floodRatio: 2, healMs: HEAL_TARGET_MS, joinMs: JOIN_TARGET_MS, cliListP50Ms: 300 }

interface Results {
  date: string
  quick: boolean
  machine: { cpu: string; cores: number; memoryGb: number; os: string; node: string }
  /** The code measured: commit, and whether node/, crdt/ or relay/ had uncommitted changes at the time. */
  code: { commit: string; dirty: boolean }
  sizes: typeof SIZES
  targets: typeof TARGETS
  elapsedSeconds: Partial<Record<Piece | 'envelope' | 'total', number>>
  errors: Partial<Record<Piece, string>>
  envelopeBytes?: number
  floor?: FloorResult
  /** Ratios to raw gossipsub, and (when the floor piece ran) to the durable floor. */
  latency?: { baseline: LatencyResult; hearth: LatencyResult; ratioP50: number; ratioP99: number; floorRatioP50?: number; floorRatioP99?: number; syncedBatch: Summary }
  throughput?: { baseline: ThroughputResult; hearth: NonNullable<FullPathResult['throughput']>; ratio: number; floorRatio?: number }
  scale?: ScaleResult
  page?: PageResult
  catchup?: CatchupResult
  memory?: MemoryResult
  relay?: RelayResult
  flood?: FloodResult
  heal?: HealResult
  join?: JoinResult
  joinOffline?: JoinOfflineResult
  relayCatchUp?: RelayCatchUpResult
  link?: LinkResult
  cli?: CliBenchResult
  files?: FilesResult
}


const results: Results = {
  date: new Date().toISOString(),
  quick,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    os: `${platform()} ${release()}`,
    node: process.version,
  },
  code: codeVersion(),
  sizes: SIZES,
  targets: TARGETS,
  elapsedSeconds: {},
  errors: {},
}

function codeVersion(): { commit: string; dirty: boolean } {
  try {
    const git = (...a: string[]): string => execFileSync('git', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    return { commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'node', 'crdt', 'relay').length > 0 }
  } catch {
    return { commit: 'unknown', dirty: false }
  }
}

const log = (text: string): void => console.error(text)
const started = now()

async function timed<T>(name: Piece | 'envelope', fn: () => Promise<T>): Promise<T | undefined> {
  log(`▶ ${name}`)
  const t = now()
  try {
    return await fn()
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if (name !== 'envelope') results.errors[name] = message
    log(`✖ ${name} failed: ${message}`)
    return undefined
  } finally {
    const s = (now() - t) / 1000
    results.elapsedSeconds[name] = round(s, 1)
    log(`  ${name}: ${s.toFixed(1)} s`)
  }
}

let envelope: number | undefined
async function envelopeBytes(): Promise<number> {
  if (envelope === undefined) {
    envelope = (await timed('envelope', () => envelopeSize(SIZES.bodyBytes))) ?? 658
    results.envelopeBytes = envelope
    log(`  a ${SIZES.bodyBytes}-byte message travels in a ${envelope}-byte envelope`)
  }
  return envelope
}

if (pieces.includes('floor')) {
  const size = await envelopeBytes()
  const r = await timed('floor', () =>
    durableFloor({
      envelopeBytes: size,
      latency: { samples: SIZES.latencySamples, warmup: SIZES.warmup },
      throughput: { messages: SIZES.baselineMessages, window: SIZES.window },
    }),
  )
  if (r) results.floor = r
}

if (pieces.includes('latency')) {
  const size = await envelopeBytes()
  await timed('latency', async () => {
    const baseline = await baselineLatency(size, SIZES.latencySamples, SIZES.warmup)
    const hearth = (await fullPath({ latency: { samples: SIZES.latencySamples, warmup: SIZES.warmup } })).latency!
    const syncedBatch = await syncedBatchCost()
    const floor = results.floor?.latency?.summary
    results.latency = {
      baseline,
      hearth,
      ratioP50: hearth.summary.p50 / baseline.summary.p50,
      ratioP99: hearth.summary.p99 / baseline.summary.p99,
      ...(floor === undefined ? {} : { floorRatioP50: hearth.summary.p50 / floor.p50, floorRatioP99: hearth.summary.p99 / floor.p99 }),
      syncedBatch,
    }
  })
}

if (pieces.includes('throughput')) {
  const size = await envelopeBytes()
  await timed('throughput', async () => {
    const baseline = await baselineThroughput(size, SIZES.baselineMessages, SIZES.window)
    const hearth = (await fullPath({ throughput: { messages: SIZES.fullMessages, window: SIZES.window } })).throughput!
    const floor = results.floor?.throughput
    results.throughput = { baseline, hearth, ratio: hearth.perSecond / baseline.perSecond, ...(floor === undefined ? {} : { floorRatio: hearth.perSecond / floor.perSecond }) }
  })
}

let big: BigConversation | undefined
if (pieces.includes('scale') || pieces.includes('page')) {
  big = await timed('scale', () => scale(SIZES.scaleTotal, SIZES.scaleWindow))
  if (big) results.scale = big.scale
}
if (pieces.includes('page')) {
  if (big === undefined) results.errors.page = 'no data: the scale piece failed'
  else {
    const b = big
    const page = await timed('page', () => newestPage(b))
    if (page) results.page = page
  }
}
if (big) await dropBig(big)

if (pieces.includes('catchup')) {
  const r = await timed('catchup', () => catchup(SIZES.catchup))
  if (r) results.catchup = r
}

if (pieces.includes('memory')) {
  const r = await timed('memory', () => memory(SIZES.memConvs, SIZES.memMsgs))
  if (r) results.memory = r
}

if (pieces.includes('relay')) {
  const r = await timed('relay', () => relayBench(quick ? RELAY_QUICK_SIZES : RELAY_SIZES, log))
  if (r) results.relay = r
}

if (pieces.includes('flood')) {
  const r = await timed('flood', () => memberFlood(SIZES.floodSamples, SIZES.warmup))
  if (r) results.flood = r
}

if (pieces.includes('heal')) {
  const r = await timed('heal', () => heal(quick ? HEAL_QUICK_SIZES : HEAL_SIZES, log))
  if (r) results.heal = r
}

if (pieces.includes('join')) {
  const r = await timed('join', () => joinOverRelay(quick ? JOIN_QUICK_SIZES : JOIN_SIZES))
  if (r) results.join = r
}

if (pieces.includes('join-offline')) {
  const r = await timed('join-offline', () => joinOffline(quick ? JOIN_OFFLINE_QUICK_SIZES : JOIN_OFFLINE_SIZES))
  if (r) results.joinOffline = r
}
if (pieces.includes('relay-catchup')) {
  const r = await timed('relay-catchup', () => relayCatchUp(quick ? RELAY_CATCHUP_QUICK_SIZES : RELAY_CATCHUP_SIZES))
  if (r) results.relayCatchUp = r
}

if (pieces.includes('link')) {
  const r = await timed('link', () => linkBench(quick ? LINK_QUICK_SIZES : LINK_SIZES))
  if (r) results.link = r
}

if (pieces.includes('cli')) {
  const r = await timed('cli', () => cliLatency(SIZES.cliSamples))
  if (r) results.cli = r
}

if (pieces.includes('files')) {
  const r = await timed('files', () => filesBench(quick ? FILES_QUICK_SIZES : FILES_SIZES, log))
  if (r) results.files = r
}

results.elapsedSeconds.total = round((now() - started) / 1000, 1)

// ---------------------------------------------------------------------------------------------------- report

type Row = [string, string, string, string, string, string]
const rows: Row[] = []
const ms = (x: number): string => `${x.toFixed(2)} ms`
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met')
const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n))

const vsFloor = '  same, vs the durable floor'
const floorLatency = results.floor?.latency?.summary
const floorThroughput = results.floor?.throughput
if (results.latency) {
  const { baseline: b, hearth: h, ratioP50, ratioP99, floorRatioP50, floorRatioP99 } = results.latency
  rows.push(['latency p50', ms(b.summary.p50), ms(h.summary.p50), `${ratioP50.toFixed(2)}×`, `≤ ${TARGETS.latencyRatio}×`, met(ratioP50 <= TARGETS.latencyRatio)])
  if (floorLatency && floorRatioP50 !== undefined) {
    rows.push([vsFloor, ms(floorLatency.p50), ms(h.summary.p50), `${floorRatioP50.toFixed(2)}×`, `≤ ${TARGETS.floorLatencyRatio}×`, met(floorRatioP50 <= TARGETS.floorLatencyRatio)])
  }
  rows.push(['latency p99', ms(b.summary.p99), ms(h.summary.p99), `${ratioP99.toFixed(2)}×`, `≤ ${TARGETS.latencyRatio}×`, met(ratioP99 <= TARGETS.latencyRatio)])
  if (floorLatency && floorRatioP99 !== undefined) {
    rows.push([vsFloor, ms(floorLatency.p99), ms(h.summary.p99), `${floorRatioP99.toFixed(2)}×`, `≤ ${TARGETS.floorLatencyRatio}×`, met(floorRatioP99 <= TARGETS.floorLatencyRatio)])
  }
}
if (results.throughput) {
  const { baseline: b, hearth: h, ratio, floorRatio } = results.throughput
  rows.push(['throughput', `${b.perSecond.toFixed(0)} msg/s`, `${h.perSecond.toFixed(0)} msg/s`, `${(ratio * 100).toFixed(1)}%`, `≥ ${TARGETS.throughputRatio * 100}%`, met(ratio >= TARGETS.throughputRatio)])
  if (floorThroughput && floorRatio !== undefined) {
    rows.push([vsFloor, `${floorThroughput.perSecond.toFixed(0)} msg/s`, `${h.perSecond.toFixed(0)} msg/s`, `${(floorRatio * 100).toFixed(1)}%`, `≥ ${TARGETS.floorThroughputRatio * 100}%`, met(floorRatio >= TARGETS.floorThroughputRatio)])
  }
}
// The floor on its own, against raw gossipsub when that ran too: the least that durability and encryption cost.
if (floorLatency) {
  const raw = results.latency?.baseline.summary
  rows.push([
    'durable floor latency p50 / p99',
    raw ? `${ms(raw.p50)} / ${ms(raw.p99)}` : '',
    `${ms(floorLatency.p50)} / ${ms(floorLatency.p99)}`,
    raw ? `${(floorLatency.p50 / raw.p50).toFixed(2)}× / ${(floorLatency.p99 / raw.p99).toFixed(2)}×` : '',
    '(info)',
    '',
  ])
}
if (floorThroughput) {
  const raw = results.throughput?.baseline
  rows.push([
    'durable floor throughput',
    raw ? `${raw.perSecond.toFixed(0)} msg/s` : '',
    `${floorThroughput.perSecond.toFixed(0)} msg/s`,
    raw ? `${((floorThroughput.perSecond / raw.perSecond) * 100).toFixed(1)}%` : '',
    '(info)',
    '',
  ])
}
if (results.scale) {
  const s = results.scale
  rows.push([
    `send cost, msgs 1–${k(s.window)} vs ${k(s.total - s.window + 1)}–${k(s.total)} (mean)`,
    ms(s.first.mean),
    ms(s.last.mean),
    `${s.ratioMean.toFixed(2)}×`,
    `≤ ${TARGETS.costRatio}×`,
    met(s.ratioMean <= TARGETS.costRatio),
  ])
  rows.push(['  same, p50', ms(s.first.p50), ms(s.last.p50), `${s.ratioP50.toFixed(2)}×`, '(info)', ''])
}
if (results.page) {
  const p = results.page
  rows.push([`newest page (50) of ${k(p.messages)} msgs, cold`, '', ms(p.coldMs), '', `< ${TARGETS.pageMs} ms`, met(p.coldMs < TARGETS.pageMs)])
  rows.push(['  same, warm p50 / p99', '', `${ms(p.warm.p50)} / ${ms(p.warm.p99)}`, '', `< ${TARGETS.pageMs} ms`, met(p.warm.p99 < TARGETS.pageMs)])
}
if (results.catchup) {
  const c = results.catchup
  const figure = c.complete ? ms(c.totalMs) : `incomplete: ${c.received}/${c.messages} after ${(c.totalMs / 1000).toFixed(0)} s`
  rows.push([`catch-up of ${k(c.messages)} missed msgs`, '', figure, '', `< ${TARGETS.catchupMs} ms`, met(c.complete && c.totalMs < TARGETS.catchupMs && c.bobHas === c.messages)])
}
if (results.memory) {
  const m = results.memory
  rows.push([
    `memory at rest, ${m.conversations} convs × ${k(m.messagesPerConversation)} msgs`,
    '',
    `RSS ${m.atRest.rssMb} MB, heap ${m.atRest.heapUsedMb} MB`,
    '',
    `< ${TARGETS.memoryMb} MB`,
    met(m.atRest.rssMb < TARGETS.memoryMb),
  ])
}
if (results.relay) rows.push(...relayRows(results.relay))
if (results.flood) {
  const { unloaded: u, flooded: f, ratioP50, ratioP99 } = results.flood
  rows.push(['member flood, honest p50 (quiet → flooded)', '', `${ms(u.summary.p50)} → ${ms(f.summary.p50)}`, `${ratioP50.toFixed(2)}×`, `≤ ${TARGETS.floodRatio}×`, met(ratioP50 <= TARGETS.floodRatio)])
  rows.push(['member flood, honest p99 (quiet → flooded)', '', `${ms(u.summary.p99)} → ${ms(f.summary.p99)}`, `${ratioP99.toFixed(2)}×`, `≤ ${TARGETS.floodRatio}×`, met(ratioP99 <= TARGETS.floodRatio)])
  const b = results.flood.busy
  rows.push(['  same, p50 / p99 vs flooder busy elsewhere', '', `${ms(b.summary.p50)} / ${ms(b.summary.p99)}`, `${results.flood.netRatioP50.toFixed(2)}× / ${results.flood.netRatioP99.toFixed(2)}×`, '(info)', ''])
}
if (results.heal) rows.push(...healRows(results.heal))
if (results.join) rows.push(...joinRows(results.join))
if (results.joinOffline) {
  const j = results.joinOffline
  rows.push([`Join while the admin is away: admin's app starts → joiner's first message, p50 (${j.sizes.samples} joins)`, '', ms(j.firstMessage.p50), '', '(info)', ''])
  rows.push(['  same, p99; admitted p50 / p99', '', `${ms(j.firstMessage.p99)}; ${ms(j.admitted.p50)} / ${ms(j.admitted.p99)}`, '', '(info)', ''])
}
if (results.relayCatchUp) {
  const r = results.relayCatchUp
  rows.push([`catch-up of ${r.sizes.messages} msgs from a relay alone (loopback; alice away)`, '', ms(r.catchUpMs), '', '(info)', ''])
}
if (results.link) rows.push(...linkRows(results.link))
if (results.cli) {
  const c = results.cli
  rows.push([`CLI \`hearth list\` against a running core, p50 (baseline: node -e '')`, ms(c.nodeEmpty.p50), ms(c.list.p50), `${c.ratioList.toFixed(2)}×`, `< ${TARGETS.cliListP50Ms} ms`, met(c.list.p50 < TARGETS.cliListP50Ms)])
  rows.push(['  same, p99; `hearth whoami` p50 / p99', ms(c.nodeEmpty.p99), `${ms(c.list.p99)}; ${ms(c.whoami.p50)} / ${ms(c.whoami.p99)}`, '', '(info)', ''])
}
if (results.files) rows.push(...filesRows(results.files))
for (const [piece, error] of Object.entries(results.errors)) rows.push([piece, '', `error: ${error}`, '', '', 'NOT met'])

const header: Row = ['measure', 'raw gossipsub', 'Hearth', 'ratio', 'target', 'result']
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
const line = (r: Row): string => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')
console.log('')
console.log(`Hearth benchmark ${results.date}${quick ? ' (QUICK sizes)' : ''}`)
console.log(`code ${results.code.commit}${results.code.dirty ? ' (with uncommitted changes in node/, crdt/ or relay/)' : ''}`)
console.log(`${results.machine.cores} × ${results.machine.cpu}, ${results.machine.memoryGb} GB, ${results.machine.os}, Node ${results.machine.node}`)
if (results.envelopeBytes !== undefined) console.log(`payload: ${SIZES.bodyBytes}-byte message body = ${results.envelopeBytes}-byte envelope (baseline payload size)`)
console.log('')
console.log(line(header))
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'))
for (const r of rows) console.log(line(r))
console.log('')
if (results.floor) {
  const f = results.floor
  const lat = f.latency ? `${f.latency.samples} latency samples after ${f.latency.warmup} warm-up, mean ${ms(f.latency.summary.mean)}` : 'latency not measured'
  const tp = f.throughput ? `${f.throughput.messages} messages in ${f.throughput.seconds.toFixed(2)} s (window ${f.throughput.window})` : 'throughput not measured'
  console.log(`durable floor detail: ${f.envelopeBytes}-byte envelopes; ${lat}; ${tp}`)
}
if (results.latency) {
  const { baseline: b, hearth: h, syncedBatch: f } = results.latency
  console.log(`latency detail: ${b.samples} samples each after ${b.warmup} warm-up; raw mean ${ms(b.summary.mean)}, Hearth mean ${ms(h.summary.mean)}; one synced LevelDB batch (fsync) on this disk: p50 ${ms(f.p50)}, p99 ${ms(f.p99)}`)
}
if (results.throughput) {
  const h = results.throughput.hearth
  console.log(`throughput detail: alice's sends took ${h.sendSeconds.toFixed(2)} s (${h.sendPerSecond.toFixed(0)}/s); bob had all ${h.messages} after ${h.seconds.toFixed(2)} s`)
}
if (results.scale) {
  const s = results.scale
  console.log(`scale detail: ${s.total} sends took ${s.totalSeconds.toFixed(0)} s; mean ms per send by slice: ${s.trend.map((t) => `${k(t.upTo)}:${t.meanMs.toFixed(2)}`).join(' ')}`)
}
if (results.relayCatchUp) {
  const r = results.relayCatchUp
  console.log(`relay-catchup detail: alice wrote ${r.sizes.messages} and the relay held them all after ${(r.writeMs / 1000).toFixed(1)} s; bob fetched ${Math.ceil(r.sizes.messages / MAILBOX_FETCH_LIMIT)} pages of up to ${MAILBOX_FETCH_LIMIT}`)
}
if (results.page) console.log(`page detail: reopen (identity, LevelDB, libp2p, core.start) ${ms(results.page.reopenMs)}; next older page ${ms(results.page.olderPageMs)}`)
if (results.catchup) {
  const c = results.catchup
  console.log(`catch-up detail: open ${ms(c.openMs)}, dial ${ms(c.dialMs)}, sync+apply ${ms(c.syncMs)}, CPU ${ms(c.cpuMs)} (${c.aliceApart ? `bob's process, all threads; alice in her own process: ${c.aliceCpuMs === undefined ? '?' : ms(c.aliceCpuMs)}` : 'alice and bob in one process, all threads'}); bob emitted ${c.received}, pages ${c.bobHas}/${c.messages}; alice wrote them in ${c.writeSeconds.toFixed(1)} s`)
}
if (results.memory) {
  const m = results.memory
  console.log(`memory detail: before opening ${m.before.rssMb} MB RSS / ${m.before.heapUsedMb} MB heap; after newest page of every conversation ${m.afterPages.rssMb} / ${m.afterPages.heapUsedMb}; open ${ms(m.openMs)}; fill ${m.fillSeconds.toFixed(0)} s`)
}
if (results.relay) console.log(relayDetail(results.relay))
if (results.flood) {
  const f = results.flood
  console.log(
    `flood detail: ${f.flooded.samples} samples per phase after ${f.flooded.warmup} warm-up; mallory sent ${f.floodSent} (${f.floodPerSecond.toFixed(0)}/s), alice's and bob's validators rate-limited ${f.rateLimited}; bob held ${f.heldAtEnd} when it stopped and ${f.heldAfterWatch} 30 s later (catch-up paced at ${f.catchUpPerSecond.toFixed(1)}/s)`,
  )
}
if (results.heal) console.log(healDetail(results.heal))
if (results.join) console.log(joinDetail(results.join))
if (results.link) console.log(linkDetail(results.link))
if (results.files) console.log(filesDetail(results.files))
console.log(`elapsed per piece (s): ${Object.entries(results.elapsedSeconds).map(([p, s]) => `${p} ${s}`).join(', ')}`)

const out = process.env.HEARTH_BENCH_OUT ?? fileURLToPath(new URL('./results.json', import.meta.url))
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`)
console.log(`results written to ${out}`)
// libp2p and LevelDB handles are all closed; exit explicitly so a stray timer in a dependency cannot keep us alive.
process.exit(Object.keys(results.errors).length > 0 ? 1 : 0)
