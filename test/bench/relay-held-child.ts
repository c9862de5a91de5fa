/**
 * A slice of the relay benchmark's held load in its own process, so that thousands of simulated clients do not share
 * one event loop (a real client is one node in its own process; here a few hundred share one).
 *
 * Arguments: a JSON object (HeldChildArgs). Each client is its own libp2p node connected to the relay; clients come in
 * groups of `group` sharing a mailbox (groups `firstGroup`… so that slices never share one); each follows its mailbox
 * with long-polls and deposits one envelope every `depositEveryMs` (jittered, seeded) for `seconds` once told to start.
 *
 * Protocol on stdio: prints `READY <connect ms>` once every client is connected and watching; starts on a `START` line
 * on stdin; prints `RESULT <json>` (HeldChildResult) when done, after waiting up to 15 s for the last deliveries.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { deriveMailboxKeys, type MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { MailboxClient } from '../../node/common/net/mailbox-client.js'
import { randomEnvelope } from '../helpers/relay.js'
import { seededRandom } from '../helpers/seeded-random.js'
import { now, round, sleep } from './harness.js'

export interface HeldChildArgs {
  relayAddress: string
  relayPeerId: string
  clients: number
  group: number
  firstGroup: number
  depositEveryMs: number
  seconds: number
  envelopeBytes: number
  seed: number
  /** Connecting stops after this long; the clients not connected by then are counted and take no part. */
  connectWithinMs: number
}

export interface HeldChildResult {
  /** Clients connected and held (the others are in `unconnected`). */
  clients: number
  /** Clients that could not connect after four tries, or were not tried within connectWithinMs. */
  unconnected: number
  deposits: number
  deliveries: number
  expectedDeliveries: number
  errors: number
  errorKinds: Record<string, number>
  errorSamples: Record<string, string>
  /** Deposit request latencies, ms. */
  latencies: number[]
  loopDelay: { p50: number; p99: number; max: number }
  connectMs: number
  /** Dials tried again after a failure while connecting. */
  connectRetries: number
}

/** The mailbox of group `g`: the same keys in every process that names it. */
function heldGroupKeys(g: number): MailboxKeys {
  return deriveMailboxKeys(new Uint8Array(32).fill(0).map((_, j) => (j < 4 ? (g >> (8 * j)) & 0xff : 0xee)))
}

