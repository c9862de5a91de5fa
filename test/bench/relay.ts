/**
 * Relay benchmark (issue 3): one `hearth-relay` process, many simulated clients in this process, all over TCP loopback.
 *
 *   ingest    envelopes/s stored (acknowledged = synced to disk) with many clients depositing batches concurrently,
 *             next to the same load against a do-nothing server over the same framing (the baseline, as a ratio),
 *             and the same with one envelope per request
 *   page      latency of fetching a 500-envelope page (p50/p99)
 *   catchup   a fresh client catching up on 10k envelopes from the relay alone, from dial to the last envelope
 *   held      N clients connected at once, each depositing now and then and following its mailbox with long-polls:
 *             every deposit must reach every member, with no error
 *
 * Context figure: LevelDB synced batches of 100 envelopes on this disk (what group commit builds on).
 * Usage: `npx tsx test/bench/run.ts relay [--quick]`, or alone: `npx tsx test/bench/relay.ts [--quick]`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { deriveMailboxKeys, type MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { MailboxClient, type FetchPage } from '../../node/common/net/mailbox-client.js'
import { requestOne } from '../../node/common/net/request-response.js'
import { openDatabase } from '../../node/common/storage/database.js'
import { MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES } from '../../node/common/wire/mailbox.js'
import { randomEnvelope, removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'
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
  heldClients: 500,
  heldSeconds: 20,
  heldGroup: 5,
  // 500 members each sending a message every 10 s: 50 deposits/s, 250 deliveries/s, on top of 500 waiting fetches.
  heldDepositEveryMs: 10_000,
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

export const RELAY_TARGETS = { ingestPerSecond: 5_000, catchupMs: 2_000, heldClients: 500, heldErrors: 0 }

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
    clients: number
    seconds: number
    deposits: number
    deliveries: number
    expectedDeliveries: number
    errors: number
    /** Errors by code (or reason), and the first message of each, so a failing run says what failed. */
    errorKinds: Record<string, number>
    errorSamples: Record<string, string>
    /**
     * Event-loop delay of this process, which simulates every client at once: deposit latency under the held load
     * is mostly this, not the relay (a real client is one node in its own process).
     */
    clientLoopDelay: { p50: number; p99: number; max: number }
    depositLatency: Summary
    connectMs: number
    relayRssMb: number
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

/**
 * N clients at once: groups of `heldGroup` share a mailbox; each client follows it with long-polls (MailboxClient.watch)
 * and deposits one envelope every `heldDepositEveryMs` (jittered). Every deposit must reach every member of its group.
 */
