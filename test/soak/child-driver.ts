/**
 * The parent's side of test/helpers/crash-points-child.ts: spawns a core in its own process, sends it commands, collects
 * its acknowledgements, and kills it. The crash-points test and the soak script share it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { ChildCommand, ChildReady } from '../helpers/crash-points-child.js'

export const repoRoot = new URL('../../', import.meta.url).pathname

/**
 * Bundles the child with its npm packages into one ESM file, so a start neither transpiles nor resolves hundreds of
 * modules: 0.85 s of CPU instead of 2.1 s (packages left external) or more under tsx, which is what lets fifty kills
 * fit the test's time budget. The native LevelDB binding and Automerge (it loads its wasm next to itself) stay
 * external; the output lives under node_modules so those resolve.
 */
export async function bundleChild(): Promise<string> {
  const { build } = await import('esbuild')
  const dir = join(repoRoot, 'node_modules', '.cache', 'hearth-crash-points')
  await mkdir(dir, { recursive: true })
  const outfile = join(dir, `child-${process.pid}.mjs`)
  await build({
    entryPoints: [join(repoRoot, 'test/helpers/crash-points-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['classic-level', '@automerge/automerge'],
    // Some bundled packages are CommonJS and call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __hearthRequire } from 'node:module'; const require = __hearthRequire(import.meta.url);" },
    logLevel: 'error',
  })
  return outfile
}

export interface ChildOptions {
  /** A bundled child from bundleChild(); without it the TypeScript source runs through tsx. */
  script?: string
  relays?: string[]
  syncIntervalMs?: number
  /** Each ACK as it arrives (conversation, message id). */
  onAck?: (conversation: string, id: string) => void
  /** Extra arguments for node, e.g. a heap limit. */
  nodeArgs?: string[]
}

export class ChildCore {
  readonly process: ChildProcess
  readonly exited: Promise<number | null>
  private next = 0
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readyResolve!: (r: ChildReady) => void
  private readyReject!: (e: Error) => void
  readonly ready: Promise<ChildReady>
  private stderr = ''
  dead = false

  constructor(dataDir: string, name: string, options: ChildOptions = {}) {
    const args =
      options.script === undefined
        ? ['--import', 'tsx', join(repoRoot, 'test/helpers/crash-points-child.ts')]
        : [options.script]
    const config = JSON.stringify({ relays: options.relays ?? [], syncIntervalMs: options.syncIntervalMs })
    this.process = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args, dataDir, name, config], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve
      this.readyReject = reject
    })
    // A rejection nobody awaited yet must not crash the parent: callers see it when they await `ready`.
    this.ready.catch(() => undefined)
    this.process.stdin!.on('error', () => undefined)
    this.process.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000)
    })
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)))
    void this.exited.then((code) => {
      this.dead = true
      const err = new Error(`${name} exited (${code ?? 'signal'}): ${this.stderr.trim().slice(-2000)}`)
      this.readyReject(err)
      for (const w of this.waiting.values()) w.reject(err)
      this.waiting.clear()
    })
    const lines = createInterface({ input: this.process.stdout! })
    lines.on('line', (line) => {
      const space = line.indexOf(' ')
      const kind = line.slice(0, space)
      const rest = line.slice(space + 1)
      if (kind === 'ACK') {
        const [conversation, id] = rest.split(' ')
        options.onAck?.(conversation!, id!)
      } else if (kind === 'READY') {
        this.readyResolve(JSON.parse(rest) as ChildReady)
      } else if (kind === 'R' || kind === 'E') {
        const at = rest.indexOf(' ')
        const n = Number(rest.slice(0, at))
        const w = this.waiting.get(n)
        if (w === undefined) return
        this.waiting.delete(n)
        if (kind === 'R') w.resolve(JSON.parse(rest.slice(at + 1)))
        else w.reject(new Error(rest.slice(at + 1)))
      }
    })
  }

  /** Sends a command; resolves with its result. */
  call<T = unknown>(cmd: ChildCommand): Promise<T> {
    const n = this.next++
    return new Promise<T>((resolve, reject) => {
      if (this.dead) {
        reject(new Error('the child is gone'))
        return
      }
      this.waiting.set(n, { resolve: resolve as (v: unknown) => void, reject })
      this.process.stdin!.write(`${JSON.stringify({ ...cmd, n })}\n`)
    })
  }

  /** Like call, but a failure (including the kill that is coming) is expected and swallowed. */
  fire(cmd: ChildCommand): void {
    this.call(cmd).catch(() => undefined)
  }

  async kill(): Promise<void> {
    if (!this.dead) this.process.kill('SIGKILL')
    await this.exited
  }

  /** Orderly shutdown; SIGKILL if it takes longer than `timeoutMs`. */
  async close(timeoutMs = 15_000): Promise<void> {
    if (this.dead) return
    this.fire({ op: 'exit' })
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs)
    await this.exited
    clearTimeout(timer)
  }
}

