/**
 * The app:// protocol: the renderer's files are served from the packaged `renderer/dist` folder under one fixed origin
 * (`app://hearth`), never from `file://` (where every local file shares one origin) and never from the network.
 *
 * This module decides which file a request maps to; the handler in main.ts only reads it. A request that would leave
 * the folder (`..`, encoded separators, absolute paths, NUL) is refused rather than normalized, and unknown paths that
 * look like in-app routes get the UI's index.html.
 */
import { extname, isAbsolute, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { securityHeaders } from './csp.js'
import { APP_HOST, APP_SCHEME } from './navigation-policy.js'

export type AppRequest = { ok: true; file: string; mimeType: string } | { ok: false; status: 400 | 403 | 404 }

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
}

/** Maps a request URL to a file under `root` (an absolute folder). */
export function resolveAppRequest(url: string, root: string): AppRequest {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { ok: false, status: 400 }
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname !== APP_HOST || parsed.port !== '') {
    return { ok: false, status: 403 }
  }
  // Work on the raw path: refuse encoded separators and dots before decoding could turn them into real ones.
  const rawPath = parsed.pathname
  if (/%2f|%5c|%2e|%00/i.test(rawPath) || rawPath.includes('\\')) return { ok: false, status: 403 }
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    return { ok: false, status: 400 }
  }
  if (path.includes('\0')) return { ok: false, status: 403 }
  const segments = path.split('/').filter((s) => s.length > 0)
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 403 }

  // `/` and extensionless paths (client-side routes) are the UI's entry page.
  const last = segments.at(-1)
  const relativePath = last === undefined || extname(last) === '' ? 'index.html' : segments.join('/')
  const file = resolve(root, relativePath)
  const inside = relative(root, file)
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).includes('..')) {
    return { ok: false, status: 403 }
  }
  const mimeType = MIME_TYPES[extname(file).toLowerCase()]
  if (mimeType === undefined) return { ok: false, status: 404 }
  return { ok: true, file, mimeType }
}

/**
 * The handler for `protocol.handle('app', …)`: GET/HEAD of files under `root`, with our MIME type (never sniffed) and
 * the security headers (CSP and friends) on every response. `fetchFile` reads a file: URL (Electron's `net.fetch`,
 * which also reads inside the asar archive).
 */
export function createAppProtocolHandler(
  root: string,
  fetchFile: (fileUrl: string) => Promise<Response>,
): (request: { method: string; url: string }) => Promise<Response> {
  return async (request) => {
    const headers = securityHeaders()
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response(null, { status: 405, headers })
    const resolved = resolveAppRequest(request.url, root)
    if (!resolved.ok) return new Response(null, { status: resolved.status, headers })
    let file: Response
    try {
      file = await fetchFile(pathToFileURL(resolved.file).toString())
    } catch {
      return new Response(null, { status: 404, headers })
    }
    if (!file.ok) return new Response(null, { status: 404, headers })
    return new Response(request.method === 'HEAD' ? null : file.body, {
      status: 200,
      headers: { ...headers, 'Content-Type': resolved.mimeType, 'Cache-Control': 'no-cache' },
    })
  }
}
