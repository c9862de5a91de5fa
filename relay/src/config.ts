/**
 * Relay configuration: one table of options, read from (lowest to highest precedence) built-in defaults, an optional
 * JSON file, `HEARTH_RELAY_*` environment variables and command-line flags, then validated with zod at start so a
 * typo stops the relay with a readable message instead of running with a surprise.
 *
 * Every option has the same name in three spellings: `mailboxMaxBytes` in the file, `HEARTH_RELAY_MAILBOX_MAX_BYTES`
 * in the environment, `--mailbox-max-bytes` on the command line. Sizes accept `65536`, `64KiB`, `8GiB`, `500MB`;
 * durations accept `1500`, `500ms`, `10s`, `5m`, `2h`, `30d`; lists are comma separated. docs/RELAY.md lists them.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { HearthError } from '../../node/common/errors.js'
import { MAX_BLOB_PLAIN } from '../../node/common/blob/format.js'
import { MAX_MAILBOX_ENVELOPE_BYTES } from '../../node/common/wire/mailbox.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1000, kib: KiB, mb: 1000 ** 2, mib: MiB, gb: 1000 ** 3, gib: GiB, tb: 1000 ** 4, tib: 1024 * GiB }
const DURATION_UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY }

function unitNumber(units: Record<string, number>, what: string) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    if (typeof value === 'number') return value
    const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
    const factor = match === null ? undefined : match[2] === '' ? 1 : units[match[2]!.toLowerCase()]
    if (match === null || factor === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${JSON.stringify(value)}` })
      return z.NEVER
    }
    return Math.round(Number(match[1]) * factor)
  })
}

/** `value` in the largest unit that divides it exactly (65536 → "64KiB", 60000 → "1m"): bounds said as operators write them. */
function inUnits(value: number, units: Record<string, number>, labels: Record<string, string>): string {
  const fitting = Object.entries(units)
    .filter(([, factor]) => factor <= value && value % factor === 0)
    .sort((a, b) => b[1] - a[1])[0]
  return fitting === undefined ? String(value) : `${value / fitting[1]}${labels[fitting[0]] ?? fitting[0]}`
}
const SIZE_LABELS: Record<string, string> = { b: ' bytes', kib: 'KiB', mib: 'MiB', gib: 'GiB', tib: 'TiB' }
const BINARY_SIZES = Object.fromEntries(Object.entries(SIZE_UNITS).filter(([unit]) => unit === 'b' || unit.endsWith('ib')))
const sizeText = (bytes: number): string => inUnits(bytes, BINARY_SIZES, SIZE_LABELS)
const durationText = (ms: number): string => inUnits(ms, DURATION_UNITS, {})

/** A whole number between `min` and `max`, the bounds said in `text`'s units (zod's own says ">=60000"). */
const bounded = (min: number, max: number, text: (n: number) => string) =>
  z
    .number()
    .int()
    .min(min, { error: () => `must be at least ${text(min)}` })
    .max(max, { error: () => `must be at most ${text(max)}` })
const size = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  unitNumber(SIZE_UNITS, 'a size such as 65536, 64KiB or 8GiB').pipe(bounded(min, max, sizeText))
const duration = (min: number, max = 365 * DAY) =>
  unitNumber(DURATION_UNITS, 'a duration such as 500ms, 10s, 5m, 2h or 30d').pipe(bounded(min, max, durationText))
const count = (min: number, max = 1e9) =>
  z.union([z.number(), z.string().regex(/^\s*\d+\s*$/, 'expected a whole number').transform(Number)]).pipe(z.number().int().min(min).max(max))
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))])
const list = z
  .union([z.array(z.string()), z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))])
  .pipe(z.array(z.string().min(1)))
