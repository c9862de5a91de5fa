import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Dispatcher } from '../api/dispatcher.js'
import { handshake } from '../api/testing.js'
import { contentSecurityPolicy, resolveFile, startWebServer, type WebServer } from './web-server.js'

/** The dispatcher is not what this tests: it answers every call with the method's name. */
const echo: Dispatcher = {
  async handle(raw) {
    const r = raw as { id: number; method: string }
    return { id: r.id, ok: true, result: r.method }
  },
  subscribe: () => () => {},
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

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

  it('gives the launch URL with the token in the fragment, on loopback', () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}/`)
    expect(server.launchUrl).toBe(`${server.origin}#token=${server.token}`)
    expect(server.apiUrl).toBe(`ws://127.0.0.1:${server.port}`)
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
    expect(csp).toContain(`connect-src ws://127.0.0.1:${server.port}`)
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

  it('refuses to start without a built UI', async () => {
    await expect(startWebServer({ dispatcher: echo, distDir: join(dist, 'missing') })).rejects.toThrow(/not built/)
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
