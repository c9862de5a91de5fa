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
    batchEnvelopes: new Histogram({
      name: 'hearth_relay_write_batch_envelopes',
      help: 'Envelopes stored per synced write batch.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers: [registry],
    }),
  }
}
