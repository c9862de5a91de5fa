/**
 * Hostile bytes on every listener of real separate hosts while the family keeps chatting. On one LAN bridge:
 *
 *   charlie     the real `hearth start` daemon (libp2p over TCP and WebSockets, its API on the host's loopback)
 *   alice, bob  cores chatting with charlie in one group
 *   ui          the real browser-mode app host (node/src/app/start.ts --web --no-open: the UI and its API on one port)
 *   mallory     a hostile device on the LAN
 *
 * mallory attacks charlie's TCP and WebSocket listeners over the LAN; a hostile program on charlie's host attacks its
 * API port and one on ui attacks the UI port (both listen on loopback only, so only a local program reaches them).
 * Meanwhile alice, bob and charlie
 * keep sending. Afterwards every listener still serves, and the three converge to one history holding every message.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { portOf } from '../helpers/hostile-bytes.js'
import { openLab, type Lab } from '../helpers/netns.js'
import { NetnsHost, ROOT, cleanEnv, removeDirs, reportFigure, tempDir, waitConverged } from '../helpers/netns-hosts.js'
import type { AttackPlan } from './attacker-child.js'

const lab: Lab | undefined = openLab('hostile')
const CHARLIE_IP = '10.78.0.2'

interface Spawned {
  pid: number
  running(): boolean
  stop(): Promise<void>
  output: string[]
}

/** Spawns a process in a namespace, resolving with what `ready` finds in its stdout lines. */
async function spawnUntil<T>(ns: string, args: string[], env: Record<string, string>, ready: (line: string) => T | undefined): Promise<{ proc: Spawned; found: T }> {
  const child = lab!.spawn(ns, process.execPath, args, { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()))
  const found = await new Promise<T>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line)
      const value = ready(line)
      if (value !== undefined) resolve(value)
    })
    void exited.then(() => reject(new Error(`${args.join(' ')} exited before it was ready:\n${output.join('\n')}`)))
    setTimeout(() => reject(new Error(`${args.join(' ')} not ready in 90 s:\n${output.join('\n')}`)), 90_000).unref()
  })
  const running = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    found,
    proc: {
      pid: child.pid!,
      running,
      output,
      async stop() {
        if (!running()) return
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        await exited
        clearTimeout(timer)
      },
    },
  }
}

/** Runs attacker-child.ts in `ns` with `plan`; resolves with its result line, every sequence it finished counted. */
async function runAttacker(ns: string, plan: AttackPlan): Promise<{ ok: boolean; error?: string | undefined; sequences: number; verified: string[]; done: string[] }> {
  const child = lab!.spawn(ns, process.execPath, ['--import', 'tsx', 'test/netns/attacker-child.ts', JSON.stringify(plan)], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const done: string[] = []
  const stderr: string[] = []
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
  type Result = { ok: boolean; error?: string | undefined; sequences: number; verified: string[] }
  let result: Result | undefined
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { event: string; label?: string; attack?: string } & Partial<Result>
    if (event.event === 'done') done.push(`${event.label}: ${event.attack}`)
    else if (event.event === 'result') result = { ok: event.ok === true, error: event.error, sequences: event.sequences ?? 0, verified: event.verified ?? [] }
  })
  await new Promise((resolve) => child.once('exit', resolve))
  return result === undefined ? { ok: false, error: `attacker ended without a result: ${stderr.join('')}`, sequences: 0, verified: [], done } : { ...result, done }
}

