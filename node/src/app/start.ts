/**
 * `npm start`: the desktop app where the Electron runtime is installed; otherwise (or with --web, as
 * `npm run start:web`) the browser mode: the core's app host with the UI and its API on http://127.0.0.1:<port>, the
 * address printed and opened in the default browser when there is one.
 *
 *   --web      browser mode even where Electron is installed
 *   --no-open  do not open a browser (tests, servers)
 *
 * Environment: HEARTH_DATA_DIR (default ~/.hearth, shared with the `hearth` CLI), HEARTH_UI_PORT (default any free
 * port), HEARTH_MDNS, HEARTH_BOOTSTRAP, HEARTH_LISTEN (as for the CLI), HEARTH_LOG_LEVEL (default warn),
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
import { ELECTRON_HINT, electronExecutable } from './desktop-runtime.js'
import { openInBrowser } from './open-browser.js'
import { ensureRendererBuilt } from './renderer-build.js'
import { startWebServer } from './web-server.js'

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
  // Through npm, so the shell's own build steps (start:electron) run as its engineer defined them.
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

async function runBrowserMode(args: StartArgs, electronInstalled: boolean): Promise<void> {
  const dataDir = dataDirFromEnv()
  const port = parseUiPort(process.env.HEARTH_UI_PORT)
  const logger = Logger.create({ level: process.env.HEARTH_LOG_LEVEL ?? 'warn' })
  const say = (text: string) => process.stdout.write(text + '\n')

  // One process per data dir (LevelDB's lock): a running `hearth start` daemon owns it.
  const daemon = await findDaemon(dataDir)
  if (daemon !== undefined) {
    daemon.close()
    throw new HearthError('STORAGE_LOCKED', `a Hearth core is already running for ${dataDir}; stop it first (or set HEARTH_DATA_DIR)`)
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
  const devOrigin = process.env.HEARTH_DEV_ORIGIN
  const web = await startWebServer({
    dispatcher: host,
    distDir,
    port,
    logger,
    ...(devOrigin ? { extraOrigins: [devOrigin] } : {}),
  })
  // CLI commands (`hearth send …`) find this core through api.json, as they find a `hearth start` daemon.
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeApiFile(dataDir, { url: web.apiUrl, token: web.token, pid: process.pid })

  // The address carries the API token: it is printed for the person on this terminal, and never logged.
  say('')
  say('Hearth is running in browser mode.')
  say(`  Open: ${web.launchUrl}`)
  if (devOrigin) say(`  Dev:  ${devOrigin}/#token=${web.token}&api=${encodeURIComponent(web.apiUrl)}`)
  say(`  Data: ${dataDir}`)
  if (!electronInstalled) say(ELECTRON_HINT)
  say('Press Ctrl-C to stop.')
  if (args.open) openInBrowser(web.launchUrl)

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
