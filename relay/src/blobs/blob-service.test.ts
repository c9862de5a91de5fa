import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BlobEncryptor, type SealedChunk } from '../../../node/common/blob/format.js'
import { deriveMailboxKeys, signMailboxRequest } from '../../../node/common/crypto/mailbox-capability.js'
import { PeerPenalties } from '../../../node/common/net/peer-penalties.js'
import { openDatabase, type Database } from '../../../node/common/storage/database.js'
import { blobParamsOf, decodeBlobHead, encodeBlobRequest, type RelayBlobRequestBody } from '../../../node/common/wire/relay-blob.js'
import { createLogger } from '../ops/logger.js'
import { createMetrics } from '../ops/metrics.js'
import { BlobService } from './blob-service.js'
import { RelayBlobStore } from './relay-blob-store.js'

const RELAY = '12D3KooWRelayPeerIdForTests'
const keys = deriveMailboxKeys(new Uint8Array(32).fill(7))
const MiB = 1024 * 1024

class CountingPenalties extends PeerPenalties {
  readonly seen: string[] = []
  override penalise(peer: string, reason: string, weight?: number): boolean {
    this.seen.push(reason)
    return super.penalise(peer, reason, weight)
  }
}

function sealed(size: number): { chunks: SealedChunk[]; blob: { id: Uint8Array; padded: number; hashList: Uint8Array } } {
  const enc = new BlobEncryptor()
  const chunks = [...enc.push(new Uint8Array(size).fill(9))]
  const finish = enc.finish()
  for (;;) {
    const r = finish.next()
    if (r.done === true) return { chunks, blob: r.value }
    chunks.push(r.value)
  }
}

describe('BlobService', () => {
  let db: Database | undefined
  let dir: string | undefined

  afterEach(async () => {
    await db?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    db = undefined
    dir = undefined
  })

  async function service(withStore = true) {
    const metrics = createMetrics({ connections: () => 0, storedBytes: () => 0, storedEnvelopes: () => 0, waitingFetches: () => 0, reservations: () => 0, replayGuardLoad: () => 0 })
    const penalties = new CountingPenalties()
    let store: RelayBlobStore | undefined
    if (withStore) {
      dir = await mkdtemp(join(tmpdir(), 'hearth-blob-service-'))
      db = await openDatabase({ memory: true })
      store = await RelayBlobStore.open(db, join(dir, 'blobs'), {
        limits: { maxBlobBytes: 8 * MiB, mailboxMaxBytes: 64 * MiB, peerMaxBytesPerDay: 64 * MiB, maxStoredBytes: 128 * MiB, retentionMs: 3600_000, incompleteTtlMs: 3600_000 },
      })
    }
    const svc = new BlobService({ relayPeerId: RELAY, store, metrics, penalties, logger: createLogger('silent'), requestsPerSecond: 100, requestBurst: 100, clockSkewMs: 30_000 })
    const ask = async (bytes: Uint8Array) => {
      const frames: Uint8Array[] = []
      for await (const f of svc.handle(bytes, { peer: 'peerX', signal: new AbortController().signal })) frames.push(f)
      return { head: decodeBlobHead(frames[0]!), frames: frames.slice(1) }
    }
    const signed = (body: RelayBlobRequestBody) => encodeBlobRequest({ ...body, auth: signMailboxRequest(keys, RELAY, blobParamsOf(body)) })
    return { svc, ask, signed, penalties, metrics }
  }

  it('refuses every request as unsupported when the relay does not store blobs', async () => {
    const { ask, signed, metrics } = await service(false)
    const { head } = await ask(signed({ op: 'get-list', blob: new Uint8Array(32) }))
    expect(head).toEqual({ kind: 'refused', reason: 'unsupported' })
    expect((await metrics.registry.getSingleMetricAsString('hearth_relay_refusals_total')).includes('reason="unsupported"} 1')).toBe(true)
  })

  it('answers garbage as malformed and a forged signature as unauthorized, and holds both against the peer', async () => {
    const { ask, penalties } = await service()
    expect((await ask(Uint8Array.of(1, 2, 3))).head).toEqual({ kind: 'refused', reason: 'malformed' })
    const body: RelayBlobRequestBody = { op: 'get-list', blob: new Uint8Array(32) }
    const auth = signMailboxRequest(keys, RELAY, blobParamsOf(body))
    auth.signature[0]! ^= 1
    expect((await ask(encodeBlobRequest({ ...body, auth }))).head).toEqual({ kind: 'refused', reason: 'unauthorized' })
    expect(penalties.seen).toEqual(['relay-blob-malformed', 'relay-blob-unauthorized'])
  })

  it('stores, serves, and counts a corrupt chunk against its uploader', async () => {
    const { ask, signed, penalties } = await service()
    const { chunks, blob } = sealed(200_000)
    expect((await ask(signed({ op: 'put-list', blob: blob.id, padded: blob.padded, hashList: blob.hashList }))).head).toMatchObject({ kind: 'listed', status: 'stored' })
    const bad = new Uint8Array(chunks[1]!.cipher)
    bad[0]! ^= 1
    const put = await ask(signed({ op: 'put-chunks', blob: blob.id, chunks: [chunks[0]!, { index: 1, cipher: bad }] }))
    expect(put.head).toEqual({ kind: 'put', results: ['stored', 'corrupt'] })
    expect(penalties.seen).toEqual(['blob-corrupt-chunk'])
    const got = await ask(signed({ op: 'get-chunks', blob: blob.id, first: 0, count: 4 }))
    expect(got.head).toEqual({ kind: 'chunks', have: Uint8Array.of(1) })
    expect(got.frames.length).toBe(1)
    // The read key reads; a put signed by it is refused.
    const readOnly = { ...keys, deposit: keys.read, read: keys.read }
    const body: RelayBlobRequestBody = { op: 'put-chunks', blob: blob.id, chunks: [chunks[2]!] }
    const auth = signMailboxRequest(readOnly, RELAY, blobParamsOf(body))
    const refused = await ask(encodeBlobRequest({ ...body, auth: { ...auth, depositPublic: keys.deposit.publicKey, readPublic: keys.read.publicKey } }))
    expect(refused.head).toEqual({ kind: 'refused', reason: 'unauthorized' })
  })

  it('tells a client with a wrong clock the relay time', async () => {
    const { ask } = await service()
    const body: RelayBlobRequestBody = { op: 'get-list', blob: new Uint8Array(32) }
    const auth = signMailboxRequest(keys, RELAY, blobParamsOf(body), { timestamp: Date.now() - 10 * 60_000 })
    const { head } = await ask(encodeBlobRequest({ ...body, auth }))
    expect(head).toMatchObject({ kind: 'refused', reason: 'stale' })
    expect(head.kind === 'refused' && Math.abs((head.relayTime ?? 0) - Date.now()) < 60_000).toBe(true)
  })
})
