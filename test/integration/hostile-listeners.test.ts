/**
 * Hostile bytes on every listener a stranger can reach: a real `hearth start` daemon (libp2p over TCP and WebSockets,
 * the core API's WebSocket on 127.0.0.1) and a real `hearth-relay` (libp2p over TCP and WebSockets, the operator's
 * HTTP port), each in its own process, each sent malformed WebSocket frames, garbage before and after handshakes,
 * connections reset mid-handshake and connections left half-open, over plain `net` sockets.
 *
 * The invariant: nothing a remote sends ends the process. A Node EventEmitter with no 'error' listener throws when it
 * emits one, and `ws` emits 'error' on a socket for any malformed frame, so one frame used to take a core or a relay
 * down ("Unhandled 'error' event"). After each batch the target must still be running and must still serve: a dial
 * plus ping over the very transport that was attacked, an API call, GET /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { waitFor } from '../../node/common/net/testing.js'
import { connectApi } from '../../node/src/api/ws-client.js'
import { removeRelayDir, spawnRelay, type RelayProcess } from '../helpers/relay.js'

const ROOT = join(import.meta.dirname, '..', '..')
const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

// ------------------------------------------------------------------------------------------------ hostile bytes

type Step = { send: Buffer | string } | { awaitData: true } | { reset: true } | { hold: true }

const upgradeRequest = (path = '/', extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`

/** A client-to-server frame: masked as RFC 6455 requires unless `unmasked`, with the first byte given raw. */
function frame(first: number, payload: number[] = [], options: { unmasked?: boolean; lengthBytes?: number[] } = {}): Buffer {
  const mask = [0x12, 0x34, 0x56, 0x78]
  const length = options.lengthBytes ?? [payload.length]
  if (options.unmasked === true) return Buffer.from([first, ...length, ...payload])
  const [lengthHead, ...lengthRest] = length
  return Buffer.from([first, 0x80 | lengthHead!, ...lengthRest, ...mask, ...payload.map((b, i) => b ^ mask[i % 4]!)])
}

/** Frames `ws` refuses, each of which makes it emit 'error' on the WebSocket. */
const BAD_FRAMES: Record<string, Buffer> = {
  'RSV2 and RSV3 set': frame(0xf2, [1, 2, 3]),
  'RSV1 set without permessage-deflate': frame(0xc2, [1]),
  'reserved opcode': frame(0x83),
  'unmasked client frame': frame(0x82, [0], { unmasked: true }),
  'fragmented ping': frame(0x09),
  'continuation with nothing to continue': frame(0x80, [1]),
  'close frame with an invalid code': frame(0x88, [0x03, 0xe7]),
  'text frame that is not UTF-8': frame(0x81, [0xff, 0xfe]),
  'payload length beyond 2^53': frame(0x82, [], { lengthBytes: [127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }),
  'control frame longer than 125 bytes': frame(0x89, new Array<number>(126).fill(0), { lengthBytes: [126, 0, 126] }),
}

/** Sequences against any WebSocket listener, keyed by what they do; `path` is where the upgrade is accepted. */
function webSocketAttacks(path: string): Record<string, Step[]> {
  const attacks: Record<string, Step[]> = {}
  for (const [name, bytes] of Object.entries(BAD_FRAMES)) {
    attacks[`${name}, after the 101`] = [{ send: upgradeRequest(path) }, { awaitData: true }, { send: bytes }]
  }
  attacks['a bad frame in the same packet as the upgrade'] = [{ send: Buffer.concat([Buffer.from(upgradeRequest(path)), BAD_FRAMES['RSV2 and RSV3 set']!]) }]
  attacks['a valid binary frame of garbage'] = [{ send: upgradeRequest(path) }, { awaitData: true }, { send: frame(0x82, [0xde, 0xad, 0xbe, 0xef, 0, 0xff]) }]
  attacks['reset right after the upgrade request'] = [{ send: upgradeRequest(path) }, { reset: true }]
  attacks['reset after the 101'] = [{ send: upgradeRequest(path) }, { awaitData: true }, { reset: true }]
  attacks['reset in the middle of a frame'] = [{ send: upgradeRequest(path) }, { awaitData: true }, { send: frame(0x82, [1, 2, 3, 4]).subarray(0, 4) }, { reset: true }]
  attacks['an upgrade without a key'] = [{ send: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' }]
  attacks['an upgrade with a bad version'] = [{ send: upgradeRequest(path).replace('Version: 13', 'Version: 99') }]
  attacks['text that is not HTTP'] = [{ send: 'hello there\r\n\r\n' }]
  attacks['a first byte that looks like TLS'] = [{ send: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]) }]
  attacks['a header line with no colon'] = [{ send: 'GET / HTTP/1.1\r\nthis is not a header\r\n\r\n' }]
  attacks['a request line and nothing more, held open'] = [{ send: 'GET / HTTP/1.1\r\n' }, { hold: true }]
  attacks['a connection that says nothing, held open'] = [{ hold: true }]
  attacks['a connection reset before any byte'] = [{ reset: true }]
  return attacks
}

/** Sequences against a libp2p TCP listener (multistream-select, then Noise). */
const TCP_ATTACKS: Record<string, Step[]> = {
  'random bytes': [{ send: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }],
  'a varint length prefix that never ends': [{ send: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) }],
  'a huge declared length': [{ send: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x2f]) }],
  'multistream header then garbage': [{ send: '\x13/multistream/1.0.0\n' }, { send: Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00, 0x00]) }],
  'Noise selected then garbage': [{ send: '\x13/multistream/1.0.0\n\x07/noise\n' }, { awaitData: true }, { send: Buffer.from([0x00, 0x20, ...new Array<number>(32).fill(0xab)]) }],
  'an HTTP WebSocket upgrade on the TCP port': [{ send: upgradeRequest('/') }, { send: BAD_FRAMES['RSV2 and RSV3 set']! }],
  'reset mid-negotiation': [{ send: '\x13/multistream/1.0\x00' }, { reset: true }],
  'a connection that says nothing, held open': [{ hold: true }],
}

