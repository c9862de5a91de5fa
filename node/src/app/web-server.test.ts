import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Dispatcher } from '../api/dispatcher.js'
import { handshake } from '../api/testing.js'
import { createLaunchCodes, LAUNCH_ATTEMPT_BURST, LAUNCH_CODE_TTL_MS } from './launch-codes.js'
import { contentSecurityPolicy, MAX_BODY_BYTES, resolveFile, startWebServer, type WebServer } from './web-server.js'

/** The dispatcher is not what this tests: it answers every call with the method's name. */
const echo: Dispatcher = {
  async handle(raw) {
    const r = raw as { id: number; method: string }
    return { id: r.id, ok: true, result: r.method }
  },
  subscribe: () => () => {},
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => (text += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** What the page does with its launch code: a same-origin JSON POST (browsers always send Origin with it). */
function exchange(server: WebServer, code: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return get(
    server.port,
    '/launch',
    { host: `127.0.0.1:${server.port}`, origin: `http://127.0.0.1:${server.port}`, 'content-type': 'application/json', ...headers },
    'POST',
    JSON.stringify({ code }),
  )
}

const codeOf = (url: string) => new URL(url).hash.replace(/^#launch=/, '')

describe('the browser-mode web server', () => {
  let dist: string
  let server: WebServer

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'hearth-web-'))
    await mkdir(join(dist, 'assets'))
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>Hearth</title>')
    await writeFile(join(dist, 'assets', 'index-abc.js'), 'console.log(1)')
    await writeFile(join(dist, '..', 'hearth-web-secret.txt'), 'secret')
    server = await startWebServer({ dispatcher: echo, distDir: dist })
  })
  afterAll(async () => {
    await server.close()
    await rm(dist, { recursive: true, force: true })
    await rm(join(dist, '..', 'hearth-web-secret.txt'), { force: true })
  })

  it('gives launch URLs with a fresh one-time code in the fragment, never the token', () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}/`)
    const first = server.newLaunchUrl()
    const second = server.newLaunchUrl()
    expect(first).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#launch=[A-Za-z0-9_-]{43}$`))
    expect(second).not.toBe(first)
    for (const url of [first, second]) expect(url).not.toContain(server.token)
    expect(server.apiUrl).toBe(`ws://127.0.0.1:${server.port}`)
  })

  it('trades a launch code for the token once; a reused, wrong or foreign-origin attempt gets nothing', async () => {
    const code = codeOf(server.newLaunchUrl())
    const ok = await exchange(server, code)
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body)).toEqual({ token: server.token })
    expect(ok.headers['cache-control']).toBe('no-store')
    const again = await exchange(server, code)
    expect(again.status).toBe(410)
    expect(JSON.parse(again.body)).toEqual({ error: 'used' })
    expect(again.body).not.toContain(server.token)

    const fresh = codeOf(server.newLaunchUrl())
    // A page elsewhere, or no Origin at all (not a browser page), is refused before the code is even looked at.
    for (const origin of ['http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null']) {
      expect((await exchange(server, fresh, { origin })).status).toBe(403)
    }
    const noOrigin = await get(server.port, '/launch', { host: `127.0.0.1:${server.port}`, 'content-type': 'application/json' }, 'POST', JSON.stringify({ code: fresh }))
    expect(noOrigin.status).toBe(403)
    expect((await exchange(server, fresh, { host: 'evil.example' })).status).toBe(421)
    // …so the code is still good for the real page (localhost is this origin too).
    expect((await exchange(server, fresh, { origin: `http://localhost:${server.port}` })).status).toBe(200)

    expect((await exchange(server, 'A'.repeat(43))).status).toBe(403)
    expect((await exchange(server, 42)).status).toBe(403)
  })

  it('refuses malformed exchange requests: wrong method, type, oversized or broken body', async () => {
    const base = { host: `127.0.0.1:${server.port}`, origin: `http://127.0.0.1:${server.port}` }
    expect((await get(server.port, '/launch', base)).status).toBe(405)
    expect((await get(server.port, '/launch', { ...base, 'content-type': 'text/plain' }, 'POST', '{"code":"x"}')).status).toBe(415)
    expect((await get(server.port, '/launch', { ...base, 'content-type': 'application/json' }, 'POST', 'x'.repeat(MAX_BODY_BYTES + 1))).status).toBe(413)
    expect((await get(server.port, '/launch', { ...base, 'content-type': 'application/json' }, 'POST', '{"code":')).status).toBe(400)
  })

  it('gives a fresh launch URL to a second `npm start` holding the token, and never to a web page', async () => {
    const cli = { host: `127.0.0.1:${server.port}`, authorization: `Bearer ${server.token}` }
    const ok = await get(server.port, '/launch-url', cli, 'POST')
    expect(ok.status).toBe(200)
    const { url } = JSON.parse(ok.body) as { url: string }
    expect(url).toMatch(/#launch=[A-Za-z0-9_-]{43}$/)
    expect((await exchange(server, codeOf(url))).status).toBe(200)
    expect((await get(server.port, '/launch-url', { ...cli, origin: `http://127.0.0.1:${server.port}` }, 'POST')).status).toBe(403)
    expect((await get(server.port, '/launch-url', { ...cli, 'sec-fetch-site': 'same-origin' }, 'POST')).status).toBe(403)
    expect((await get(server.port, '/launch-url', { ...cli, authorization: 'Bearer wrong-token-wrong-token' }, 'POST')).status).toBe(401)
    expect((await get(server.port, '/launch-url', { host: cli.host }, 'POST')).status).toBe(401)
    expect((await get(server.port, '/launch-url', cli)).status).toBe(405)
  })

  it('serves the page with a strict CSP and no caching, and hashed assets as immutable', async () => {
    const page = await get(server.port, '/', { host: `127.0.0.1:${server.port}` })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>Hearth</title>')
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['cache-control']).toBe('no-store')
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toBe(contentSecurityPolicy(server.port))
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`)
    expect(csp).toContain("frame-ancestors 'none'")
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(page.headers['referrer-policy']).toBe('no-referrer')
    const asset = await get(server.port, '/assets/index-abc.js', { host: `localhost:${server.port}` })
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(asset.headers['cache-control']).toContain('immutable')
    const head = await get(server.port, '/', { host: `127.0.0.1:${server.port}` }, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
  })

  it('refuses other hosts (DNS rebinding), other methods, and anything outside the UI directory', async () => {
    expect((await get(server.port, '/', { host: 'evil.example' })).status).toBe(421)
    expect((await get(server.port, '/', { host: `127.0.0.1:${server.port}` }, 'POST')).status).toBe(405)
    for (const path of ['/../hearth-web-secret.txt', '/%2e%2e/hearth-web-secret.txt', '/assets/../../hearth-web-secret.txt', '/nope.js', '/assets', '/%00']) {
      const res = await get(server.port, path, { host: `127.0.0.1:${server.port}` })
      expect(res.status, path).toBe(404)
      expect(res.body).not.toContain('secret')
    }
  })

  it('serves the API on the same port: the token is needed, and only this origin may use it', async () => {
    const url = server.apiUrl
    expect(await handshake(url, { protocols: [`hearth.${server.token}`], origin: `http://127.0.0.1:${server.port}` })).toBe(101)
    expect(await handshake(url, { protocols: [`hearth.${server.token}`], origin: `http://localhost:${server.port}` })).toBe(101)
    expect(await handshake(url, { protocols: [`hearth.${server.token}`], origin: 'http://evil.example' })).toBe(403)
    expect(await handshake(url, { protocols: ['hearth.wrong-token-wrong-token'], origin: `http://127.0.0.1:${server.port}` })).toBe(401)
  })

  it('a development origin may exchange a code through CORS; other origins get no CORS headers', async () => {
    const dev = await startWebServer({ dispatcher: echo, distDir: dist, extraOrigins: ['http://127.0.0.1:5173'] })
    try {
      const preflight = await get(dev.port, '/launch', { host: `127.0.0.1:${dev.port}`, origin: 'http://127.0.0.1:5173' }, 'OPTIONS')
      expect(preflight.status).toBe(204)
      expect(preflight.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173')
      const ok = await exchange(dev, codeOf(dev.newLaunchUrl()), { origin: 'http://127.0.0.1:5173' })
      expect(ok.status).toBe(200)
      expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173')
      const own = await exchange(dev, codeOf(dev.newLaunchUrl()))
      expect(own.headers['access-control-allow-origin']).toBeUndefined()
      expect((await get(dev.port, '/launch', { host: `127.0.0.1:${dev.port}`, origin: 'http://evil.example' }, 'OPTIONS')).status).toBe(403)
    } finally {
      await dev.close()
    }
  })

  it('an expired code is refused as expired; a flood of attempts is rate-limited', async () => {
    let now = 1_000_000
    const limited = await startWebServer({ dispatcher: echo, distDir: dist, launchCodes: createLaunchCodes({ now: () => now }) })
    try {
      const code = codeOf(limited.newLaunchUrl())
      now += LAUNCH_CODE_TTL_MS
      const expired = await exchange(limited, code)
      expect(expired.status).toBe(410)
      expect(JSON.parse(expired.body)).toEqual({ error: 'expired' })
      const fresh = codeOf(limited.newLaunchUrl())
      for (let i = 1; i < LAUNCH_ATTEMPT_BURST; i++) expect((await exchange(limited, 'C'.repeat(43))).status).toBe(403)
      const flooded = await exchange(limited, fresh)
      expect(flooded.status).toBe(429)
      expect(Number(flooded.headers['retry-after'])).toBeGreaterThan(0)
      now += 1_000
      expect((await exchange(limited, fresh)).status).toBe(200)
    } finally {
      await limited.close()
    }
  })

  it('refuses to start without a built UI', async () => {
    await expect(startWebServer({ dispatcher: echo, distDir: join(dist, 'missing') })).rejects.toThrow(/not built/)
  })
})

