import { HearthError } from '../../../common/errors.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { concatBytes, toHex } from '../../../common/util/bytes.js'
import type { ConversationId } from '../../ids.js'
import type { BlobStore } from './blob-store.js'
import { cleanFileName, formatBytes, SNIFF_BYTES, type FileSettings } from './file-policy.js'

/** A file the person is sending, between files.begin and messages.send. */
export interface Upload {
  id: string
  conversation: ConversationId
  name: string
  size: number
  received: number
  /** The first bytes, for sniffing the type once the file is complete. */
  head: Uint8Array
  /** The blob store's own upload (the encrypted file being written). */
  storeUpload: string
  touchedAt: number
}

/** How long an upload may sit untouched before it is dropped (the composer was closed, the app crashed). */
export const UPLOAD_IDLE_MS = 10 * 60_000
/** Uploads in progress at once: enough for a message of ten photos and a second one being prepared. */
const MAX_OPEN_UPLOADS = 32

/**
 * Files being sent, received from the UI a piece at a time and encrypted into the blob store as they arrive, so a
 * 100 MiB file never sits in memory. Sizes are checked against the person's limit before the first byte is taken.
 */
export class Uploads {
  private readonly open = new Map<string, Upload>()

  constructor(
    private readonly store: BlobStore,
    private readonly settings: () => FileSettings,
    private readonly now: () => number,
  ) {}

  async begin(conversation: ConversationId, rawName: string, size: number): Promise<string> {
    const name = cleanFileName(rawName)
    const limit = this.settings().maxFileBytes
    if (size > limit) {
      throw new HearthError('TOO_LARGE', `“${name}” is ${formatBytes(size)}; Hearth sends files up to ${formatBytes(limit)} (Settings › Photos and files)`)
    }
    await this.dropIdle()
    if (this.open.size >= MAX_OPEN_UPLOADS) throw new HearthError('RATE_LIMITED', 'too many files being prepared at once; send or remove some first')
    const storeUpload = await this.store.beginUpload(conversation, size)
    const id = toHex(randomBytes(16))
    this.open.set(id, { id, conversation, name, size, received: 0, head: new Uint8Array(0), storeUpload, touchedAt: this.now() })
    return id
  }

  async append(id: string, data: Uint8Array): Promise<number> {
    const upload = this.get(id)
    if (upload.received + data.length > upload.size) {
      await this.abort(id)
      throw new HearthError('INVALID_INPUT', `“${upload.name}” is longer than the ${formatBytes(upload.size)} announced; it was not sent`)
    }
    if (upload.head.length < SNIFF_BYTES) upload.head = concatBytes(upload.head, data.subarray(0, SNIFF_BYTES - upload.head.length))
    await this.store.appendUpload(upload.storeUpload, data)
    upload.received += data.length
    upload.touchedAt = this.now()
    return upload.received
  }

  /** The upload, complete: its bytes all here. It stays open until `finish` or `abort`. */
  complete(id: string, conversation: ConversationId): Upload {
    const upload = this.get(id)
    if (upload.conversation !== conversation) throw new HearthError('INVALID_INPUT', 'that file was prepared for another conversation')
    if (upload.received !== upload.size) {
      throw new HearthError('INVALID_INPUT', `“${upload.name}” is not fully uploaded yet (${formatBytes(upload.received)} of ${formatBytes(upload.size)})`)
    }
    return upload
  }

  async finish(id: string): Promise<ReturnType<BlobStore['finishUpload']> extends Promise<infer R> ? R : never> {
    const upload = this.get(id)
    const ref = await this.store.finishUpload(upload.storeUpload)
    this.open.delete(id)
    return ref
  }

  async abort(id: string): Promise<void> {
    const upload = this.open.get(id)
    if (upload === undefined) return
    this.open.delete(id)
    await this.store.abortUpload(upload.storeUpload)
  }

  async abortAll(): Promise<void> {
    for (const id of [...this.open.keys()]) await this.abort(id)
  }

  private get(id: string): Upload {
    const upload = this.open.get(id)
    if (upload === undefined) throw new HearthError('NOT_FOUND', 'no such upload (it was sent, removed, or left unfinished for 10 minutes)')
    return upload
  }

  private async dropIdle(): Promise<void> {
    const cutoff = this.now() - UPLOAD_IDLE_MS
    for (const upload of [...this.open.values()]) if (upload.touchedAt < cutoff) await this.abort(upload.id)
  }
}
