/**
 * Node-level pieces for the blob transfer tests: a libp2p node with a real BlobStore (LevelDB + chunk files) serving
 * /hearth/blob/1.0.0 and a BlobFetcher, without a whole core. Membership is a set of PeerIds the test controls.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { openDatabase, type Database } from '../../node/common/storage/database.js'
import { BlobFetcher, type FetchTiming } from '../../node/src/core/blobs/blob-fetcher.js'
import { BlobServer, type ServingStore } from '../../node/src/core/blobs/blob-server.js'
import { BlobStore } from '../../node/src/core/blobs/blob-store.js'
import type { BlobSource } from '../../node/src/core/blobs/blob-sources.js'
import { Logger } from '../../node/src/core/logger.js'
import { SecurityCounters } from '../../node/src/core/security-counters.js'
import { CoreStore } from '../../node/src/store/core-store.js'

export const CONV = 'c1'.repeat(16)

export interface BlobPeer {
  name: string
  node: HearthNode
  store: BlobStore
  fetcher: BlobFetcher
  counters: SecurityCounters
  /** Peers served as members of every conversation. */
  members: Set<string>
  /** Chunk indices this peer's server read for sending, in order. */
  served: number[]
  /** Sources this peer's fetcher excluded for bad data. */
  badSources: Array<{ key: string; reason: string }>
  dir: string
  stop(): Promise<void>
}

export interface BlobPeerOptions {
  /** Data directory to reuse (a restart); a fresh temp dir otherwise. */
  dir?: string
  /** Wraps what the server reads (a malicious peer tampers here; a gate holds it). */
  serving?: (store: BlobStore) => ServingStore
  timing?: Partial<FetchTiming>
  /** Serve any peer (a child process whose PeerId the test does not know in advance). */
  everyoneIsMember?: boolean
}

export async function startBlobPeer(name: string, options: BlobPeerOptions = {}): Promise<BlobPeer> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), `hearth-blob-${name}-`)))
  const db: Database = await openDatabase({ path: join(dir, 'db') })
  const core = new CoreStore(db, new Uint8Array(32).fill(7))
  const store = await BlobStore.open(dir, core, Logger.silent())
  const node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  const counters = new SecurityCounters()
  const members = new Set<string>()
  const served: number[] = []
  const badSources: BlobPeer['badSources'] = []
  const base = options.serving?.(store) ?? store
  const counting: ServingStore = {
    get: (id) => base.get(id),
    hashList: (id) => base.hashList(id),
    readChunk: (id, i) => {
      served.push(i)
      return base.readChunk(id, i)
    },
  }
  const server = new BlobServer({ node, store: counting, isMemberDevice: (_c, peer) => options.everyoneIsMember === true || members.has(peer), counters })
  await server.start()
  const fetcher = new BlobFetcher({
    store,
    counters,
    onBadSource: (s, reason) => badSources.push({ key: s.key, reason }),
    ...(options.timing === undefined ? {} : { timing: options.timing }),
  })
  let stopped = false
  return {
    name,
    node,
    store,
    fetcher,
    counters,
    members,
    served,
    badSources,
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await server.stop().catch(() => {})
      await node.stop()
      await fetcher.idle()
      await store.close()
      await db.close()
    },
  }
}

/** Stops the peers and removes their data directories. */
export async function removeBlobPeers(peers: BlobPeer[]): Promise<void> {
  for (const p of peers) await p.stop()
  for (const p of peers) await rm(p.dir, { recursive: true, force: true })
}

/** Makes each peer a member for the others and connects them all. */
export async function meshBlobPeers(peers: BlobPeer[]): Promise<void> {
  for (const a of peers) for (const b of peers) if (a !== b) a.members.add(b.node.peerId)
  for (let i = 0; i < peers.length; i++) {
    for (let j = i + 1; j < peers.length; j++) await peers[i]!.node.dial(peers[j]!.node.addresses()[0]!)
  }
}

/** Deterministic bytes (a seeded xorshift), fast enough for tens of MiB. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  const words = new Uint32Array(out.buffer, 0, Math.floor(n / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  for (let i = words.length * 4; i < n; i++) out[i] = i & 0xff
  return out
}

export async function* piecesOf(data: Uint8Array, size = 1024 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** SHA-256 of a blob's plaintext as the store decrypts it. */
export async function plainDigest(store: BlobStore, id: string, key: Uint8Array, size: number): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of store.plainStream(id, key, size)) hash.update(piece)
  return hash.digest('hex')
}

export type { BlobSource }
