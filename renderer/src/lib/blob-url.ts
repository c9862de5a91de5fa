/**
 * Showing and saving a received file: its decrypted bytes come from the core a piece at a time (files.read), are put
 * together in a Blob, and shown through an object URL. Object URLs hold their bytes until revoked, so they are cached
 * with a byte budget: an image in view keeps its URL (acquired), the least recently released ones are revoked first
 * once the budget is passed, and everything is revoked when the chat closes.
 */
import { HearthError } from '../../../node/common/errors.js'
import { MAX_FILE_PIECE_BYTES } from '../../../node/src/api/contract.js'
import type { Api } from '../api/client.js'
import { base64ToBytes } from './base64.js'

export interface FileRef {
  conversationId: string
  messageId: string
  index: number
}

/**
 * The types a Blob shown in an <img> may carry. Anything else gets application/octet-stream: a blob: URL of type
 * text/html or image/svg+xml would be a document of our origin if it were ever opened.
 */
const SHOWN_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp', 'image/avif'])

export function safeBlobType(mime: string): string {
  return SHOWN_TYPES.has(mime) ? mime : 'application/octet-stream'
}

export interface ReadOptions {
  signal?: AbortSignal
  onProgress?(read: number, total: number): void
}

/** The whole file as a Blob, read in pieces; refuses answers that do not add up to the size the message gave. */
export async function readFile(api: Api, ref: FileRef, size: number, mime: string, options: ReadOptions = {}): Promise<Blob> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  let offset = 0
  while (offset < size) {
    options.signal?.throwIfAborted()
    const length = Math.min(MAX_FILE_PIECE_BYTES, size - offset)
    const piece = await api.call('files.read', { ...ref, offset, length })
    const bytes = base64ToBytes(piece.data)
    if (piece.size !== size || bytes.length === 0 || bytes.length > length) {
      throw new HearthError('CORRUPT_DATA', `the file read back is not the size its message gives (${piece.size} ≠ ${size})`)
    }
    parts.push(bytes)
    offset += bytes.length
    options.onProgress?.(offset, size)
  }
  return new Blob(parts, { type: safeBlobType(mime) })
}

export function fileKey(ref: FileRef): string {
  return `${ref.conversationId}/${ref.messageId}/${ref.index}`
}

interface Entry {
  url: Promise<string>
  /** The URL once made (for revoking). */
  made?: string
  bytes: number
  users: number
  /** When it was last released (for least-recently-used eviction). */
  releasedAt: number
}

export interface BlobUrlCacheOptions {
  /** Bytes of object URLs kept while nobody uses them. */
  budgetBytes?: number
  createUrl?(blob: Blob): string
  revokeUrl?(url: string): void
}

export interface AcquiredUrl {
  url: Promise<string>
  release(): void
}

export class BlobUrlCache {
  private readonly entries = new Map<string, Entry>()
  private readonly budget: number
  private readonly createUrl: (blob: Blob) => string
  private readonly revokeUrl: (url: string) => void
  private tick = 0

  constructor(
    private readonly api: Api,
    options: BlobUrlCacheOptions = {},
  ) {
    this.budget = options.budgetBytes ?? 96 * 1024 * 1024
    this.createUrl = options.createUrl ?? ((blob) => URL.createObjectURL(blob))
    this.revokeUrl = options.revokeUrl ?? ((url) => URL.revokeObjectURL(url))
  }

  /** The URL of a complete file; call `release` when it is no longer on screen. A failed read is not cached. */
  acquire(ref: FileRef, size: number, mime: string): AcquiredUrl {
    const key = fileKey(ref)
    let entry = this.entries.get(key)
    if (entry === undefined) {
      const fresh: Entry = { bytes: size, users: 0, releasedAt: 0, url: Promise.resolve('') }
      fresh.url = readFile(this.api, ref, size, mime).then(
        (blob) => {
          // Cleared (chat closed, media cleared) while reading: nobody will revoke it later, so not made at all.
          if (this.entries.get(key) !== fresh) throw new HearthError('NOT_FOUND', 'no longer shown')
          fresh.made = this.createUrl(blob)
          return fresh.made
        },
        (err: unknown) => {
          if (this.entries.get(key) === fresh) this.entries.delete(key)
          throw err
        },
      )
      entry = fresh
      this.entries.set(key, entry)
    }
    const held = entry
    held.users++
    let released = false
    return {
      url: held.url,
      release: () => {
        if (released) return
        released = true
        held.users--
        held.releasedAt = ++this.tick
        this.evict()
      },
    }
  }

  /** Forgets one file (it was removed from this device): its URL is revoked once nobody shows it. */
  forget(ref: FileRef): void {
    const key = fileKey(ref)
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.revoke(entry)
  }

  /** Revokes every URL (the chat is closing). */
  clear(): void {
    for (const entry of this.entries.values()) this.revoke(entry)
    this.entries.clear()
  }

  /** Bytes held by URLs made or being made. */
  get bytes(): number {
    let total = 0
    for (const e of this.entries.values()) total += e.bytes
    return total
  }

  private evict(): void {
    let total = this.bytes
    if (total <= this.budget) return
    const idle = [...this.entries].filter(([, e]) => e.users === 0 && e.made !== undefined).sort((a, b) => a[1].releasedAt - b[1].releasedAt)
    for (const [key, entry] of idle) {
      if (total <= this.budget) break
      this.entries.delete(key)
      this.revoke(entry)
      total -= entry.bytes
    }
  }

  private revoke(entry: Entry): void {
    if (entry.made !== undefined) this.revokeUrl(entry.made)
    else entry.url.then((url) => this.revokeUrl(url), () => {})
  }
}
