import PQueue from 'p-queue'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { drop } from '../../../common/errors.js'
import type { RelayBlobClient } from '../../../common/net/relay-blob-client.js'
import type { ConversationId, EpochId } from '../../ids.js'
import type { Kernel } from '../kernel.js'
import type { BlobSource } from './blob-sources.js'
import type { BlobStore } from './blob-store.js'

/** Delays between attempts to hand a blob to a relay (a relay that is down now is often up in a minute). */
const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000]

/**
 * Files and relays: a sent message's blobs go to the conversation's relays (under the mailbox capability of the epoch
 * it was sent in, content-blind: docs/adr/0030) so members who are away now can fetch them later, and each relay is one
 * more source for a download. Without a relay client (LAN only) there is nothing to do.
 */
export class RelayFiles {
  private readonly uploads = new PQueue({ concurrency: 1 })
  private readonly keys = new Map<string, MailboxKeys>()
  private stopped = false
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly kernel: Kernel,
    private readonly store: BlobStore,
    private readonly client: RelayBlobClient | undefined,
    /** The conversation's relay addresses (relays/relay-service.ts `relaysFor`). */
    private readonly relaysOf: (conversation: ConversationId) => string[],
  ) {}

  /** Each relay of the conversation as a fetch source, holding blobs under any epoch of it we hold keys for. */
  sources(conversation: ConversationId, epoch: EpochId | undefined): BlobSource[] {
    const client = this.client
    if (client === undefined) return []
    const keys = this.keysOf(conversation, epoch)
    if (keys === undefined) return []
    return this.relaysOf(conversation).map((address) => client.source(address, () => keys))
  }

  /** Hands a blob we hold to every relay of the conversation, in the background, retrying a relay that fails. */
  upload(conversation: ConversationId, epoch: EpochId, blob: string, done?: () => void): void {
    if (this.client === undefined || this.relaysOf(conversation).length === 0) return
    let pending = this.relaysOf(conversation).length
    for (const address of this.relaysOf(conversation)) {
      this.attempt(conversation, epoch, blob, address, 0, () => {
        if (--pending === 0) done?.()
      })
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.uploads.clear()
    await this.uploads.onIdle()
  }

  private attempt(conversation: ConversationId, epoch: EpochId, blob: string, address: string, tries: number, done: () => void): void {
    const client = this.client
    if (client === undefined || this.stopped) return
    drop(
      this.uploads.add(async () => {
        const keys = this.keysOf(conversation, epoch)
        const record = await this.store.get(blob)
        const hashList = await this.store.hashList(blob)
        if (keys === undefined || record === undefined || hashList === undefined) return done()
        try {
          await client.uploadBlob(address, keys, { id: blob, padded: record.padded, hashList }, (i) => this.store.readChunk(blob, i))
          done()
        } catch (err) {
          const delay = RETRY_DELAYS_MS[tries]
          this.kernel.log.debug({ err, blob, relay: address, tries }, 'handing a file to a relay failed')
          if (delay === undefined || this.stopped) return done()
          const timer = setTimeout(() => {
            this.timers.delete(timer)
            this.attempt(conversation, epoch, blob, address, tries + 1, done)
          }, delay)
          timer.unref()
          this.timers.add(timer)
        }
      }),
      (err) => this.kernel.log.warn({ err }, 'relay file upload queue failed'),
    )
  }

  /** The mailbox capability of an epoch of the conversation (the current one when `epoch` is not given or not held). */
  private keysOf(conversation: ConversationId, epoch: EpochId | undefined): MailboxKeys | undefined {
    const rt = this.kernel.conversations.get(conversation)
    if (rt === undefined) return undefined
    const keys = (epoch === undefined ? undefined : rt.epochs.get(epoch)) ?? rt.epochs.get(rt.log.currentEpoch)
    if (keys === undefined) return undefined
    const cacheKey = `${conversation}/${keys.id}`
    let derived = this.keys.get(cacheKey)
    if (derived === undefined) this.keys.set(cacheKey, (derived = deriveMailboxKeys(keys.mailboxSecret)))
    return derived
  }
}
