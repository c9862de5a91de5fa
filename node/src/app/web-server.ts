/**
 * The browser mode's server: the built UI and the core API's WebSocket on one 127.0.0.1 port, so the page and its
 * API share an origin and the WebSocket's Origin check admits exactly this page.
 *
 * What protects it (see also ws-server.ts):
 *  - loopback only; a Host header other than 127.0.0.1:<port> / localhost:<port> is refused, so a DNS-rebinding page
 *    cannot even read the UI's files under its own name;
 *  - the API needs the token, which is handed to the page in the URL fragment (never sent over HTTP, never logged);
 *  - a strict Content-Security-Policy: scripts and styles from this origin only (no inline code, no eval), the API
 *    socket as the only connection, no frames, no forms, no plugins;
 *  - only GET/HEAD of files inside the UI's build directory; no directory listing, no path outside it.
 */
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { HearthError, drop } from '../../common/errors.js'
import type { Dispatcher } from '../api/dispatcher.js'
import { startApiServer } from '../api/ws-server.js'
import { Logger } from '../core/logger.js'

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
  logger?: Logger
}

export interface WebServer {
  /** http://127.0.0.1:<port>/ */
  origin: string
  /** The address to open: the origin with the token in the fragment. Print it for the person; never log it. */
  launchUrl: string
  /** The API's WebSocket URL (same port). */
  apiUrl: string
  port: number
  token: string
  close(): Promise<void>
}

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
    // QR codes are SVG data URLs.
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ws://127.0.0.1:${port} ws://localhost:${port}`,
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

  const api = await startApiServer(options.dispatcher, {
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.extraOrigins === undefined ? {} : { extraOrigins: options.extraOrigins }),
    logger: log,
    httpHandler: (req, res, port) => drop(serveFile(distDir, req, res, port), (err) => {
      log.warn({ err }, 'serving a UI file failed')
      if (!res.headersSent) res.writeHead(500, securityHeaders(port)).end()
      else res.destroy()
    }),
  })
  const origin = `http://127.0.0.1:${api.port}/`
  return {
    origin,
    launchUrl: `${origin}#token=${api.token}`,
    apiUrl: api.url,
    port: api.port,
    token: api.token,
    close: () => api.close(),
  }
}

async function serveFile(distDir: string, req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
  const headers = securityHeaders(port)
  const host = req.headers.host
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
    res.writeHead(421, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('Misdirected request\n')
    return
  }
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
