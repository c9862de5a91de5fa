import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concatByteList, equalBytes, toHex } from '../util/bytes.js'
import {
  BlobEncryptor,
  CHUNK_BYTES,
  CHUNK_CIPHER_BYTES,
  MAX_BLOB_PLAIN,
  MAX_CHUNKS,
  MAX_PADDED,
  blobIdHex,
  blobIdOf,
  chunkCount,
  chunkHashAt,
  cipherChunkLength,
  hashChunk,
  openChunk,
  paddedSize,
  sealChunk,
  verifyHashList,
  type SealedBlob,
  type SealedChunk,
} from './format.js'

function encrypt(data: Uint8Array, pieces: number[] = [data.length]): { chunks: SealedChunk[]; blob: SealedBlob } {
  const enc = new BlobEncryptor()
  const chunks: SealedChunk[] = []
  let offset = 0
  for (const n of pieces) {
    for (const c of enc.push(data.subarray(offset, offset + n))) chunks.push(c)
    offset += n
  }
  if (offset < data.length) for (const c of enc.push(data.subarray(offset))) chunks.push(c)
  const it = enc.finish()
  for (;;) {
    const r = it.next()
    if (r.done === true) return { chunks, blob: r.value }
    chunks.push(r.value)
  }
}

/** Opens every chunk with the key, checks each against the hash list, and returns the file bytes. */
function decrypt(blob: SealedBlob, ciphers: readonly Uint8Array[]): Uint8Array {
  const count = chunkCount(blob.padded)
  if (ciphers.length !== count) throw new Error('chunk count')
  const plain = ciphers.map((cipher, i) => {
    if (!equalBytes(hashChunk(cipher), chunkHashAt(blob.hashList, i))) throw new Error(`hash ${i}`)
    return openChunk(blob.key, i, i === count - 1, cipher)
  })
  const stream = concatByteList(plain)
  if (stream.length !== blob.padded) throw new Error('padded length')
  if (stream.subarray(blob.size).some((b) => b !== 0)) throw new Error('padding is not zeros')
  return stream.subarray(0, blob.size)
}

const random = (n: number): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761) >>> 24
  return out
}
const decryptFails = (f: () => unknown): void => {
  expect(f).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }) as unknown as Error)
}

describe('paddedSize', () => {
  it('follows the 1.05 log buckets with a floor of 541', () => {
    expect(paddedSize(0)).toBe(541)
    expect(paddedSize(1)).toBe(541)
    expect(paddedSize(541)).toBe(541)
    expect(paddedSize(542)).toBe(568)
    expect(paddedSize(65_536)).toBe(67_789)
    expect(paddedSize(100 * 1024 * 1024)).toBe(107_335_738)
    expect(MAX_PADDED).toBe(paddedSize(MAX_BLOB_PLAIN))
    expect(MAX_CHUNKS).toBe(Math.ceil(MAX_PADDED / CHUNK_BYTES))
    expect(CHUNK_CIPHER_BYTES).toBe(65_552)
  })

  it('is at least the size, at most 5 % above it (above the floor), and monotonic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_BLOB_PLAIN - 1 }), (size) => {
        const p = paddedSize(size)
        expect(p).toBeGreaterThanOrEqual(size)
        if (size > 541) expect(p).toBeLessThanOrEqual(Math.ceil(size * 1.05))
        expect(paddedSize(size + 1)).toBeGreaterThanOrEqual(p)
        if (p <= MAX_BLOB_PLAIN) expect(paddedSize(p)).toBe(p) // a bucket maps to itself
      }),
    )
  })

  it('refuses sizes that are not non-negative integers or exceed the cap', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => paddedSize(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown as Error)
    }
    expect(() => paddedSize(MAX_BLOB_PLAIN + 1)).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }) as unknown as Error)
  })
})

describe('chunk geometry', () => {
  it('counts chunks and their cipher lengths', () => {
    expect(chunkCount(541)).toBe(1)
    expect(chunkCount(CHUNK_BYTES)).toBe(1)
    expect(chunkCount(CHUNK_BYTES + 1)).toBe(2)
    expect(cipherChunkLength(541, 0)).toBe(557)
    expect(cipherChunkLength(CHUNK_BYTES + 1, 0)).toBe(CHUNK_CIPHER_BYTES)
    expect(cipherChunkLength(CHUNK_BYTES + 1, 1)).toBe(17)
    expect(chunkCount(MAX_PADDED)).toBe(MAX_CHUNKS)
    for (const bad of [0, -1, 2.5, MAX_PADDED + 1]) expect(() => chunkCount(bad)).toThrow()
    expect(() => cipherChunkLength(CHUNK_BYTES + 1, 2)).toThrow()
    expect(() => cipherChunkLength(541, -1)).toThrow()
  })
})

