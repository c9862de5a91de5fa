/**
 * The core opened in this process for a data dir, with what the CLI keeps next to it: the listen ports used last (so
 * invites and remembered addresses stay valid across restarts) and the address book of members' devices (so a
 * restarted core reaches them without mDNS). The `hearth` CLI and the app host (browser mode, Electron's utility
 * process) both open the core through here. Nothing here speaks HTTP or WebSocket.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { KeyProvider } from '../../common/crypto/keystore.js'
import { isHearthError } from '../../common/errors.js'
import { Logger } from '../core/logger.js'
import { openCore, type OpenedCore } from '../core/open-core.js'
import { bootstrapAddresses, mdnsEnabled, relayAddresses } from './env.js'
import { readAddressBook, readListenPorts, writeAddressBook, writeListenPorts, type AddressBook } from './state-files.js'

export function cliLogger(): Logger {
  // Human output owns the terminal; JSON logs only show warnings unless asked for (HEARTH_LOG_LEVEL=info|debug).
  return Logger.create({ level: process.env.HEARTH_LOG_LEVEL ?? 'warn' })
}

export { bootstrapAddresses, mdnsEnabled, relayAddresses } from './env.js'

export interface LocalCoreSettings {
  /** Default: HEARTH_MDNS. */
  mdns?: boolean
  /** Default: HEARTH_BOOTSTRAP. */
  bootstrap?: string[]
  /** Default: the CLI's logger (warnings on stderr). */
  logger?: Logger
  syncIntervalMs?: number
}

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
  /** `listen`: pinned listen multiaddrs; empty means "the ports this data dir used last". */
  options: { dataDir: string; listen: string[] },
  keyProvider: KeyProvider,
  settings: LocalCoreSettings = {},
): Promise<LocalCore> {
  const logger = settings.logger ?? cliLogger()
  const pinned = options.listen.length > 0
  const remembered = pinned ? undefined : await readListenPorts(options.dataDir)
  const open = (listen: string[] | undefined) =>
    openCore({
      dataDir: options.dataDir,
      keyProvider,
      logger,
      ...(settings.syncIntervalMs === undefined ? {} : { syncIntervalMs: settings.syncIntervalMs }),
      relays: relayAddresses(),
      network: {
        mdns: settings.mdns ?? mdnsEnabled(),
        bootstrap: settings.bootstrap ?? bootstrapAddresses(),
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
