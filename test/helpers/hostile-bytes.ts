/**
 * Hostile bytes for any listener a stranger can reach: malformed WebSocket frames, garbage before and after handshakes,
 * connections reset mid-handshake and connections left half-open, over plain `net` sockets. Used on loopback by
 * test/integration/hostile-listeners.test.ts and across a LAN of network namespaces by test/netns/.
 *
 * Why these: a Node EventEmitter with no 'error' listener throws when it emits one, and `ws` emits 'error' on a socket
 * for any malformed frame, so one frame used to take a core or a relay down ("Unhandled 'error' event").
 */
import { connect, type Socket } from 'node:net'
import { waitFor } from '../../node/common/net/testing.js'

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

export type Step = { send: Buffer | string } | { awaitData: true } | { reset: true } | { hold: true }

/** A WebSocket upgrade request; `host` is the Host header (servers that check it want `127.0.0.1:<port>`). */
export const upgradeRequest = (path = '/', extra = '', host = '127.0.0.1'): string =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`

/** A client-to-server frame: masked as RFC 6455 requires unless `unmasked`, with the first byte given raw. */
export function frame(first: number, payload: number[] = [], options: { unmasked?: boolean; lengthBytes?: number[] } = {}): Buffer {
  const mask = [0x12, 0x34, 0x56, 0x78]
  const length = options.lengthBytes ?? [payload.length]
  if (options.unmasked === true) return Buffer.from([first, ...length, ...payload])
  const [lengthHead, ...lengthRest] = length
  return Buffer.from([first, 0x80 | lengthHead!, ...lengthRest, ...mask, ...payload.map((b, i) => b ^ mask[i % 4]!)])
}

/** Frames `ws` refuses, each of which makes it emit 'error' on the WebSocket. */
export const BAD_FRAMES: Record<string, Buffer> = {
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

/**
 * Sequences against any WebSocket listener, keyed by what they do; `path` is where the upgrade is accepted, `host`
 * the Host header it is accepted with.
 */
export function webSocketAttacks(path: string, host = '127.0.0.1'): Record<string, Step[]> {
  const upgrade = upgradeRequest(path, '', host)
  const attacks: Record<string, Step[]> = {}
  for (const [name, bytes] of Object.entries(BAD_FRAMES)) {
    attacks[`${name}, after the 101`] = [{ send: upgrade }, { awaitData: true }, { send: bytes }]
  }
  attacks['a bad frame in the same packet as the upgrade'] = [{ send: Buffer.concat([Buffer.from(upgrade), BAD_FRAMES['RSV2 and RSV3 set']!]) }]
  attacks['a valid binary frame of garbage'] = [{ send: upgrade }, { awaitData: true }, { send: frame(0x82, [0xde, 0xad, 0xbe, 0xef, 0, 0xff]) }]
  attacks['reset right after the upgrade request'] = [{ send: upgrade }, { reset: true }]
  attacks['reset after the 101'] = [{ send: upgrade }, { awaitData: true }, { reset: true }]
  attacks['reset in the middle of a frame'] = [{ send: upgrade }, { awaitData: true }, { send: frame(0x82, [1, 2, 3, 4]).subarray(0, 4) }, { reset: true }]
  attacks['an upgrade without a key'] = [{ send: `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n` }]
  attacks['an upgrade with a bad version'] = [{ send: upgrade.replace('Version: 13', 'Version: 99') }]
  attacks['text that is not HTTP'] = [{ send: 'hello there\r\n\r\n' }]
  attacks['a first byte that looks like TLS'] = [{ send: Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]) }]
  attacks['a header line with no colon'] = [{ send: 'GET / HTTP/1.1\r\nthis is not a header\r\n\r\n' }]
  attacks['a request line and nothing more, held open'] = [{ send: 'GET / HTTP/1.1\r\n' }, { hold: true }]
  attacks['a connection that says nothing, held open'] = [{ hold: true }]
  attacks['a connection reset before any byte'] = [{ reset: true }]
  return attacks
}

/** Sequences against a libp2p TCP listener (multistream-select, then Noise). */
export const TCP_ATTACKS: Record<string, Step[]> = {
  'random bytes': [{ send: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)) }],
  'a varint length prefix that never ends': [{ send: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) }],
  'a huge declared length': [{ send: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x2f]) }],
  'multistream header then garbage': [{ send: '\x13/multistream/1.0.0\n' }, { send: Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00, 0x00]) }],
  'Noise selected then garbage': [{ send: '\x13/multistream/1.0.0\n\x07/noise\n' }, { awaitData: true }, { send: Buffer.from([0x00, 0x20, ...new Array<number>(32).fill(0xab)]) }],
  'an HTTP WebSocket upgrade on the TCP port': [{ send: upgradeRequest('/') }, { send: BAD_FRAMES['RSV2 and RSV3 set']! }],
  'reset mid-negotiation': [{ send: '\x13/multistream/1.0\x00' }, { reset: true }],
  'a connection that says nothing, held open': [{ hold: true }],
}

/** Sequences against a plain HTTP server (a relay's /healthz and /metrics, the browser mode's UI); `host` as above. */
export function httpAttacks(path = '/healthz', hostHeader?: string): Record<string, Step[]> {
  const host = hostHeader ?? 'x'
  return {
    'text that is not HTTP': [{ send: 'hello there\r\n\r\n' }],
    'binary garbage': [{ send: Buffer.from([0x00, 0xff, 0x16, 0x03, 0x01, 0x80, 0x00]) }],
    'a WebSocket upgrade then a bad frame': [{ send: upgradeRequest('/metrics', '', hostHeader) }, { send: BAD_FRAMES['RSV2 and RSV3 set']! }],
    'headers larger than allowed': [{ send: `GET ${path} HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n` }],
    'a chunked body that lies': [{ send: `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n` }],
    'two Content-Lengths': [{ send: `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab` }],
    'reset right after a request': [{ send: `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n` }, { reset: true }],
    'a request line and nothing more, held open': [{ send: `GET ${path} HTTP/1.1\r\n` }, { hold: true }],
    'a connection that says nothing, held open': [{ hold: true }],
  }
}

/** The attacks on a relay's HTTP port. */
export const HTTP_ATTACKS: Record<string, Step[]> = httpAttacks()

export interface Target {
  host: string
  port: number
}

const held: Socket[] = []

/** Closes the connections the attacks left half-open on purpose. */
export function releaseHeld(): void {
  for (const socket of held.splice(0)) socket.destroy()
}

/** Runs one sequence on a fresh connection; resolves once the target closed it or it has had time to react. */
export async function poke(target: Target, steps: Step[]): Promise<void> {
  const socket = connect(target.port, target.host)
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

/**
 * Runs every sequence in turn, checking after each that the target still runs; throws naming the sequence after which
 * it did not (the process dies a tick or two after the bytes arrive, hence the pause).
 */
export async function attack(target: Target, attacks: Record<string, Step[]>, alive: () => boolean, onDone?: (name: string) => void): Promise<void> {
  for (const [name, steps] of Object.entries(attacks)) {
    await poke(target, steps)
    await new Promise((resolve) => setTimeout(resolve, 50))
    if (!alive()) throw new Error(`not running any more after: ${name}`)
    onDone?.(name)
  }
}

export function portOf(address: string): number {
  const port = /\/tcp\/(\d+)/.exec(address)?.[1]
  if (port === undefined) throw new Error(`no TCP port in ${address}`)
  return Number(port)
}
