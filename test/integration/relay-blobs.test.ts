/**
 * Relay blob storage end to end against a real `hearth-relay` process: alice uploads a photo's chunks and goes away;
 * bob, who was never online with her, fetches it from the relay through the fetcher's source shape and it verifies
 * and decrypts byte for byte, and the core's BlobFetcher completes it with the relay as its only source. Also: a
 * resumed upload sends only what is missing, a corrupt chunk is refused and counted, quota and cap refusals with their
 * reasons, a stranger's capability sees nothing, a wrong signer is refused, and the relay keeps what it acknowledged
 * across `kill -9`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BlobEncryptor,
  chunkHashAt,
  hashChunk,
  openChunk,
  verifyHashList,
  type SealedBlob,
  type SealedChunk,
} from '../../node/common/blob/format.js'
import { sha256 } from '../../node/common/crypto/kdf.js'
import { deriveMailboxKeys, signMailboxRequest } from '../../node/common/crypto/mailbox-capability.js'
import { RelayBlobClient, type BlobTarget, type RelayBlobSource } from '../../node/common/net/relay-blob-client.js'
import { request } from '../../node/common/net/request-response.js'
import { concatByteList, toHex } from '../../node/common/util/bytes.js'
import {
  BlobRefusedError,
  MAX_BLOB_REQUEST_BYTES,
  MAX_BLOB_RESPONSE_FRAME_BYTES,
  RELAY_BLOB_PROTOCOL,
  blobParamsOf,
  decodeBlobHead,
  encodeBlobRequest,
} from '../../node/common/wire/relay-blob.js'
import { BlobFetcher } from '../../node/src/core/blobs/blob-fetcher.js'
import { MemoryBlobStore } from '../../node/src/core/blobs/blob-test-kit.js'
import { clientNode, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'

const MiB = 1024 * 1024
const FLAGS = { 'blob-max-bytes': '4MiB', 'blob-mailbox-max-bytes': '8MiB' }
const keys = deriveMailboxKeys(new Uint8Array(32).fill(0x42))
const strangerKeys = deriveMailboxKeys(new Uint8Array(32).fill(0x43))

interface Sealed {
  plain: Uint8Array
  blob: SealedBlob
  chunks: Map<number, Uint8Array>
}

function seal(size: number, seed: number): Sealed {
  const plain = new Uint8Array(size)
  for (let i = 0; i < size; i++) plain[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff
  const enc = new BlobEncryptor()
  const chunks = new Map<number, Uint8Array>()
  const take = (c: SealedChunk): void => void chunks.set(c.index, c.cipher)
  for (const c of enc.push(plain)) take(c)
  const finish = enc.finish()
  for (;;) {
    const r = finish.next()
    if (r.done === true) return { plain, blob: r.value, chunks }
    take(r.value)
  }
}

// Byte-for-byte comparisons go through SHA-256: a deep equality of megabytes costs the test runner tens of seconds.

/** What a receiving member does with a relay source: verify the hash list, fetch windows, verify and open chunks. */
async function fetchAll(source: RelayBlobSource, sealed: Sealed): Promise<Uint8Array> {
  const target: BlobTarget = { conversation: '0'.repeat(32), id: toHex(sealed.blob.id) }
  const signal = AbortSignal.timeout(60_000)
  const hashList = await source.hashList(target, signal)
  expect(verifyHashList(sealed.blob.id, hashList, sealed.blob.padded)).toBe(true)
  const total = hashList.length / 32
  const plain: Uint8Array[] = []
  for (let first = 0; first < total; first += 16) {
    const count = Math.min(16, total - first)
    const reply = await source.chunks(target, first, count, signal)
    expect(reply.held).toEqual(Array(count).fill(true))
    for await (const c of reply.chunks) {
      expect(toHex(hashChunk(c.cipher))).toBe(toHex(chunkHashAt(hashList, c.index)))
      plain.push(openChunk(sealed.blob.key, c.index, c.index === total - 1, c.cipher))
    }
  }
  expect(plain.length).toBe(total)
  return concatByteList(plain).subarray(0, sealed.blob.size)
}

