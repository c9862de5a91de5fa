/**
 * Test-only pieces for the blob protocol's tests: random blobs (opaque ciphertext chunks with a real hash list and id,
 * so verification is real), an in-memory store with the BlobStore API the fetcher and server use, and scripted
 * sources. Kept beside the code so unit, fuzz and integration tests share one copy.
 */
import { randomBytes } from 'node:crypto'
import { blobIdOf, CHUNK_BYTES, chunkCount, chunkHashAt, cipherChunkLength, hashChunk } from '../../../common/blob/format.js'
import { HearthError } from '../../../common/errors.js'
import { concatByteList, equalBytes, toHex } from '../../../common/util/bytes.js'
import type { BlobChunk } from './blob-frames.js'
import type { ChunkStore } from './blob-fetcher.js'
import type { ServedBlobRecord, ServingStore } from './blob-server.js'
import type { BlobSource, BlobTarget, ChunkReply } from './blob-sources.js'

export interface TestBlob {
  id: string
  padded: number
  chunks: Uint8Array[]
  hashList: Uint8Array
}

/** A blob of `count` chunks of random "ciphertext" (the protocol never decrypts, so random bytes do). */
export function randomBlob(count: number): TestBlob {
  const padded = (count - 1) * CHUNK_BYTES + 1000
  const chunks = Array.from({ length: chunkCount(padded) }, (_, i) => new Uint8Array(randomBytes(cipherChunkLength(padded, i))))
  const hashList = concatByteList(chunks.map(hashChunk))
  return { id: toHex(blobIdOf(hashList)), padded, chunks, hashList }
}

interface Entry {
  conversation: string
  padded: number
  chunks: number
  hashList: Uint8Array | undefined
  data: Map<number, Uint8Array>
}

/** BlobStore's fetch-and-serve API in memory, with the same checks (hash list against the id, each chunk's hash). */
export class MemoryBlobStore implements ChunkStore, ServingStore {
  readonly entries = new Map<string, Entry>()
  /** Chunks written, per call (tests count refetches). */
  readonly writes: number[][] = []
  /** Chunks read for serving. */
  readonly reads: number[] = []

  /** Holds `blob` completely, as the sender's store does after importing the file. */
  hold(conversation: string, blob: TestBlob, only?: (index: number) => boolean): void {
    const data = new Map<number, Uint8Array>()
    blob.chunks.forEach((c, i) => {
      if (only === undefined || only(i)) data.set(i, c)
    })
    this.entries.set(blob.id, { conversation, padded: blob.padded, chunks: blob.chunks.length, hashList: blob.hashList, data })
  }

  expect(conversation: string, id: string, padded: number): Promise<void> {
    if (!this.entries.has(id)) this.entries.set(id, { conversation, padded, chunks: chunkCount(padded), hashList: undefined, data: new Map() })
    return Promise.resolve()
  }

  get(id: string): Promise<(ServedBlobRecord & { haveCount: number }) | undefined> {
    const e = this.entries.get(id)
    if (e === undefined) return Promise.resolve(undefined)
    const have = new Uint8Array(Math.ceil(e.chunks / 8))
    for (const i of e.data.keys()) have[i >> 3]! |= 1 << (i & 7)
    return Promise.resolve({ conversation: e.conversation, chunks: e.chunks, complete: e.data.size === e.chunks, have, haveCount: e.data.size })
  }

