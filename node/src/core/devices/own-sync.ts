import { HLC_MAX_DRIFT_MS, decodeHlc, encodeHlc } from '../../../../crdt/src/index.js'
import { HearthError, drop, isHearthError } from '../../../common/errors.js'
import { handleProtocol, requestOne } from '../../../common/net/request-response.js'
import { decodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'
import { z } from 'zod'
import type { ConversationId } from '../../ids.js'
import type { Kernel } from '../kernel.js'
import { DEFAULT_PREFS, type ConversationPrefs, type ConversationPrefsStore } from '../settings/conversation-prefs.js'
import type { Settings } from '../settings/settings.js'
import {
  DRAFT_PREFIX,
  MAX_SYNC_BYTES,
  MAX_SYNC_ENTRIES,
  NAME_KEY,
  OWN_SYNC_LIMITS,
  OWN_SYNC_PROTOCOL,
  PREFS_PREFIX,
  RELAYS_KEY,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  prefsSyncKey,
  valueSchemaOf,
} from './own-sync-frames.js'
import { entriesToAnswer, mergeEntries, type SyncEntry } from './own-sync-map.js'
import { accountOfVerifiedKey, currentMarks, isVerifiedSyncKey, verifiedSyncKey, type OwnVerifiedMarks, type VerifiedMark } from './own-sync-verified.js'
import { LABEL_PREFIX, defaultLabel, deviceLabelSchema, type DeviceLabel, type DeviceLabels } from './device-labels.js'

export interface OwnSyncParts {
  prefs: ConversationPrefsStore
  settings: Settings
  labels: DeviceLabels
  /** Who the person verified (people/people.ts). */
  verified: OwnVerifiedMarks
  /** The peer is another device of our account in some conversation's log (devices/devices.ts). */
  isOwnDevicePeer(peer: string): boolean
  emitConversation(id: ConversationId): void
}

/** The stamp and value of every synced key, as last won here: `osync/<key>` (docs/STORAGE.md). */
const storeKey = (k: string) => key('osync', k)
const storedEntrySchema = z.strictObject({ v: z.unknown(), h: z.string(), d: z.string() })
const parseStoredEntry = (value: unknown): SyncEntry => {
  const r = storedEntrySchema.safeParse(value)
  if (!r.success) throw new HearthError('CORRUPT_DATA', 'a stored own-sync entry is invalid')
  return r.data as SyncEntry
}

/** JSON with keys sorted, so two equal values compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  )
}
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b)

/**
 * Keeps one person's preferences in step across their devices (`/hearth/own-sync/1.0.0`, own-sync-frames.ts): the
 * mute, archive and pin of each conversation, their display name, their relays, their devices' names, their drafts
 * and whom they verified. Each is an entry of a last-writer-wins map (own-sync-map.ts) stamped with this device's HLC;
 * a change made here is sent at once to every connected device of ours, and on connecting to one the two exchange
 * their whole maps. Only our own devices are answered: anyone else is refused and counted (`own-sync-refused`).
 *
 * A winning entry is applied first (the prefs record, the settings, the verified record) and its stamp stored after;
 * a crash between the two leaves a value that differs from its stamp, which `reconcile` at start takes for a change
 * made here.
 */
export class OwnSync {
  private readonly entries = new Map<string, SyncEntry>()
  private writes: Promise<unknown> = Promise.resolve()
  /** Our devices we exchanged whole maps with since they connected. */
  private readonly greeted = new Set<string>()

  constructor(
    private readonly kernel: Kernel,
    private readonly parts: OwnSyncParts,
  ) {}

  /** Loads the map, serves the protocol and follows changes and connections. Returns the stop. */
  async start(): Promise<() => void> {
    const { node, events } = this.kernel
    const { prefs, settings, labels, verified } = this.parts
    await this.load()
    for (const [k, e] of this.entries) if (k.startsWith(LABEL_PREFIX)) labels.applyFromOwnDevice(k.slice(LABEL_PREFIX.length), deviceLabelSchema.parse(e.v))
    this.reconcile()
    const unhandle = await handleProtocol(node, OWN_SYNC_PROTOCOL, OWN_SYNC_LIMITS, (req, ctx) => this.serve(req, ctx.peer))
    prefs.onChange = (id, value) => this.changedHere([[prefsSyncKey(id), value]])
    labels.onChange = (device, label) => this.changedHere([[`${LABEL_PREFIX}${device}`, label]])
    verified.onChange = (account, record) => this.changedHere([[verifiedSyncKey(account), record]])
    settings.onChange = ({ displayName, relays }) =>
      this.changedHere([...(displayName === undefined ? [] : [[NAME_KEY, displayName] as const]), ...(relays === undefined ? [] : [[RELAYS_KEY, relays] as const])])
    const greetAll = () => {
      for (const peer of node.connectedPeers()) this.greet(peer)
    }
    const offs = [
      node.onPeerConnected((peer) => this.greet(peer)),
      node.onPeerDisconnected((peer) => this.greeted.delete(peer)),
      // A device just linked is one of ours only once the logs say so, after it connected.
      events.on('members.changed', greetAll),
    ]
    greetAll()
    return () => {
      for (const off of offs) off()
      prefs.onChange = undefined
      settings.onChange = undefined
      labels.onChange = undefined
      verified.onChange = undefined
      drop(unhandle(), () => {})
    }
  }

  /** The entry of a key (tests, and the device list's "in step" later). */
  entry(k: string): SyncEntry | undefined {
    return this.entries.get(k)
  }

  /** A change the person made here through the API (a draft): stamped and sent like any other, unless it is no change. */
  changeHere(k: string, value: unknown): void {
    if (!same(this.entries.get(k)?.v, value)) this.changedHere([[k, value]])
  }

  /** Answers another device of ours: our entries that beat its own (all it lacks too, for a whole map), then merges its. */
  async serve(request: Uint8Array, peer: string): Promise<Uint8Array> {
    const { counters } = this.kernel
    if (!this.parts.isOwnDevicePeer(peer)) {
      counters.count('own-sync-refused')
      throw new HearthError('UNAUTHORIZED', `own-sync request from ${peer}, not a device of this account`, { publicMessage: 'not one of this account\'s devices' })
    }
    let parsed
    try {
      parsed = decodeSyncRequest(request)
    } catch (err) {
      counters.count(isHearthError(err) && err.code === 'TOO_LARGE' ? 'own-sync-too-large' : 'own-sync-malformed')
      throw err
    }
    const answer = entriesToAnswer(this.entries, new Map(parsed.entries), parsed.whole)
    await this.merge(parsed.entries)
    // A whole answer from a greeting also means we have met: no need to send ours back again.
    if (parsed.whole) this.greeted.add(peer)
    return encodeSyncResponse(newest(answer))
  }

  private async load(): Promise<void> {
    const { store } = this.kernel
    this.entries.clear()
    for await (const [k, v] of store.db.iterate(prefixRange('osync'))) {
      const name = splitKey(k)[1]!
      this.entries.set(name, decodeJson(store.openSealed(k, v), parseStoredEntry, 'own-sync entry'))
    }
  }

  /** What differs from its stamp was changed here without one (before this existed, or a crash): stamp it now. */
  private reconcile(): void {
    const { prefs, settings } = this.parts
    const changed: Array<readonly [string, unknown]> = []
    const check = (k: string, value: unknown, fallback: unknown) => {
      const entry = this.entries.get(k)
      if (entry === undefined ? !same(value, fallback) : !same(value, entry.v)) changed.push([k, value])
    }
    for (const id of prefs.ids()) check(prefsSyncKey(id), prefs.stored(id), DEFAULT_PREFS)
    const { displayName, relays } = settings.current()
    check(NAME_KEY, displayName, null)
    check(RELAYS_KEY, relays, [])
    for (const [k, mark] of currentMarks(this.parts.verified.marks(), [...this.entries.keys()])) check(k, mark, null)
    // This device names itself once (its computer's name); after that, the person's renames win.
    const mine = `${LABEL_PREFIX}${this.kernel.identity.deviceId}`
    if (!this.entries.has(mine)) changed.push([mine, defaultLabel()])
    for (const [k, value] of changed) if (k === mine) this.parts.labels.applyFromOwnDevice(this.kernel.identity.deviceId, value as DeviceLabel)
    for (const [k, value] of changed) this.stamp(k, value)
  }

  /** A change made here: stamp it and tell every connected device of ours. Runs where the change was written. */
  private changedHere(changes: ReadonlyArray<readonly [string, unknown]>): void {
    if (changes.length === 0) return
    const entries = changes.map(([k, value]) => [k, this.stamp(k, value)] as [string, SyncEntry])
    for (const peer of this.kernel.node.connectedPeers()) {
      if (this.parts.isOwnDevicePeer(peer)) this.exchange(peer, entries, false)
    }
  }

  private stamp(k: string, value: unknown): SyncEntry {
    const entry: SyncEntry = { v: value, h: encodeHlc(this.kernel.tick()), d: this.kernel.identity.deviceId }
    this.entries.set(k, entry)
    this.persist(k)
    return entry
  }

  /** Writes the key's entry as it is when the write's turn comes (the newest winner, whatever order they won in). */
  private persist(k: string): void {
    const { store, log } = this.kernel
    this.writes = this.writes
      .then(async () => {
        const entry = this.entries.get(k)
        if (entry !== undefined && !this.kernel.stopped) await store.commit([store.sealJson(storeKey(k), entry)], true)
      })
      .catch((err: unknown) => log.warn({ err }, 'storing an own-sync entry failed'))
  }

  /** On meeting another device of ours: both whole maps, once per connection. */
  private greet(peer: string): void {
    if (this.kernel.stopped || this.greeted.has(peer) || !this.parts.isOwnDevicePeer(peer)) return
    this.greeted.add(peer)
    // A device that does not speak the protocol (an older version) is not asked again on this connection.
    this.exchange(peer, [...this.entries], true, (err) => {
      if (!isHearthError(err) || err.code !== 'UNSUPPORTED_VERSION') this.greeted.delete(peer)
    })
  }

  private exchange(peer: string, entries: Array<[string, SyncEntry]>, whole: boolean, failed?: (err: unknown) => void): void {
    const { node, log } = this.kernel
    const run = async () => {
      const body = encodeSyncRequest({ whole, entries: newest(new Map(entries)) })
      const answer = decodeSyncResponse(await requestOne(node, peer, OWN_SYNC_PROTOCOL, body, OWN_SYNC_LIMITS))
      await this.merge(answer)
    }
    drop(run(), (err) => {
      failed?.(err)
      log.debug({ err, peer }, 'own-sync exchange failed')
    })
  }

  /** Takes the entries that beat ours, applies each and then stores its stamp. */
  private async merge(incoming: Array<[string, SyncEntry]>): Promise<void> {
    const { kernel } = this
    if (kernel.stopped) return
    const limit = kernel.now() + HLC_MAX_DRIFT_MS
    const timely = incoming.filter(([, e]) => {
      // Even our own device's clock far ahead would make its every change win for as long: refused.
      if (decodeHlc(e.h).wall <= limit) return true
      kernel.counters.count('own-sync-future')
      return false
    })
    for (const [, e] of timely) kernel.observe(e.h)
    const { map, changed } = mergeEntries(this.entries, timely)
    const before = new Map(changed.map((k) => [k, this.entries.get(k)]))
    for (const k of changed) this.entries.set(k, map.get(k)!)
    for (const k of changed) {
      const entry = map.get(k)!
      try {
        if (await this.apply(k, entry)) this.persist(k)
      } catch (err) {
        // Not ours to pass on either: the entry we held before stays the winner here.
        if (this.entries.get(k) === entry) {
          const previous = before.get(k)
          if (previous === undefined) this.entries.delete(k)
          else this.entries.set(k, previous)
        }
        kernel.counters.count('own-sync-bad-entry')
        kernel.log.warn({ err, key: k.slice(0, 40) }, 'an own-sync entry could not be applied')
      }
    }
  }

  /** Applies a winning entry unless a change made here meanwhile beat it. True when its value is what we hold now. */
  private async apply(k: string, entry: SyncEntry): Promise<boolean> {
    const { prefs, settings } = this.parts
    const stillWanted = () => this.entries.get(k) === entry
    const value = valueSchemaOf(k)!.parse(entry.v) as unknown
    if (k.startsWith(LABEL_PREFIX)) {
      this.parts.labels.applyFromOwnDevice(k.slice(LABEL_PREFIX.length), value as DeviceLabel)
      return true
    }
    // A draft lives only in this map: nothing to write elsewhere, the UI is told (own-sync-drafts.ts).
    if (k.startsWith(DRAFT_PREFIX)) {
      this.kernel.events.emit('draft.changed', { conversation: k.slice(DRAFT_PREFIX.length) as ConversationId, text: value as string })
      return true
    }
    if (isVerifiedSyncKey(k)) {
      const account = accountOfVerifiedKey(k)
      if (account === this.kernel.identity.account) throw new HearthError('MALFORMED', 'a verified mark of this account itself')
      const mark = value as VerifiedMark
      return same(this.parts.verified.marks().get(account) ?? null, mark) || (await this.parts.verified.applyFromOwnDevice(account, mark, stillWanted))
    }
    if (k.startsWith(PREFS_PREFIX)) {
      const id = k.slice(PREFS_PREFIX.length) as ConversationId
      if (same(prefs.stored(id), value)) return true
      const written = await prefs.replace(id, value as ConversationPrefs, stillWanted)
      if (written) this.parts.emitConversation(id)
      return written
    }
    const current = settings.current()
    if (k === NAME_KEY) return same(current.displayName, value) || (await settings.applyFromOwnDevice({ displayName: value as string }, stillWanted))
    return same(current.relays, value) || (await settings.applyFromOwnDevice({ relays: value as string[] }, stillWanted))
  }
}

/**
 * At most MAX_SYNC_ENTRIES and MAX_SYNC_BYTES, the most recent first: a map larger than one exchange carries (many
 * long drafts) is sent newest first, and the rest goes with later changes, rather than the peer refusing it all.
 */
function newest(entries: ReadonlyMap<string, SyncEntry>): Array<[string, SyncEntry]> {
  const all = [...entries]
  const size = ([k, e]: [string, SyncEntry]) => Buffer.byteLength(JSON.stringify(e.v) ?? '') + k.length + 160
  let bytes = 0
  for (const entry of all) bytes += size(entry)
  if (all.length <= MAX_SYNC_ENTRIES && bytes <= MAX_SYNC_BYTES) return all
  const out: Array<[string, SyncEntry]> = []
  bytes = 0
  for (const entry of all.sort(([, a], [, b]) => (a.h < b.h ? 1 : a.h > b.h ? -1 : 0))) {
    if (out.length === MAX_SYNC_ENTRIES) break
    bytes += size(entry)
    if (bytes > MAX_SYNC_BYTES) break
    out.push(entry)
  }
  return out
}
