/**
 * Relay benchmark: one `hearth-relay` process, many simulated clients in this process, all over TCP loopback.
 *
 *   ingest    envelopes/s stored (acknowledged = synced to disk) with many clients depositing batches concurrently,
 *             next to the same load against a do-nothing server over the same framing (the baseline, as a ratio),
 *             and the same with one envelope per request
 *   page      latency of fetching a 500-envelope page (p50/p99)
 *   catchup   a fresh client catching up on 10k envelopes from the relay alone, from dial to the last envelope
 *   held      N clients connected at once (in child processes of a few hundred, relay-held-child.ts), each depositing
 *             now and then and following its mailbox with long-polls: every deposit must reach every member, with no
 *             error; meanwhile a client of this process times page fetches, as it did with the relay idle before
 *
 * Context figure: LevelDB synced batches of 100 envelopes on this disk (what group commit builds on).
 * Usage: `npx tsx test/bench/run.ts relay [--quick]`, or alone: `npx tsx test/bench/relay.ts [--quick]`.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { deriveMailboxKeys, type MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { MailboxClient, type FetchPage } from '../../node/common/net/mailbox-client.js'
import { requestOne } from '../../node/common/net/request-response.js'
import { openDatabase } from '../../node/common/storage/database.js'
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../node/common/wire/mailbox.js'
import { randomEnvelope, removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'
import type { HeldChildArgs, HeldChildResult } from './relay-held-child.js'
import { now, progress, progressDone, removeDir, round, sleep, summarize, type Summary } from './harness.js'

const ECHO_PROTOCOL = '/hearth/bench-echo/1.0.0'

export interface RelaySizes {
  envelopeBytes: number
  /** Ingest: client nodes, concurrent deposit loops per client, envelopes per deposit, envelopes in total. */
  ingestClients: number
  ingestConcurrency: number
  ingestBatch: number
  ingestEnvelopes: number
  singleEnvelopes: number
  pageSamples: number
  catchup: number
  heldClients: number
  heldSeconds: number
  /** Members per mailbox in the held load (each deposit is delivered to this many watchers). */
  heldGroup: number
  heldDepositEveryMs: number
  /** Held clients per child process (a multiple of heldGroup): thousands of nodes must not share one event loop. */
  heldClientsPerProcess: number
  /** Envelopes in the probe's mailbox; each probe fetch asks for a page of up to `fetchLimit`. */
  fetchLimit: number
  /** Pause between the probe's fetches (it runs alone, before the held load, and again during it). */
  fetchEveryMs: number
}

export const RELAY_SIZES: RelaySizes = {
  envelopeBytes: 600,
  ingestClients: 25,
  ingestConcurrency: 2,
  ingestBatch: 50,
  ingestEnvelopes: 60_000,
  singleEnvelopes: 5_000,
  pageSamples: 200,
  catchup: 10_000,
  heldClients: 2_000,
  heldSeconds: 30,
  heldGroup: 5,
  // 2,000 members each sending a message every 40 s: 50 deposits/s, 250 deliveries/s, on top of 2,000 waiting fetches.
  heldDepositEveryMs: 40_000,
  heldClientsPerProcess: 500,
  fetchLimit: 100,
  fetchEveryMs: 50,
}

export const RELAY_QUICK_SIZES: RelaySizes = {
  ...RELAY_SIZES,
  ingestClients: 10,
  ingestEnvelopes: 10_000,
  singleEnvelopes: 500,
  pageSamples: 30,
  catchup: 2_000,
  heldClients: 50,
  heldSeconds: 5,
  heldDepositEveryMs: 2_000,
}

export const RELAY_TARGETS = { ingestPerSecond: 5_000, catchupMs: 2_000, heldClients: 2_000, heldErrors: 0 }

export interface Throughput {
  envelopes: number
  seconds: number
  perSecond: number
  /** Latency of one deposit request, ms. */
  latency: Summary
  errors: number
}

