/**
 * `npm start`: the desktop app where the Electron runtime is installed; otherwise (or with --web, as
 * `npm run start:web`) the browser mode: the core's app host with the UI and its API on http://127.0.0.1:<port>, a
 * one-time launch address printed and opened in the default browser when there is one. The API token itself is never
 * printed, logged or passed to another program (launch-codes.ts). Run again while it runs, it opens the running app.
 *
 *   --web      browser mode even where Electron is installed
 *   --no-open  do not open a browser (tests, servers)
 *
 * Environment: HEARTH_DATA_DIR (default ~/.hearth, shared with the `hearth` CLI), HEARTH_UI_PORT (default the port
 * used last, else any free one), HEARTH_MDNS, HEARTH_BOOTSTRAP, HEARTH_LISTEN (as for the CLI), HEARTH_LOG_LEVEL (default warn),
 * HEARTH_DEV_ORIGIN (a Vite dev server's origin allowed to use the API; development only). The passphrase is asked
 * for by the page, never taken from the environment here.
 */
import { spawn } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { passphraseKeyProvider } from '../../common/crypto/keystore.js'
import { HearthError, drop, isHearthError } from '../../common/errors.js'
import { removeApiFile, writeApiFile } from '../cli/state-files.js'
import { bootstrapAddresses, findDaemon, mdnsEnabled } from '../cli/session.js'
import { Logger } from '../core/logger.js'
import { createAppHost } from './app-host.js'
import { dataDirFromEnv, listenFromEnv } from './data-dir.js'
import { loadBrowserSession, saveBrowserSession } from './browser-session.js'
import { ELECTRON_HINT, electronExecutable } from './desktop-runtime.js'
import { openInBrowser } from './open-browser.js'
import { ensureRendererBuilt } from './renderer-build.js'
import { launchUrlFromRunning } from './running-instance.js'
import { startWebServer, type WebServer, type WebServerOptions } from './web-server.js'

interface StartArgs {
  web: boolean
  open: boolean
}

export function parseStartArgs(argv: string[]): StartArgs {
  const args: StartArgs = { web: false, open: true }
  for (const arg of argv) {
    if (arg === '--web') args.web = true
    else if (arg === '--no-open') args.open = false
    else throw new HearthError('INVALID_INPUT', `unknown option ${arg} (use --web, --no-open)`)
  }
  return args
}

export function parseUiPort(text: string | undefined): number {
  if (text === undefined || text === '') return 0
  const port = Number(text)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HearthError('INVALID_INPUT', `HEARTH_UI_PORT must be a port number, not "${text}"`)
  return port
}

function runElectron(): Promise<number> {
  // Through npm, so the shell's own build steps (start:electron) run as package.json defines them.
  const npm = process.env.npm_execpath
  const child =
    npm !== undefined && npm.endsWith('.js')
      ? spawn(process.execPath, [npm, 'run', 'start:electron'], { stdio: 'inherit' })
      : spawn('npm', ['run', 'start:electron'], { stdio: 'inherit', shell: process.platform === 'win32' })
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)))
    child.on('error', () => resolve(1))
  })
}

/** Said with every launch address: it is single-use and short-lived by design, so say how to get another. */
const LAUNCH_NOTE = '        (this link works once, within a minute; run npm start again for a new one)'

/** The remembered port first, so open tabs find Hearth again; any free port if that one is taken now. */
async function startOnPreferredPort(options: WebServerOptions, explicitPort: number, remembered: number | undefined): Promise<WebServer> {
  if (explicitPort !== 0 || remembered === undefined) return startWebServer({ ...options, port: explicitPort })
  try {
    return await startWebServer({ ...options, port: remembered })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    return startWebServer({ ...options, port: 0 })
  }
}

async function runBrowserMode(args: StartArgs, electronInstalled: boolean): Promise<void> {
  const dataDir = dataDirFromEnv()
  const port = parseUiPort(process.env.HEARTH_UI_PORT)
  const logger = Logger.create({ level: process.env.HEARTH_LOG_LEVEL ?? 'warn' })
  const say = (text: string) => process.stdout.write(text + '\n')

  // One process per data dir (LevelDB's lock). The browser mode already running: open it again. A `hearth start`
  // daemon owns it otherwise.
  const daemon = await findDaemon(dataDir)
  if (daemon !== undefined) {
    daemon.close()
    const again = await launchUrlFromRunning(dataDir)
    if (again === undefined) {
      throw new HearthError('STORAGE_LOCKED', `a Hearth core is already running for ${dataDir}; stop it first (or set HEARTH_DATA_DIR)`)
    }
    say('Hearth is already running; opening it again.')
    say(`  Open: ${again}`)
    say(LAUNCH_NOTE)
    // Its own code for the browser, as at the first start, so the printed link still works if no window came up.
    const toOpen = args.open ? await launchUrlFromRunning(dataDir) : undefined
    if (toOpen !== undefined) openInBrowser(toOpen)
    return
  }

  const distDir = await ensureRendererBuilt({ logger, note: say })
  const host = createAppHost({
    dataDir,
    keyProvider: (passphrase) => {
      if (passphrase === undefined) throw new HearthError('INVALID_INPUT', 'a passphrase is needed')
      return passphraseKeyProvider(passphrase)
    },
    needsPassphrase: true,
    network: { listen: listenFromEnv(), mdns: mdnsEnabled(), bootstrap: bootstrapAddresses() },
    logger,
  })
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const session = await loadBrowserSession(dataDir)
  const devOrigin = process.env.HEARTH_DEV_ORIGIN
  const web = await startOnPreferredPort(
    { dispatcher: host, distDir, logger, token: session.token, ...(devOrigin ? { extraOrigins: [devOrigin] } : {}) },
    port,
    session.port,
  )
  await saveBrowserSession(dataDir, { port: web.port, token: session.token, createdAt: session.createdAt })
  // CLI commands (`hearth send …`) find this core through api.json, as they find a `hearth start` daemon.
  await writeApiFile(dataDir, { url: web.apiUrl, token: web.token, pid: process.pid })

  // Launch codes, not the token: what is printed or handed to the opener is worthless once used or a minute old.
  say('')
  say('Hearth is running in browser mode.')
  say(`  Open: ${web.newLaunchUrl()}`)
  say(LAUNCH_NOTE)
  if (devOrigin) say(`  Dev:  ${devOrigin}/#launch=${web.newLaunchCode()}&api=${encodeURIComponent(web.apiUrl)}`)
  say(`  Data: ${dataDir}`)
  if (!electronInstalled) say(ELECTRON_HINT)
  say('Press Ctrl-C to stop.')
  if (args.open) openInBrowser(web.newLaunchUrl())

  await new Promise<void>((resolve, reject) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) process.exit(1)
      stopping = true
      process.stderr.write(`${signal}: stopping…\n`)
      drop(
        (async () => {
          await web.close()
          await host.close()
          await removeApiFile(dataDir, process.pid)
        })().then(resolve, reject),
      )
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
  })
}

export async function main(argv: string[]): Promise<number> {
  const args = parseStartArgs(argv)
  const electron = electronExecutable()
  if (!args.web && electron !== undefined) return runElectron()
  await runBrowserMode(args, electron !== undefined)
  return 0
}

// Run when executed (tsx node/src/app/start.ts), not when imported by a test.
if (process.argv[1] !== undefined && import.meta.filename === realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`error: ${isHearthError(err) ? err.message : String(err)}\n`)
      if (!isHearthError(err) && err instanceof Error && process.env.HEARTH_DEBUG) process.stderr.write(`${err.stack}\n`)
      process.exit(1)
    },
  )
}