/** Sequences against a plain HTTP server (the relay's /healthz and /metrics). */
const HTTP_ATTACKS: Record<string, Step[]> = {
  'text that is not HTTP': [{ send: 'hello there\r\n\r\n' }],
  'binary garbage': [{ send: Buffer.from([0x00, 0xff, 0x16, 0x03, 0x01, 0x80, 0x00]) }],
  'a WebSocket upgrade then a bad frame': [{ send: upgradeRequest('/metrics') }, { send: BAD_FRAMES['RSV2 and RSV3 set']! }],
  'headers larger than allowed': [{ send: `GET /healthz HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` }],
  'a chunked body that lies': [{ send: 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' }],
  'two Content-Lengths': [{ send: 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' }],
  'reset right after a request': [{ send: 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' }, { reset: true }],
  'a request line and nothing more, held open': [{ send: 'GET /healthz HTTP/1.1\r\n' }, { hold: true }],
  'a connection that says nothing, held open': [{ hold: true }],
}

const held: Socket[] = []

/** Runs one sequence on a fresh connection; resolves once the target closed it or it has had time to react. */
async function poke(port: number, steps: Step[]): Promise<void> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let received = 0
  let closed = false
  socket.on('data', (chunk: Buffer) => (received += chunk.length))
  socket.on('close', () => (closed = true))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  for (const step of steps) {
    if (closed) return
    if ('send' in step) socket.write(step.send)
    else if ('awaitData' in step) await waitFor(() => received > 0 || closed, { timeoutMs: 5_000, message: 'an answer' })
    else if ('reset' in step) {
      socket.resetAndDestroy()
      return
    } else {
      held.push(socket)
      return
    }
  }
  // Give the target the time to parse what it got (and, on the code with the hole, to die of it).
  await waitFor(() => closed, { timeoutMs: 300 }).catch(() => {})
  socket.destroy()
}

async function attack(port: number, attacks: Record<string, Step[]>, alive: () => boolean): Promise<void> {
  for (const [name, steps] of Object.entries(attacks)) {
    await poke(port, steps)
    // Name the sequence that killed it: the process dies a tick or two after the bytes arrive.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(alive(), `still running after: ${name}`).toBe(true)
  }
}

function portOf(address: string): number {
  const port = /\/tcp\/(\d+)/.exec(address)?.[1]
  if (port === undefined) throw new Error(`no TCP port in ${address}`)
  return Number(port)
}

// ------------------------------------------------------------------------------------------------ targets

interface Daemon {
  child: ChildProcess
  peerId: string
  tcp: string
  ws: string
  apiUrl: string
  token: string
  output: string[]
  dataDir: string
}

/** `hearth start` as an operator runs it, listening on TCP and WebSockets on loopback. */
async function startDaemon(): Promise<Daemon> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hearth-hostile-'))
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('HEARTH_')) delete env[key]
  const child = spawn(process.execPath, ['--import', 'tsx', 'node/src/cli/main.ts', '--data-dir', dataDir, '--json', 'start', '--name', 'target'], {
    cwd: ROOT,
    env: {
      ...env,
      HEARTH_PASSPHRASE: 'correct horse battery staple',
      HEARTH_MDNS: '0',
      HEARTH_LISTEN: '/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/tcp/0/ws',
      HEARTH_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
  const ready = await new Promise<{ whoami: { peerId: string; addresses: string[] }; api: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line)
      try {
        const event = JSON.parse(line) as { event?: string; whoami: { peerId: string; addresses: string[] }; api: string }
        if (event.event === 'ready') resolve(event)
      } catch {
        // The recovery phrase banner and other lines that are not events.
      }
    })
    child.once('exit', (code) => reject(new Error(`hearth start exited (${String(code)}): ${output.join('\n')}`)))
    setTimeout(() => reject(new Error(`hearth start not ready in 30 s: ${output.join('\n')}`)), 30_000).unref()
  })
  const apiFile = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { token: string }
  const addresses = ready.whoami.addresses
  return {
    child,
    peerId: ready.whoami.peerId,
    tcp: addresses.find((a) => !a.includes('/ws'))!,
    ws: addresses.find((a) => a.includes('/ws'))!,
    apiUrl: ready.api,
    token: apiFile.token,
    output,
    dataDir,
  }
}

const running = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null

/** Dials `address` afresh (no other connection to reuse), checks the transport, and pings over it. */
async function dialAndPing(probe: HearthNode, address: string, peerId: string): Promise<void> {
  await probe.hangUp(peerId)
  const target = multiaddr(address.includes('/p2p/') ? address : `${address}/p2p/${peerId}`)
  // The target limits new connections per host per second, and the attack came from this host: retry briefly.
  const connection = await waitFor(async () => probe.libp2p.dial(target, { signal: AbortSignal.timeout(5_000) }), {
    timeoutMs: 15_000,
    intervalMs: 250,
    message: `a dial to ${address}`,
  })
  expect(connection.remotePeer.toString()).toBe(peerId)
  expect(connection.remoteAddr.toString().includes('/ws')).toBe(address.includes('/ws'))
  const rtt = await probe.libp2p.services.ping.ping(target, { signal: AbortSignal.timeout(5_000) })
  expect(rtt).toBeGreaterThanOrEqual(0)
}

describe('hostile bytes on every listener', () => {
  let daemon: Daemon
  let relay: RelayProcess
  let probe: HearthNode

  beforeAll(async () => {
    ;[daemon, relay, probe] = await Promise.all([
      startDaemon(),
      spawnRelay(),
      createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {} }),
    ])
  }, 60_000)

  afterAll(async () => {
    for (const socket of held.splice(0)) socket.destroy()
    await probe?.stop()
    if (daemon !== undefined) {
      if (running(daemon.child)) {
        const exited = new Promise((resolve) => daemon.child.once('exit', resolve))
        daemon.child.kill('SIGTERM')
        await exited
      }
      await rm(daemon.dataDir, { recursive: true, force: true })
    }
    if (relay !== undefined) {
      await relay.stop()
      await removeRelayDir(relay)
    }
  }, 30_000)

  describe('a core (hearth start)', () => {
    it('keeps serving on its libp2p WebSocket listener', async () => {
      await attack(portOf(daemon.ws), webSocketAttacks('/'), () => running(daemon.child))
      await dialAndPing(probe, daemon.ws, daemon.peerId)
      expect(running(daemon.child), daemon.output.join('\n')).toBe(true)
    }, 60_000)

    it('keeps serving on its libp2p TCP listener', async () => {
      await attack(portOf(daemon.tcp), TCP_ATTACKS, () => running(daemon.child))
      await dialAndPing(probe, daemon.tcp, daemon.peerId)
    }, 60_000)

    it('keeps serving its core API WebSocket', async () => {
      const port = Number(new URL(daemon.apiUrl).port)
      const authorised = `/?token=${daemon.token}`
      await attack(port, webSocketAttacks(authorised), () => running(daemon.child))
      // Refused upgrades (no token, a wrong token, a foreign Origin) reset by the client before the 401/403 is written.
      const refused = {
        'no token, reset at once': [{ send: upgradeRequest('/') }, { reset: true }],
        'a wrong token, reset at once': [{ send: upgradeRequest('/?token=AAAAAAAAAAAAAAAAAAAAAA') }, { reset: true }],
        'a foreign Origin, reset at once': [{ send: upgradeRequest(authorised, 'Origin: http://evil.example\r\n') }, { reset: true }],
      } satisfies Record<string, Step[]>
      // Many at once: whether the reset lands before the refusal is written is a race on each connection.
      for (const [name, steps] of Object.entries(refused)) {
        await Promise.all(Array.from({ length: 40 }, () => poke(port, steps)))
        await new Promise((resolve) => setTimeout(resolve, 100))
        expect(running(daemon.child), `still running after: ${name}`).toBe(true)
      }

      const client = await connectApi(daemon.apiUrl, daemon.token)
      try {
        const me = await client.call('identity.whoami')
        expect(me.peerId).toBe(daemon.peerId)
      } finally {
        client.close()
      }
    }, 60_000)
  })

  describe('a relay', () => {
    it('keeps serving on its libp2p WebSocket listener', async () => {
      const ws = relay.multiaddrs.find((a) => a.includes('/ws'))!
      await attack(portOf(ws), webSocketAttacks('/'), () => running(relay.child))
      await dialAndPing(probe, ws, relay.peerId)
      expect(running(relay.child), relay.stderr.join('')).toBe(true)
    }, 60_000)

    it('keeps serving on its libp2p TCP listener', async () => {
      await attack(portOf(relay.address), TCP_ATTACKS, () => running(relay.child))
      await dialAndPing(probe, relay.address, relay.peerId)
    }, 60_000)

    it('keeps serving /healthz and /metrics on its HTTP port', async () => {
      await attack(Number(new URL(relay.httpUrl).port), HTTP_ATTACKS, () => running(relay.child))
      const health = await fetch(`${relay.httpUrl}/healthz`)
      expect(health.status).toBe(200)
      expect(await relay.metrics()).toContain('# TYPE')
    }, 60_000)
  })
})
