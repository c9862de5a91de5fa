/**
 * The WebSocket carrier of the core API, for the headless daemon, the browser mode and end-to-end tests.
 *
 * Anything on this machine can open a socket to 127.0.0.1, including a web page the user happens to visit, so:
 *  - it binds to 127.0.0.1 only (never a LAN interface);
 *  - every connection must present the token (kept in a 0600 file), compared in constant time, refused with HTTP 401
 *    before the upgrade so an unauthenticated client never gets a socket;
 *  - the Origin header, which browsers always send and pages cannot forge, must be absent (CLI, tests) or this
 *    server's own origin, so a random page cannot drive the API even if it learned the token;
 *  - requests are capped at 1 MiB: a larger one is answered TOO_LARGE (with its id when it names one first or last)
 *    and the connection stays up, since one oversized paste must not cut the UI off from the core; only a frame over
 *    MAX_API_FRAME_BYTES, which would have to be held whole, closes the connection (1009);
 *  - each connection has a bounded number of requests in flight.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { HearthError, drop } from '../../common/errors.js'
import { Logger } from '../core/logger.js'
import { API_PROTOCOL_PREFIX, type EventPush, type Response } from './contract.js'
import type { Dispatcher } from './dispatcher.js'
import { MAX_API_MESSAGE_BYTES, sniffRequestId } from './protocol.js'

export { MAX_API_MESSAGE_BYTES }
/**
 * The largest frame `ws` reads (it holds a message whole before handing it over). Between MAX_API_MESSAGE_BYTES and
 * this, a request is read only to be refused with TOO_LARGE; beyond it `ws` closes the connection with 1009.
 */
export const MAX_API_FRAME_BYTES = 16 * 1024 * 1024
export const DEFAULT_MAX_IN_FLIGHT = 32
/** A client that stops reading while events pile up is dropped rather than allowed to grow our memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024

export interface ApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number
  /** Only loopback is allowed; the option exists so the choice is explicit at the call site. */
  host?: '127.0.0.1'
  /** Shared secret; a random one is made when absent. Must be base64url/hex-like (it travels as a subprotocol). */
  token?: string
  /** Requests one connection may have in flight; more are answered RATE_LIMITED at once. */
  maxInFlight?: number
  /** Further origins allowed besides this server's own (for example a UI dev server on another loopback port). */
  extraOrigins?: string[]
  /**
   * Answers plain HTTP requests on the same port (the browser mode serves the UI here, so the page and its API share
   * one origin). `port` is the bound port. Without it, plain HTTP gets 426.
   */
  httpHandler?: (req: IncomingMessage, res: ServerResponse, port: number) => void
  logger?: Logger
}

export interface ApiServer {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,256}$/

export function generateApiToken(): string {
  return randomBytes(32).toString('base64url')
}

