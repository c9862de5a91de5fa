/**
 * How a CLI command reaches a core. LevelDB admits one process per data dir, so when a daemon (`hearth start`) runs
 * for the data dir, commands must talk to it over its WebSocket API (found through api.json); otherwise the command
 * opens the core in-process for its own duration. Either way it goes through the same typed contract, so a command
 * does not care which.
 *
 * Only the API client is loaded up front: the in-process core (libp2p, Automerge, LevelDB, scrypt) is imported when a
 * command has to open it, so a command against a running daemon starts in a fraction of the time.
 */
import WebSocket from 'ws'
import type { KeyProvider } from '../../common/crypto/keystore.js'
import type { CoreEventName } from '../core/events.js'
import { HearthError, isHearthError } from '../../common/errors.js'
import type { EventName, EventPayload, Method, Result } from '../api/contract.js'
import { connectApi, type ApiClient, type ParamsArg, type WebSocketFactory, type WebSocketLike } from '../api/ws-client.js'
import { processAlive, readApiFile, removeApiFile, type ApiFile } from './api-file.js'
import { HintedError } from './args.js'
import type { LocalCore, LocalCoreSettings } from './local-core.js'
import { getPassphrase } from './prompt.js'

export { bootstrapAddresses, mdnsEnabled } from './env.js'
export type { LocalCore } from './local-core.js'

export interface GlobalOptions {
  dataDir: string
  json: boolean
  passphraseFile: string | undefined
  /** Pinned listen multiaddrs (--listen, HEARTH_LISTEN); empty means "the ports this data dir used last". */
  listen: string[]
}

export interface Session {
  readonly mode: 'daemon' | 'local'
  call<M extends Method>(method: M, ...params: ParamsArg<M>): Promise<Result<M>>
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void
  /** The in-process core, in local mode only (commands use it to wait for the network before exiting). */
  readonly local: LocalCore | undefined
  /** Daemon mode: called if the daemon goes away mid-command. */
  onDisconnect(listener: () => void): void
  close(): Promise<void>
}

/** `ws` rather than Node's global WebSocket: it sends no Origin header, which is what the server expects of the CLI. */
export const nodeWebSocket: WebSocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike

/**
 * What api.json says about a daemon for the data dir: none (no file), one that answers, or a stale file left behind by
 * a daemon that died (its pid is gone) or that does not answer on its API (stuck, or the pid now belongs to another
 * program).
 */
export type DaemonProbe =
  | { kind: 'none' }
  | { kind: 'running'; client: ApiClient; file: ApiFile }
  | { kind: 'dead'; file: ApiFile }
  | { kind: 'silent'; file: ApiFile }

export async function probeDaemon(dataDir: string): Promise<DaemonProbe> {
  const file = await readApiFile(dataDir)
  if (file === undefined) return { kind: 'none' }
  if (!processAlive(file.pid)) return { kind: 'dead', file }
  try {
    return { kind: 'running', client: await connectApi(file.url, file.token, { WebSocket: nodeWebSocket, timeoutMs: 3_000 }), file }
  } catch {
    return { kind: 'silent', file }
  }
}

/** The running daemon's API for this data dir, or undefined when none answers (a stale api.json is ignored). */
export async function findDaemon(dataDir: string): Promise<ApiClient | undefined> {
  const probe = await probeDaemon(dataDir)
  return probe.kind === 'running' ? probe.client : undefined
}

/** What a command says, on stderr, when api.json is left over from a daemon that is gone. */
export function staleDaemonNote(dataDir: string, alone: string): string {
  return `note: the Hearth daemon for ${dataDir} is not running (it stopped or crashed); ${alone}`
}

export async function openSession(options: GlobalOptions, note: (text: string) => void): Promise<Session> {
  const probe = await probeDaemon(options.dataDir)
  if (probe.kind === 'running') return daemonSession(probe.client)
  if (probe.kind === 'dead') {
    await removeApiFile(options.dataDir, probe.file.pid)
    note(staleDaemonNote(options.dataDir, 'running this command on its own (`hearth start` runs it again).'))
  }
  // Before the passphrase: asking for one to unlock keys that do not exist sends the person the wrong way.
  const { identityExists } = await import('../identity/identity.js')
  if (!identityExists(options.dataDir)) throw new HearthError('NO_IDENTITY', `no identity in ${options.dataDir}`)
  const keyProvider = await passphraseProvider(options)
  const local = await openLocalCoreWaiting(options, keyProvider, note, probe)
  if (local.daemon !== undefined) return daemonSession(local.daemon)
  return localSession(local.core)
}

async function passphraseProvider(options: GlobalOptions): Promise<KeyProvider> {
  const { passphraseKeyProvider } = await import('../../common/crypto/keystore.js')
  return remembering(passphraseKeyProvider(await getPassphrase(options)))
}

