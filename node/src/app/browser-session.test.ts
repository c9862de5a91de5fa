import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BROWSER_TOKEN_MAX_AGE_MS, browserSessionPath, loadBrowserSession, saveBrowserSession } from './browser-session.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hearth-browser-session-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the remembered browser session', () => {
  it('first run: a new token and no port; saved 0600 and given back as it was', async () => {
    const first = await loadBrowserSession(dir, 1_000)
    expect(first.port).toBeUndefined()
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await saveBrowserSession(dir, { port: 4321, token: first.token, createdAt: first.createdAt })
    expect((await stat(browserSessionPath(dir))).mode & 0o777).toBe(0o600)
    expect(await loadBrowserSession(dir, 2_000)).toEqual({ port: 4321, token: first.token, createdAt: 1_000 })
  })

  it('renews a token that is too old or dated in the future, keeping the port', async () => {
    const token = 'T'.repeat(43)
    await saveBrowserSession(dir, { port: 4321, token, createdAt: 1_000 })
    const old = await loadBrowserSession(dir, 1_000 + BROWSER_TOKEN_MAX_AGE_MS + 1)
    expect(old.port).toBe(4321)
    expect(old.token).not.toBe(token)
    const future = await loadBrowserSession(dir, 999)
    expect(future.token).not.toBe(token)
  })

  it('ignores a damaged or hostile file', async () => {
    for (const text of ['{', '[]', JSON.stringify({ v: 1, port: 99999, token: 'T'.repeat(43), createdAt: 1 }), JSON.stringify({ v: 1, port: 80, token: 'short', createdAt: 1 }), JSON.stringify({ v: 1, port: 80, token: 'T'.repeat(43), createdAt: 1, extra: true })]) {
      await writeFile(browserSessionPath(dir), text)
      const loaded = await loadBrowserSession(dir, 2)
      expect(loaded.port).toBeUndefined()
      expect(loaded.token).not.toBe('T'.repeat(43))
    }
  })
})
