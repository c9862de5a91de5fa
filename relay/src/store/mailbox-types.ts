import type { PageItem } from '../../../node/common/wire/mailbox.js'

/** The shapes of the relay's mailbox store (mailbox-store.ts): its limits, its events, what it answers. */

export interface StoreLimits {
  /** Largest envelope accepted (≤ the protocol's 64 KiB). */
  maxEnvelopeBytes: number
  mailboxMaxBytes: number
  mailboxMaxEnvelopes: number
  mailboxMaxReaders: number
  peerMaxBytesPerDay: number
  peerMaxEnvelopesPerDay: number
  retentionMs: number
  /** The disk budget: envelope bytes plus ITEM_OVERHEAD_BYTES each. */
  maxStoredBytes: number
}

export interface StoreEvents {
  /** After a batch holding new envelopes for this mailbox (base64url id) is durable: wakes waiting fetches. */
  onStored?(mailbox: string): void
  onEvicted?(envelopes: number, bytes: number): void
  onExpired?(envelopes: number, bytes: number): void
  /** One synced batch: how many envelopes it stored and how long the write took. */
  onBatch?(stored: number, ms: number): void
}

export interface MailboxStoreOptions {
  limits: StoreLimits
  events?: StoreEvents
  /** Wall clock (arrival times, retention, quota days). Default `Date.now`. */
  now?: () => number
  /** Envelopes per synced batch at most; more queued deposits wait for the next batch. Default 2,000. */
  maxBatchEnvelopes?: number
  /** Mailbox usage records kept in memory. Default 20,000. */
  statsCacheSize?: number
}

export interface Page {
  items: PageItem[]
  next: string
  more: boolean
}

export type AckOutcome = 'ok' | 'mailbox-quota'

export interface SweepResult {
  expired: number
  expiredBytes: number
}