/** Retries after a locked store must not pay for scrypt again: the identity file does not change meanwhile. */
function remembering(provider: KeyProvider): KeyProvider {
  const unwrapped = new Map<string, Promise<Uint8Array>>()
  return {
    kind: provider.kind,
    wrap: (plaintext) => provider.wrap(plaintext),
    unwrap(blob) {
      const key = Buffer.from(blob).toString('base64')
      let result = unwrapped.get(key)
      if (result === undefined) {
        result = provider.unwrap(blob)
        unwrapped.set(key, result)
        result.catch(() => unwrapped.delete(key))
      }
      return result
    },
  }
}

/** How long a command waits for another process to let go of the data dir before it gives up. */
export const LOCK_WAIT_MS = 30_000
const LOCK_RETRY_MS = 250

/**
 * Opens the core in this process. When another process holds the data dir it waits (a one-shot command run at the
 * same time usually finishes within seconds), and takes the daemon's API instead if one comes up meanwhile.
 * `daemon` is set when `allowDaemon` is true and a daemon answered while waiting.
 */
export async function openLocalCoreWaiting(
  options: GlobalOptions,
  keyProvider: KeyProvider,
  note: (text: string) => void,
  seen: DaemonProbe = { kind: 'none' },
  settings: LocalCoreSettings & { allowDaemon?: boolean } = {},
): Promise<{ core: LocalCore; daemon?: undefined } | { core?: undefined; daemon: ApiClient }> {
  const allowDaemon = settings.allowDaemon ?? true
  if (Number(process.versions.node.split('.')[0]) < 22) {
    // libp2p needs Node 22 (Promise.withResolvers and more); talking to a running daemon does not.
    throw new HintedError(
      'UNSUPPORTED_VERSION',
      allowDaemon
        ? `no Hearth daemon is running for ${options.dataDir}, and opening the data dir within this command needs Node 22 or newer (this is Node ${process.version})`
        : `\`hearth start\` needs Node 22 or newer (this is Node ${process.version})`,
      "run it as `npx hearth …` or `npm run hearth -- …`, which use the project's Node 22; while `hearth start` runs, other commands work on this Node too",
    )
  }
  const { openLocalCore } = await import('./local-core.js')
  const deadline = Date.now() + LOCK_WAIT_MS
  let waiting = false
  for (;;) {
    try {
      const core = await openLocalCore(options, keyProvider, settings)
      // The pid in api.json was alive but did not answer and did not hold the store: not a Hearth daemon after all.
      if (seen.kind === 'silent') {
        await removeApiFile(options.dataDir, seen.file.pid)
        note(staleDaemonNote(options.dataDir, 'running this command on its own (`hearth start` runs it again).'))
      }
      return { core }
    } catch (err) {
      if (!isHearthError(err, 'STORAGE_LOCKED')) throw err
    }
    if (seen.kind === 'silent') {
      throw new HintedError(
        'NOT_RUNNING',
        `the Hearth daemon for ${options.dataDir} (pid ${seen.file.pid}) holds the data dir but does not answer on ${seen.file.url}`,
        `it may be stuck: stop it (kill ${seen.file.pid}) and run \`hearth start\` again`,
      )
    }
    if (Date.now() >= deadline) {
      throw new HintedError(
        'STORAGE_LOCKED',
        `another Hearth process has been using ${options.dataDir} for ${Math.round(LOCK_WAIT_MS / 1000)} s`,
        'a command that opens the data dir on its own holds it until it ends. To run several commands at once, keep `hearth start` running: commands then share it',
      )
    }
    if (!waiting) {
      waiting = true
      note(`waiting: another Hearth process is using ${options.dataDir} (a command running at the same time, or a daemon starting)…`)
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS))
    const probe = await probeDaemon(options.dataDir)
    if (probe.kind === 'running') {
      if (allowDaemon) return { daemon: probe.client }
      probe.client.close()
      throw new HearthError('STORAGE_LOCKED', `a Hearth daemon is already running for ${options.dataDir}`)
    }
  }
}

function daemonSession(client: ApiClient): Session {
  return {
    mode: 'daemon',
    call: (method, ...params) => client.call(method, ...params),
    on: (event, listener) => client.on(event, listener),
    local: undefined,
    onDisconnect(listener) {
      client.onClose(() => listener())
    },
    async close() {
      client.close()
    },
  }
}

async function localSession(local: LocalCore): Promise<Session> {
  const [{ createDispatcher }, { coreEventNames }] = await Promise.all([import('../api/dispatcher.js'), import('../api/contract.js')])
  const dispatcher = createDispatcher(local.opened.core, { logger: local.logger })
  let nextId = 1
  return {
    mode: 'local',
    async call(method, ...params) {
      const response = await dispatcher.handle({ id: nextId++, method, params: params[0] ?? {} })
      if (!response.ok) throw new HearthError(response.error.code, response.error.message)
      return response.result as Result<typeof method>
    },
    on(event, listener) {
      // A local core has no app host around it, so app events never come.
      if (!(coreEventNames as readonly string[]).includes(event)) return () => {}
      return local.opened.core.events.on(event as CoreEventName, listener as (payload: unknown) => void)
    },
    local,
    onDisconnect() {},
    close: () => local.close(),
  }
}
