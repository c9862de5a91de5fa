import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAppProtocolHandler, resolveAppRequest } from './app-protocol.js'
import { contentSecurityPolicy } from './csp.js'

let root: string
let outside: string

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'hearth-app-protocol-'))
  root = join(base, 'dist')
  outside = join(base, 'secret.txt')
  await mkdir(join(root, 'assets'), { recursive: true })
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Hearth</title>')
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)')
  await writeFile(outside, 'the keys')
})
afterAll(async () => {
  await rm(join(root, '..'), { recursive: true, force: true })
})

describe('the app:// protocol', () => {
  it('maps the app’s URLs to its files, with client-side routes to index.html', () => {
    expect(resolveAppRequest('app://hearth/', root)).toEqual({ ok: true, file: join(root, 'index.html'), mimeType: 'text/html; charset=utf-8' })
    expect(resolveAppRequest('app://hearth/chats/42', root)).toMatchObject({ ok: true, file: join(root, 'index.html') })
    expect(resolveAppRequest('app://hearth/assets/app.js?v=1#x', root)).toEqual({
      ok: true,
      file: join(root, 'assets', 'app.js'),
      mimeType: 'text/javascript; charset=utf-8',
    })
  })

  it('refuses anything that leaves the folder or the origin', () => {
    // Dot segments (also percent-encoded ones) are resolved by the URL parser, which never climbs above the root.
    for (const url of ['app://hearth/../secret.txt', 'app://hearth/assets/../../secret.txt', 'app://hearth/%2e%2e/secret.txt']) {
      const result = resolveAppRequest(url, root)
      expect(result.ok && result.file.startsWith(root + sep), url).toBe(true)
    }
    for (const url of [
      'app://hearth/assets%2f..%2f..%2fsecret.txt',
      'app://hearth/..%5csecret.txt',
      'app://hearth/%00.js',
      'app://hearth/assets/app.js%00.html',
      'app://other/index.html',
      'app://hearth:99/index.html',
      'file:///etc/passwd',
      'https://hearth/index.html',
    ]) {
      const result = resolveAppRequest(url, root)
      expect(result.ok, url).toBe(false)
    }
    expect(resolveAppRequest('not a url', root)).toEqual({ ok: false, status: 400 })
    // Unknown kinds of file are not served (no guessing of types).
    expect(resolveAppRequest('app://hearth/run.exe', root)).toEqual({ ok: false, status: 404 })
  })

  it('serves files with their type and the security headers', async () => {
    const handler = createAppProtocolHandler(root, async (url) => new Response(await readFile(fileURLToPath(url))))
    const page = await handler({ method: 'GET', url: 'app://hearth/index.html' })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('content-security-policy')).toBe(contentSecurityPolicy())
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await page.text()).toContain('<title>Hearth</title>')

    const missing = await handler({ method: 'GET', url: 'app://hearth/assets/nope.js' })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-security-policy')).toBe(contentSecurityPolicy())
    for (const url of ['app://hearth/../secret.txt', 'app://hearth/%2e%2e/secret.txt', 'app://hearth/..%2fsecret.txt']) {
      const response = await handler({ method: 'GET', url })
      expect(response.status, url).not.toBe(200)
    }
    expect((await handler({ method: 'POST', url: 'app://hearth/index.html' })).status).toBe(405)
  })
})
