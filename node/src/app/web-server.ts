/**
 * The browser mode's server: the built UI and the core API's WebSocket on one 127.0.0.1 port, so the page and its
 * API share an origin and the WebSocket's Origin check admits exactly this page.
 *
 * What protects it (see also ws-server.ts):
 *  - loopback only; a Host header other than 127.0.0.1:<port> / localhost:<port> is refused, so a DNS-rebinding page
 *    cannot even read the UI's files under its own name;
 *  - the API needs the token, which never appears in a URL, a command line or a log: the launcher opens the page with a
 *    one-time launch code in the fragment, and the page trades it for the token with POST /launch (launch-codes.ts),
 *    from this origin only (the Origin header, which pages cannot forge); a second `npm start` gets a fresh launch
 *    address with POST /launch-url and the token from api.json, a request no web page can make (it carries no Origin);
 *  - a strict Content-Security-Policy: scripts and styles from this origin only (no inline code, no eval), the API
 *    socket as the only connection, no frames, no forms, no plugins;
 *  - only GET/HEAD of files inside the UI's build directory; no directory listing, no path outside it;
 *  - request bodies (the two POSTs) are capped at MAX_BODY_BYTES and parsed strictly.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { HearthError, drop } from '../../common/errors.js'
import type { Dispatcher } from '../api/dispatcher.js'
import { startApiServer } from '../api/ws-server.js'
import { Logger } from '../core/logger.js'
import { createLaunchCodes, type LaunchCodes } from './launch-codes.js'

export interface WebServerOptions {
  /** What answers the API: the app host (or any dispatcher). */
  dispatcher: Dispatcher
  /** The built UI (renderer/dist). */
  distDir: string
  /** 0 or absent: any free port. */
  port?: number
  /** Defaults to a random one per start. */
  token?: string
  /** Further origins allowed to open the API (the Vite dev server during UI development). */
  extraOrigins?: string[]
  /** Tests inject short-lived codes or a clock; defaults to createLaunchCodes(). */
  launchCodes?: LaunchCodes
  logger?: Logger
}

export interface WebServer {
  /** http://127.0.0.1:<port>/ */
  origin: string
  /** A fresh address to open: the origin with a new one-time launch code in the fragment (`#launch=<code>`). */
  newLaunchUrl(): string
  /** A fresh launch code alone (the development address puts it on the dev server's origin). */
  newLaunchCode(): string
  /** The API's WebSocket URL (same port). */
  apiUrl: string
  port: number
  /** The API's session token: for api.json (0600) only; never printed, logged or put in a URL. */
  token: string
  close(): Promise<void>
}

/** The largest body the two POST routes read. */
export const MAX_BODY_BYTES = 1024

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
}

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // QR codes and image placeholders are data URLs; photos are object URLs of bytes the page read through the API.
    "img-src 'self' data: blob:",
    "font-src 'self'",
    // 'self' for the launch-code exchange (POST /launch), the sockets for the API.
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ')
}

