import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHearthNode, type NodeOptions } from '../../node/common/net/create-node.js'
import { MailboxClient } from '../../node/common/net/mailbox-client.js'
import { RelayBlobClient } from '../../node/common/net/relay-blob-client.js'
import { PeerPenalties } from '../../node/common/net/peer-penalties.js'
import { openDatabase } from '../../node/common/storage/database.js'
import { BlobStore } from '../../node/src/core/blobs/blob-store.js'
import { Core } from '../../node/src/core/core.js'
import { Logger } from '../../node/src/core/logger.js'
import { createIdentity, type Identity } from '../../node/src/identity/identity.js'
import { CoreStore } from '../../node/src/store/core-store.js'

/**
 * Starts real cores for tests: real identity, real LevelDB (on disk in a temp dir, or the memory backend), real
 * libp2p over TCP loopback (or the memory transport). Nothing is faked.
 */
export interface TestCore {
  name: string
  core: Core
  identity: Identity
  dir: string
  stop(): Promise<void>
  restart(): Promise<TestCore>
}

export interface StartOptions {
  transport?: 'tcp' | 'memory'
  identity?: Identity
  dir?: string
  network?: Partial<NodeOptions>
  /**
   * Relays (multiaddrs with /p2p/) this core uses, as if set in its settings: it deposits to and fetches from their
   * mailboxes (through the real MailboxClient), with short timers so tests do not wait minutes.
   */
  relays?: string[]
  /** Anti-entropy period (default 1 s, so tests do not wait); a long one shows what heals without it. */
  syncIntervalMs?: number
  /** What the core does when another device of its account revokes it (default: the core stops itself). */
  onRevoked?: () => void
  /** The core's clock (default Date.now): a test ages what the core stored by moving it ahead. */
  now?: () => number
}

export async function startCore(name: string, options: StartOptions = {}): Promise<TestCore> {
  const identity = options.identity ?? (await createIdentity(name, Date.now())).identity
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `hearth-${name}-`)))
  const db = await openDatabase({ path: join(dir, 'db') })
  const store = new CoreStore(db, identity.dbKey)
  const memory = options.transport === 'memory'
  const node = await createHearthNode({
    privateKey: identity.peerKey,
    transports: memory ? 'memory' : 'tcp+ws',
    listen: memory ? undefined : ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    dht: false,
    gossip: { heartbeatIntervalMs: 200 },
    penalties: new PeerPenalties(),
    ...options.network,
  } as NodeOptions)
  const relays = options.relays
  if (relays !== undefined) await store.commit([store.putSettings({ relays })], true)
  let saved = identity
  const blobs = await BlobStore.open(dir, store, Logger.silent(), options.now === undefined ? {} : { now: options.now })
  const core = new Core({
    blobs,
    identity,
    // Test cores keep their identity in memory (the harness made it); a restart comes back with the last one saved.
    saveIdentity: async (renamed) => {
      saved = renamed
    },
    store,
    node,
    syncIntervalMs: options.syncIntervalMs ?? 1_000,
    ...(options.onRevoked === undefined ? {} : { onRevoked: options.onRevoked }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(relays === undefined
      ? {}
      : { mailbox: new MailboxClient(node, { timeoutMs: 5_000 }), relayBlobs: new RelayBlobClient(node, { timeoutMs: 10_000 }), relayTiming: { intervalMs: 1_000, waitMs: 2_000 } }),
  })
  await core.start()
  let stopped = false
  const handle: TestCore = {
    name,
    core,
    identity,
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await core.stop()
      await node.stop()
      await blobs.close()
      await db.close()
    },
    async restart() {
      await handle.stop()
      return startCore(name, { ...options, identity: saved, dir })
    },
  }
  return handle
}

export async function stopAll(cores: Array<TestCore | undefined>, removeDirs = true): Promise<void> {
  await Promise.allSettled(cores.map(async (c) => c?.stop()))
  if (removeDirs) await Promise.allSettled(cores.map(async (c) => c && rm(c.dir, { recursive: true, force: true })))
}

export async function connect(a: TestCore, b: TestCore): Promise<void> {
  await a.core.node.dial(b.core.node.addresses()[0]!)
}