export interface RelayResult {
  sizes: RelaySizes
  ingest: Throughput
  ingestSingle: Throughput
  baseline: Throughput
  ratio: number
  levelSyncedBatchPerSecond: number
  page: Summary
  catchup: { envelopes: number; ms: number; dialMs: number; pages: number; complete: boolean }
  held: {
    /** Clients connected and held; `unconnected` could not connect (four tries each, 4 minutes a slice) and took no part. */
    clients: number
    unconnected: number
    /** Child processes the clients ran in (a slice each). */
    processes: number
    seconds: number
    deposits: number
    deliveries: number
    expectedDeliveries: number
    errors: number
    /** Errors by code (or reason), and the first message of each, so a failing run says what failed. */
    errorKinds: Record<string, number>
    errorSamples: Record<string, string>
    /**
     * Event-loop delay of the busiest client process (each simulates hundreds of clients): deposit latency under the
     * held load is largely this, not the relay (a real client is one node in its own process).
     */
    clientLoopDelay: { p50: number; p99: number; max: number }
    depositLatency: Summary
    /** Dialing every client to the relay (slice after slice, summed; creating the nodes not included). */
    connectMs: number
    connectRetries: number
    relayRssMb: number
    /** A page fetch (up to fetchLimit envelopes) by a client of its own process: relay idle, then while the load is held. */
    fetchIdle: Summary
    fetchHeld: Summary
    fetchErrors: number
  }
  errors: number
}

/** Relay limits opened up: the bench measures throughput, not the abuse limits. */
const BENCH_RELAY_FLAGS: Record<string, string> = {
  'log-level': 'warn',
  'requests-per-second': '1000000',
  'request-burst': '1000000',
  'peer-max-envelopes-per-day': '100000000',
  'peer-max-bytes-per-day': '100GiB',
  'mailbox-max-envelopes': '10000000',
  'mailbox-max-bytes': '50GiB',
  'max-stored-bytes': '100GiB',
  'max-connections': '5000',
  'connection-rate-per-host': '1000000',
  'max-waiting-fetches-per-peer': '64',
  dht: 'false',
}

async function clientNodes(count: number): Promise<HearthNode[]> {
  const nodes: HearthNode[] = []
  for (let i = 0; i < count; i++) {
    nodes.push(await createHearthNode({ listen: [], mdns: false, dht: false, onError: () => {} }))
  }
  return nodes
}

/**
 * Dials in waves: the relay accepts 256 handshakes in progress, the baseline server libp2p's default of 10; beyond
 * that connections are reset, which would measure the handshake bound instead of the load.
 */
async function connectAll(nodes: HearthNode[], address: string, wave = 50): Promise<void> {
  for (let i = 0; i < nodes.length; i += wave) {
    await Promise.all(nodes.slice(i, i + wave).map((n) => n.dial(address)))
  }
}

async function stopAll(nodes: HearthNode[]): Promise<void> {
  await Promise.allSettled(nodes.map((n) => n.stop()))
}

/**
 * `loops` concurrent workers take batches from a shared counter until `total` envelopes have been sent; each batch is
 * one call of `send`. Returns envelopes/s over the whole run and the latency of each call.
 */
async function drive(total: number, batch: number, loops: number, send: (worker: number, envelopes: Array<{ id: Uint8Array; bytes: Uint8Array }>) => Promise<number>): Promise<Throughput> {
  let issued = 0
  let done = 0
  let errors = 0
  const latencies: number[] = []
  const worker = async (w: number): Promise<void> => {
    while (issued < total) {
      const n = Math.min(batch, total - issued)
      issued += n
      const envelopes = Array.from({ length: n }, () => randomEnvelope(RELAY_SIZES.envelopeBytes))
      const t = now()
      try {
        const stored = await send(w, envelopes)
        done += stored
      } catch {
        errors++
      }
      latencies.push(now() - t)
      if (latencies.length % 200 === 0) progress(`  ${done}/${total}`)
    }
  }
  const t0 = now()
  await Promise.all(Array.from({ length: loops }, (_, w) => worker(w)))
  const seconds = (now() - t0) / 1000
  progressDone()
  return { envelopes: done, seconds: round(seconds, 2), perSecond: Math.round(done / seconds), latency: summarize(latencies), errors }
}