describe.skipIf(lab === undefined)('hostile bytes on every listener of separate hosts while the group chats (network namespaces)', () => {
  const dirs: string[] = []
  const hosts: NetnsHost[] = []
  const processes: Spawned[] = []
  let daemon: Spawned
  let daemonWhoami: { peerId: string; addresses: string[] }
  let daemonApi = ''
  let ui: Spawned
  let uiPort = 0
  let charlie: NetnsHost
  let alice: NetnsHost
  let bob: NetnsHost

  beforeAll(async () => {
    lab!.switch('lan')
    for (const [i, name] of ['charlie', 'alice', 'bob', 'ui'].entries()) {
      lab!.host(name)
      lab!.plug(name, 'lan', `10.78.0.${i + 2}/24`)
    }
    lab!.host('mallory')
    lab!.plug('mallory', 'lan', '10.78.0.66/24')
    const [charlieDir, aliceDir, bobDir, uiDir] = await Promise.all(['charlie', 'alice', 'bob', 'ui'].map((n) => tempDir(`hostile-${n}`)))
    dirs.push(charlieDir!, aliceDir!, bobDir!, uiDir!)

    const listen = { HEARTH_LISTEN: '/ip4/0.0.0.0/tcp/0,/ip4/0.0.0.0/tcp/0/ws', HEARTH_MDNS: '0', HEARTH_LOG_LEVEL: 'warn' }
    const startDaemon = spawnUntil(
      'charlie',
      ['--import', 'tsx', 'node/src/cli/main.ts', '--data-dir', charlieDir!, '--json', 'start', '--name', 'charlie'],
      { ...listen, HEARTH_PASSPHRASE: 'correct horse battery staple' },
      (line) => {
        try {
          const event = JSON.parse(line) as { event?: string; whoami: { peerId: string; addresses: string[] }; api: string }
          return event.event === 'ready' ? event : undefined
        } catch {
          return undefined // The recovery phrase banner and other lines that are not events.
        }
      },
    )
    const startUi = spawnUntil('ui', ['--import', 'tsx', 'node/src/app/start.ts', '--web', '--no-open'], { ...listen, HEARTH_DATA_DIR: uiDir! }, (line) => {
      const match = /Open: http:\/\/127\.0\.0\.1:(\d+)\//.exec(line)
      return match === null ? undefined : Number(match[1])
    })
    const core = (name: string, dataDir: string) =>
      NetnsHost.start(lab!, name, name, { mode: 'core', dataDir, options: { name, listen: ['/ip4/0.0.0.0/tcp/0'] } })
    const [started, startedUi, h1, h2] = await Promise.all([startDaemon, startUi, core('alice', aliceDir!), core('bob', bobDir!)])
    daemon = started.proc
    daemonWhoami = started.found.whoami
    daemonApi = started.found.api
    ui = startedUi.proc
    uiPort = startedUi.found
    processes.push(daemon, ui)
    alice = h1
    bob = h2
    charlie = await NetnsHost.start(lab!, 'charlie', 'charlie', { mode: 'api', dataDir: charlieDir! })
    hosts.push(charlie, alice, bob)
  })

  afterAll(async () => {
    await Promise.allSettled(hosts.map((h) => h.quit()))
    await Promise.allSettled(processes.map((p) => p.stop()))
    lab?.dispose()
    await removeDirs(dirs)
  })

  it('every listener keeps serving and the group keeps converging', async () => {
    const conversation = (await alice.request<{ conversation: string }>('create', { name: 'Under attack' })).conversation
    for (const guest of [charlie, bob]) {
      const { code } = await alice.request<{ code: string }>('invite', { conversation })
      await guest.request('join', { code }, 90_000)
    }
    for (const host of hosts) await expect.poll(async () => (await host.request<{ count: number }>('members', { conversation })).count, { timeout: 30_000 }).toBe(3)

    // The family keeps talking for as long as the attacks last.
    let sent = 0
    let chatting = true
    const chatter = (async () => {
      for (let i = 0; chatting; i++) {
        const from = hosts[i % hosts.length]!
        await from.send(conversation, `${from.name} keeps talking ${i}`)
        sent++
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
    })()

    const charlieApi = JSON.parse(await readFile(join(dirs[0]!, 'api.json'), 'utf8')) as { url: string; token: string }
    const uiApi = JSON.parse(await readFile(join(dirs[3]!, 'api.json'), 'utf8')) as { url: string; token: string }
    expect(charlieApi.url).toBe(daemonApi)
    const lanAddress = (ws: boolean) => daemonWhoami.addresses.find((a) => a.startsWith(`/ip4/${CHARLIE_IP}/`) && a.includes('/ws') === ws)!
    const uiHost = `127.0.0.1:${uiPort}`
    const started = performance.now()
    const results = await Promise.all([
      runAttacker('mallory', {
        pid: daemon.pid,
        jobs: [
          { label: 'charlie TCP', host: CHARLIE_IP, port: portOf(lanAddress(false)), kind: 'tcp' },
          { label: 'charlie WebSocket', host: CHARLIE_IP, port: portOf(lanAddress(true)), kind: 'ws' },
        ],
        verify: { libp2p: [{ address: lanAddress(false), peerId: daemonWhoami.peerId }, { address: lanAddress(true), peerId: daemonWhoami.peerId }] },
      }),
      runAttacker('charlie', {
        pid: daemon.pid,
        jobs: [{ label: 'charlie API', host: '127.0.0.1', port: Number(new URL(charlieApi.url).port), kind: 'api', path: `/?token=${charlieApi.token}` }],
        verify: { api: { url: charlieApi.url, token: charlieApi.token, method: 'identity.whoami' } },
      }),
      runAttacker('ui', {
        pid: ui.pid,
        jobs: [
          { label: 'ui HTTP', host: '127.0.0.1', port: uiPort, kind: 'http', path: '/', hostHeader: uiHost },
          { label: 'ui API', host: '127.0.0.1', port: uiPort, kind: 'api', path: `/?token=${uiApi.token}`, hostHeader: uiHost },
        ],
        verify: { api: { url: uiApi.url, token: uiApi.token, method: 'app.status' }, http: `http://${uiHost}/` },
      }),
    ])
    chatting = false
    await chatter
    const attackMs = Math.round(performance.now() - started)

    for (const result of results) expect(result.ok, `${result.error ?? ''}; last sequences: ${result.done.slice(-3).join(' | ')}`).toBe(true)
    expect(daemon.running(), daemon.output.join('\n')).toBe(true)
    expect(ui.running(), ui.output.join('\n')).toBe(true)
    const sequences = results.reduce((n, r) => n + r.sequences, 0)
    expect(sequences).toBeGreaterThan(60)

    const ms = await waitConverged(hosts, conversation, sent, 30_000)
    const histories = await Promise.all(hosts.map(async (h) => (await h.history(conversation)).map((m) => `${m.id} ${m.body}`)))
    for (const history of histories) expect(history).toEqual(histories[0])
    expect(histories[0]).toHaveLength(sent)
    reportFigure({ suite: 'hostile', figure: 'attacks while chatting', sequences, attackMs, messagesDuringAttack: sent, convergedAfterMs: ms, verified: results.flatMap((r) => r.verified) })
  })
})
