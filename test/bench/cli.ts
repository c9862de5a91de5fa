/**
 * CLI latency: how long a `hearth` command takes, start to exit, against a running daemon (`hearth start`), next to
 * the floor of any Node command line, `node -e ''`, spawned the same way in the same run. Commands run from the built
 * JavaScript the way `npx hearth` runs them (node/bin/hearth.js); the build is made, if needed, before measuring.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { now, round, summarize, type Summary } from './harness.js'

export interface CliBenchResult {
  nodeEmpty: Summary
  list: Summary
  whoami: Summary
  /** p50 of `hearth list` over p50 of `node -e ''`. */
  ratioList: number
}

const ROOT = join(import.meta.dirname, '..', '..')
const HEARTH = join(ROOT, 'node', 'bin', 'hearth.js')
const COMMAND_TIMEOUT_MS = 60_000

function env(): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(base)) if (key.startsWith('HEARTH_')) delete base[key]
  return { ...base, HEARTH_PASSPHRASE: 'hearth-bench-cli', HEARTH_MDNS: '0', HEARTH_LISTEN: '/ip4/127.0.0.1/tcp/0', HEARTH_LOG_LEVEL: 'warn' }
}

/** Runs a command to its exit; resolves with the wall time in ms, rejects on a non-zero exit or a timeout. */
function timedRun(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = now()
    const child = spawn(process.execPath, args, { cwd: ROOT, env: env(), stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = now() - started
      clearTimeout(timer)
      if (code === 0) resolve(ms)
      else reject(new Error(`bench: ${args.slice(1).join(' ')} exited ${code}: ${stderr.trim()}`))
    })
  })
}

function startDaemon(dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HEARTH, '--data-dir', dir, '--json', 'start', '--name', 'Bench'], {
      cwd: ROOT,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`bench: the daemon was not ready within 120 s: ${err.trim()}`))
    }, 120_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('"event":"ready"')) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`bench: the daemon exited ${code} before it was ready: ${err.trim()}`))
    })
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(timer)
}

export async function cliLatency(samples: number): Promise<CliBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-cli-'))
  let daemon: ChildProcess | undefined
  try {
    // Builds dist/cli if the sources changed (not measured).
    await timedRun([HEARTH, '--data-dir', dir, '--help'])
    daemon = await startDaemon(dir)
    const commands = {
      nodeEmpty: ['-e', ''],
      list: [HEARTH, '--data-dir', dir, 'list'],
      whoami: [HEARTH, '--data-dir', dir, 'whoami'],
    }
    // Warm the file cache and Node's compile cache, as for someone who has run a command before.
    for (const args of Object.values(commands)) for (let i = 0; i < 2; i++) await timedRun(args)
    const times: Record<keyof typeof commands, number[]> = { nodeEmpty: [], list: [], whoami: [] }
    // Interleaved, so that a busy moment of the machine weighs on all three alike.
    for (let i = 0; i < samples; i++) {
      for (const [name, args] of Object.entries(commands) as Array<[keyof typeof commands, string[]]>) times[name].push(await timedRun(args))
    }
    const nodeEmpty = summarize(times.nodeEmpty)
    const list = summarize(times.list)
    return { nodeEmpty, list, whoami: summarize(times.whoami), ratioList: round(list.p50 / nodeEmpty.p50, 2) }
  } finally {
    if (daemon !== undefined) await stop(daemon)
    await rm(dir, { recursive: true, force: true })
  }
}