async function ingest(relay: RelayProcess, sizes: RelaySizes, batch: number, total: number): Promise<Throughput> {
  const nodes = await clientNodes(sizes.ingestClients)
  try {
    await connectAll(nodes, relay.address)
    const clients = nodes.map((n) => new MailboxClient(n))
    const boxes = nodes.map((_, i) => deriveMailboxKeys(new Uint8Array(32).fill(i + 1)))
    return await drive(total, batch, sizes.ingestClients * sizes.ingestConcurrency, async (w, envelopes) => {
      const c = w % clients.length
      const results = await clients[c]!.deposit(relay.peerId, boxes[c]!, envelopes)
      const stored = results.filter((r) => r.status === 'stored').length
      if (stored !== envelopes.length) throw new Error(`only ${stored}/${envelopes.length} stored`)
      return stored
    })
  } finally {
    await stopAll(nodes)
  }
}

/** The same load against the do-nothing server: what the transport and framing alone allow. */
async function baseline(sizes: RelaySizes): Promise<Throughput> {
  const childArgs = ['--import', 'tsx', fileURLToPath(new URL('./relay-echo-child.ts', import.meta.url)), ECHO_PROTOCOL, String(sizes.ingestBatch)]
  const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const address = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('READY ')) resolve(line.slice(6))
      })
      child.once('exit', () => reject(new Error('echo server exited')))
    })
    const peer = address.slice(address.lastIndexOf('/p2p/') + 5)
    const nodes = await clientNodes(sizes.ingestClients)
    try {
      await connectAll(nodes, address, 10)
      // A real deposit request of the same size, so the bytes on the wire are the same.
      const keys = deriveMailboxKeys(new Uint8Array(32).fill(7))
      const limits = { maxRequestBytes: MAX_REQUEST_BYTES, maxResponseBytes: MAX_RESPONSE_BYTES, timeoutMs: 30_000 }
      const { encodeMailboxRequest } = await import('../../node/common/wire/mailbox.js')
      const { signMailboxRequest } = await import('../../node/common/crypto/mailbox-capability.js')
      return await drive(sizes.ingestEnvelopes, sizes.ingestBatch, sizes.ingestClients * sizes.ingestConcurrency, async (w, envelopes) => {
        const auth = signMailboxRequest(keys, peer, { op: 'deposit', ids: envelopes.map((e) => e.id) })
        await requestOne(nodes[w % nodes.length]!, peer, ECHO_PROTOCOL, encodeMailboxRequest({ op: 'deposit', auth, envelopes }), limits)
        return envelopes.length
      })
    } finally {
      await stopAll(nodes)
    }
  } finally {
    child.kill('SIGKILL')
  }
}

async function levelSyncedBatch(envelopeBytes: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-level-'))
  const db = await openDatabase({ path: join(dir, 'db') })
  try {
    const value = new Uint8Array(envelopeBytes)
    const batches = 200
    const t = now()
    for (let i = 0; i < batches; i++) {
      await db.batch(Array.from({ length: 100 }, (_, j) => ({ type: 'put' as const, key: `m/${i}/${j}`, value })), { sync: true })
    }
    return Math.round((batches * 100) / ((now() - t) / 1000))
  } finally {
    await db.close()
    await removeDir(dir)
  }
}

async function fill(relay: RelayProcess, keys: MailboxKeys, count: number): Promise<void> {
  const [node] = await clientNodes(1)
  try {
    await node!.dial(relay.address)
    const client = new MailboxClient(node!)
    for (let i = 0; i < count; i += 100) {
      const envelopes = Array.from({ length: Math.min(100, count - i) }, () => randomEnvelope(RELAY_SIZES.envelopeBytes))
      await client.deposit(relay.peerId, keys, envelopes)
    }
  } finally {
    await node!.stop()
  }
}

