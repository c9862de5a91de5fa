/**
 * The relay's Prometheus metrics (docs/RELAY.md, "Monitor"). One registry per relay, so several relays in one test
 * process do not share counters. Labels are small fixed sets (operation, refusal reason, result): never a PeerId, a
 * mailbox id or anything a peer chooses.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type RelayMetrics = ReturnType<typeof createMetrics>

export interface MetricSources {
  connections(): number
  storedBytes(): number
  storedEnvelopes(): number
  waitingFetches(): number
  reservations(): number
  replayGuardLoad(): number
  /** Blob storage (blobs/relay-blob-store.ts); absent when the relay does not store blobs. */
  blobs?: BlobMetricSources
}

export interface BlobMetricSources {
  storedBytes(): number
  count(): number
  incomplete(): number
  replayGuardLoad(): number
  /** The configured limits, shown so dashboards can draw them beside the usage. */
  limits: { blob: number; mailbox: number; peerDay: number; total: number }
  retentionSeconds: number
  incompleteTtlSeconds: number
}

export function createMetrics(sources: MetricSources) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'hearth_relay_' })
  const gauge = (name: string, help: string, read: () => number): Gauge =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read())
      },
    })
  gauge('hearth_relay_connections', 'Open libp2p connections.', sources.connections)
  gauge('hearth_relay_stored_bytes', 'Bytes held in mailboxes (envelope bytes plus a fixed per-envelope overhead).', sources.storedBytes)
  gauge('hearth_relay_stored_envelopes', 'Envelopes held in mailboxes.', sources.storedEnvelopes)
  gauge('hearth_relay_waiting_fetches', 'Fetches held open waiting for new deposits (long-polls).', sources.waitingFetches)
  gauge('hearth_relay_circuit_reservations', 'Circuit relay v2 reservations held.', sources.reservations)
  gauge('hearth_relay_replay_guard_load', 'Request nonces remembered to refuse replays, each mailbox counting as 5 (at most replayMaxNonces).', sources.replayGuardLoad)
  const blobs = sources.blobs
  if (blobs !== undefined) {
    gauge('hearth_relay_blob_stored_bytes', 'Bytes held for blobs (ciphertext, hash lists and a fixed per-blob overhead), what blobMaxStoredBytes limits.', blobs.storedBytes)
    gauge('hearth_relay_blobs', 'Blobs held (complete or not).', blobs.count)
    gauge('hearth_relay_blobs_incomplete', 'Blobs whose upload has not completed.', blobs.incomplete)
    gauge('hearth_relay_blob_replay_guard_load', 'Blob request nonces remembered to refuse replays, each mailbox counting as 5 (at most replayMaxNonces / 4).', blobs.replayGuardLoad)
    const limit = new Gauge({
      name: 'hearth_relay_blob_limit_bytes',
      help: 'Configured blob limits: blob (per blob), mailbox (per mailbox), peer_day (per uploading peer per UTC day), total (budget).',
      labelNames: ['limit'] as const,
      registers: [registry],
    })
    limit.set({ limit: 'blob' }, blobs.limits.blob)
    limit.set({ limit: 'mailbox' }, blobs.limits.mailbox)
    limit.set({ limit: 'peer_day' }, blobs.limits.peerDay)
    limit.set({ limit: 'total' }, blobs.limits.total)
    new Gauge({ name: 'hearth_relay_blob_retention_seconds', help: 'Configured blob retention.', registers: [registry] }).set(blobs.retentionSeconds)
    new Gauge({ name: 'hearth_relay_blob_incomplete_ttl_seconds', help: 'Configured lifetime of an upload that does not complete.', registers: [registry] }).set(
      blobs.incompleteTtlSeconds,
    )
  }

  return {
    registry,
    requests: new Counter({
      name: 'hearth_relay_requests_total',
      help: 'Mailbox requests by operation and outcome (ok, refused, error).',
      labelNames: ['op', 'outcome'] as const,
      registers: [registry],
    }),
    deposits: new Counter({
      name: 'hearth_relay_deposits_total',
      help: 'Deposited envelopes by result (stored, duplicate, refused).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    fetchedEnvelopes: new Counter({
      name: 'hearth_relay_fetched_envelopes_total',
      help: 'Envelopes served to fetches.',
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'hearth_relay_refusals_total',
      help: 'Refusals by reason: whole requests, single envelopes, frames cut off by the framing layer, connections.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    evictions: new Counter({
      name: 'hearth_relay_evictions_total',
      help: 'Envelopes evicted (oldest first) to stay within the disk budget.',
      registers: [registry],
    }),
    evictedBytes: new Counter({
      name: 'hearth_relay_evicted_bytes_total',
      help: 'Bytes evicted to stay within the disk budget.',
      registers: [registry],
    }),
    expired: new Counter({
      name: 'hearth_relay_expired_total',
      help: 'Envelopes deleted after the retention time.',
      registers: [registry],
    }),
    bans: new Counter({
      name: 'hearth_relay_bans_total',
      help: 'Peers banned for abuse (each ban lasts 10 minutes).',
      registers: [registry],
    }),
    connectionsOpened: new Counter({
      name: 'hearth_relay_connections_opened_total',
      help: 'Connections accepted or dialed since start.',
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'hearth_relay_request_duration_seconds',
      help: 'Mailbox request handling time by operation (a fetch that waits includes its wait).',
      labelNames: ['op'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'hearth_relay_write_batch_duration_seconds',
      help: 'Time of one synced write batch (group commit) of deposits.',
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    }),
    blobRequests: new Counter({
      name: 'hearth_relay_blob_requests_total',
      help: 'Relay blob requests by operation (put-list, put-chunks, get-list, get-chunks, unknown) and outcome (ok, refused, error).',
      labelNames: ['op', 'outcome'] as const,
      registers: [registry],
    }),
    blobChunksReceived: new Counter({
      name: 'hearth_relay_blob_chunks_received_total',
      help: 'Uploaded blob chunks by result: stored, duplicate, corrupt (refused: not matching the hash list).',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    blobBytesReceived: new Counter({
      name: 'hearth_relay_blob_received_bytes_total',
      help: 'Blob chunk bytes stored from uploads.',
      registers: [registry],
    }),
    blobChunksServed: new Counter({
      name: 'hearth_relay_blob_chunks_served_total',
      help: 'Blob chunks served.',
      registers: [registry],
    }),
    blobBytesServed: new Counter({
      name: 'hearth_relay_blob_served_bytes_total',
      help: 'Blob chunk bytes served.',
      registers: [registry],
    }),
    blobEvictions: new Counter({
      name: 'hearth_relay_blob_evictions_total',
      help: 'Blobs evicted (oldest first) to stay within the blob budget.',
      registers: [registry],
    }),
    blobEvictedBytes: new Counter({
      name: 'hearth_relay_blob_evicted_bytes_total',
      help: 'Bytes of blobs evicted to stay within the blob budget.',
      registers: [registry],
    }),
    blobExpired: new Counter({
      name: 'hearth_relay_blob_expired_total',
      help: 'Blobs deleted by age: retention (kept their full time) or incomplete (upload never completed).',
      labelNames: ['why'] as const,
      registers: [registry],
    }),
    blobDamaged: new Counter({
      name: 'hearth_relay_blob_damaged_chunks_total',
      help: 'Stored blob chunks that failed their hash when read back, or whose file was gone (disk damage); unmarked, never served.',
      registers: [registry],
    }),
    batchEnvelopes: new Histogram({
      name: 'hearth_relay_write_batch_envelopes',
      help: 'Envelopes stored per synced write batch.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers: [registry],
    }),
  }
}
