/**
 * A real relay (relay/src/relay.ts, in this process) for tests of the core against relays: loopback TCP, a temp data
 * dir, logs captured at debug level so a test can inspect everything the relay said, and a restart that keeps the data
 * dir, the identity and the port (so the multiaddr the cores know stays valid).
 */
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach } from 'vitest'
import type { RelayConfigInput } from '../../relay/src/config.js'
import { createLogger } from '../../relay/src/ops/logger.js'
import { startRelay, type RunningRelay } from '../../relay/src/relay.js'
import { stopAll, type TestCore } from './cores.js'

export interface TestRelay {
  /** The relay's loopback TCP multiaddr with /p2p/. */
  address: string
  peerId: string
  dataDir: string
  stop(): Promise<void>
  /** Stops (if running) and starts again on the same data dir and port. */
  restart(): Promise<void>
  /** Stops and removes the data dir. */
  dispose(): Promise<void>
  /** Every byte of every file in the relay's data dir, concatenated. */
  storedBytes(): Promise<Buffer>
  /** Everything the relay logged so far (JSON lines, debug level). */
  logText(): string
}

export async function startTestRelay(name: string, overrides: Partial<RelayConfigInput> = {}): Promise<TestRelay> {
  const dataDir = await mkdtemp(join(tmpdir(), `hearth-relay-${name}-`))
  const lines: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'))
      callback()
    },
  })
  const logger = createLogger('debug', sink)
  let port = 0
  let running: RunningRelay | undefined
  const start = async (): Promise<RunningRelay> => {
    const relay = await startRelay(
      {
        dataDir,
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
        httpPort: 0,
        dht: false,
        announceRendezvous: false,
        logLevel: 'debug',
        ...overrides,
      },
      { logger },
    )
    const tcp = relay.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))
    if (tcp === undefined) throw new Error(`relay ${name} has no loopback TCP address: ${relay.multiaddrs.join(' ')}`)
    port = Number(tcp.split('/')[4])
    return relay
  }
  running = await start()
  const first = running
  const address = first.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))!
  const handle: TestRelay = {
    address,
    peerId: first.peerId,
    dataDir,
    async stop() {
      const r = running
      running = undefined
      await r?.stop()
    },
    async restart() {
      await handle.stop()
      running = await start()
    },
    async dispose() {
      await handle.stop()
      await rm(dataDir, { recursive: true, force: true })
    },
    async storedBytes() {
      return Buffer.concat(await Promise.all((await filesUnder(dataDir)).map((f) => readFile(f))))
    },
    logText: () => lines.join(''),
  }
  return handle
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile() && (await stat(path)).size > 0) out.push(path)
  }
  return out
}

/**
 * What a test of cores and relays started, stopped after each test (registers the afterEach). Assign the cores and
 * relays as they start: `bed.relays = [relay]`, `bed.cores = [alice, bob]`.
 */
export function coresAndRelays(): { cores: TestCore[]; relays: TestRelay[] } {
  const bed = { cores: [] as TestCore[], relays: [] as TestRelay[] }
  afterEach(async () => {
    await stopAll(bed.cores)
    await Promise.allSettled(bed.relays.map((r) => r.dispose()))
    bed.cores = []
    bed.relays = []
  })
  return bed
}