async function pageLatency(relay: RelayProcess, keys: MailboxKeys, total: number, samples: number): Promise<Summary> {
  const [node] = await clientNodes(1)
  try {
    await node!.dial(relay.address)
    const client = new MailboxClient(node!)
    // Cursors spread over the mailbox, taken from a walk with 100-item pages.
    const cursors: Array<string | null> = [null]
    let after: string | null = null
    for (;;) {
      const page: FetchPage = await client.fetch(relay.peerId, keys, { after, limit: 100 })
      after = page.next
      if (!page.more) break
      cursors.push(after)
    }
    const usable = cursors.slice(0, Math.max(1, Math.floor(((total - 500) / total) * cursors.length)))
    const out: number[] = []
    for (let i = 0; i < samples; i++) {
      const t = now()
      const page = await client.fetch(relay.peerId, keys, { after: usable[i % usable.length]!, limit: 500 })
      out.push(now() - t)
      if (page.items.length !== 500) throw new Error(`page of ${page.items.length}, not 500`)
    }
    return summarize(out)
  } finally {
    await node!.stop()
  }
}

async function catchup(relay: RelayProcess, keys: MailboxKeys, total: number): Promise<RelayResult['catchup']> {
  const t0 = now()
  const node = await createHearthNode({ listen: [], mdns: false, dht: false, onError: () => {} })
  try {
    const client = new MailboxClient(node)
    await node.dial(relay.address)
    const dialMs = now() - t0
    const ids = new Set<string>()
    let after: string | null = null
    let pages = 0
    for (;;) {
      const page: FetchPage = await client.fetch(relay.peerId, keys, { after, limit: 1000 })
      pages++
      for (const item of page.items) ids.add(Buffer.from(item.id).toString('base64'))
      after = page.next
      if (!page.more) break
    }
    return { envelopes: ids.size, ms: round(now() - t0, 1), dialMs: round(dialMs, 1), pages, complete: ids.size === total }
  } finally {
    await node.stop()
  }
}

/** A page fetch timed again and again by one client in this process (whose event loop has nothing else to do). */
async function probeFetches(client: MailboxClient, relay: RelayProcess, keys: MailboxKeys, sizes: RelaySizes, until: () => boolean): Promise<{ latencies: number[]; errors: number }> {
  const latencies: number[] = []
  let errors = 0
  while (!until()) {
    const t = now()
    try {
      const page = await client.fetch(relay.peerId, keys, { after: null, limit: sizes.fetchLimit })
      if (page.items.length !== sizes.fetchLimit) throw new Error(`page of ${page.items.length}`)
      latencies.push(now() - t)
    } catch {
      errors++
    }
    await sleep(sizes.fetchEveryMs)
  }
  return { latencies, errors }
}

interface Slice {
  child: ChildProcess
  ready: Promise<number>
  result: Promise<HeldChildResult>
}

function spawnSlice(args: HeldChildArgs): Slice {
  const childArgs = ['--import', 'tsx', fileURLToPath(new URL('./relay-held-child.ts', import.meta.url)), JSON.stringify(args)]
  const child = spawn(process.execPath, childArgs, { stdio: ['pipe', 'pipe', 'inherit'] })
  let ready!: (ms: number) => void
  let result!: (r: HeldChildResult) => void
  let failed!: (err: Error) => void
  const readyP = new Promise<number>((res, rej) => {
    ready = res
    failed = rej
  })
  const resultP = new Promise<HeldChildResult>((res, rej) => {
    result = res
    child.once('exit', (code) => rej(new Error(`held-load process exited (${String(code)}) without a result`)))
  })
  child.once('exit', (code) => failed(new Error(`held-load process exited (${String(code)}) before it was ready`)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('READY ')) ready(Number(line.slice(6)))
    else if (line.startsWith('RESULT ')) result(JSON.parse(line.slice(7)) as HeldChildResult)
  })
  // Either may never be awaited when another slice fails first.
  readyP.catch(() => {})
  resultP.catch(() => {})
  return { child, ready: readyP, result: resultP }
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`bench: timed out after ${ms} ms waiting for ${what}`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/**
 * N clients at once, in child processes of `heldClientsPerProcess` each: groups of `heldGroup` share a mailbox; each
 * client follows it with long-polls (MailboxClient.watch) and deposits one envelope every `heldDepositEveryMs`
 * (jittered, seeded). Every deposit must reach every member of its group. Meanwhile a client of this process times
 * page fetches, which it also did with the relay idle just before.
 */
