/**
 * `startRelay`: the whole relay in one call, for the CLI and for tests. Start order: configuration, identity, database,
 * store, libp2p node, mailbox protocol, HTTP port, background jobs. Stop order is the reverse, and graceful: stop
 * taking requests, answer waiting fetches, let requests in flight finish (up to `shutdownGrace`), flush the write
 * queue, stop libp2p, close the database. Nothing acknowledged depends on a clean stop: deposits are acknowledged only
 * after a synced write, so `kill -9` loses nothing a client was told is stored.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { drop, isHearthError } from '../../node/common/errors.js'
import { relayRendezvousCid } from '../../node/common/net/mailbox-client.js'
import { PeerPenalties, type PeerPenaltiesOptions } from '../../node/common/net/peer-penalties.js'
import { handleProtocol } from '../../node/common/net/request-response.js'
import { openDatabase, type Database } from '../../node/common/storage/database.js'
import { MAILBOX_PROTOCOL, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, MAX_WAIT_MS } from '../../node/common/wire/mailbox.js'
import { MAX_BLOB_REQUEST_BYTES, MAX_BLOB_RESPONSE_FRAME_BYTES, RELAY_BLOB_PROTOCOL } from '../../node/common/wire/relay-blob.js'
import { BlobService } from './blobs/blob-service.js'
import { RelayBlobStore } from './blobs/relay-blob-store.js'
import { maskedConfig, validateConfig, type RelayConfig, type RelayConfigInput } from './config.js'
import { MailboxService } from './mailbox/mailbox-service.js'
import { asHearthNode, createRelayNode, type RelayServices } from './net/relay-node.js'
import { startHttpServer, type RunningHttpServer } from './ops/http-server.js'
import { loadOrCreateIdentity } from './ops/identity.js'
import { createLogger, type Logger } from './ops/logger.js'
import { createMetrics, type RelayMetrics } from './ops/metrics.js'
import { MailboxStore } from './store/mailbox-store.js'
import type { Libp2p } from '@libp2p/interface'

export interface RunningRelay {
  peerId: string
  /** Dialable addresses, each ending in /p2p/<peerId>. */
  multiaddrs: string[]
  /** Base URL of the HTTP port: `${httpUrl}/healthz`, `${httpUrl}/metrics`. */
  httpUrl: string
  /** Graceful stop; idempotent. */
  stop(): Promise<void>
}

export interface StartRelayOptions {
  /** Where logs go; default JSON on stdout at the configured level. */
  logger?: Logger
  /** Wall clock (tests). */
  now?: () => number
}

/** Framing-layer offences (node/common/net/request-response.ts) as refusal reasons in metrics. */
const FRAMING_OFFENCES: Record<string, string> = {
  'rr-too-large': 'too-large',
  'rr-timeout': 'timeout',
  'rr-malformed': 'malformed',
  'rr-rate-limited': 'rate-limited',
}

/** PeerPenalties that also counts what the framing layer refused, so those refusals show in /metrics too. */
class CountingPenalties extends PeerPenalties {
  readonly #onOffence: (reason: string) => void

  constructor(onOffence: (reason: string) => void, options: PeerPenaltiesOptions) {
    super(options)
    this.#onOffence = onOffence
  }

  override penalise(peer: string, reason: string, weight?: number): boolean {
    this.#onOffence(reason)
    return super.penalise(peer, reason, weight)
  }
}

export async function startRelay(input: RelayConfigInput, options: StartRelayOptions = {}): Promise<RunningRelay> {
  const config: RelayConfig = validateConfig(input)
  const logger = options.logger ?? createLogger(config.logLevel)
  const cleanup: Array<() => Promise<void>> = []
  const undo = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => {})
  }
  try {
    return await start(config, logger, options, cleanup)
  } catch (err) {
    await undo()
    throw err
  }
}