const multiaddrText = z.string().regex(/^\/[a-z0-9]+\//, 'expected a multiaddr such as /ip4/0.0.0.0/tcp/4001')

/** The option table. Order is the order of `--help` and of docs/RELAY.md. */
export const RelayConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./hearth-relay-data'),
    listen: list.pipe(z.array(multiaddrText).min(1)).default(['/ip4/0.0.0.0/tcp/4001', '/ip4/0.0.0.0/tcp/4002/ws']),
    announce: list.pipe(z.array(multiaddrText)).default([]),
    httpHost: z.string().min(1).default('127.0.0.1'),
    httpPort: count(0, 65535).default(9180),
    metricsToken: z.string().min(16, 'use at least 16 characters').optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    maxEnvelopeBytes: size(256, MAX_MAILBOX_ENVELOPE_BYTES).default(MAX_MAILBOX_ENVELOPE_BYTES),
    mailboxMaxBytes: size(KiB).default(128 * MiB),
    mailboxMaxEnvelopes: count(1).default(50_000),
    mailboxMaxReaders: count(1, 1e6).default(2048),
    peerMaxBytesPerDay: size(KiB).default(512 * MiB),
    peerMaxEnvelopesPerDay: count(1).default(200_000),
    retention: duration(MINUTE, 10 * 365 * DAY).default(30 * DAY),
    maxStoredBytes: size(MiB).default(8 * GiB),
    sweepInterval: duration(SECOND, DAY).default(10 * MINUTE),

    blobs: bool.default(true),
    // A 100 MiB file (the app's default limit) is stored as 102.4 MiB (padding, 16 bytes per 64 KiB chunk); some slack.
    blobMaxBytes: size(KiB, 2 * MAX_BLOB_PLAIN).default(110 * MiB),
    blobMailboxMaxBytes: size(MiB).default(GiB),
    blobPeerMaxBytesPerDay: size(MiB).default(4 * GiB),
    blobMaxStoredBytes: size(MiB).default(16 * GiB),
    blobRetention: duration(MINUTE, 10 * 365 * DAY).default(30 * DAY),
    blobIncompleteTtl: duration(MINUTE, 365 * DAY).default(3 * DAY),

    maxConnections: count(1, 1e6).default(1024),
    connectionRatePerHost: count(1, 1e6).default(25),
    maxStreamsPerConnection: count(1, 1e4).default(64),
    requestsPerSecond: count(1, 1e6).default(50),
    requestBurst: count(1, 1e6).default(200),
    maxWaitingFetches: count(0, 1e6).default(10_000),
    maxWaitingFetchesPerPeer: count(0, 1e4).default(32),
    requestTimeout: duration(100, 5 * MINUTE).default(10 * SECOND),
    clockSkew: duration(SECOND, HOUR).default(30 * SECOND),
    replayMaxNonces: count(100, 1e8).default(400_000),
    replayMaxNoncesPerMailbox: count(10, 1e6).default(4096),

    circuitMaxReservations: count(0, 1e5).default(256),
    circuitReservationTtl: duration(MINUTE, DAY).default(2 * HOUR),
    circuitDurationLimit: duration(SECOND, DAY).default(2 * MINUTE),
    circuitDataLimit: size(KiB, GiB).default(128 * KiB),

    dht: bool.default(true),
    dhtAddresses: z.enum(['public', 'all']).default('public'),
    announceRendezvous: bool.default(true),
    shutdownGrace: duration(0, 5 * MINUTE).default(10 * SECOND),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mailboxMaxBytes < c.maxEnvelopeBytes) {
      ctx.addIssue({ code: 'custom', path: ['mailboxMaxBytes'], message: 'must be at least maxEnvelopeBytes' })
    }
    if (c.maxStoredBytes < c.mailboxMaxBytes) {
      ctx.addIssue({ code: 'custom', path: ['maxStoredBytes'], message: 'must be at least mailboxMaxBytes' })
    }
    if (c.blobMailboxMaxBytes < c.blobMaxBytes) {
      ctx.addIssue({ code: 'custom', path: ['blobMailboxMaxBytes'], message: 'must be at least blobMaxBytes' })
    }
    if (c.blobMaxStoredBytes < c.blobMailboxMaxBytes) {
      ctx.addIssue({ code: 'custom', path: ['blobMaxStoredBytes'], message: 'must be at least blobMailboxMaxBytes' })
    }
    if (c.requestBurst < c.requestsPerSecond) {
      ctx.addIssue({ code: 'custom', path: ['requestBurst'], message: 'must be at least requestsPerSecond' })
    }
  })

export type RelayConfig = z.output<typeof RelayConfigSchema>
/** What a caller of `startRelay` may give: any subset, in the file's types (numbers or unit strings). */
export type RelayConfigInput = z.input<typeof RelayConfigSchema>

/** Option names, in table order. */
export const OPTION_KEYS = Object.keys(RelayConfigSchema.shape) as Array<keyof RelayConfig>
/** Options whose values never appear in logs. */
export const SECRET_OPTIONS: ReadonlySet<keyof RelayConfig> = new Set(['metricsToken'])

export function envName(key: string): string {
  return `HEARTH_RELAY_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`
}

export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

export interface ConfigSources {
  /** Path of a JSON file (from --config or HEARTH_RELAY_CONFIG). */
  file?: string
  env?: Record<string, string | undefined>
  /** Values from flags, keyed by option name (strings as typed). */
  flags?: Record<string, unknown>
}