  hashList(id: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.entries.get(id)?.hashList)
  }

  setHashList(id: string, hashList: Uint8Array): Promise<void> {
    const e = this.entries.get(id)
    if (e === undefined) throw new HearthError('NOT_FOUND', 'no such blob')
    if (hashList.length !== e.chunks * 32 || toHex(blobIdOf(hashList)) !== id) throw new HearthError('CORRUPT_DATA', 'hash list does not match')
    e.hashList = hashList
    return Promise.resolve()
  }

  missing(id: string, limit = Number.POSITIVE_INFINITY): Promise<number[]> {
    const e = this.entries.get(id)
    const out: number[] = []
    if (e === undefined) return Promise.resolve(out)
    for (let i = 0; i < e.chunks && out.length < limit; i++) if (!e.data.has(i)) out.push(i)
    return Promise.resolve(out)
  }

  async writeChunks(id: string, chunks: BlobChunk[]): Promise<{ stored: number[]; corrupt: number[] }> {
    await Promise.resolve()
    const e = this.entries.get(id)
    if (e?.hashList === undefined) throw new HearthError('NOT_FOUND', 'no hash list')
    const stored: number[] = []
    const corrupt: number[] = []
    for (const { index, cipher } of chunks) {
      if (e.data.has(index)) continue
      if (index >= e.chunks || cipher.length !== cipherChunkLength(e.padded, index) || !equalBytes(hashChunk(cipher), chunkHashAt(e.hashList, index))) {
        corrupt.push(index)
        continue
      }
      e.data.set(index, new Uint8Array(cipher))
      stored.push(index)
    }
    this.writes.push(stored)
    return { stored, corrupt }
  }

  readChunk(id: string, index: number): Promise<Uint8Array | undefined> {
    this.reads.push(index)
    return Promise.resolve(this.entries.get(id)?.data.get(index))
  }

  /** The chunks held, concatenated (compare with the blob's). */
  bytesOf(id: string): Uint8Array {
    const e = this.entries.get(id)!
    return concatByteList(Array.from({ length: e.chunks }, (_, i) => e.data.get(i) ?? new Uint8Array(0)))
  }
}

export interface ScriptedSourceOptions {
  kind?: 'peer' | 'relay'
  /** Chunks it holds (default all). */
  holds?: (index: number) => boolean
  /** Replaces a chunk's bytes as sent (a malicious source). */
  tamper?: (index: number, cipher: Uint8Array) => Uint8Array
  /** Replaces the hash list as sent. */
  hashList?: Uint8Array
  /** Called before each chunk is sent; may hang (await forever) or throw. */
  beforeChunk?: (index: number) => Promise<void> | void
  /** Throws this on every request (NOT_FOUND, UNREACHABLE…). */
  fail?: () => HearthError | undefined
}

/** A source answering from a TestBlob in memory, with hooks for the ways real sources fail. */
export class ScriptedSource implements BlobSource {
  readonly kind: 'peer' | 'relay'
  readonly requests: Array<{ q: 'h' } | { q: 'c'; first: number; count: number }> = []
  readonly sent: number[] = []

  constructor(
    readonly key: string,
    private readonly blob: TestBlob,
    private readonly opts: ScriptedSourceOptions = {},
  ) {
    this.kind = opts.kind ?? 'peer'
  }

  hashList(target: BlobTarget, signal: AbortSignal): Promise<Uint8Array> {
    this.requests.push({ q: 'h' })
    signal.throwIfAborted()
    const failure = this.opts.fail?.()
    if (failure !== undefined) return Promise.reject(failure)
    if (target.id !== this.blob.id) return Promise.reject(new HearthError('NOT_FOUND', 'blob not found'))
    return Promise.resolve(this.opts.hashList ?? this.blob.hashList)
  }

  chunks(target: BlobTarget, first: number, count: number, signal: AbortSignal): Promise<ChunkReply> {
    this.requests.push({ q: 'c', first, count })
    const failure = this.opts.fail?.()
    if (failure !== undefined) return Promise.reject(failure)
    if (target.id !== this.blob.id) return Promise.reject(new HearthError('NOT_FOUND', 'blob not found'))
    const holds = this.opts.holds ?? (() => true)
    const held = Array.from({ length: count }, (_, k) => first + k < this.blob.chunks.length && holds(first + k))
    const { blob, opts, sent } = this
    async function* chunks(): AsyncGenerator<BlobChunk> {
      for (let k = 0; k < count; k++) {
        if (!held[k]) continue
        const index = first + k
        await opts.beforeChunk?.(index)
        signal.throwIfAborted()
        const cipher = blob.chunks[index]!
        sent.push(index)
        yield { index, cipher: opts.tamper?.(index, cipher) ?? cipher }
      }
    }
    return Promise.resolve({ held, chunks: chunks() })
  }

  /** Chunk requests made (hash-list requests not counted). */
  get chunkRequests(): number {
    return this.requests.filter((r) => r.q === 'c').length
  }
}

/** A promise that never settles (a source that went silent). */
export function never(): Promise<never> {
  return new Promise<never>(() => {})
}
