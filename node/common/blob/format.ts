/**
 * The blob format: how a file (a photo, any attachment) becomes encrypted, individually verifiable chunks.
 *
 * - A file gets a fresh random 32-byte key K, never reused: the same file sent twice is two unrelated blobs, so a blob
 *   id says nothing about the file to anyone without the message that names it.
 * - The plaintext stream is the file's bytes followed by zero bytes up to `paddedSize(size)` (Signal's log buckets,
 *   at most 5 % overhead), so the stored and transferred size reveals only the bucket.
 * - It is cut into chunks of CHUNK_BYTES plaintext bytes (the last one shorter); chunk i is sealed with
 *   XChaCha20-Poly1305 under K with the nonce "hblob/v1" ‖ u64be(i) ‖ u64be(last ? 1 : 0) and no associated data.
 *   The index and the last flag in the nonce make a reordered chunk, or a stream cut at a chunk boundary, fail to
 *   open. Each nonce is used once under its key because a key seals exactly one blob.
 * - A chunk's hash is SHA-256 of its ciphertext; the hash list is the hashes concatenated, and the blob id is
 *   SHA-256("hearth/v1/blob-hashes" ‖ hash list). A relay or a member can check a chunk against the hash list and the
 *   hash list against the id without K; the id travels inside the signed, sealed message, so the author commits to
 *   every chunk and even a member who holds K cannot substitute one.
 *
 * Pure: no I/O. Sizes are checked everywhere a caller could pass a number from a peer.
 */
import { createHash } from 'node:crypto'
import { openWithNonce, sealWithNonce } from '../crypto/aead.js'
import { randomBytes } from '../crypto/random.js'
import { HearthError } from '../errors.js'
import { concatByteList, equalBytes, fromHex, toHex, utf8 } from '../util/bytes.js'

/** Plaintext bytes per chunk (the last chunk of a blob may be shorter). */
export const CHUNK_BYTES = 65_536
const TAG_BYTES = 16
/** Ciphertext bytes of a full chunk: plaintext plus the Poly1305 tag. */
export const CHUNK_CIPHER_BYTES = CHUNK_BYTES + TAG_BYTES
/** Hard protocol cap on a file's size (the product's per-file limit is a setting below it). */
export const MAX_BLOB_PLAIN = 1024 * 1024 * 1024
/** Bytes of one chunk hash in the hash list. */
export const HASH_BYTES = 32
/** Bytes of a blob key. */
export const BLOB_KEY_BYTES = 32
/** A blob id as records and APIs carry it: 64 lowercase hex digits. */
export const BLOB_ID_PATTERN = /^[0-9a-f]{64}$/

const MIN_PADDED = 541
const BUCKET_BASE = 1.05
const NONCE_PREFIX = utf8('hblob/v1')
const ID_LABEL = utf8('hearth/v1/blob-hashes')

function bucket(size: number): number {
  if (size <= 1) return MIN_PADDED
  let exponent = Math.ceil(Math.log(size) / Math.log(BUCKET_BASE))
  let padded = Math.floor(BUCKET_BASE ** exponent)
  // Floating-point rounding could in principle land one bucket low; never pad below the size itself.
  while (padded < size) padded = Math.floor(BUCKET_BASE ** ++exponent)
  return Math.max(MIN_PADDED, padded)
}

/** The largest padded size a blob can have. */
export const MAX_PADDED = bucket(MAX_BLOB_PLAIN)
/** The most chunks a blob can have (17,036). */
export const MAX_CHUNKS = Math.ceil(MAX_PADDED / CHUNK_BYTES)

/**
 * The plaintext stream length for a file of `size` bytes: max(541, floor(1.05^ceil(log_1.05(size)))).
 * Throws INVALID_INPUT for a size that is not a non-negative integer and TOO_LARGE above MAX_BLOB_PLAIN.
 */
export function paddedSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new HearthError('INVALID_INPUT', `blob size must be a non-negative integer, got ${String(size)}`)
  if (size > MAX_BLOB_PLAIN) throw new HearthError('TOO_LARGE', `a blob holds at most ${MAX_BLOB_PLAIN} bytes, got ${size}`)
  return bucket(size)
}

function checkPadded(padded: number): void {
  if (!Number.isSafeInteger(padded) || padded < 1 || padded > MAX_PADDED) {
    throw new HearthError('INVALID_INPUT', `padded blob size must be an integer in 1..${MAX_PADDED}, got ${String(padded)}`)
  }
}

