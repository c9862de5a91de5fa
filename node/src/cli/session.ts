/**
 * How a CLI command reaches a core. LevelDB admits one process per data dir, so when a daemon (`hearth start`) runs
 * for the data dir, commands must talk to it over its WebSocket API (found through api.json); otherwise the command
 * opens the core in-process for its own duration. Either way it goes through the same typed contract, so a command
 * does not care which.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import WebSocket from 'ws'
import { passphraseKeyProvider } from '../../common/crypto/keystore.js'
import { HearthError, isHearthError } from '../../common/errors.js'
import type { EventName, EventPayload, Method, Result } from '../api/contract.js'
import { createDispatcher } from '../api/dispatcher.js'
import { connectApi, type ApiClient, type ParamsArg, type WebSocketFactory, type WebSocketLike } from '../api/ws-client.js'
import { Logger } from '../core/logger.js'
import { openCore, type OpenedCore } from '../core/open-core.js'
import { getPassphrase } from './prompt.js'
import {
  processAlive,
  readAddressBook,
  readApiFile,
  readListenPorts,
  writeAddressBook,
  writeListenPorts,
  type AddressBook,
} from './state-files.js'

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

export function cliLogger(): Logger {
  // Human output owns the terminal; JSON logs only show warnings unless asked for (HEARTH_LOG_LEVEL=info|debug).
  return Logger.create({ level: process.env.HEARTH_LOG_LEVEL ?? 'warn' })
}

/** Relays or other always-on peers to connect to at start (HEARTH_BOOTSTRAP: comma-separated multiaddrs with /p2p/). */
export function bootstrapAddresses(): string[] {
  return (process.env.HEARTH_BOOTSTRAP ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0)
}

export function mdnsEnabled(): boolean {
  return !['0', 'false', 'off', 'no'].includes((process.env.HEARTH_MDNS ?? '').toLowerCase())
}

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
      return local.opened.core.events.on(event, listener)
    },
    local,
    onDisconnect() {},
    close: () => local.close(),
  }
}

// ------------------------------------------------------------------------------------------------ in-process core

export interface LocalCore {
  opened: OpenedCore
  logger: Logger
  /** Resolves when the remembered peers were each tried once. */
  reachingPeers: Promise<void>
  /** Saves the addresses of connected peers (plus extra ones, e.g. from an invite) to peers.json. */
  remember(extra?: Array<{ peerId: string; addresses: string[] }>): Promise<void>
  close(): Promise<void>
}

export async function openLocalCore(
  options: GlobalOptions,
  keyProvider: ReturnType<typeof passphraseKeyProvider>,
  settings: { mdns?: boolean } = {},
): Promise<LocalCore> {
  const logger = cliLogger()
  const pinned = options.listen.length > 0
  const remembered = pinned ? undefined : await readListenPorts(options.dataDir)
  const open = (listen: string[] | undefined) =>
    openCore({
      dataDir: options.dataDir,
      keyProvider,
      logger,
      network: {
        mdns: settings.mdns ?? mdnsEnabled(),
        bootstrap: bootstrapAddresses(),
        ...(listen === undefined ? {} : { listen }),
      },
    })
  let opened: OpenedCore
  if (pinned) {
    opened = await open(options.listen)
  } else if (remembered !== undefined) {
    const listen = [`/ip4/0.0.0.0/tcp/${remembered.tcp}`]
    if (remembered.ws !== undefined) listen.push(`/ip4/0.0.0.0/tcp/${remembered.ws}/ws`)
    try {
      opened = await open(listen)
    } catch (err) {
      // Typically the port was taken meanwhile: take any free one (invites made earlier then need renewing).
      if (isHearthError(err)) throw err
      logger.warn({ err }, 'could not listen on the remembered ports; using new ones')
      opened = await open(undefined)
    }
  } else {
    opened = await open(undefined)
  }
  if (!pinned) await writeListenPorts(options.dataDir, portsOf(opened.core.node.addresses())).catch(() => {})

  const book = await readAddressBook(options.dataDir)
  const reachingPeers = dialRemembered(opened, book)
  let closed = false
  const local: LocalCore = {
    opened,
    logger,
    reachingPeers,
    async remember(extra = []) {
      try {
        await writeAddressBook(options.dataDir, await updatedBook(opened, book, extra))
      } catch (err) {
        logger.debug({ err }, 'could not save peers.json')
      }
    },
    async close() {
      if (closed) return
      closed = true
      await local.remember()
      await opened.close()
    },
  }
  return local
}

function portsOf(addresses: string[]): { tcp: number; ws?: number } {
  let tcp = 0
  let ws: number | undefined
  for (const a of addresses) {
    const m = /\/tcp\/(\d+)(\/ws)?(\/|$)/.exec(a)
    if (!m) continue
    if (m[2] === undefined) tcp ||= Number(m[1])
    else ws ??= Number(m[1])
  }
  return ws === undefined ? { tcp } : { tcp, ws }
}

async function dialRemembered(opened: OpenedCore, book: AddressBook): Promise<void> {
  const node = opened.core.node
  await Promise.allSettled(
    [...book]
      .filter(([peer]) => peer !== node.peerId)
      .map(async ([, entry]) => {
        for (const address of entry.addresses) {
          try {
            await node.dial(address)
            return
          } catch {
            // try the next address; a peer that is offline is normal
          }
        }
      }),
  )
}

async function updatedBook(
  opened: OpenedCore,
  book: AddressBook,
  extra: Array<{ peerId: string; addresses: string[] }>,
): Promise<AddressBook> {
  const now = Date.now()
  for (const { peerId, addresses } of extra) book.set(peerId, { addresses, seen: now })
  // Only peers that are devices of people we share a conversation with: others are not worth redialling.
  for (const peer of opened.core.peers()) {
    if (peer.displayName === null) continue
    const addresses = await listenAddressesOf(opened, peer.peerId)
    if (addresses.length > 0) book.set(peer.peerId, { addresses, seen: now })
  }
  return book
}

/**
 * What the peer announced through identify: its listen addresses, not the ephemeral port of our connection to it.
 */
async function listenAddressesOf(opened: OpenedCore, peer: string): Promise<string[]> {
  try {
    const stored = await opened.core.node.libp2p.peerStore.get(peerIdFromString(peer))
    return stored.addresses
      .map((a) => a.multiaddr.toString())
      .filter((a) => a.includes('/tcp/') && !a.includes('/p2p-circuit'))
      .map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${peer}`))
  } catch {
    return []
  }
}
