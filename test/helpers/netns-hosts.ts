/**
 * The test side of test/netns/host-child.ts: a Hearth host running in a namespace, asked things over its stdin and
 * answering on its stdout. Also the convergence check the suite measures heals with.
 */
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { CoreHostOptions } from '../netns/host-child.js'
import type { Lab } from './netns.js'

export const ROOT = new URL('../../', import.meta.url).pathname

type Line = Record<string, unknown>

/** Where the suite's time goes (host start and stop), with HEARTH_NETNS_DEBUG=1. */
function debug(text: string): void {
  if (process.env.HEARTH_NETNS_DEBUG === '1') process.stderr.write(`netns: ${text}\n`)
}

export interface HistoryEntry {
  id: string
  body: string
  author: string
  state: string
  mine: boolean
}

/** The environment of a child with every HEARTH_ variable of the runner removed, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('HEARTH_')) env[key] = value
  return { ...env, ...extra }
}

export class NetnsHost {
  peerId = ''
  addresses: string[] = []
  readonly acks: Array<{ message: string; body: string }> = []
  readonly stderr: string[] = []
  readonly exited: Promise<void>
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (line: Line) => void; reject: (err: Error) => void }>()
  private readyWaiter?: (line: Line) => void

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Line
      try {
        line = JSON.parse(text) as Line
      } catch {
        return
      }
      if (line.event === 'ready') this.readyWaiter?.(line)
      else if (line.event === 'ack') this.acks.push({ message: line.message as string, body: line.body as string })
      else if (typeof line.id === 'number') {
        const waiter = this.pending.get(line.id)
        this.pending.delete(line.id)
        if (line.ok === true) waiter?.resolve(line)
        else waiter?.reject(new Error(`${name}: ${String(line.error)}`))
      }
    })
    child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()))
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited: ${this.stderr.join('').slice(-2000)}`))
        this.pending.clear()
        resolve()
      }),
    )
  }

  /** Starts host-child.ts in namespace `ns` of the lab and waits for its ready line. */
  static async start(lab: Lab, ns: string, name: string, args: { mode: 'core'; dataDir: string; options: CoreHostOptions } | { mode: 'api'; dataDir: string }): Promise<NetnsHost> {
    const childArgs = ['--import', 'tsx', 'test/netns/host-child.ts', args.mode, args.dataDir, ...(args.mode === 'core' ? [JSON.stringify(args.options)] : [])]
    const t0 = performance.now()
    const child = lab.spawn(ns, process.execPath, childArgs, { cwd: ROOT, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    const host = new NetnsHost(name, child)
    const ready = await new Promise<Line>((resolve, reject) => {
      host.readyWaiter = resolve
      void host.exited.then(() => reject(new Error(`${name} exited before it was ready: ${host.stderr.join('').slice(-3000)}`)))
      // Generous: four hosts transpiling TypeScript at once on a busy 2-core machine took 55 s.
      setTimeout(() => reject(new Error(`${name} not ready in 90 s: ${host.stderr.join('').slice(-3000)}`)), 90_000).unref()
    })
    debug(`${name} ready in ${Math.round(performance.now() - t0)} ms`)
    host.peerId = ready.peerId as string
    host.addresses = ready.addresses as string[]
    return host
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  request<T = Line>(op: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: ${op} got no answer in ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.pending.set(id, {
        resolve: (line) => {
          clearTimeout(timer)
          resolve(line as T)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      })
      if (!this.running) return reject(new Error(`${this.name} is not running`))
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...params })}\n`)
    })
  }

  async send(conversation: string, body: string): Promise<string> {
    return (await this.request<{ message: string }>('send', { conversation, body })).message
  }

  async history(conversation: string): Promise<HistoryEntry[]> {
    return (await this.request<{ messages: HistoryEntry[] }>('history', { conversation })).messages
  }

  async digest(conversation: string): Promise<{ count: number; hash: string }> {
    return this.request('digest', { conversation }, 20_000)
  }

  /** SIGKILL: no chance to flush or close anything. */
  async kill9(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL')
    await this.exited
  }

  /** Closes the core cleanly and waits for the process to end (SIGKILL after 20 s). */
  async quit(): Promise<void> {
    if (!this.running) return
    const t0 = performance.now()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000)
    this.request('quit', {}, 20_000).catch(() => {})
    await this.exited
    clearTimeout(timer)
    debug(`${this.name} quit in ${Math.round(performance.now() - t0)} ms`)
  }
}

/**
 * Polls every host's digest of `conversation` until all agree and hold `count` messages (at least); returns the time
 * it took in ms. Throws, naming what each host holds, after `timeoutMs`.
 */
export async function waitConverged(hosts: NetnsHost[], conversation: string, count: number, timeoutMs: number): Promise<number> {
  const started = performance.now()
  let last: Array<{ count: number; hash: string }> = []
  for (;;) {
    last = await Promise.all(hosts.map((h) => h.digest(conversation)))
    if (last.every((d) => d.hash === last[0]!.hash && d.count >= count)) return Math.round(performance.now() - started)
    if (performance.now() - started > timeoutMs) {
      throw new Error(`not converged in ${timeoutMs} ms (want ${count}): ${hosts.map((h, i) => `${h.name}=${last[i]!.count}/${last[i]!.hash.slice(0, 8)}`).join(' ')}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const liveDirs = new Set<string>()
// A run ended by a signal or an error skips afterAll: its data dirs go with the process all the same.
process.on('exit', () => {
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
})

export async function tempDir(tag: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `hearth-netns-${tag}-`))
  liveDirs.add(dir)
  return dir
}

export async function removeDirs(dirs: string[]): Promise<void> {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  for (const d of dirs) liveDirs.delete(d)
}

/** One JSON line per measurement, easy to grep out of a CI log: `NETNS_FIGURE {...}`. */
export function reportFigure(figure: Record<string, unknown>): void {
  process.stdout.write(`NETNS_FIGURE ${JSON.stringify(figure)}\n`)
}

export interface NetnsRelay {
  peerId: string
  /** Every address from the banner, with /p2p/. */
  multiaddrs: string[]
  child: ChildProcess
  stderr: string[]
  stop(): Promise<void>
}

/** A real `hearth-relay` (relay/src/cli.ts, as an operator runs it) inside namespace `ns`, on ports 4001 and 4002. */
export async function startNetnsRelay(lab: Lab, ns: string, dataDir: string, flags: Record<string, string> = {}): Promise<NetnsRelay> {
  const all: Record<string, string> = {
    'data-dir': dataDir,
    listen: '/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/tcp/4002/ws',
    'http-port': '0',
    'dht-addresses': 'all',
    'log-level': 'warn',
    ...flags,
  }
  const args = ['--import', 'tsx', 'relay/src/cli.ts', ...Object.entries(all).flatMap(([k, v]) => [`--${k}`, v])]
  const child = lab.spawn(ns, process.execPath, args, { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] })
  const stderr: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const banner = await new Promise<{ peerId: string; multiaddrs: string[] }>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString())
      const match = /hearth-relay (\S+)\n((?: {2}\S+\n)+)http /.exec(stderr.join(''))
      if (match !== null) resolve({ peerId: match[1]!, multiaddrs: match[2]!.trim().split(/\s+/) })
    })
    void exited.then(() => reject(new Error(`relay exited before starting: ${stderr.join('')}`)))
    setTimeout(() => reject(new Error(`relay not started in 90 s: ${stderr.join('')}`)), 90_000).unref()
  })
  return {
    ...banner,
    child,
    stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}
