/**
 * The entry of the core's utility process (bundled to dist/electron/core-process.js; started by main.ts through
 * CoreSupervisor). It runs the app host (onboarding, then the core: identity, LevelDB, libp2p) and serves it on every
 * MessagePort main hands over, with the port carrier's limits. Keys are wrapped by the OS keychain through main (see
 * safe-storage.ts), or with a passphrase where there is no real keychain.
 *
 * One core per data dir: LevelDB's lock refuses a second opener, and main's single-instance lock keeps it that way.
 */
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pino } from 'pino'
import type { MessagePortMain } from 'electron'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { drop } from '../../node/common/errors.js'
import { servePort, type PortConnection } from '../../node/src/api/port-carrier.js'
import { createAppHost } from '../../node/src/app/app-host.js'
import { IDENTITY_FILE } from '../../node/src/identity/identity.js'
import { parseCoreArgs, parseToCore, type FromCore } from './core-protocol.js'
import { desktopKeyProvider, needsPassphrase } from './desktop-keys.js'
import { KeyRequester, safeStorageKeyProvider } from './safe-storage.js'

const MAX_LOG_BYTES = 10 * 1024 * 1024

async function run(): Promise<void> {
  const parentPort = process.parentPort
  const args = parseCoreArgs(process.argv)
  const logger = pino({ name: 'hearth-core', level: process.env.HEARTH_LOG_LEVEL ?? 'info' }, pino.destination({ dest: prepareLog(args.logFile), sync: false }))
  const post = (message: FromCore) => parentPort.postMessage(message)

  process.on('uncaughtException', (err) => {
    // Logged, then exit non-zero: the supervisor restarts us with backoff. Continuing in an unknown state is worse.
    logger.fatal({ err }, 'uncaught exception in the core')
    logger.flush()
    process.exit(1)
  })

  const keys = new KeyRequester(post)
  const keychain = args.keychain ? safeStorageKeyProvider(keys) : null
  const identity = await readIdentityBlob(args.dataDir)
  const host = createAppHost({
    dataDir: args.dataDir,
    keyProvider: (passphrase) => desktopKeyProvider(passphrase, { keychain, passphrase: (p) => passphraseKeyProvider(p) }),
    needsPassphrase: needsPassphrase(identity, keychain !== null),
    logger,
    runtime: args.runtime,
  })
  const connections = new Set<PortConnection>()

  let closing: Promise<void> | undefined
  function shutdown(): Promise<void> {
    closing ??= (async () => {
      for (const c of connections) c.close()
      await host.close()
      keys.failAll()
      post({ type: 'closed' })
      logger.info('core closed')
      logger.flush()
      process.exit(0)
    })()
    return closing
  }

  parentPort.on('message', (event) => {
    const message = parseToCore(event.data)
    if (message === null) return
    switch (message.type) {
      case 'connect': {
        const port: MessagePortMain | undefined = event.ports[0]
        if (port === undefined || closing !== undefined) return
        const connection = servePort(host, port, { logger })
        connections.add(connection)
        drop(connection.closed.then(() => connections.delete(connection)))
        return
      }
      case 'shutdown':
        drop(shutdown(), (err) => {
          logger.error({ err }, 'clean shutdown failed')
          process.exit(1)
        })
        return
      case 'keys.result':
        keys.receive(message)
        return
    }
  })

  logger.info({ dataDir: args.dataDir, keychain: args.keychain, state: host.status().state }, 'core process ready')
  post({ type: 'ready' })
}

/** The identity file as stored (to tell how it was wrapped), or null when there is none yet. */
async function readIdentityBlob(dataDir: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(join(dataDir, IDENTITY_FILE)))
  } catch {
    return null
  }
}

/** Makes the log's folder and keeps one previous log when the current one grew large. */
function prepareLog(file: string): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  if (existsSync(file) && statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`)
  return file
}

drop(run(), (err) => {
  // Nothing to log to yet: stderr reaches main's console in development; the exit code tells the supervisor.
  console.error('the Hearth core failed to start', err)
  process.exit(1)
})