async function start(config: RelayConfig, logger: Logger, options: StartRelayOptions, cleanup: Array<() => Promise<void>>): Promise<RunningRelay> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const identity = await loadOrCreateIdentity(config.dataDir)
  if (identity.warning !== undefined) logger.warn(identity.warning)

  const db: Database = await openDatabase({ path: join(config.dataDir, 'db') })
  cleanup.push(() => db.close())

  let metrics: RelayMetrics | undefined
  let service: MailboxService | undefined
  let blobService: BlobService | undefined
  let state: 'starting' | 'serving' | 'stopping' = 'starting'

  const store = await MailboxStore.open(db, {
    limits: {
      maxEnvelopeBytes: config.maxEnvelopeBytes,
      mailboxMaxBytes: config.mailboxMaxBytes,
      mailboxMaxEnvelopes: config.mailboxMaxEnvelopes,
      mailboxMaxReaders: config.mailboxMaxReaders,
      peerMaxBytesPerDay: config.peerMaxBytesPerDay,
      peerMaxEnvelopesPerDay: config.peerMaxEnvelopesPerDay,
      retentionMs: config.retention,
      maxStoredBytes: config.maxStoredBytes,
    },
    ...(options.now === undefined ? {} : { now: options.now }),
    events: {
      onStored: (mailbox) => service?.stored(mailbox),
      onEvicted: (envelopes, bytes) => {
        metrics?.evictions.inc(envelopes)
        metrics?.evictedBytes.inc(bytes)
        logger.info({ envelopes, freedBytes: bytes }, 'evicted the oldest envelopes to stay within the disk budget')
      },
      onExpired: (envelopes) => metrics?.expired.inc(envelopes),
      onBatch: (stored, ms) => {
        if (stored === 0) return
        metrics?.batchDuration.observe(ms / 1000)
        metrics?.batchEnvelopes.observe(stored)
      },
    },
  })
  cleanup.push(() => store.close())

  const blobStore = config.blobs
    ? await RelayBlobStore.open(db, join(config.dataDir, 'blobs'), {
        limits: {
          maxBlobBytes: config.blobMaxBytes,
          mailboxMaxBytes: config.blobMailboxMaxBytes,
          peerMaxBytesPerDay: config.blobPeerMaxBytesPerDay,
          maxStoredBytes: config.blobMaxStoredBytes,
          retentionMs: config.blobRetention,
          incompleteTtlMs: config.blobIncompleteTtl,
        },
        ...(options.now === undefined ? {} : { now: options.now }),
        events: {
          onEvicted: (blobs, bytes) => {
            metrics?.blobEvictions.inc(blobs)
            metrics?.blobEvictedBytes.inc(bytes)
            logger.info({ blobs, freedBytes: bytes }, 'evicted the oldest blobs to stay within the blob budget')
          },
          onExpired: (why, blobs) => metrics?.blobExpired.inc({ why }, blobs),
          onDamaged: (chunks) => {
            metrics?.blobDamaged.inc(chunks)
            logger.error({ chunks }, 'stored blob chunks failed their hash when read back, or their file is gone: check the disk')
          },
        },
      })
    : undefined
  if (blobStore !== undefined) cleanup.push(() => blobStore.close())

  const penalties = new CountingPenalties(
    (reason) => {
      const mapped = FRAMING_OFFENCES[reason]
      if (mapped !== undefined) metrics?.refusals.inc({ reason: mapped })
    },
    {},
  )
  penalties.onBan((peer) => {
    metrics?.bans.inc()
    logger.warn({ peer }, 'peer banned for abuse')
  })

  const libp2p = await createRelayNode(config, identity.privateKey, {
    penalties,
    onConnectionRefused: () => metrics?.refusals.inc({ reason: 'connection-limit' }),
  })
  cleanup.push(async () => {
    await libp2p.stop()
  })
  const peerId = libp2p.peerId.toString()

  metrics = createMetrics({
    connections: () => libp2p.getConnections().length,
    storedBytes: () => store.totals.bytes,
    storedEnvelopes: () => store.totals.envelopes,
    waitingFetches: () => service?.waitingFetches ?? 0,
    reservations: () => libp2p.services.relay.reservations.size,
    replayGuardLoad: () => service?.replayGuardLoad ?? 0,
    ...(blobStore === undefined
      ? {}
      : {
          blobs: {
            storedBytes: () => blobStore.totals.bytes,
            count: () => blobStore.totals.blobs,
            incomplete: () => blobStore.totals.incomplete,
            replayGuardLoad: () => blobService?.replayGuardLoad ?? 0,
            limits: { blob: config.blobMaxBytes, mailbox: config.blobMailboxMaxBytes, peerDay: config.blobPeerMaxBytesPerDay, total: config.blobMaxStoredBytes },
            retentionSeconds: config.blobRetention / 1000,
            incompleteTtlSeconds: config.blobIncompleteTtl / 1000,
          },
        }),
  })
  const relayMetrics = metrics
  libp2p.addEventListener('connection:open', () => relayMetrics.connectionsOpened.inc())

  service = new MailboxService({
    relayPeerId: peerId,
    store,
    metrics,
    penalties,
    logger,
    requestsPerSecond: config.requestsPerSecond,
    requestBurst: config.requestBurst,
    maxWaitingFetches: config.maxWaitingFetches,
    maxWaitingFetchesPerPeer: config.maxWaitingFetchesPerPeer,
    clockSkewMs: config.clockSkew,
    replayGuard: { maxEntries: config.replayMaxNonces, maxPerMailbox: config.replayMaxNoncesPerMailbox },
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const mailboxService = service
  const unhandle = await handleProtocol(
    asHearthNode(libp2p, penalties),
    MAILBOX_PROTOCOL,
    {
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      // A fetch may wait MAX_WAIT_MS for deposits; reading the request itself gets only `requestTimeout`, which is
      // what cuts off a slow-loris sender.
      timeoutMs: MAX_WAIT_MS + config.requestTimeout + 5_000,
      readTimeoutMs: config.requestTimeout,
      maxInboundStreams: config.maxStreamsPerConnection,
    },
    mailboxService.handle,
    { onError: (err, context) => logger.error({ context, err: err instanceof Error ? err.message : String(err) }, 'mailbox stream failed') },
  )

  blobService = new BlobService({
    relayPeerId: peerId,
    store: blobStore,
    metrics,
    penalties,
    logger,
    requestsPerSecond: config.requestsPerSecond,
    requestBurst: config.requestBurst,
    clockSkewMs: config.clockSkew,
    // Its own replay memory, a quarter of the mailboxes' (blob requests come in far fewer mailboxes at once).
    replayGuard: {
      maxEntries: Math.max(100, Math.floor(config.replayMaxNonces / 4)),
      maxPerMailbox: config.replayMaxNoncesPerMailbox,
    },
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const relayBlobService = blobService
  const unhandleBlobs = await handleProtocol(
    asHearthNode(libp2p, penalties),
    RELAY_BLOB_PROTOCOL,
    {
      maxRequestBytes: MAX_BLOB_REQUEST_BYTES,
      maxResponseBytes: MAX_BLOB_RESPONSE_FRAME_BYTES,
      // 16 chunks each way: generous for a slow uplink, and reading the request gets only `requestTimeout`.
      timeoutMs: 60_000 + config.requestTimeout,
      readTimeoutMs: config.requestTimeout,
      // A request may hold 1 MiB of chunks: few at once per connection (a fetcher keeps 3 windows in flight per file and
      // two files at a time, an uploader 2 per file).
      maxInboundStreams: Math.min(16, config.maxStreamsPerConnection),
    },
    relayBlobService.handle,
    { onError: (err, context) => logger.error({ context, err: err instanceof Error ? err.message : String(err) }, 'relay blob stream failed') },
  )

  const http: RunningHttpServer = await startHttpServer({
    host: config.httpHost,
    port: config.httpPort,
    registry: metrics.registry,
    healthy: () => state === 'serving',
    metricsToken: config.metricsToken,
    onError: (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'http server error'),
  })
  cleanup.push(() => http.close())

  const background = new AbortController()
  const sweeper = setInterval(() => sweep(), config.sweepInterval)
  sweeper.unref()
  const sweep = (): void => {
    if (blobStore !== undefined) {
      drop(
        blobStore.sweep().then((r) => {
          if (r.expired + r.incomplete > 0) logger.info({ expired: r.expired, incomplete: r.incomplete, freedBytes: r.expiredBytes + r.incompleteBytes }, 'deleted blobs past retention or never completed')
        }),
        (err) => {
          if (!isHearthError(err, 'NOT_RUNNING')) logger.error({ err: err instanceof Error ? err.message : String(err) }, 'blob sweep failed')
        },
      )
    }
    drop(
      store.sweep().then(({ expired, expiredBytes }) => {
        if (expired > 0) logger.info({ envelopes: expired, freedBytes: expiredBytes }, 'deleted envelopes past retention')
      }),
      (err) => {
        if (!isHearthError(err, 'NOT_RUNNING')) logger.error({ err: err instanceof Error ? err.message : String(err) }, 'retention sweep failed')
      },
    )
  }
  sweep()
  if (config.dht && config.announceRendezvous) announceRendezvous(libp2p, logger, background.signal)

  state = 'serving'
  const multiaddrs = libp2p.getMultiaddrs().map(String)
  logger.info({ peerId, multiaddrs, http: http.url, config: maskedConfig(config) }, 'relay started')

  let stopping: Promise<void> | undefined
  const stop = async (): Promise<void> => {
    state = 'stopping'
    logger.info('relay stopping')
    background.abort()
    clearInterval(sweeper)
    await unhandle().catch(() => {})
    await unhandleBlobs().catch(() => {})
    mailboxService.stopAccepting()
    relayBlobService.stopAccepting()
    const [drained, blobsDrained] = await Promise.all([mailboxService.drained(config.shutdownGrace), relayBlobService.drained(config.shutdownGrace)])
    if (!drained || !blobsDrained) logger.warn({ inFlight: mailboxService.inFlight + relayBlobService.inFlight }, 'requests still in flight after the shutdown grace')
    await store.close()
    await blobStore?.close()
    await libp2p.stop()
    await db.close()
    await http.close()
    logger.info('relay stopped')
  }
  return {
    peerId,
    multiaddrs,
    httpUrl: http.url,
    stop: () => (stopping ??= stop()),
  }
}

/**
 * Provides the relay rendezvous key on the DHT so clients can find relays (`findRelays` in mailbox-client.ts). The
 * record is stored locally at once (a client asking this relay finds it even before it reaches other DHT servers),
 * then pushed to the closest peers; retried every few minutes until that works, then refreshed twice a day.
 */
function announceRendezvous(node: Libp2p<RelayServices>, logger: Logger, signal: AbortSignal): void {
  const cid = relayRendezvousCid()
  let timer: NodeJS.Timeout | undefined
  const schedule = (ms: number): void => {
    if (signal.aborted) return
    timer = setTimeout(attempt, ms)
    timer.unref()
  }
  const attempt = (): void => {
    drop(
      node.contentRouting.provide(cid, { signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]) }).then(
        () => {
          logger.info({ key: cid.toString() }, 'relay announced on the DHT')
          schedule(12 * 60 * 60_000)
        },
        (err: unknown) => {
          logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'DHT announcement not done yet; will retry')
          schedule(5 * 60_000)
        },
      ),
    )
  }
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true })
  schedule(1_000)
}
