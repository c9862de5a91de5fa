/**
 * A hostile device (or a hostile local program) in the network-namespace suite: run inside a namespace with a JSON
 * plan as its argument, it sends test/helpers/hostile-bytes.ts's sequences at each listener of the plan, checking
 * after each that the target process still runs, then checks that every listener still serves (a libp2p dial and ping
 * over the attacked transport, an API call, a page of the UI). One JSON line per sequence done, one with the result.
 */
import { readFileSync } from 'node:fs'
import { multiaddr } from '@multiformats/multiaddr'
import { createHearthNode } from '../../node/common/net/create-node.js'
import { waitFor } from '../../node/common/net/testing.js'
import { connectApi } from '../../node/src/api/ws-client.js'
import { TCP_ATTACKS, attack, httpAttacks, poke, releaseHeld, upgradeRequest, webSocketAttacks, type Step } from '../helpers/hostile-bytes.js'

export interface AttackPlan {
  /** The process every listener belongs to: it must be running after each sequence. */
  pid: number
  jobs: Array<{ label: string; host: string; port: number; kind: 'tcp' | 'ws' | 'http' | 'api'; path?: string; hostHeader?: string }>
  verify: {
    libp2p?: Array<{ address: string; peerId: string }>
    api?: { url: string; token: string; method: 'identity.whoami' | 'app.status' }
    http?: string
  }
}

const plan = JSON.parse(process.argv[2]!) as AttackPlan
const out = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

/** Running, and not a zombie its parent has yet to reap (a dead process still answers kill(pid, 0)). */
function alive(): boolean {
  try {
    const stat = readFileSync(`/proc/${plan.pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function run(): Promise<Record<string, unknown>> {
  let sequences = 0
  for (const job of plan.jobs) {
    const target = { host: job.host, port: job.port }
    const attacks =
      job.kind === 'tcp' ? TCP_ATTACKS : job.kind === 'http' ? httpAttacks(job.path ?? '/', job.hostHeader) : webSocketAttacks(job.path ?? '/', job.hostHeader)
    await attack(target, attacks, alive, (name) => {
      sequences++
      out({ event: 'done', label: job.label, attack: name })
    })
    if (job.kind === 'api') {
      // Refused upgrades (no token, a wrong token, a foreign Origin) reset before the refusal is written; many at once,
      // since whether the reset wins is a race on each connection.
      const host = job.hostHeader ?? '127.0.0.1'
      const refused: Record<string, Step[]> = {
        'no token, reset at once': [{ send: upgradeRequest('/', '', host) }, { reset: true }],
        'a wrong token, reset at once': [{ send: upgradeRequest('/?token=AAAAAAAAAAAAAAAAAAAAAA', '', host) }, { reset: true }],
        'a foreign Origin, reset at once': [{ send: upgradeRequest(job.path ?? '/', 'Origin: http://evil.example\r\n', host) }, { reset: true }],
      }
      for (const [name, steps] of Object.entries(refused)) {
        await Promise.all(Array.from({ length: 30 }, () => poke(target, steps)))
        await new Promise((resolve) => setTimeout(resolve, 100))
        if (!alive()) throw new Error(`not running any more after: ${name}`)
        sequences++
        out({ event: 'done', label: job.label, attack: name })
      }
    }
  }
  releaseHeld()

  const verified: string[] = []
  if (plan.verify.libp2p !== undefined) {
    const probe = await createHearthNode({ listen: [], mdns: false, dht: false, onError: () => {} })
    try {
      for (const { address, peerId } of plan.verify.libp2p) {
        const target = multiaddr(address.includes('/p2p/') ? address : `${address}/p2p/${peerId}`)
        await probe.hangUp(peerId)
        // The target limits new connections per host per second, and the attack came from this host: retry briefly.
        const connection = await waitFor(async () => probe.libp2p.dial(target, { signal: AbortSignal.timeout(5_000) }), {
          timeoutMs: 20_000,
          intervalMs: 250,
          message: `a dial to ${address}`,
        })
        if (connection.remotePeer.toString() !== peerId) throw new Error(`${address} answered as ${connection.remotePeer.toString()}`)
        await probe.libp2p.services.ping.ping(target, { signal: AbortSignal.timeout(5_000) })
        verified.push(`dial and ping ${address}`)
      }
    } finally {
      await probe.stop()
    }
  }
  if (plan.verify.api !== undefined) {
    const client = await connectApi(plan.verify.api.url, plan.verify.api.token)
    try {
      await client.call(plan.verify.api.method)
      verified.push(`API ${plan.verify.api.method}`)
    } finally {
      client.close()
    }
  }
  if (plan.verify.http !== undefined) {
    const response = await fetch(plan.verify.http)
    if (response.status !== 200) throw new Error(`GET ${plan.verify.http}: ${response.status}`)
    verified.push(`GET ${plan.verify.http}`)
  }
  return { sequences, verified }
}

run().then(
  (result) => {
    out({ event: 'result', ok: true, ...result })
    process.exit(0)
  },
  (err: unknown) => {
    out({ event: 'result', ok: false, error: err instanceof Error ? err.message : String(err) })
    process.exit(1)
  },
)
