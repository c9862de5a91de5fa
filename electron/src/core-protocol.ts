/**
 * What the main process and the core's utility process say to each other over the utility parent port (not the API:
 * that has its own MessagePorts). Both sides parse what they receive: a message of any other shape is ignored.
 *
 *   main → core   { type: 'connect' } + one MessagePort   serve the core API on this port (a window, or main itself)
 *                 { type: 'shutdown' }                    close the core and exit
 *                 { type: 'keys.result', … }              answer to a keychain request (safe-storage.ts)
 *   core → main   { type: 'ready' }                       the app host is up and serving
 *                 { type: 'keys.request', … }             wrap/unwrap with safeStorage (safe-storage.ts)
 *                 { type: 'closed' }                      the core closed cleanly and is about to exit
 */
import { parseKeyRequest, parseKeyResult, type KeyRequest, type KeyResult } from './safe-storage.js'

export type ToCore = { type: 'connect' } | { type: 'shutdown' } | KeyResult
export type FromCore = { type: 'ready' } | { type: 'closed' } | KeyRequest

export function parseToCore(raw: unknown): ToCore | null {
  const type = typeOf(raw)
  if (type === 'connect' || type === 'shutdown') return { type }
  if (type === 'keys.result') return parseKeyResult(raw)
  return null
}

export function parseFromCore(raw: unknown): FromCore | null {
  const type = typeOf(raw)
  if (type === 'ready' || type === 'closed') return { type }
  if (type === 'keys.request') return parseKeyRequest(raw)
  return null
}

function typeOf(raw: unknown): unknown {
  return typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined
}

// ------------------------------------------------------------------------------------------- command-line arguments

/** What main tells the core process at start, as arguments (so it is known before the first message). */
export interface CoreArgs {
  dataDir: string
  /** Whether safeStorage is real here (main assessed it); without it, a passphrase is required. */
  keychain: boolean
  /** Where the core writes its JSON log. */
  logFile: string
  /** Versions for `app.info` (electron, chrome). */
  runtime: Record<string, string>
}

export function formatCoreArgs(args: CoreArgs): string[] {
  return [
    '--data-dir',
    args.dataDir,
    '--keychain',
    args.keychain ? 'yes' : 'no',
    '--log-file',
    args.logFile,
    '--runtime',
    JSON.stringify(args.runtime),
  ]
}

const FLAGS = new Set(['data-dir', 'keychain', 'log-file', 'runtime'])

/** Reads our flags wherever they are; anything else on the command line (Electron's own switches) is ignored. */
export function parseCoreArgs(argv: readonly string[]): CoreArgs {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : ''
    if (!FLAGS.has(name)) continue
    const value = argv[i + 1]
    if (value === undefined) throw new Error(`missing value for --${name}`)
    values.set(name, value)
    i++
  }
  const dataDir = values.get('data-dir')
  const logFile = values.get('log-file')
  const keychain = values.get('keychain')
  if (dataDir === undefined || dataDir === '') throw new Error('--data-dir is required')
  if (logFile === undefined || logFile === '') throw new Error('--log-file is required')
  if (keychain !== 'yes' && keychain !== 'no') throw new Error('--keychain must be yes or no')
  const runtime: Record<string, string> = {}
  const raw: unknown = JSON.parse(values.get('runtime') ?? '{}')
  if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') runtime[k] = v
  }
  return { dataDir, keychain: keychain === 'yes', logFile, runtime }
}