describe('relay blob storage (real relay process)', () => {
  let relay: RelayProcess
  let bob: ClientNode
  const photo = seal(MiB + 512 * 1024 + 12_345, 1)

  beforeAll(async () => {
    relay = await spawnRelay({ flags: FLAGS })
    bob = await clientNode()
  })

  afterAll(async () => {
    await bob?.stop()
    await relay?.stop()
    if (relay !== undefined) await removeRelayDir(relay)
  })

  it('relay only: alice uploads a photo and goes offline; bob, never online with her, fetches it and it verifies', async () => {
    const alice = await clientNode()
    const progress: number[] = []
    const result = await new RelayBlobClient(alice.node).uploadBlob(relay.address, keys, photo.blob, async (i) => photo.chunks.get(i), {
      onProgress: (p) => progress.push(p.held),
    })
    const total = photo.chunks.size
    expect(result).toEqual({ resumed: false, sent: total, held: total, total })
    expect(progress.at(-1)).toBe(total)
    await alice.stop()

    const source = new RelayBlobClient(bob.node).source(relay.address, () => keys)
    expect(source.kind).toBe('relay')
    expect(source.key).toBe(`relay:${relay.peerId}`)
    expect(toHex(sha256(await fetchAll(source, photo)))).toBe(toHex(sha256(photo.plain)))
    expect(await relay.metric('hearth_relay_blob_chunks_served_total')).toBe(total)
    expect(await relay.metric('hearth_relay_blobs')).toBe(1)
    expect(await relay.metric('hearth_relay_blobs_incomplete')).toBe(0)
  })

  it("the core's blob fetcher completes a blob from the relay alone: a relay is one more source", async () => {
    const store = new MemoryBlobStore()
    const fetcher = new BlobFetcher({ store })
    const id = toHex(photo.blob.id)
    const source = new RelayBlobClient(bob.node).source(relay.address, () => keys)
    const result = await fetcher.fetch('1'.repeat(32), id, photo.blob.padded, () => [source])
    expect(result).toMatchObject({ complete: true, total: photo.chunks.size })
    const held = store.entries.get(id)!.data
    const total = photo.chunks.size
    const plain = concatByteList([...Array(total).keys()].map((i) => openChunk(photo.blob.key, i, i === total - 1, held.get(i)!)))
    expect(toHex(sha256(plain.subarray(0, photo.blob.size)))).toBe(toHex(sha256(photo.plain)))
  })

  it('a resumed upload sends only the chunks the relay lacks', async () => {
    const file = seal(MiB, 2)
    const carol = await clientNode()
    try {
      const client = new RelayBlobClient(carol.node)
      const half = Math.floor(file.chunks.size / 2)
      const first = await client.uploadBlob(relay.address, keys, file.blob, async (i) => (i < half ? file.chunks.get(i) : undefined))
      expect(first).toMatchObject({ resumed: false, sent: half, held: half })
      const second = await client.uploadBlob(relay.address, keys, file.blob, async (i) => file.chunks.get(i))
      expect(second).toEqual({ resumed: true, sent: file.chunks.size - half, held: file.chunks.size, total: file.chunks.size })
      expect(toHex(sha256(await fetchAll(new RelayBlobClient(bob.node).source(relay.address, () => keys), file)))).toBe(toHex(sha256(file.plain)))
    } finally {
      await carol.stop()
    }
  })

  it('refuses a corrupt chunk (counted), and the uploader learns which', async () => {
    const file = seal(300_000, 3)
    const client = new RelayBlobClient(bob.node)
    await client.putHashList(relay.address, keys, file.blob)
    const bad = new Uint8Array(file.chunks.get(1)!)
    bad[42]! ^= 0x80
    const results = await client.putChunks(relay.address, keys, file.blob.id, [
      { index: 0, cipher: file.chunks.get(0)! },
      { index: 1, cipher: bad },
    ])
    expect(results).toEqual(['stored', 'corrupt'])
    expect(await relay.metric('hearth_relay_blob_chunks_received_total', { result: 'corrupt' })).toBe(1)
    const reply = await client.getChunks(relay.address, keys, file.blob.id, 0, 2)
    expect(reply.held).toEqual([true, false])
    // The upload helper refuses to carry on past a local chunk that does not match its own hash list.
    await expect(client.uploadBlob(relay.address, keys, file.blob, async (i) => (i === 1 ? bad : file.chunks.get(i)))).rejects.toMatchObject({
      code: 'CORRUPT_DATA',
    })
  })

  it('refuses a blob over the per-blob cap and beyond the mailbox quota, with reasons', async () => {
    const client = new RelayBlobClient(bob.node)
    const quotaKeys = deriveMailboxKeys(new Uint8Array(32).fill(0x44))
    const big = seal(4 * MiB + 1, 4)
    await expect(client.putHashList(relay.address, quotaKeys, big.blob)).rejects.toSatisfy(
      (err: unknown) => err instanceof BlobRefusedError && err.reason === 'blob-too-large' && err.code === 'TOO_LARGE',
    )
    // Sizes are reserved when the hash list is accepted: 8 MiB holds two of these, not three.
    const files = [5, 6, 7].map((seed) => seal(3 * MiB, seed))
    await client.putHashList(relay.address, quotaKeys, files[0]!.blob)
    await client.putHashList(relay.address, quotaKeys, files[1]!.blob)
    await expect(client.putHashList(relay.address, quotaKeys, files[2]!.blob)).rejects.toSatisfy(
      (err: unknown) => err instanceof BlobRefusedError && err.reason === 'mailbox-quota' && err.code === 'QUOTA_EXCEEDED',
    )
    expect(await relay.metric('hearth_relay_refusals_total', { reason: 'mailbox-quota' })).toBeGreaterThanOrEqual(1)
    expect(await relay.metric('hearth_relay_blob_limit_bytes', { limit: 'blob' })).toBe(4 * MiB)
    expect(await relay.metric('hearth_relay_blob_limit_bytes', { limit: 'mailbox' })).toBe(8 * MiB)
    expect(await relay.metric('hearth_relay_blob_retention_seconds')).toBe(30 * 24 * 3600)
  })

  it('shows nothing to another mailbox, and refuses a put signed with the read key', async () => {
    const client = new RelayBlobClient(bob.node)
    await expect(client.getHashList(relay.address, strangerKeys, photo.blob.id)).rejects.toMatchObject({ reason: 'not-found', code: 'NOT_FOUND' })
    const stranger = client.source(relay.address, () => strangerKeys)
    await expect(stranger.chunks({ conversation: '0'.repeat(32), id: toHex(photo.blob.id) }, 0, 16, AbortSignal.timeout(10_000))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })

    // A member-to-be with only the read key cannot write: sign a put with it and send the real public keys.
    const body = { op: 'put-chunks' as const, blob: photo.blob.id, chunks: [{ index: 0, cipher: photo.chunks.get(0)! }] }
    const swapped = { ...keys, deposit: keys.read, read: keys.deposit }
    const signed = signMailboxRequest(swapped, relay.peerId, blobParamsOf(body))
    const auth = { ...signed, depositPublic: keys.deposit.publicKey, readPublic: keys.read.publicKey }
    const limits = { maxRequestBytes: MAX_BLOB_REQUEST_BYTES, maxResponseBytes: MAX_BLOB_RESPONSE_FRAME_BYTES, timeoutMs: 10_000 }
    const frames: Uint8Array[] = []
    for await (const f of request(bob.node, relay.peerId, RELAY_BLOB_PROTOCOL, encodeBlobRequest({ ...body, auth }), limits)) frames.push(f)
    expect(decodeBlobHead(frames[0]!)).toMatchObject({ kind: 'refused', reason: 'unauthorized' })
  })

  it('a client whose clock is 5 minutes off learns the relay time and signs again', async () => {
    const skewed = new RelayBlobClient(bob.node, { now: () => Date.now() - 5 * 60_000 })
    expect((await skewed.getHashList(relay.address, keys, photo.blob.id)).padded).toBe(photo.blob.padded)
  })

  it('keeps what it acknowledged across kill -9', async () => {
    await relay.kill9()
    relay = await spawnRelay({ dataDir: relay.dataDir, flags: FLAGS })
    expect(await relay.metric('hearth_relay_blobs')).toBeGreaterThanOrEqual(2)
    const source = new RelayBlobClient(bob.node).source(relay.address, () => keys)
    expect(toHex(sha256(await fetchAll(source, photo)))).toBe(toHex(sha256(photo.plain)))
  })
})