/** Raw bytes to the server's port: what a hostile local process can send, with no HTTP or WebSocket client in the way. */
function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket))
    // The server may cut a hostile connection any way it likes; only the server's own survival is under test.
    socket.on('error', () => {})
    socket.once('error', reject)
  })
}

function upgradeRequest(port: number, token: string, extra = ''): string {
  return (
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: hearth.${token}\r\n${extra}\r\n`
  )
}

/** Waits until the server has answered something (or closed), so the hostile bytes were really processed. */
function answered(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const done = () => resolve(text)
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1')
      if (text.includes('\r\n\r\n')) done()
    })
    socket.once('close', done)
  })
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the browser-mode web server under hostile bytes', () => {
  let dist: string
  let server: WebServer

  beforeAll(async () => {
    dist = await mkdtemp(join(tmpdir(), 'hearth-web-hostile-'))
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>Hearth</title>')
    server = await startWebServer({ dispatcher: echo, distDir: dist })
  })
  afterAll(async () => {
    await server.close()
    await rm(dist, { recursive: true, force: true })
  })

  /** After each attack: the page is served and an authorised API connection opens. */
  async function stillServing(): Promise<void> {
    expect((await get(server.port, '/', { host: `127.0.0.1:${server.port}` })).status).toBe(200)
    expect(await handshake(server.apiUrl, { protocols: [`hearth.${server.token}`], origin: `http://127.0.0.1:${server.port}` })).toBe(101)
  }

  it('a WebSocket frame with reserved bits set (0xf2…) ends that socket, not the process', async () => {
    const socket = await rawSocket(server.port)
    socket.write(upgradeRequest(server.port, server.token))
    expect(await answered(socket)).toMatch(/^HTTP\/1\.1 101/)
    const closed = new Promise((resolve) => socket.once('close', resolve))
    // FIN + RSV2 + RSV3 + text opcode, masked, 4-byte payload.
    socket.write(Buffer.from([0xf2, 0x84, 1, 2, 3, 4, 0x61, 0x62, 0x63, 0x64]))
    await closed
    await stillServing()
  })

  it('other malformed frames: an unmasked client frame, a reserved opcode, a 2^63-byte length', async () => {
    const frames = [
      Buffer.from([0x81, 0x04, 0x61, 0x62, 0x63, 0x64]),
      Buffer.from([0x83, 0x80, 1, 2, 3, 4]),
      Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]),
    ]
    for (const frame of frames) {
      const socket = await rawSocket(server.port)
      socket.write(upgradeRequest(server.port, server.token))
      await answered(socket)
      const closed = new Promise((resolve) => socket.once('close', resolve))
      socket.write(frame)
      await closed
    }
    await stillServing()
  })

  it('garbage instead of HTTP, and garbage after a refused upgrade', async () => {
    const garbage = await rawSocket(server.port)
    garbage.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xde, 0xad, 0xbe, 0xef]))
    expect(await answered(garbage)).toMatch(/^HTTP\/1\.1 400|^$/)
    const wrongToken = await rawSocket(server.port)
    wrongToken.write(upgradeRequest(server.port, 'wrong-token-wrong-token') + '\x00\xff garbage after the headers')
    expect(await answered(wrongToken)).toMatch(/^HTTP\/1\.1 401/)
    await stillServing()
  })

  it('a client that resets the connection while its upgrade is being refused or accepted', async () => {
    for (const token of ['wrong-token-wrong-token', server.token]) {
      for (let i = 0; i < 20; i++) {
        const socket = await rawSocket(server.port)
        socket.write(upgradeRequest(server.port, token))
        // RST at once: the server's answer meets a socket the peer already tore down.
        socket.resetAndDestroy()
      }
    }
    await pause(200)
    await stillServing()
  })

  it('a half-open upgrade (headers never finished, or the connection left hanging after 101) does not block others', async () => {
    const unfinished = await rawSocket(server.port)
    unfinished.write(upgradeRequest(server.port, server.token).slice(0, 60))
    const silent = await rawSocket(server.port)
    silent.write(upgradeRequest(server.port, server.token))
    await answered(silent)
    // Half a frame header, then nothing.
    silent.write(Buffer.from([0x81]))
    const ended = await rawSocket(server.port)
    ended.write(upgradeRequest(server.port, server.token))
    await answered(ended)
    ended.end(Buffer.from([0x81, 0xfe]))
    // A launch-code exchange whose body never finishes, and one cut off midway.
    const slowBody = await rawSocket(server.port)
    slowBody.write(`POST /launch HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"code":`)
    const cutBody = await rawSocket(server.port)
    cutBody.write(`POST /launch HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://127.0.0.1:${server.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"co`)
    cutBody.resetAndDestroy()
    await stillServing()
    for (const s of [unfinished, silent, ended, slowBody]) s.destroy()
    await pause(100)
    await stillServing()
  })
})

describe('resolveFile', () => {
  it('maps URL paths into the directory and nothing outside it', () => {
    expect(resolveFile('/srv/ui', '/')).toBe('/srv/ui/index.html')
    expect(resolveFile('/srv/ui', '/assets/a.js?x=1#y')).toBe('/srv/ui/assets/a.js')
    expect(resolveFile('/srv/ui', '/../etc/passwd')).toBe('/srv/ui/etc/passwd')
    // The URL parser resolves dot segments, encoded or not, before the path is mapped: nothing climbs out.
    expect(resolveFile('/srv/ui', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/ui/etc/passwd')
    expect(resolveFile('/srv/ui', '/a/..%2f..%2f..%2fetc/passwd')).toBeUndefined()
    expect(resolveFile('/srv/ui', '/a%00b')).toBeUndefined()
    expect(resolveFile('/srv/ui', '/%E0%A4%A')).toBeUndefined()
  })
})
