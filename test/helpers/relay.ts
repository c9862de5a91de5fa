/**
 * Relay test helpers: a real `hearth-relay` process (spawned the way an operator runs it, `node --import tsx
 * relay/src/cli.ts`) with a temp data directory, its JSON logs captured, and its /metrics parsed; plus client nodes
 * and envelopes for MailboxClient.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createHearthNode, type HearthNode, type NodeOptions } from '../../node/common/net/create-node.js'
import { MailboxClient, type MailboxClientOptions } from '../../node/common/net/mailbox-client.js'

const root = new URL('../../', import.meta.url).pathname

export interface RelayProcess {
  peerId: string
  multiaddrs: string[]
  /** The TCP multiaddr (with /p2p/). */
  address: string
  httpUrl: string
  dataDir: string
  child: ChildProcess
  /** Every stdout line so far (JSON logs) and stderr text. */
  logs: string[]
  stderr: string[]
  exited: Promise<number | null>
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** SIGKILL, no chance to flush anything. */
  kill9(): Promise<void>
  metrics(): Promise<string>
  /** Sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>
}

/** Options as flags (`{ 'max-envelope-bytes': '1KiB' }`); listening on loopback with ephemeral ports by default. */
export async function spawnRelay(options: { dataDir?: string; flags?: Record<string, string>; env?: Record<string, string> } = {}): Promise<RelayProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'hearth-relay-test-')))
  const flags: Record<string, string> = {
    'data-dir': dataDir,
    listen: '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/ws',
    'http-port': '0',
    'dht-addresses': 'all',
    'connection-rate-per-host': '1000',
    'log-level': 'info',
    ...options.flags,
  }
  const args = ['--import', 'tsx', 'relay/src/cli.ts', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])]
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } })
  const logs: string[] = []
  const stderr: string[] = []
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (line) => logs.push(line))
  // The banner on stderr (printed whatever the log level): "hearth-relay <PeerId>", one address per line, "http <url>".
  const started = new Promise<{ peerId: string; multiaddrs: string[]; http: string }>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString())
      const text = stderr.join('')
      const banner = /hearth-relay (\S+)\n((?: {2}\S+\n)+)http (\S+)/.exec(text)
      if (banner !== null) resolve({ peerId: banner[1]!, multiaddrs: banner[2]!.trim().split(/\s+/), http: banner[3]! })
    })
    void exited.then((code) => reject(new Error(`relay exited (${String(code)}) before starting: ${stderr.join('')}`)))
    setTimeout(() => reject(new Error(`relay did not start in 30 s: ${stderr.join('')}`)), 30_000).unref()
  })
  const info = await started
  const metrics = async (): Promise<string> => (await fetch(`${info.http}/metrics`)).text()
  return {
    peerId: info.peerId,
    multiaddrs: info.multiaddrs,
    address: info.multiaddrs.find((a) => !a.includes('/ws'))!,
    httpUrl: info.http,
    dataDir,
    child,
    logs,
    stderr,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
    metrics,
    async metric(name, labels = {}) {
      return sumMetric(await metrics(), name, labels)
    },
  }
}

/** Sums the samples of `name` whose label set includes `labels` (Prometheus text format). */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (match === null || match[1] !== name) continue
    const set = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => set[k] === v)) total += Number(match[3])
  }
  return total
}

export async function removeRelayDir(relay: Pick<RelayProcess, 'dataDir'>): Promise<void> {
  await rm(relay.dataDir, { recursive: true, force: true })
}

export interface ClientNode {
  node: HearthNode
  client: MailboxClient
  stop(): Promise<void>
}

/** A client node on TCP loopback (no mDNS, no DHT unless asked) with a MailboxClient. */
export async function clientNode(options: Partial<NodeOptions> = {}, clientOptions: MailboxClientOptions = {}): Promise<ClientNode> {
  const node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {}, ...options })
  return { node, client: new MailboxClient(node, clientOptions), stop: () => node.stop() }
}

/** Random bytes standing in for an encrypted envelope, with its id (SHA-256). */
export function randomEnvelope(size = 600): { id: Uint8Array; bytes: Uint8Array } {
  const bytes = new Uint8Array(randomBytes(size))
  return { id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