function checkIndex(i: number, count = MAX_CHUNKS): void {
  if (!Number.isSafeInteger(i) || i < 0 || i >= count) {
    throw new HearthError('INVALID_INPUT', `chunk index must be an integer in 0..${count - 1}, got ${String(i)}`)
  }
}

/** How many chunks a blob of this padded size has (at least 1). */
export function chunkCount(padded: number): number {
  checkPadded(padded)
  return Math.ceil(padded / CHUNK_BYTES)
}

/** Plaintext bytes of chunk i of a blob of this padded size. */
export function plainChunkLength(padded: number, i: number): number {
  const count = chunkCount(padded)
  checkIndex(i, count)
  return i === count - 1 ? padded - (count - 1) * CHUNK_BYTES : CHUNK_BYTES
}

/** Ciphertext bytes of chunk i of a blob of this padded size. */
export function cipherChunkLength(padded: number, i: number): number {
  return plainChunkLength(padded, i) + TAG_BYTES
}

function chunkNonce(i: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(24)
  nonce.set(NONCE_PREFIX, 0)
  const view = new DataView(nonce.buffer)
  view.setBigUint64(8, BigInt(i))
  view.setBigUint64(16, last ? 1n : 0n)
  return nonce
}

/**
 * Seals chunk i. A chunk that is not the last must be exactly CHUNK_BYTES; the last holds 1..CHUNK_BYTES bytes.
 * Returns ciphertext ‖ tag (plain + 16 bytes).
 */
export function sealChunk(key: Uint8Array, i: number, last: boolean, plain: Uint8Array): Uint8Array {
  checkIndex(i)
  if (last ? plain.length < 1 || plain.length > CHUNK_BYTES : plain.length !== CHUNK_BYTES) {
    throw new HearthError('INVALID_INPUT', `chunk ${i} has ${plain.length} bytes (${last ? 'last: 1..' : 'not last: exactly '}${CHUNK_BYTES})`)
  }
  return sealWithNonce(key, chunkNonce(i, last), plain, new Uint8Array(0))
}

/** Opens chunk i; any failure (wrong key, index, last flag, length, a flipped bit) is the same DECRYPT_FAILED. */
export function openChunk(key: Uint8Array, i: number, last: boolean, cipher: Uint8Array): Uint8Array {
  const plainLength = cipher.length - TAG_BYTES
  if (
    !Number.isSafeInteger(i) || i < 0 || i >= MAX_CHUNKS ||
    (last ? plainLength < 1 || plainLength > CHUNK_BYTES : plainLength !== CHUNK_BYTES)
  ) {
    throw new HearthError('DECRYPT_FAILED', 'decryption failed')
  }
  return openWithNonce(key, chunkNonce(i, last), cipher, new Uint8Array(0))
}