async function held(relay: RelayProcess, sizes: RelaySizes): Promise<RelayResult['held']> {
  const [probeNode] = await clientNodes(1)
  const slices: Slice[] = []
  try {
    await probeNode!.dial(relay.address)
    const probe = new MailboxClient(probeNode!)
    const probeKeys = deriveMailboxKeys(new Uint8Array(32).fill(0xab))
    await probe.deposit(relay.peerId, probeKeys, Array.from({ length: sizes.fetchLimit }, () => randomEnvelope(sizes.envelopeBytes)))
    const idleEnd = now() + Math.min(5_000, sizes.heldSeconds * 1000)
    const idle = await probeFetches(probe, relay, probeKeys, sizes, () => now() > idleEnd)

    const perProcess = Math.max(sizes.heldGroup, Math.floor(sizes.heldClientsPerProcess / sizes.heldGroup) * sizes.heldGroup)
    // One slice connects at a time: thousands of handshakes at once on two cores time out, which measures the machine.
    for (let first = 0, k = 0; first < sizes.heldClients; first += perProcess, k++) {
      const clients = Math.min(perProcess, sizes.heldClients - first)
      const slice = spawnSlice({
          relayAddress: relay.address,
          relayPeerId: relay.peerId,
          clients,
          group: sizes.heldGroup,
          firstGroup: first / sizes.heldGroup,
          depositEveryMs: sizes.heldDepositEveryMs,
          seconds: sizes.heldSeconds,
          envelopeBytes: sizes.envelopeBytes,
          seed: 0x7e1a + k,
          connectWithinMs: 240_000,
        })
      slices.push(slice)
      await bounded(slice.ready, 480_000, `held clients ${first}–${first + clients - 1} to connect`)
      progress(`  held: ${first + clients}/${sizes.heldClients} clients connected`)
    }
    progress(`  held: ${sizes.heldClients} clients connected in ${slices.length} processes; load for ${sizes.heldSeconds} s`)
    for (const x of slices) x.child.stdin!.write('START\n')
    const heldEnd = now() + sizes.heldSeconds * 1000
    const during = await probeFetches(probe, relay, probeKeys, sizes, () => now() > heldEnd)
    // While every client is still connected (the slices wait for their last deliveries before they stop).
    const rss = (await relay.metric('hearth_relay_process_resident_memory_bytes')) / 2 ** 20
    progress(`  held: waiting for the last deliveries`)
    const results = await bounded(Promise.all(slices.map((x) => x.result)), 120_000, 'the held-load results')
    progressDone()
    const errorKinds: Record<string, number> = {}
    const errorSamples: Record<string, string> = {}
    for (const r of results) {
      for (const [kind, n] of Object.entries(r.errorKinds)) errorKinds[kind] = (errorKinds[kind] ?? 0) + n
      for (const [kind, text] of Object.entries(r.errorSamples)) errorSamples[kind] ??= text
    }
    const busiest = results.reduce((a, b) => (b.loopDelay.p99 > a.loopDelay.p99 ? b : a))
    const sum = (f: (r: HeldChildResult) => number): number => results.reduce((n, r) => n + f(r), 0)
    return {
      clients: sum((r) => r.clients),
      unconnected: sum((r) => r.unconnected),
      processes: slices.length,
      seconds: sizes.heldSeconds,
      deposits: sum((r) => r.deposits),
      deliveries: sum((r) => r.deliveries),
      expectedDeliveries: sum((r) => r.expectedDeliveries),
      errors: sum((r) => r.errors),
      errorKinds,
      errorSamples,
      clientLoopDelay: busiest.loopDelay,
      depositLatency: summarize(results.flatMap((r) => r.latencies)),
      connectMs: sum((r) => r.connectMs),
      connectRetries: sum((r) => r.connectRetries),
      relayRssMb: round(rss, 1),
      fetchIdle: summarize(idle.latencies),
      fetchHeld: summarize(during.latencies),
      fetchErrors: idle.errors + during.errors,
    }
  } finally {
    for (const x of slices) if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill('SIGKILL')
    await probeNode!.stop()
  }
}

