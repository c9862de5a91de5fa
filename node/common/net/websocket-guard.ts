/**
 * The libp2p WebSocket transport with the guards its listener lacks, for every Hearth process that listens on
 * WebSockets (desktop cores and relays alike).
 *
 * Why: @libp2p/websockets (10.1.21, the newest release) listens for 'close' and 'message' on each inbound `ws` socket
 * but never for 'error'. `ws` emits 'error' for any malformed frame from the remote (reserved bits set, a bad opcode,
 * an unmasked frame, invalid UTF-8...), and a Node EventEmitter that emits 'error' with no listener throws: one frame
 * from anyone who can reach the port ended the process. Separately, its listener waits for a connection's first byte
 * with no deadline, so sockets that connect and say nothing are held forever.
 *
 * The transport has no option for either, so this wraps its `createListener` and hooks the listener's `ws` server at
 * `handleUpgrade` (ws's documented API, whose callback receives each new socket before any frame is parsed) and its
 * net server's 'connection' event. Both are reached through fields the package does not declare; if a release renames
 * them, `guardWebSocketListener` throws at start rather than running unguarded (the hostile-listeners test pins this).
 */
import { webSockets, type WebSocketsInit } from '@libp2p/websockets'
import type { Server as NetServer, Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'

/**
 * How long an inbound socket may take from TCP accept to a completed WebSocket handshake. HTTP parsing has its own
 * timeouts once a byte arrives; this also covers the silence before the first byte. Honest dialers send the upgrade
 * request at once.
 */
export const DEFAULT_WS_HANDSHAKE_TIMEOUT_MS = 10_000

export interface WebSocketGuardOptions {
  /** Told about each malformed frame or socket error (the socket is already being closed). */
  onSocketError?: (err: Error) => void
  handshakeTimeoutMs?: number
}

type TransportFactory = ReturnType<typeof webSockets>
type WebSocketsTransport = ReturnType<TransportFactory>
type UpgradeCallback = (ws: WebSocket, req: IncomingMessage) => void

/** `webSockets(init)` whose listeners survive hostile peers. Dialing is unchanged: it uses the runtime's WebSocket. */
export function guardedWebSockets(init: WebSocketsInit = {}, guard: WebSocketGuardOptions = {}): TransportFactory {
  const factory = webSockets(init)
  return (components) => {
    const transport: WebSocketsTransport = factory(components)
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => {
      const listener = createListener(options)
      guardWebSocketListener(listener, guard)
      return listener
    }
    return transport
  }
}

/** Installs the guards on a listener made by @libp2p/websockets. Exported for its unit test. */
export function guardWebSocketListener(listener: object, guard: WebSocketGuardOptions = {}): void {
  const { wsServer, server } = listener as { wsServer?: Partial<WebSocketServer>; server?: Partial<NetServer> }
  if (typeof wsServer?.handleUpgrade !== 'function' || typeof server?.on !== 'function') {
    throw new Error('@libp2p/websockets changed its listener: cannot install the WebSocket error guard')
  }
  const onSocketError = guard.onSocketError ?? (() => {})
  const handshakeTimeoutMs = guard.handshakeTimeoutMs ?? DEFAULT_WS_HANDSHAKE_TIMEOUT_MS

  const handleUpgrade = wsServer.handleUpgrade.bind(wsServer)
  wsServer.handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback) => {
    handleUpgrade(req, socket, head, (ws, request) => {
      ws.on('error', (err) => {
        onSocketError(err)
        // `ws` has already started a close handshake; a peer that sends malformed frames gets no 30 s grace to
        // answer it. 'close' follows, which libp2p handles as a reset.
        ws.terminate()
      })
      callback(ws, request)
    })
  }

  server.on('connection', (socket: Socket) => {
    // `ws` clears socket timeouts (setTimeout(0)) once the handshake completes, so this bounds only the handshake.
    socket.setTimeout(handshakeTimeoutMs)
    socket.once('timeout', () => socket.destroy())
  })
}
