import { z } from 'zod'
import { isEncodedHlc } from '../../../../crdt/src/index.js'
import { HearthError } from '../../../common/errors.js'
import type { ProtocolLimits } from '../../../common/net/request-response.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { parseWire } from '../../../common/wire/schema.js'
import type { ConversationId } from '../../ids.js'
import { storedPrefsSchema } from '../settings/conversation-prefs.js'
import type { SyncEntry } from './own-sync-map.js'
import { deviceLabelSchema } from './device-labels.js'
import { isVerifiedSyncKey, verifiedMarkSchema } from './own-sync-verified.js'

/**
 * `/hearth/own-sync/1.0.0`: one person's devices keep their preferences in step (own-sync.ts). One exchange per
 * stream: the requester sends entries of its map (all of them on connecting, the changed ones after a change), the
 * responder answers with its entries that beat those, and (for a whole map) the ones the requester lacks.
 *
 *   request   CBOR { v: 1, w: whole?, e: [[key, value, hlc, device], …] }
 *   response  CBOR { e: [[key, value, hlc, device], …] }
 *
 * Keys:  c/<conversation>  that conversation's mute, archive and pin (settings/conversation-prefs.ts)
 *        s/name            the person's display name
 *        s/relays          the relays the person chose
 *        d/<device>        what the person calls one of their devices and what it runs on (device-labels.ts)
 *        r/<conversation>  the unsent text of that conversation's composer ('' = none; own-sync-drafts.ts)
 *        v/<account>       the verified mark of that person, or null once cleared (own-sync-verified.ts)
 * A key this build does not know is skipped (a newer device may sync more), but counts towards the bounds.
 */
export const OWN_SYNC_PROTOCOL = '/hearth/own-sync/1.0.0'

/** Entries in one request or response: a person has one entry per conversation they set something on, and two more. */
export const MAX_SYNC_ENTRIES = 4096

export const OWN_SYNC_LIMITS: ProtocolLimits = {
  // 4096 entries of a conversation's prefs are about 600 KiB; the relays entry is up to 32 KiB. Drafts can be larger
  // (up to MAX_DRAFT_CHARS each), and so can verified marks (up to 256 device ids, 17 KiB each): a whole map is cut
  // to MAX_SYNC_BYTES, newest first (own-sync.ts).
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 1024 * 1024,
  timeoutMs: 15_000,
  // On each connect and after each change a person makes: a handful a minute.
  ratePerSecond: 5,
  burst: 30,
  runOnLimitedConnection: true,
}

export const PREFS_PREFIX = 'c/'
export const NAME_KEY = 's/name'
export const RELAYS_KEY = 's/relays'
export const prefsSyncKey = (id: ConversationId) => `${PREFS_PREFIX}${id}`
export const DRAFT_PREFIX = 'r/'
export const draftSyncKey = (id: ConversationId) => `${DRAFT_PREFIX}${id}`
/** A draft's length in UTF-16 code units (what the composer counts): 64 Ki, up to 192 KiB as UTF-8 on the wire. */
export const MAX_DRAFT_CHARS = 65_536
/** Entries of one request or response, as JSON, at most: under the 1 MiB frame whatever the CBOR overhead. */
export const MAX_SYNC_BYTES = 768 * 1024

const CONVERSATION_KEY = /^c\/[0-9a-f]{32}$/
const DEVICE = /^[0-9a-f]{64}$/
const DEVICE_LABEL_KEY = /^d\/[0-9a-f]{64}$/
const DRAFT_KEY = /^r\/[0-9a-f]{32}$/

const valueSchemas: Array<[(key: string) => boolean, z.ZodType]> = [
  [(k) => CONVERSATION_KEY.test(k), storedPrefsSchema],
  // Checked again as a display name (identity.ts) when applied.
  [(k) => k === NAME_KEY, z.string().min(1).max(200)],
  // Checked again as multiaddrs ending in /p2p/ (settings.ts) when applied.
  [(k) => k === RELAYS_KEY, z.array(z.string().max(1024)).max(32)],
  [(k) => DEVICE_LABEL_KEY.test(k), deviceLabelSchema],
  [(k) => DRAFT_KEY.test(k), z.string().max(MAX_DRAFT_CHARS)],
  // Checked again when applied: never a mark of this account itself.
  [isVerifiedSyncKey, verifiedMarkSchema],
]

/** The schema of a key's value, or undefined for a key this build does not know. */
export function valueSchemaOf(key: string): z.ZodType | undefined {
  return valueSchemas.find(([matches]) => matches(key))?.[1]
}

const entrySchema = z.tuple([z.string().min(1).max(80), z.unknown(), z.string().refine(isEncodedHlc, 'not an HLC'), z.string().regex(DEVICE)])
const entriesSchema = z.array(entrySchema).max(MAX_SYNC_ENTRIES)
const requestSchema = z.strictObject({ v: z.literal(1), w: z.boolean(), e: entriesSchema })
const responseSchema = z.strictObject({ e: entriesSchema })

export interface SyncRequest {
  whole: boolean
  entries: Array<[string, SyncEntry]>
}

const toWire = (entries: Iterable<readonly [string, SyncEntry]>) => [...entries].map(([k, e]) => [k, e.v, e.h, e.d])

/** Known keys with valid values; the rest is skipped. A known key with an invalid value makes the whole map invalid. */
function fromWire(raw: Array<[string, unknown, string, string]>, what: string): Array<[string, SyncEntry]> {
  const out: Array<[string, SyncEntry]> = []
  for (const [key, value, h, d] of raw) {
    const schema = valueSchemaOf(key)
    if (schema === undefined) continue
    out.push([key, { v: parseWire(schema, value, `${what} value of ${key.slice(0, 40)}`), h, d }])
  }
  return out
}

export const encodeSyncRequest = (r: SyncRequest) => encodeCbor({ v: 1, w: r.whole, e: toWire(r.entries) })
export const encodeSyncResponse = (entries: Iterable<readonly [string, SyncEntry]>) => encodeCbor({ e: toWire(entries) })

/** More entries than one exchange may carry is refused as too large, before any of them is looked at. */
function bounded(value: unknown, what: string): unknown {
  const e = typeof value === 'object' && value !== null && 'e' in value ? (value as { e: unknown }).e : undefined
  if (Array.isArray(e) && e.length > MAX_SYNC_ENTRIES) throw new HearthError('TOO_LARGE', `${what} has ${e.length} entries, over ${MAX_SYNC_ENTRIES}`)
  return value
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const what = 'own-sync request'
  const raw = parseWire(requestSchema, bounded(decodeCbor(bytes, OWN_SYNC_LIMITS.maxRequestBytes, what), what), what)
  return { whole: raw.w, entries: fromWire(raw.e, 'own-sync request') }
}

export function decodeSyncResponse(bytes: Uint8Array): Array<[string, SyncEntry]> {
  const what = 'own-sync response'
  const raw = parseWire(responseSchema, bounded(decodeCbor(bytes, OWN_SYNC_LIMITS.maxResponseBytes, what), what), what)
  return fromWire(raw.e, 'own-sync response')
}