/** Merges the sources and validates; throws INVALID_INPUT with every problem, each naming where its value came from. */
export function loadConfig(sources: ConfigSources): RelayConfig {
  const merged: Record<string, unknown> = {}
  const origin: Record<string, string> = {}
  const set = (key: string, value: unknown, from: string): void => {
    merged[key] = value
    origin[key] = from
  }

  const file = sources.file ?? sources.env?.HEARTH_RELAY_CONFIG
  if (file !== undefined && file !== '') {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new HearthError('INVALID_INPUT', `cannot read the config file ${file}: ${err instanceof Error ? err.message : String(err)}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HearthError('INVALID_INPUT', `the config file ${file} must hold a JSON object`)
    }
    for (const [key, value] of Object.entries(parsed)) set(key, value, `${file}`)
  }
  for (const key of OPTION_KEYS) {
    const value = sources.env?.[envName(key)]
    if (value !== undefined && value !== '') set(key, value, envName(key))
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value !== undefined) set(key, value, flagName(key))
  }
  return validateConfig(merged, origin)
}

/** Validates a config object (what `startRelay` is given), naming the source of a bad value when known. */
export function validateConfig(input: unknown, origin: Record<string, string> = {}): RelayConfig {
  const result = RelayConfigSchema.safeParse(input)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const key = issue.path[0]
    if (issue.code === 'unrecognized_keys') {
      return `unknown option(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${origin[issue.keys[0] ?? ''] === undefined ? '' : ` in ${origin[issue.keys[0]!]}`}`
    }
    if (typeof key !== 'string') return issue.message
    const from = origin[key] === undefined ? '' : ` (from ${origin[key]})`
    const shown = SECRET_OPTIONS.has(key as keyof RelayConfig) ? '' : ` ${issue.message}`
    return `${key}${from}:${shown === '' ? ' invalid value' : shown}`
  })
  throw new HearthError('INVALID_INPUT', `invalid relay configuration:\n  - ${lines.join('\n  - ')}`)
}

/** The config as it may be logged: secrets replaced by a mask (or absent). */
export function maskedConfig(config: RelayConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config }
  for (const key of SECRET_OPTIONS) if (out[key] !== undefined) out[key] = '***'
  return out
}

/** One line per option, for `--help` and docs/RELAY.md. */
export const OPTION_HELP: Record<keyof RelayConfig, string> = {
  dataDir: 'directory for the relay key and the mailbox database',
  listen: 'libp2p listen multiaddrs (TCP and WebSockets)',
  announce: 'multiaddrs to announce instead of the listen addresses (public IP or DNS name, e.g. behind NAT or a proxy)',
  httpHost: 'interface of the HTTP port (/healthz, /metrics)',
  httpPort: 'HTTP port for /healthz and /metrics (0 = any free port)',
  metricsToken: 'if set, /metrics requires "Authorization: Bearer <token>" (secret: never logged)',
  logLevel: 'fatal, error, warn, info, debug, trace or silent',
  maxEnvelopeBytes: 'largest envelope accepted (at most 64KiB, the protocol cap)',
  mailboxMaxBytes: 'bytes one mailbox may hold',
  mailboxMaxEnvelopes: 'envelopes one mailbox may hold',
  mailboxMaxReaders: 'reader positions one mailbox may hold',
  peerMaxBytesPerDay: 'bytes one depositing peer may deposit per UTC day',
  peerMaxEnvelopesPerDay: 'envelopes one depositing peer may deposit per UTC day',
  retention: 'how long an envelope is kept',
  maxStoredBytes: 'disk budget for all mailboxes; the oldest envelopes are evicted beyond it',
  sweepInterval: 'how often envelopes and blobs past retention are deleted',
  blobs: 'store encrypted file chunks (attachments) for members who are offline (/hearth/relay-blob/1.0.0)',
  blobMaxBytes: 'largest file (blob) accepted, in stored bytes (ciphertext: padded size plus 16 bytes per 64 KiB)',
  blobMailboxMaxBytes: 'blob bytes one mailbox (conversation) may hold',
  blobPeerMaxBytesPerDay: 'blob bytes one uploading peer may add per UTC day (counted in memory: a restart resets it)',
  blobMaxStoredBytes: 'disk budget for all blobs; the oldest blobs are evicted beyond it',
  blobRetention: 'how long a blob is kept after its upload began',
  blobIncompleteTtl: 'how long a blob whose upload never completed is kept',
  maxConnections: 'connections accepted at once; more are refused',
  connectionRatePerHost: 'new inbound connections per second accepted from one IP address',
  maxStreamsPerConnection: 'concurrent streams per connection',
  requestsPerSecond: 'mailbox requests per second per peer (sustained)',
  requestBurst: 'mailbox requests per peer in a burst',
  maxWaitingFetches: 'fetches held open for new deposits (long-polls), in total',
  maxWaitingFetchesPerPeer: 'fetches held open per peer',
  requestTimeout: 'time a peer has to send its whole request (cuts off slow senders)',
  clockSkew: 'accepted difference between a request timestamp and the relay clock',
  replayMaxNonces: 'request nonces remembered to refuse replays, each remembered mailbox counting as 5 (about 70 bytes each)',
  replayMaxNoncesPerMailbox: 'request nonces remembered per mailbox; beyond it the mailbox forgets its own oldest',
  circuitMaxReservations: 'circuit relay v2 reservations held at once',
  circuitReservationTtl: 'lifetime of a circuit relay reservation',
  circuitDurationLimit: 'longest a relayed connection lasts',
  circuitDataLimit: 'bytes a relayed connection may carry',
  dht: 'run the kad-dht server (Hearth prefix /hearth/kad/1.0.0)',
  dhtAddresses: "addresses the DHT keeps and shares: 'public' on the internet, 'all' on a LAN or in tests",
  announceRendezvous: 'announce this relay under the relay discovery key on the DHT',
  shutdownGrace: 'on SIGTERM, how long requests in flight may take to finish',
}