/** SHA-256 of a ciphertext chunk (node:crypto: OpenSSL's SHA-256 is several times faster than a JavaScript one). */
export function hashChunk(cipher: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(cipher).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** The blob id (32 bytes) of a hash list. */
export function blobIdOf(hashList: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(ID_LABEL).update(hashList).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** A 32-byte id as its 64-hex form; throws INVALID_INPUT on anything else. */
export function blobIdHex(id: Uint8Array | string): string {
  if (typeof id === 'string') {
    if (!BLOB_ID_PATTERN.test(id)) throw new HearthError('INVALID_INPUT', 'a blob id is 64 lowercase hex digits')
    return id
  }
  if (!(id instanceof Uint8Array) || id.length !== HASH_BYTES) throw new HearthError('INVALID_INPUT', 'a blob id is 32 bytes')
  return toHex(id)
}

/** A blob id as 32 bytes; throws INVALID_INPUT on anything else. */
export function blobIdBytes(id: Uint8Array | string): Uint8Array {
  return fromHex(blobIdHex(id))
}

/**
 * Whether a hash list belongs to the blob `id` of this padded size: exactly chunkCount(padded) hashes, and its id
 * matches. Never throws: a malformed id, size or list is simply not a match.
 */
export function verifyHashList(id: Uint8Array | string, hashList: Uint8Array, padded: number): boolean {
  let idBytes: Uint8Array
  let count: number
  try {
    idBytes = blobIdBytes(id)
    count = chunkCount(padded)
  } catch {
    return false
  }
  if (!(hashList instanceof Uint8Array) || hashList.length !== count * HASH_BYTES) return false
  return equalBytes(blobIdOf(hashList), idBytes)
}

/** The hash of chunk i in a hash list (a view, not a copy). */
export function chunkHashAt(hashList: Uint8Array, i: number): Uint8Array {
  checkIndex(i, Math.floor(hashList.length / HASH_BYTES))
  return hashList.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES)
}

export interface SealedChunk {
  index: number
  cipher: Uint8Array
  hash: Uint8Array
}

export interface SealedBlob {
  /** The file key: goes only into the (end-to-end encrypted) message, never into a record or onto a wire alone. */
  key: Uint8Array
  /** The file's size in bytes. */
  size: number
  /** The plaintext stream length, paddedSize(size). */
  padded: number
  hashList: Uint8Array
  /** The blob id, 32 bytes. */
  id: Uint8Array
}

/**
 * Streaming encryption of one file under a fresh key. `push` and `finish` are generators that yield each chunk as
 * it is completed; the encryptor holds one chunk of plaintext, so a 1 GiB file passes through in constant memory.
 *
 * A full chunk is sealed only when the next byte arrives: until then it may still be the last one (that depends on
 * the total size, known only at `finish`). Every chunk a generator yields must be consumed before the next call:
 * `push` or `finish` while a previous generator is unfinished throws rather than silently dropping bytes.
 */
export class BlobEncryptor {
  #key: Uint8Array | undefined = randomBytes(BLOB_KEY_BYTES)
  readonly #buffer = new Uint8Array(CHUNK_BYTES)
  #fill = 0
  #index = 0
  #size = 0
  readonly #hashes: Uint8Array[] = []
  #busy = false

  /** File bytes pushed so far. */
  get size(): number {
    return this.#size
  }

  /** Yields the chunks the bytes complete. Iterate the result to its end before the next call. */
  push(bytes: Uint8Array): Generator<SealedChunk, void, undefined> {
    if (!(bytes instanceof Uint8Array)) throw new HearthError('INVALID_INPUT', 'blob bytes must be a Uint8Array')
    this.#enter()
    if (this.#size + bytes.length > MAX_BLOB_PLAIN) {
      this.#busy = false
      throw new HearthError('TOO_LARGE', `a blob holds at most ${MAX_BLOB_PLAIN} bytes`)
    }
    this.#size += bytes.length
    return this.#guard(this.#feed(bytes, bytes.length))
  }

  /** Pads, yields the remaining chunks (the last one included) and returns the key, sizes, hash list and id. */
  finish(): Generator<SealedChunk, SealedBlob, undefined> {
    this.#enter()
    return this.#guard(this.#finish())
  }

  *#finish(): Generator<SealedChunk, SealedBlob, undefined> {
    const padded = paddedSize(this.#size)
    yield* this.#feed(undefined, padded - this.#size)
    const key = this.#key!
    yield this.#seal(true)
    this.#key = undefined
    const hashList = concatByteList(this.#hashes)
    return { key, size: this.#size, padded, hashList, id: blobIdOf(hashList) }
  }

  #enter(): void {
    if (this.#key === undefined) throw new HearthError('INTERNAL', 'this blob is finished or was abandoned mid-chunk')
    if (this.#busy) throw new HearthError('INTERNAL', 'the chunks of the previous push or finish were not all consumed')
    this.#busy = true
  }

  /**
   * Runs a step to its end. The step's state changes happen as it is iterated, so a caller that stops early (a
   * `break`, a throw) has lost bytes: the encryptor is then unusable instead of producing a blob missing them.
   */
  *#guard<R>(step: Generator<SealedChunk, R, undefined>): Generator<SealedChunk, R, undefined> {
    let completed = false
    try {
      const result = yield* step
      completed = true
      return result
    } finally {
      this.#busy = false
      if (!completed) this.#key = undefined
    }
  }

  /** Appends `length` bytes (from `bytes`, or zeros when undefined), sealing each full chunk once more follows. */
  *#feed(bytes: Uint8Array | undefined, length: number): Generator<SealedChunk, void, undefined> {
    let offset = 0
    while (offset < length) {
      if (this.#fill === CHUNK_BYTES) yield this.#seal(false)
      const n = Math.min(CHUNK_BYTES - this.#fill, length - offset)
      if (bytes === undefined) this.#buffer.fill(0, this.#fill, this.#fill + n)
      else this.#buffer.set(bytes.subarray(offset, offset + n), this.#fill)
      this.#fill += n
      offset += n
    }
  }

  #seal(last: boolean): SealedChunk {
    const index = this.#index
    const cipher = sealChunk(this.#key!, index, last, this.#buffer.subarray(0, this.#fill))
    const hash = hashChunk(cipher)
    this.#hashes.push(hash)
    this.#index++
    this.#fill = 0
    return { index, cipher, hash }
  }
}
