/**
 * `hearth-relay`: runs a community relay until SIGTERM or SIGINT (docs/RELAY.md). Configuration comes from flags,
 * `HEARTH_RELAY_*` variables and an optional JSON file (config.ts); JSON logs go to stdout, and a short banner with
 * the PeerId and the addresses to hand out goes to stderr.
 *
 * Exit codes: 0 after a clean stop, 2 for a configuration error, 1 for anything else (port in use, data directory
 * locked by another relay, a second signal during shutdown).
 */
import { Command } from 'commander'
import { isHearthError } from '../../node/common/errors.js'
import { OPTION_HELP, OPTION_KEYS, envName, flagName, loadConfig, maskedConfig, type RelayConfig } from './config.js'
import { createLogger } from './ops/logger.js'
import { startRelay } from './relay.js'

const program = new Command('hearth-relay')
  .description('Hearth community relay: store-and-forward mailboxes, circuit relay v2, DHT server. See docs/RELAY.md.')
  .option('-c, --config <file>', 'JSON configuration file [env HEARTH_RELAY_CONFIG]')
  .option('--print-config', 'print the effective configuration (secrets masked) and exit')
  .helpOption('-h, --help', 'show this help')
for (const key of OPTION_KEYS) program.option(`${flagName(key)} <value>`, `${OPTION_HELP[key]} [env ${envName(key)}]`)
program.parse()

const opts = program.opts<Record<string, unknown>>()
const flags: Record<string, unknown> = {}
for (const key of OPTION_KEYS) if (opts[key] !== undefined) flags[key] = opts[key]

let config: RelayConfig
try {
  config = loadConfig({ ...(typeof opts.config === 'string' ? { file: opts.config } : {}), env: process.env, flags })
} catch (err) {
  process.stderr.write(`hearth-relay: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(2)
}
if (opts.printConfig === true) {
  process.stdout.write(`${JSON.stringify(maskedConfig(config), null, 2)}\n`)
  process.exit(0)
}

const logger = createLogger(config.logLevel)
let relay
try {
  relay = await startRelay(config, { logger })
} catch (err) {
  const message = isHearthError(err) ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  logger.fatal({ err: message }, 'relay failed to start')
  process.stderr.write(`hearth-relay: cannot start: ${message}\n`)
  process.exit(1)
}

process.stderr.write(`hearth-relay ${relay.peerId}\n${relay.multiaddrs.map((a) => `  ${a}\n`).join('')}http ${relay.httpUrl} (/healthz, /metrics)\n`)

let stopping = false
const onSignal = (signal: NodeJS.Signals): void => {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting without finishing the shutdown')
    process.exit(1)
  }
  stopping = true
  logger.info({ signal }, 'signal received')
  relay.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed')
      process.exit(1)
    },
  )
}
process.on('SIGTERM', onSignal)
process.on('SIGINT', onSignal)
