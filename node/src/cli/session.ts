/**
 * How a CLI command reaches a core. LevelDB admits one process per data dir, so when a daemon (`hearth start`) runs
 * for the data dir, commands must talk to it over its WebSocket API (found through api.json); otherwise the command
 * opens the core in-process for its own duration. Either way it goes through the same typed contract, so a command
 * does not care which.
 */
import WebSocket from 'ws'
import { passphraseKeyProvider } from '../../common/crypto/keystore.js'
import { HearthError } from '../../common/errors.js'
import { coreEventNames, type EventName, type EventPayload, type Method, type Result } from '../api/contract.js'
import { createDispatcher } from '../api/dispatcher.js'
import { connectApi, type ApiClient, type ParamsArg, type WebSocketFactory, type WebSocketLike } from '../api/ws-client.js'
import type { CoreEventName } from '../core/events.js'
import { openLocalCore, type LocalCore } from './local-core.js'
import { getPassphrase } from './prompt.js'
import { processAlive, readApiFile } from './state-files.js'

// The in-process core moved to local-core.ts (no `ws` there, so the app host can use it); re-exported for commands.
export { bootstrapAddresses, cliLogger, mdnsEnabled, openLocalCore, type LocalCore } from './local-core.js'

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

/** The running daemon's API for this data dir, or undefined when none answers (a stale api.json is ignored). */
export async function findDaemon(dataDir: string): Promise<ApiClient | undefined> {
  const file = await readApiFile(dataDir)
  if (file === undefined || !processAlive(file.pid)) return undefined
  try {
    return await connectApi(file.url, file.token, { WebSocket: nodeWebSocket, timeoutMs: 3_000 })
  } catch {
    return undefined
  }
}

export async function openSession(options: GlobalOptions): Promise<Session> {
  const daemon = await findDaemon(options.dataDir)
  if (daemon !== undefined) return daemonSession(daemon)
  const keyProvider = passphraseKeyProvider(await getPassphrase(options))
  const local = await openLocalCore(options, keyProvider)
  return localSession(local)
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

function localSession(local: LocalCore): Session {
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