describe('BlobEncryptor and openChunk', () => {
  const edgeSizes = [0, 1, 540, 541, 542, 65_535, 65_536, 65_537, 67_789, 67_790, 3 * CHUNK_BYTES]

  it('round-trips the edge sizes', () => {
    for (const size of edgeSizes) {
      const data = random(size)
      const { chunks, blob } = encrypt(data)
      expect(blob.size, `size ${size}`).toBe(size)
      expect(blob.padded).toBe(paddedSize(size))
      expect(chunks.map((c) => c.index)).toEqual([...Array(chunkCount(blob.padded)).keys()])
      chunks.forEach((c, i) => expect(c.cipher.length).toBe(cipherChunkLength(blob.padded, i)))
      expect(equalBytes(decrypt(blob, chunks.map((c) => c.cipher)), data)).toBe(true)
      expect(verifyHashList(blob.id, blob.hashList, blob.padded)).toBe(true)
      expect(verifyHashList(toHex(blob.id), blob.hashList, blob.padded)).toBe(true)
      expect(equalBytes(blob.id, blobIdOf(concatByteList(chunks.map((c) => c.hash))))).toBe(true)
    }
  })

  it('round-trips any size pushed in any pieces (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...edgeSizes), fc.integer({ min: 0, max: 4 * CHUNK_BYTES })),
        fc.array(fc.integer({ min: 0, max: 2 * CHUNK_BYTES }), { maxLength: 8 }),
        (size, pieces) => {
          const data = random(size)
          const { chunks, blob } = encrypt(data, pieces)
          expect(equalBytes(decrypt(blob, chunks.map((c) => c.cipher)), data)).toBe(true)
          expect(verifyHashList(blob.id, blob.hashList, blob.padded)).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('uses a fresh key for every blob: the same file twice is two unrelated blobs', () => {
    const data = random(1000)
    const a = encrypt(data).blob
    const b = encrypt(data).blob
    expect(equalBytes(a.key, b.key)).toBe(false)
    expect(equalBytes(a.id, b.id)).toBe(false)
  })

  it('refuses a flipped bit, a swapped chunk, a truncated last chunk and a wrong last flag (property)', () => {
    const data = random(3 * CHUNK_BYTES + 100)
    const { chunks, blob } = encrypt(data)
    const n = chunks.length
    expect(n).toBeGreaterThanOrEqual(4)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: n - 1 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (i, pos, bit) => {
        const cipher = chunks[i]!.cipher
        const flipped = cipher.slice()
        flipped[pos % flipped.length]! ^= 1 << bit
        decryptFails(() => openChunk(blob.key, i, i === n - 1, flipped))
        expect(equalBytes(hashChunk(flipped), chunkHashAt(blob.hashList, i))).toBe(false)
        // Any other chunk in position i, full or last.
        const j = (i + 1 + (pos % (n - 1))) % n
        decryptFails(() => openChunk(blob.key, i, i === n - 1, chunks[j]!.cipher))
        // The wrong last flag.
        decryptFails(() => openChunk(blob.key, i, i !== n - 1, cipher))
      }),
      { numRuns: 50 },
    )
    const last = chunks[n - 1]!.cipher
    decryptFails(() => openChunk(blob.key, n - 1, true, last.subarray(0, last.length - 1)))
    decryptFails(() => openChunk(blob.key, n - 1, true, last.subarray(1)))
    // A stream cut at a chunk boundary: the chunk before the last, claimed to be the last.
    decryptFails(() => openChunk(blob.key, n - 2, true, chunks[n - 2]!.cipher))
    decryptFails(() => openChunk(new Uint8Array(32), 0, false, chunks[0]!.cipher))
    decryptFails(() => openChunk(blob.key, -1, false, chunks[0]!.cipher))
    decryptFails(() => openChunk(blob.key, 0, false, new Uint8Array(0)))
  })

  it('changes the blob id when any chunk changes, and verifyHashList refuses a list that does not match', () => {
    const { blob } = encrypt(random(5 * CHUNK_BYTES))
    const count = chunkCount(blob.padded)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: count - 1 }), fc.integer({ min: 0, max: 31 }), (i, pos) => {
        const other = blob.hashList.slice()
        other[i * 32 + pos]! ^= 0x80
        expect(equalBytes(blobIdOf(other), blob.id)).toBe(false)
        expect(verifyHashList(blob.id, other, blob.padded)).toBe(false)
      }),
      { numRuns: 30 },
    )
    const swapped = concatByteList([chunkHashAt(blob.hashList, 1), chunkHashAt(blob.hashList, 0), blob.hashList.subarray(64)])
    expect(verifyHashList(blob.id, swapped, blob.padded)).toBe(false)
    expect(verifyHashList(blob.id, blob.hashList.subarray(32), blob.padded)).toBe(false)
    expect(verifyHashList(blob.id, blob.hashList, blob.padded + CHUNK_BYTES)).toBe(false)
    expect(verifyHashList(blob.id, blob.hashList, 0)).toBe(false)
    expect(verifyHashList('not hex', blob.hashList, blob.padded)).toBe(false)
    expect(verifyHashList(toHex(blob.id).toUpperCase(), blob.hashList, blob.padded)).toBe(false)
    expect(verifyHashList(blob.id.subarray(1), blob.hashList, blob.padded)).toBe(false)
  })

  it('refuses to lose bytes: an unconsumed or abandoned push makes the encryptor unusable', () => {
    const enc = new BlobEncryptor()
    enc.push(random(3 * CHUNK_BYTES)) // never iterated
    expect(() => enc.push(random(1))).toThrow(expect.objectContaining({ code: 'INTERNAL' }) as unknown as Error)

    const enc2 = new BlobEncryptor()
    for (const _ of enc2.push(random(3 * CHUNK_BYTES))) break
    expect(() => enc2.finish()).toThrow(expect.objectContaining({ code: 'INTERNAL' }) as unknown as Error)

    const enc3 = new BlobEncryptor()
    for (const _ of enc3.push(random(10))) expect.unreachable()
    for (const _ of enc3.finish()) void _
    expect(() => enc3.push(random(1))).toThrow()
  })

  it('refuses input that is not bytes and chunks of the wrong size', () => {
    const enc = new BlobEncryptor()
    expect(() => enc.push([1, 2] as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown as Error)
    const key = new Uint8Array(32)
    expect(() => sealChunk(key, 0, false, new Uint8Array(CHUNK_BYTES - 1))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }) as unknown as Error)
    expect(() => sealChunk(key, 0, true, new Uint8Array(0))).toThrow()
    expect(() => sealChunk(key, 0, true, new Uint8Array(CHUNK_BYTES + 1))).toThrow()
    expect(() => sealChunk(key, MAX_CHUNKS, true, new Uint8Array(1))).toThrow()
  })

  it('puts the index and last flag into the nonce exactly as specified', () => {
    // Chunk 2 of a blob, not last, under a zero key: decrypting with noble's reference XChaCha20-Poly1305 and the
    // spelled-out nonce must give the plaintext back.
    const key = new Uint8Array(32).fill(7)
    const plain = random(CHUNK_BYTES)
    const cipher = sealChunk(key, 2, false, plain)
    const nonce = new Uint8Array([...new TextEncoder().encode('hblob/v1'), 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0])
    return import('@noble/ciphers/chacha.js').then(({ xchacha20poly1305 }) => {
      expect(equalBytes(xchacha20poly1305(key, nonce).decrypt(cipher), plain)).toBe(true)
      const lastNonce = nonce.slice()
      lastNonce[23] = 1
      expect(equalBytes(xchacha20poly1305(key, lastNonce).decrypt(sealChunk(key, 2, true, plain)), plain)).toBe(true)
    })
  })

  it('names ids in 64 lowercase hex', () => {
    const id = blobIdOf(new Uint8Array(32))
    expect(blobIdHex(id)).toMatch(/^[0-9a-f]{64}$/)
    expect(blobIdHex(blobIdHex(id))).toBe(toHex(id))
    expect(() => blobIdHex('../../etc/passwd'.padEnd(64, 'a'))).toThrow()
    expect(() => blobIdHex(new Uint8Array(31))).toThrow()
  })
})