export async function startApiServer(dispatcher: Dispatcher, options: ApiServerOptions = {}): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1'
  if (host !== '127.0.0.1') throw new HearthError('INVALID_INPUT', 'the core API only listens on 127.0.0.1')
  const token = options.token ?? generateApiToken()
  if (!TOKEN_PATTERN.test(token)) throw new HearthError('INVALID_INPUT', 'API token must be 16-256 base64url characters')
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  const log = options.logger ?? Logger.silent()
  const tokenDigest = digest(token)

  const httpHandler = options.httpHandler
  const http = createServer((req, res) => {
    if (httpHandler !== undefined) {
      httpHandler(req, res, port)
      return
    }
    // Plain HTTP gets nothing: this port only speaks WebSocket.
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('WebSocket only\n')
  })
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_API_FRAME_BYTES,
    // A browser only accepts the connection if the server echoes one of the offered subprotocols; echo the token's.
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(API_PROTOCOL_PREFIX)) ?? false,
  })
  const clients = new Set<WebSocket>()
  // Set once listening; requests cannot arrive before that.
  let port = 0

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject)
      resolve()
    })
  })
  port = (http.address() as AddressInfo).port
  const allowedOrigins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, ...(options.extraOrigins ?? [])])

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own socket error listener before 'upgrade': a client that resets while we answer would
    // otherwise raise an unhandled 'error' (ECONNRESET) and end the process.
    socket.on('error', (err) => log.debug({ err }, 'API upgrade socket error'))
    const origin = req.headers.origin
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      refuse(socket, 403, 'Forbidden')
      return
    }
    const presented = presentedToken(req)
    // Compare digests: equal length always, so timingSafeEqual never throws and timing says nothing about length.
    if (presented === undefined || !timingSafeEqual(digest(presented), tokenDigest)) {
      refuse(socket, 401, 'Unauthorized')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws))
  })

  function onConnection(ws: WebSocket): void {
    clients.add(ws)
    let inFlight = 0
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (rawLength(data) > MAX_API_MESSAGE_BYTES) {
        const id = isBinary ? null : sniffRequestId(rawText(data, 0, 128), rawText(data, -128))
        send(ws, { id, ok: false, error: { code: 'TOO_LARGE', message: `request larger than ${MAX_API_MESSAGE_BYTES} bytes` } })
        return
      }
      if (isBinary) {
        send(ws, { id: null, ok: false, error: { code: 'INVALID_INPUT', message: 'requests are JSON text frames' } })
        return
      }
      let request: unknown
      try {
        request = JSON.parse(rawText(data))
      } catch {
        send(ws, { id: null, ok: false, error: { code: 'INVALID_INPUT', message: 'request is not valid JSON' } })
        return
      }
      if (inFlight >= maxInFlight) {
        const id = typeof request === 'object' && request !== null && 'id' in request ? request.id : null
        send(ws, {
          id: typeof id === 'number' || (typeof id === 'string' && id.length <= 64) ? id : null,
          ok: false,
          error: { code: 'RATE_LIMITED', message: `more than ${maxInFlight} requests in flight on this connection` },
        })
        return
      }
      inFlight++
      drop(
        dispatcher
          .handle(request)
          .then((response) => send(ws, response))
          .finally(() => inFlight--),
        (err) => log.warn({ err }, 'API response failed'),
      )
    })
    ws.on('close', () => clients.delete(ws))
    ws.on('error', (err) => log.debug({ err }, 'API client socket error'))
  }

  const unsubscribe = dispatcher.subscribe((push: EventPush) => {
    if (clients.size === 0) return
    const text = JSON.stringify(push)
    for (const ws of clients) send(ws, text)
  })

  function send(ws: WebSocket, message: Response | string): void {
    if (ws.readyState !== ws.OPEN) return
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      log.warn('dropping an API client that does not read its messages')
      ws.terminate()
      return
    }
    ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  let closing: Promise<void> | undefined
  return {
    url: `ws://${host}:${port}`,
    port,
    token,
    close() {
      closing ??= (async () => {
        unsubscribe()
        for (const ws of clients) ws.close(1001, 'core shutting down')
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        // Sockets that do not finish the close handshake promptly are cut so shutdown never hangs on a client.
        const force = setTimeout(() => {
          for (const ws of clients) ws.terminate()
          http.closeAllConnections()
        }, 1_000)
        await new Promise<void>((resolve) => http.close(() => resolve()))
        clearTimeout(force)
      })()
      return closing
    },
  }
}

/** The token from `Sec-WebSocket-Protocol: hearth.<token>` (browsers can set nothing else) or `?token=`. */
function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers['sec-websocket-protocol']
  if (header !== undefined) {
    for (const p of header.split(',')) {
      const trimmed = p.trim()
      if (trimmed.startsWith(API_PROTOCOL_PREFIX)) return trimmed.slice(API_PROTOCOL_PREFIX.length)
    }
  }
  try {
    return new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('token') ?? undefined
  } catch {
    return undefined
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function refuse(socket: Duplex, status: number, reason: string): void {
  // Destroy only once the response is flushed (as `ws` itself does), so the client sees the status, not a reset.
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

function rawBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  return data
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0)
  return data.byteLength
}

/** The text of a frame, or of a slice of it (`start` < 0 counts from the end) without copying the rest. */
function rawText(data: RawData, start?: number, end?: number): string {
  const buffer = rawBuffer(data)
  if (start === undefined) return buffer.toString('utf8')
  return buffer.subarray(start, end).toString('utf8')
}
