/**
 * Hearth in browser mode as a child process, exactly as `npm run start:web` runs it (node/src/app/start.ts): its own
 * data dir, mDNS off, a fixed loopback listen port (so a restarted core is where its peers remember it) and a fixed UI
 * port. The test reads the launch URL (a one-time code, never the token) from its output, as a person reads it from the
 * terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ensureRendererBuilt } from '../../node/src/app/renderer-build.js'
import { ROOT } from './e2e-browser.js'

export interface HostProcess {
  name: string
  /** The launch URL printed at start: http://127.0.0.1:<port>/#launch=<code>, usable once within a minute. */
  url: string
  /** Everything the process printed, for failure messages. */
  output(): string
  pid: number
  /** Resolves with the exit code when the process ends (a second `npm start` ends once it has opened the first). */
  exited: Promise<number | null>
  /** SIGTERM and wait for a clean exit (SIGKILL after 15 s). */
  stop(): Promise<number | null>
}

export interface HostOptions {
  dataDir: string
  /** Absent: the launcher picks (the port it used last, else any free one). */
  uiPort?: number
  listenPort: number
  /** Let the launcher open a browser (tests put a fake opener on PATH). Default: --no-open. */
  open?: boolean
  /** More environment (PATH, DISPLAY for a fake opener; HEARTH_LOG_LEVEL). */
  env?: NodeJS.ProcessEnv
}

const START_TIMEOUT_MS = 110_000

/** A port free right now on 127.0.0.1 (the OS picks it, so parallel runs do not collide). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Builds the UI once before the hosts start, so two hosts never build it at the same time. */
export async function buildUi(): Promise<void> {
  await ensureRendererBuilt()
}

export async function startHost(name: string, options: HostOptions): Promise<HostProcess> {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('HEARTH_')) env[key] = value
  Object.assign(env, {
    HEARTH_DATA_DIR: options.dataDir,
    ...(options.uiPort === undefined ? {} : { HEARTH_UI_PORT: String(options.uiPort) }),
    HEARTH_LISTEN: `/ip4/127.0.0.1/tcp/${options.listenPort}`,
    HEARTH_MDNS: '0',
    HEARTH_LOG_LEVEL: 'warn',
    ...options.env,
  })
  const args = ['--import', 'tsx', join('node', 'src', 'app', 'start.ts'), '--web', ...(options.open === true ? [] : ['--no-open'])]
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a host rebuilds the UI when its sources changed, which on a loaded 2-core machine took over a minute.
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${output}`)), START_TIMEOUT_MS)
    const check = () => {
      const match = /Open: (http:\/\/127\.0\.0\.1:\d+\/#launch=[A-Za-z0-9_-]+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', check)
    // 'close', not 'exit': a run that prints its address and ends at once has then been read to the end.
    child.once('close', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code} before starting:\n${output}`))
    })
  })
  return {
    name,
    url,
    output: () => output,
    pid: child.pid!,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}
