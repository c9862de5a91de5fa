import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { KeyProvider } from '../../common/crypto/keystore.js'
import { HearthError } from '../../common/errors.js'
import { createHearthNode, type NodeOptions } from '../../common/net/create-node.js'
import { MailboxClient } from '../../common/net/mailbox-client.js'
import { PeerPenalties } from '../../common/net/peer-penalties.js'
import { openDatabase } from '../../common/storage/database.js'
import { BlobStore } from './blobs/blob-store.js'
import { RelayBlobClient } from '../../common/net/relay-blob-client.js'
import { migrate } from '../../common/storage/migrations.js'
import { createIdentity, identityExists, loadIdentity, restoreIdentity, saveIdentity, type Identity } from '../identity/identity.js'
import { CoreStore } from '../store/core-store.js'
import { coreMigrations } from '../store/migrations.js'
import { Core } from './core.js'
import { Logger } from './logger.js'

/**
 * Opening a data directory: identity (unwrapped with the key provider), database (migrated), libp2p node, core.
 * The desktop shell, the headless daemon, the CLI and the tests all come through here.
 */
export interface OpenCoreOptions {
  dataDir: string
  keyProvider: KeyProvider
  network?: Partial<NodeOptions>
  logger?: Logger
  syncIntervalMs?: number
  /** Each member device's gossip allowance (default: gossip-rate-limit.ts); the benchmarks of raw capacity lift it. */
  gossipAllowance?: { burst: number; perSecond: number }
  /** Relays given outside the settings (HEARTH_RELAYS): reserved on and used like configured ones. */
  relays?: string[]
  /** Off for tests that want a LAN-only core. Default on. */
  useRelays?: boolean
}

export interface OpenedCore {
  core: Core
  identity: Identity
  close(): Promise<void>
}

export async function initDataDir(
  dataDir: string,
  displayName: string,
  keyProvider: KeyProvider,
  options: { recoveryPhrase?: string } = {},
): Promise<{ identity: Identity; recoveryPhrase: string | null }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  if (identityExists(dataDir)) {
    throw new HearthError('IDENTITY_EXISTS', `${dataDir} already holds a Hearth identity`)
  }
  if (options.recoveryPhrase !== undefined) {
    const identity = await restoreIdentity(displayName, options.recoveryPhrase, Date.now())
    await saveIdentity(dataDir, identity, keyProvider)
    return { identity, recoveryPhrase: null }
  }
  const { identity, recoveryPhrase } = await createIdentity(displayName, Date.now())
  await saveIdentity(dataDir, identity, keyProvider)
  return { identity, recoveryPhrase }
}

export async function openCore(options: OpenCoreOptions): Promise<OpenedCore> {
  const logger = options.logger ?? Logger.create()
  const identity = await loadIdentity(options.dataDir, options.keyProvider)
  const db = await openDatabase({ path: join(options.dataDir, 'db') })
  try {
    await migrate(db, coreMigrations)
    const store = new CoreStore(db, identity.dbKey)
    const useRelays = options.useRelays ?? true
    const settings = await store.getSettings()
    const relays = useRelays ? [...new Set([...(options.relays ?? []), ...(settings?.relays ?? [])])] : []
    const node = await createHearthNode({
      privateKey: identity.peerKey,
      listen: ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'],
      mdns: true,
      dht: 'client',
      // A desktop talks to its family and a few relays; hundreds of connections would be an attack or a bug.
      connectionLimits: { maxConnections: 300, inboundConnectionThreshold: 20 },
      penalties: new PeerPenalties(),
      // Behind NAT: hold a slot on each relay (peers reach us via the circuit), then upgrade by hole punching.
      nat: { dcutr: true, autonat: true, webrtc: {} },
      relayReservations: relays,
      bootstrap: relays,
      onError: (err, context) => logger.debug({ err, context }, 'network error'),
      ...options.network,
    } as NodeOptions)
    if (relays.length > 0 && settings === undefined) {
      // First run with HEARTH_RELAYS: remember them as the user's relays so invites carry them.
      await store.commit([store.putSettings({ relays })], true)
    }
    const blobs = await BlobStore.open(options.dataDir, store, logger)
    const core = new Core({
      identity,
      saveIdentity: (renamed) => saveIdentity(options.dataDir, renamed, options.keyProvider),
      store,
      node,
      logger,
      blobs,
      ...(useRelays ? { mailbox: new MailboxClient(node), relayBlobs: new RelayBlobClient(node) } : {}),
      ...(options.syncIntervalMs === undefined ? {} : { syncIntervalMs: options.syncIntervalMs }),
      ...(options.gossipAllowance === undefined ? {} : { gossipAllowance: options.gossipAllowance }),
    })
    await core.start()
    let closed = false
    return {
      core,
      identity,
      async close() {
        if (closed) return
        closed = true
        await core.stop()
        await node.stop()
        await blobs.close()
        await db.close()
      },
    }
  } catch (err) {
    await db.close()
    throw err
  }
}