async function held(relay: RelayProcess, sizes: RelaySizes): Promise<RelayResult['held']> {
  const nodes = await clientNodes(sizes.heldClients)
  const controller = new AbortController()
  let errors = 0
  const errorKinds: Record<string, number> = {}
  const errorSamples: Record<string, string> = {}
  const fail = (err: unknown): void => {
    errors++
    const kind = err instanceof Error ? ((err as { reason?: string }).reason ?? (err as { code?: string }).code ?? err.name) : String(err)
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
    if (err instanceof Error) errorSamples[kind] ??= `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`
  }
  let deposits = 0
  const latencies: number[] = []
  const received = nodes.map(() => new Set<string>())
  const sent = new Map<number, Set<string>>()
  try {
    const t0 = now()
    await connectAll(nodes, relay.address)
    const connectMs = now() - t0
    const clients = nodes.map((n) => new MailboxClient(n))
    const groupOf = (i: number): number => Math.floor(i / sizes.heldGroup)
    const keys = new Map<number, MailboxKeys>()
    for (let i = 0; i < nodes.length; i++) {
      if (!keys.has(groupOf(i))) keys.set(groupOf(i), deriveMailboxKeys(new Uint8Array(32).fill(0).map((_, j) => (j < 4 ? (groupOf(i) >> (8 * j)) & 0xff : 0xee))))
      sent.set(groupOf(i), sent.get(groupOf(i)) ?? new Set())
    }
    const watches = clients.map((client, i) =>
      client
        .watch(relay.peerId, keys.get(groupOf(i))!, {
          signal: controller.signal,
          onPage: (page) => {
            for (const item of page.items) received[i]!.add(Buffer.from(item.id).toString('base64'))
          },
          onError: fail,
        })
        .catch(fail),
    )
    // Watches start from the (empty) beginning of each mailbox; let them reach their first long-poll.
    await sleep(1_000)
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const end = now() + sizes.heldSeconds * 1000
    const depositors = clients.map(async (client, i) => {
      await sleep(Math.random() * sizes.heldDepositEveryMs)
      while (now() < end) {
        const envelope = randomEnvelope(sizes.envelopeBytes)
        const t = now()
        try {
          const [r] = await client.deposit(relay.peerId, keys.get(groupOf(i))!, [envelope])
          if (r?.status !== 'stored') fail(new Error(r?.status ?? 'no result'))
          else sent.get(groupOf(i))!.add(Buffer.from(envelope.id).toString('base64'))
          deposits++
        } catch (err) {
          fail(err)
        }
        latencies.push(now() - t)
        await sleep(sizes.heldDepositEveryMs * (0.5 + Math.random()))
      }
    })
    await Promise.all(depositors)
    progress(`  held: ${deposits} deposits, waiting for the last deliveries`)
    const expected = (): number => nodes.reduce((n, _, i) => n + sent.get(groupOf(i))!.size, 0)
    const delivered = (): number => received.reduce((n, set, i) => n + [...sent.get(groupOf(i))!].filter((id) => set.has(id)).length, 0)
    const deadline = now() + 15_000
    while (delivered() < expected() && now() < deadline) await sleep(100)
    progressDone()
    const rss = (await relay.metric('hearth_relay_process_resident_memory_bytes')) / 2 ** 20
    controller.abort()
    loop.disable()
    await Promise.all(watches)
    return {
      clients: nodes.length,
      seconds: sizes.heldSeconds,
      deposits,
      deliveries: delivered(),
      expectedDeliveries: expected(),
      errors,
      errorKinds,
      errorSamples,
      clientLoopDelay: { p50: round(loop.percentile(50) / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
      depositLatency: summarize(latencies),
      connectMs: round(connectMs, 0),
      relayRssMb: round(rss, 1),
    }
  } finally {
    controller.abort()
    await stopAll(nodes)
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
      errors: ingestResult.errors + single.errors + base.errors + heldResult.errors + (caught.complete ? 0 : 1),
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
    [`relay held load, ${r.held.clients} clients × ${r.held.seconds} s`, '', `${r.held.errors} errors, ${r.held.deliveries}/${r.held.expectedDeliveries} delivered`, '', `${RELAY_TARGETS.heldClients} clients, 0 errors`, met(r.held.clients >= RELAY_TARGETS.heldClients && r.held.errors === 0 && r.held.deliveries === r.held.expectedDeliveries)],
  ]
}

export function relayDetail(r: RelayResult): string {
  return (
    `relay detail: the baseline column is the same load against a do-nothing server over the same framing; envelopes of ${r.sizes.envelopeBytes} B; ingest ${r.ingest.envelopes} in ${r.ingest.seconds} s (${r.ingest.errors} errors), ` +
    `one-per-request ${r.ingestSingle.envelopes} in ${r.ingestSingle.seconds} s (p50 ${r.ingestSingle.latency.p50.toFixed(2)} ms); ` +
    `LevelDB synced batches of 100 on this disk: ${r.levelSyncedBatchPerSecond} env/s; catch-up ${r.catchup.pages} pages, dial ${r.catchup.dialMs} ms; ` +
    `held: connect ${r.held.connectMs} ms, ${r.held.deposits} deposits, deposit p50/p99 ${r.held.depositLatency.p50.toFixed(2)}/${r.held.depositLatency.p99.toFixed(2)} ms ` +
    `(event-loop delay of the process simulating all clients p50/p99/max ${r.held.clientLoopDelay.p50}/${r.held.clientLoopDelay.p99}/${r.held.clientLoopDelay.max} ms), relay RSS ${r.held.relayRssMb} MB` +
    (r.held.errors > 0 ? `; errors: ${JSON.stringify(r.held.errorSamples)}` : '')
  )
}

// Run alone: `npx tsx test/bench/relay.ts [--quick]`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await relayBench(process.argv.includes('--quick') ? RELAY_QUICK_SIZES : RELAY_SIZES)
  for (const row of relayRows(result)) console.log(row.join(' | '))
  console.log(relayDetail(result))
  console.log(JSON.stringify(result, null, 2))
  process.exit(result.errors === 0 ? 0 : 1)
}
