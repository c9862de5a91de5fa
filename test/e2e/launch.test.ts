/**
 * `npm start` in browser mode, as a process, the way a person runs it: the API token must never leave through a
 * command line or a log. A fake browser opener on PATH records what it was given; the launcher runs with debug logs;
 * the token (read from api.json, where the CLI finds it) must appear in none of it, nor in the launcher's own command
 * line. Then: the opened code gives the token exactly once; running `npm start` again opens the running app with a
 * fresh code and exits; and a restarted Hearth comes back on the same port with the same token, so an open tab's
 * socket is accepted again.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { handshake } from '../../node/src/api/testing.js'
import { buildUi, freePort, startHost, type HostProcess } from '../helpers/e2e-hosts.js'

let root: string
let dataDir: string
let openerLog: string
let env: NodeJS.ProcessEnv
let listenPort: number
const running: HostProcess[] = []

function exchange(url: string): Promise<{ status: number; body: string }> {
  const { port } = new URL(url)
  const code = new URL(url).hash.replace(/^#launch=/, '')
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/launch', method: 'POST', headers: { origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json' } },
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end(JSON.stringify({ code }))
  })
}

async function opened(): Promise<string[]> {
  try {
    return (await readFile(openerLog, 'utf8')).split('\n').filter((l) => l.length > 0)
  } catch {
    return []
  }
}

async function apiToken(): Promise<string> {
  const file = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { token: string }
  return file.token
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'hearth-launch-'))
  dataDir = join(root, 'data')
  openerLog = join(root, 'opener.log')
  const bin = join(root, 'bin')
  await mkdir(bin)
  // Stands in for xdg-open: records each argument it was given, one per line, and opens nothing.
  await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${openerLog}'; done\n`)
  await chmod(join(bin, 'xdg-open'), 0o755)
  env = { PATH: `${bin}:${process.env.PATH ?? ''}`, DISPLAY: ':99', HEARTH_LOG_LEVEL: 'debug' }
  listenPort = await freePort()
  await buildUi()
})

afterAll(async () => {
  await Promise.all(running.map((h) => h.stop()))
  await rm(root, { recursive: true, force: true })
})

describe('npm start in browser mode', () => {
  it('hands the opener a one-time code, and the token appears in no argument, output or log', async () => {
    const host = await startHost('launch', { dataDir, listenPort, open: true, env })
    running.push(host)
    const token = await apiToken()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const args = await waitFor(async () => ((await opened()).length > 0 ? opened() : undefined), { timeoutMs: 10_000, message: 'the opener to run' })
    expect(args).toHaveLength(1)
    expect(args[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#launch=[A-Za-z0-9_-]{43}$/)
    // The printed link and the opened one are two codes: either works once.
    expect(args[0]).not.toBe(host.url)
    expect(host.output()).toContain('works once')
    const cmdline = await readFile(`/proc/${host.pid}/cmdline`, 'utf8')
    for (const text of [...args, host.output(), cmdline]) expect(text).not.toContain(token)

    const first = await exchange(args[0]!)
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toEqual({ token })
    expect((await exchange(args[0]!)).status).toBe(410)
    expect((await exchange(host.url)).status).toBe(200)
    expect(host.output()).not.toContain(token)
    expect((await stat(join(dataDir, 'browser.json'))).mode & 0o777).toBe(0o600)
  })

  it('run again while it runs: opens the running app with a fresh code and ends', async () => {
    const token = await apiToken()
    const before = (await opened()).length
    const again = await startHost('launch-again', { dataDir, listenPort, open: true, env })
    expect(await again.exited).toBe(0)
    expect(again.output()).toContain('already running')
    const args = (await opened()).slice(before)
    expect(args).toHaveLength(1)
    expect(new URL(args[0]!).port).toBe(new URL(again.url).port)
    for (const text of [...args, again.output()]) expect(text).not.toContain(token)
    expect((await exchange(args[0]!)).status).toBe(200)
    expect((await exchange(again.url)).status).toBe(200)
  })

  it('restarted, it listens on the same port with the same token, so an open tab is accepted again', async () => {
    const token = await apiToken()
    const port = new URL(running[0]!.url).port
    expect(await running.shift()!.stop()).toBe(0)
    const restarted = await startHost('launch-restarted', { dataDir, listenPort, open: false, env })
    running.push(restarted)
    expect(new URL(restarted.url).port).toBe(port)
    expect(await apiToken()).toBe(token)
    expect(await handshake(`ws://127.0.0.1:${port}`, { protocols: [`hearth.${token}`], origin: `http://127.0.0.1:${port}` })).toBe(101)
    expect(restarted.output()).not.toContain(token)
  })
})