export async function relayBench(sizes: RelaySizes, log: (text: string) => void = (t) => console.error(t)): Promise<RelayResult> {
  const relay = await spawnRelay({ flags: BENCH_RELAY_FLAGS })
  try {
    log('  relay ingest (batches)')
    const ingestResult = await ingest(relay, sizes, sizes.ingestBatch, sizes.ingestEnvelopes)
    log('  relay ingest (one envelope per request)')
    const single = await ingest(relay, sizes, 1, sizes.singleEnvelopes)
    log('  baseline: same load against a do-nothing server')
    const base = await baseline(sizes)
    const level = await levelSyncedBatch(sizes.envelopeBytes)
    log(`  filling a mailbox with ${sizes.catchup} envelopes`)
    const keys = deriveMailboxKeys(new Uint8Array(32).fill(0xcc))
    await fill(relay, keys, sizes.catchup)
    log('  page latency')
    const page = await pageLatency(relay, keys, sizes.catchup, sizes.pageSamples)
    log('  catch-up')
    const caught = await catchup(relay, keys, sizes.catchup)
    log(`  held load: ${sizes.heldClients} clients for ${sizes.heldSeconds} s`)
    const heldResult = await held(relay, sizes)
    return {
      sizes,
      ingest: ingestResult,
      ingestSingle: single,
      baseline: base,
      ratio: round(ingestResult.perSecond / base.perSecond, 3),
      levelSyncedBatchPerSecond: level,
      page,
      catchup: caught,
      held: heldResult,
      errors: ingestResult.errors + single.errors + base.errors + heldResult.errors + heldResult.fetchErrors + (caught.complete ? 0 : 1),
    }
  } finally {
    await relay.stop()
    await removeRelayDir(relay)
  }
}

/** Table rows for run.ts: [measure, baseline, relay, ratio, target, result]. */
export function relayRows(r: RelayResult): Array<[string, string, string, string, string, string]> {
  const ms = (x: number): string => `${x.toFixed(2)} ms`
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met')
  return [
    [`relay ingest, ${r.sizes.ingestClients}×${r.sizes.ingestConcurrency} clients, batches of ${r.sizes.ingestBatch}`, `${r.baseline.perSecond} env/s`, `${r.ingest.perSecond} env/s`, `${(r.ratio * 100).toFixed(1)}%`, `≥ ${RELAY_TARGETS.ingestPerSecond}/s`, met(r.ingest.perSecond >= RELAY_TARGETS.ingestPerSecond && r.ingest.errors === 0)],
    ['  same, one envelope per request', '', `${r.ingestSingle.perSecond} env/s`, '', '(info)', ''],
    ['  deposit request p50 / p99', `${ms(r.baseline.latency.p50)} / ${ms(r.baseline.latency.p99)}`, `${ms(r.ingest.latency.p50)} / ${ms(r.ingest.latency.p99)}`, '', '(info)', ''],
    ['relay fetch of a 500-envelope page p50 / p99', '', `${ms(r.page.p50)} / ${ms(r.page.p99)}`, '', '(info)', ''],
    [`relay catch-up of ${r.catchup.envelopes} envelopes (dial included)`, '', r.catchup.complete ? ms(r.catchup.ms) : `incomplete: ${r.catchup.envelopes}`, '', `< ${RELAY_TARGETS.catchupMs} ms`, met(r.catchup.complete && r.catchup.ms < RELAY_TARGETS.catchupMs)],
    [`relay held load, ${r.held.clients}${r.held.unconnected > 0 ? ` (of ${r.held.clients + r.held.unconnected})` : ''} clients × ${r.held.seconds} s`, '', `${r.held.errors} errors, ${r.held.deliveries}/${r.held.expectedDeliveries} delivered`, '', `${RELAY_TARGETS.heldClients} clients, 0 errors`, met(r.held.clients >= RELAY_TARGETS.heldClients && r.held.errors === 0 && r.held.deliveries === r.held.expectedDeliveries)],
    [
      `  fetch of ${r.sizes.fetchLimit} envelopes p50 / p99, idle vs held`,
      r.held.fetchIdle.n > 0 ? `${ms(r.held.fetchIdle.p50)} / ${ms(r.held.fetchIdle.p99)}` : 'none answered',
      r.held.fetchHeld.n > 0 ? `${ms(r.held.fetchHeld.p50)} / ${ms(r.held.fetchHeld.p99)}` : 'none answered',
      r.held.fetchHeld.n > 0 && r.held.fetchIdle.n > 0 ? `${(r.held.fetchHeld.p99 / r.held.fetchIdle.p99).toFixed(2)}× (p99)` : '',
      '(info)',
      r.held.fetchErrors > 0 ? `${r.held.fetchErrors} failed` : '',
    ],
  ]
}