async function main(args: HeldChildArgs): Promise<void> {
  // The bench holds our stdin: when it goes away (killed, crashed), so do we, rather than hold the relay open alone.
  process.stdin.once('end', () => process.exit(2))
  const random = seededRandom(args.seed)
  const nodes: HearthNode[] = []
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
  try {
    const tc = now()
    for (let i = 0; i < args.clients; i++) nodes.push(await createHearthNode({ listen: [], mdns: false, dht: false, onError: () => {} }))
    const say = (text: string): void => void process.stderr.write(`  held slice from group ${args.firstGroup}: ${text}\n`)
    say(`${args.clients} nodes created in ${Math.round(now() - tc)} ms`)
    const t0 = now()
    // Waves: the relay accepts a bounded number of handshakes in progress; past it, connections are reset. A dial that
    // fails (a handshake timing out on a saturated machine) is tried again, as a real client would, and counted.
    let connectRetries = 0
    let unconnected = 0
    const up = nodes.map(() => false)
    const dial = async (n: HearthNode, i: number): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          await n.dial(args.relayAddress)
          up[i] = true
          return
        } catch (err) {
          if (attempt >= 4) {
            // Given up, as a client would for now: the slice goes on without it and says how many it lost.
            unconnected++
            if (unconnected === 1) fail(err)
            return
          }
          connectRetries++
          await sleep(500 * 2 ** attempt * (0.5 + random()))
        }
      }
    }
    for (let i = 0; i < nodes.length; i += 10) {
      if (now() - t0 > args.connectWithinMs) {
        // A machine too busy to connect them all in time: hold what connected rather than measure nothing.
        unconnected += nodes.length - i
        say(`connecting stopped after ${args.connectWithinMs} ms: ${nodes.length - i} clients not tried`)
        break
      }
      await Promise.all(nodes.slice(i, i + 10).map((n, j) => dial(n, i + j)))
      if ((i + 10) % 100 === 0) say(`${i + 10 - unconnected} connected after ${Math.round(now() - t0)} ms (${connectRetries} dials retried, ${unconnected} given up)`)
    }
    const connectMs = now() - t0
    const clients = nodes.map((n) => new MailboxClient(n))
    const groupOf = (i: number): number => args.firstGroup + Math.floor(i / args.group)
    const keys = new Map<number, MailboxKeys>()
    const sent = new Map<number, Set<string>>()
    for (let i = 0; i < nodes.length; i++) {
      if (!keys.has(groupOf(i))) keys.set(groupOf(i), heldGroupKeys(groupOf(i)))
      if (!sent.has(groupOf(i))) sent.set(groupOf(i), new Set())
    }
    const received = nodes.map(() => new Set<string>())
    const watches = clients.map((client, i) =>
      !up[i]
        ? Promise.resolve()
        : client
        .watch(args.relayPeerId, keys.get(groupOf(i))!, {
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
    process.stdout.write(`READY ${Math.round(connectMs)}\n`)
    await new Promise<void>((resolve) => {
      const rl = createInterface({ input: process.stdin })
      rl.on('line', (line) => {
        if (line.trim() === 'START') {
          rl.close()
          resolve()
        }
      })
    })
    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    let deposits = 0
    const latencies: number[] = []
    const end = now() + args.seconds * 1000
    // Jitter drawn up front, in client order, so a run makes the same choices whatever the interleaving.
    const firstDelay = clients.map(() => random() * args.depositEveryMs)
    const gaps = clients.map(() => Array.from({ length: Math.ceil((args.seconds * 1000) / (args.depositEveryMs * 0.5)) + 1 }, () => args.depositEveryMs * (0.5 + random())))
    await Promise.all(
      clients.map(async (client, i) => {
        if (!up[i]) return
        await sleep(firstDelay[i]!)
        let k = 0
        while (now() < end) {
          const envelope = randomEnvelope(args.envelopeBytes)
          const t = now()
          try {
            const [r] = await client.deposit(args.relayPeerId, keys.get(groupOf(i))!, [envelope])
            if (r?.status !== 'stored') fail(new Error(r?.status ?? 'no result'))
            else sent.get(groupOf(i))!.add(Buffer.from(envelope.id).toString('base64'))
            deposits++
          } catch (err) {
            fail(err)
          }
          latencies.push(now() - t)
          await sleep(gaps[i]![k++] ?? args.depositEveryMs)
        }
      }),
    )
    const expected = (): number => nodes.reduce((n, _, i) => n + (up[i] ? sent.get(groupOf(i))!.size : 0), 0)
    const delivered = (): number => received.reduce((n, set, i) => n + [...sent.get(groupOf(i))!].filter((id) => set.has(id)).length, 0)
    const deadline = now() + 15_000
    while (delivered() < expected() && now() < deadline) await sleep(100)
    loop.disable()
    const result: HeldChildResult = {
      clients: up.filter(Boolean).length,
      unconnected,
      deposits,
      deliveries: delivered(),
      expectedDeliveries: expected(),
      errors,
      errorKinds,
      errorSamples,
      latencies: latencies.map((x) => round(x, 2)),
      loopDelay: { p50: round(loop.percentile(50) / 1e6, 1), p99: round(loop.percentile(99) / 1e6, 1), max: round(loop.max / 1e6, 1) },
      connectMs: Math.round(connectMs),
      connectRetries,
    }
    controller.abort()
    await Promise.all(watches)
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  } finally {
    controller.abort()
    await Promise.allSettled(nodes.map((n) => n.stop()))
  }
}

await main(JSON.parse(process.argv[2] ?? '{}') as HeldChildArgs)
// A stray timer in a dependency must not keep the slice alive once its result is out.
process.exit(0)