function securityHeaders(port: number): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(port),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  }
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const distDir = resolve(options.distDir)
  const log = options.logger ?? Logger.silent()
  try {
    await stat(join(distDir, 'index.html'))
  } catch (err) {
    throw new HearthError('NOT_FOUND', `the UI is not built: ${join(distDir, 'index.html')} is missing (npm run build:renderer)`, { cause: err })
  }

  const codes = options.launchCodes ?? createLaunchCodes()
  const extraOrigins = new Set(options.extraOrigins ?? [])
  const api = await startApiServer(options.dispatcher, {
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.extraOrigins === undefined ? {} : { extraOrigins: options.extraOrigins }),
    logger: log,
    httpHandler: (req, res, port) => drop(route(req, res, port), (err) => {
      log.warn({ err }, 'serving a UI request failed')
      if (!res.headersSent) res.writeHead(500, securityHeaders(port)).end()
      else res.destroy()
    }),
  })
  const origin = `http://127.0.0.1:${api.port}/`
  const tokenDigest = sha256(api.token)
  const newLaunchUrl = () => `${origin}#launch=${codes.issue()}`

  async function route(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
    const headers = securityHeaders(port)
    const host = req.headers.host
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      res.writeHead(421, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('Misdirected request\n')
      return
    }
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/launch') return exchangeLaunchCode(req, res, port)
    if (path === '/launch-url') return issueLaunchUrl(req, res, port)
    return serveFile(distDir, req, res, port)
  }

  /** The page trades its one-time code for the token. Only this page's origin (or a configured dev origin) may ask. */
  async function exchangeLaunchCode(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
    const requestOrigin = req.headers.origin
    const own = requestOrigin === `http://127.0.0.1:${port}` || requestOrigin === `http://localhost:${port}`
    const dev = requestOrigin !== undefined && extraOrigins.has(requestOrigin)
    if (!own && !dev) {
      json(res, port, 403, { error: 'forbidden' })
      return
    }
    // The dev server's page is another origin: it needs CORS, and its JSON POST a preflight.
    const cors: Record<string, string> = dev ? { 'access-control-allow-origin': requestOrigin!, vary: 'origin' } : {}
    if (req.method === 'OPTIONS' && dev) {
      res.writeHead(204, { ...securityHeaders(port), ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' }).end()
      return
    }
    if (req.method !== 'POST') {
      json(res, port, 405, { error: 'method' }, { allow: 'POST', ...cors })
      return
    }
    const body = await readJsonBody(req, res, port)
    if (body === undefined) return
    const code = typeof body === 'object' && body !== null && 'code' in body ? (body as { code: unknown }).code : undefined
    const result = codes.redeem(typeof code === 'string' ? code : '')
    if (result.ok) {
      json(res, port, 200, { token: api.token }, cors)
      return
    }
    switch (result.reason) {
      case 'rate-limited':
        json(res, port, 429, { error: result.reason }, { ...cors, 'retry-after': String(Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000))) })
        return
      case 'expired':
      case 'used':
        json(res, port, 410, { error: result.reason }, cors)
        return
      case 'invalid':
        json(res, port, 403, { error: result.reason }, cors)
        return
    }
  }

  /**
   * A second `npm start` for this data dir asks the running instance for a fresh launch address. It proves itself with
   * the token from api.json (0600); a request carrying an Origin comes from a web page and is refused whatever it holds.
   */
  async function issueLaunchUrl(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
      json(res, port, 403, { error: 'forbidden' })
      return
    }
    if (req.method !== 'POST') {
      json(res, port, 405, { error: 'method' }, { allow: 'POST' })
      return
    }
    const presented = /^Bearer ([A-Za-z0-9_-]{16,256})$/.exec(req.headers.authorization ?? '')?.[1]
    if (presented === undefined || !timingSafeEqual(sha256(presented), tokenDigest)) {
      json(res, port, 401, { error: 'unauthorized' })
      return
    }
    // Drain (and cap) whatever body came, so the connection stays usable.
    if ((await readJsonBody(req, res, port, true)) === undefined) return
    json(res, port, 200, { url: newLaunchUrl() })
  }

  return {
    origin,
    newLaunchUrl,
    newLaunchCode: () => codes.issue(),
    apiUrl: api.url,
    port: api.port,
    token: api.token,
    close: () => api.close(),
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function json(res: ServerResponse, port: number, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res
    .writeHead(status, {
      ...securityHeaders(port),
      ...extra,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
    })
    .end(text)
}

/**
 * The request's JSON body, at most MAX_BODY_BYTES; undefined after answering 413/415/400 itself. With `optional`, an
 * empty body is `null` and any content type is accepted (the body is only drained).
 */
async function readJsonBody(req: IncomingMessage, res: ServerResponse, port: number, optional = false): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (!optional && type !== 'application/json') {
    json(res, port, 415, { error: 'content-type' })
    req.resume()
    return undefined
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_BODY_BYTES) {
    json(res, port, 413, { error: 'too-large' }, { connection: 'close' })
    req.resume()
    return undefined
  }
  const chunks: Buffer[] = []
  let size = 0
  const complete = await new Promise<boolean>((resolve) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data')
        req.resume()
        resolve(false)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(true))
    req.on('error', () => resolve(false))
    req.on('close', () => resolve(false))
  })
  if (!complete) {
    if (size > MAX_BODY_BYTES) json(res, port, 413, { error: 'too-large' }, { connection: 'close' })
    else res.destroy()
    return undefined
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (optional && text.length === 0) return null
  try {
    return JSON.parse(text) as unknown
  } catch {
    json(res, port, 400, { error: 'malformed' })
    return undefined
  }
}

async function serveFile(distDir: string, req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
  const headers = securityHeaders(port)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end()
    return
  }
  const file = resolveFile(distDir, req.url ?? '/')
  if (file === undefined) {
    res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n')
    return
  }
  let body: Buffer
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new Error('not a file')
    body = await readFile(file)
  } catch {
    res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n')
    return
  }
  const hashed = file.startsWith(join(distDir, 'assets') + sep)
  res.writeHead(200, {
    ...headers,
    'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': String(body.length),
    // Vite puts a content hash in every asset name, so those never change; the page itself must always be fresh.
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-store',
  })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** The file a URL path names inside `distDir`, or undefined for anything that would leave it. */
export function resolveFile(distDir: string, url: string): string | undefined {
  let path: string
  try {
    path = decodeURIComponent(new URL(url, 'http://127.0.0.1').pathname)
  } catch {
    return undefined
  }
  if (path.includes('\0')) return undefined
  if (path === '/' || path === '') path = '/index.html'
  const file = normalize(join(distDir, path))
  return file.startsWith(distDir + sep) ? file : undefined
}