export function relayDetail(r: RelayResult): string {
  return (
    `relay detail: the baseline column is the same load against a do-nothing server over the same framing; envelopes of ${r.sizes.envelopeBytes} B; ingest ${r.ingest.envelopes} in ${r.ingest.seconds} s (${r.ingest.errors} errors), ` +
    `one-per-request ${r.ingestSingle.envelopes} in ${r.ingestSingle.seconds} s (p50 ${r.ingestSingle.latency.p50.toFixed(2)} ms); ` +
    `LevelDB synced batches of 100 on this disk: ${r.levelSyncedBatchPerSecond} env/s; catch-up ${r.catchup.pages} pages, dial ${r.catchup.dialMs} ms; ` +
    `held: ${r.held.processes} client processes, connect ${r.held.connectMs} ms (${r.held.connectRetries} dials retried), ${r.held.deposits} deposits, deposit p50/p99 ${r.held.depositLatency.p50.toFixed(2)}/${r.held.depositLatency.p99.toFixed(2)} ms ` +
    `(event-loop delay of the busiest client process p50/p99/max ${r.held.clientLoopDelay.p50}/${r.held.clientLoopDelay.p99}/${r.held.clientLoopDelay.max} ms), relay RSS ${r.held.relayRssMb} MB; probe fetches ${r.held.fetchIdle.n} idle, ${r.held.fetchHeld.n} held, every ${r.sizes.fetchEveryMs} ms` +
    (r.held.errors > 0 ? `; errors: ${JSON.stringify(r.held.errorSamples)}` : '')
  )
}

/** The held load alone (a relay of its own), for `npx tsx test/bench/relay.ts --held [--quick]`. */
export async function relayHeld(sizes: RelaySizes): Promise<RelayResult['held']> {
  const relay = await spawnRelay({ flags: BENCH_RELAY_FLAGS })
  try {
    return await held(relay, sizes)
  } finally {
    await relay.stop()
    await removeRelayDir(relay)
  }
}

// Run alone: `npx tsx test/bench/relay.ts [--quick] [--held]`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--held')) {
  const r = await relayHeld(process.argv.includes('--quick') ? RELAY_QUICK_SIZES : RELAY_SIZES)
  console.log(JSON.stringify({ ...r, depositLatency: r.depositLatency }, null, 2))
  process.exit(r.errors === 0 && r.fetchErrors === 0 && r.deliveries === r.expectedDeliveries ? 0 : 1)
}
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1] && !process.argv.includes('--held')) {
  const result = await relayBench(process.argv.includes('--quick') ? RELAY_QUICK_SIZES : RELAY_SIZES)
  for (const row of relayRows(result)) console.log(row.join(' | '))
  console.log(relayDetail(result))
  console.log(JSON.stringify(result, null, 2))
  process.exit(result.errors === 0 ? 0 : 1)
}
