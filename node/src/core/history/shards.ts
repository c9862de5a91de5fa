import { applyRemoteChanges, createShard, subtreeOf, type Shard } from '../../../../crdt/src/index.js'
import { RawShard } from '../../../../crdt/src/raw-shard.js'
import type { ActorId } from '../../../../crdt/src/index.js'
import type { DeviceId, EpochId } from '../../ids.js'
import type { CoreStore } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'

/** How many shard documents a conversation keeps in memory: the newest is where writing happens. */
const SHARDS_IN_MEMORY = 4

export interface LoadedShard {
  doc: Shard
  /** How many changes of this shard are stored (the next change's index). */
  stored: number
  /**
   * Our own changes only: what our next change is written onto, so it depends on nothing another device wrote
   * (crdt/src/ops.ts). Undefined for a shard we wrote in before own documents existed: we write on `doc` there.
   */
  own?: Shard | undefined
}

/**
 * Our own changes that are stored (in `chg/` and `ochg/`) and applied to the entry's `own` document but not yet to
 * its merged `doc`, keyed by the cache entry they belong to. A new message of ours is read from the own document, so
 * a run of sends never pays for merging each change into the shard as everyone sees it: the whole run is applied in
 * one `applyChanges` the next time anything reads the merged document (docs/adr/0025). Keyed by the entry object,
 * never mutated: an entry put back after a failed write brings back exactly the changes it had.
 */
const unmerged = new WeakMap<LoadedShard, readonly Uint8Array[]>()

/**
 * A shard whose merged document still lacks our own `pending` changes: `doc` is as `base.doc` was, `own` and
 * `stored` are already past them. Only loadShard (below) brings `doc` up to date.
 */
export function withUnmerged(base: LoadedShard, next: { stored: number; own: Shard }, change: Uint8Array): LoadedShard {
  const entry: LoadedShard = { doc: base.doc, stored: next.stored, own: next.own }
  unmerged.set(entry, [...(unmerged.get(base) ?? []), change])
  return entry
}

/**
 * A conversation's shard documents: loaded from their stored changes on demand, a few kept in memory. The merged
 * document is brought up to date with our own changes first, unless `ownOnly` says the caller reads only what we
 * wrote (the `own` document) and lets them wait.
 */
export async function loadShard(
  kernel: Pick<Kernel, 'store' | 'identity'>,
  rt: ConversationRuntime,
  epoch: EpochId,
  shard: number,
  options: { ownOnly?: boolean } = {},
): Promise<LoadedShard> {
  const key = `${epoch}/${shard}`
  const cached = rt.shards.get(key)
  if (cached) {
    // Least recently used goes first: re-inserting keeps the shard being written at the young end.
    rt.shards.delete(key)
    const pending = unmerged.get(cached)
    if (pending === undefined || options.ownOnly === true) {
      rt.shards.set(key, cached)
      return cached
    }
    const merged: LoadedShard = { doc: applyRemoteChanges(cached.doc, pending).doc, stored: cached.stored, own: cached.own }
    rt.shards.set(key, merged)
    return merged
  }
  const loaded = await readShard(kernel.store, rt, epoch, shard, kernel.identity.deviceId)
  if (rt.shards.size >= SHARDS_IN_MEMORY) rt.shards.delete(rt.shards.keys().next().value!)
  rt.shards.set(key, loaded)
  return loaded
}

/**
 * Entries whose merged document is held only as a RawShard (docs/adr/0028), with the number of its changes the entry
 * stands for. Such an entry materialises its `doc` the first time something reads it; until then the receive path
 * applies changes to the RawShard and reads back only the messages they touched.
 */
const rawOf = new WeakMap<object, { raw: RawShard; size: number }>()

/** A cache entry standing for `raw` as it is now; its `doc` is materialised on first read, and only then. */
export function rawEntry(raw: RawShard, stored: number, own: Shard | undefined): LoadedShard {
  const size = raw.size
  let doc: Shard | undefined
  const entry: LoadedShard = {
    stored,
    own,
    get doc(): Shard {
      if (doc === undefined) {
        doc = raw.toShard(size)
        rawOf.delete(entry)
      }
      return doc
    },
  }
  rawOf.set(entry, { raw, size })
  return entry
}

/**
 * The shard for the receive path to apply a batch to: a RawShard when the shard is not in memory as a materialised
 * document (catching up, or the first message of a shard after a start), the cached document otherwise (a chat in
 * progress, whose document sends and reactions need anyway). `raw` is set when the RawShard is current and may be
 * applied to in place.
 */
export async function loadShardForApply(
  kernel: Pick<Kernel, 'store' | 'identity'>,
  rt: ConversationRuntime,
  epoch: EpochId,
  shard: number,
): Promise<{ loaded: LoadedShard; raw?: RawShard }> {
  const key = `${epoch}/${shard}`
  const cached = rt.shards.get(key)
  const held = cached === undefined ? undefined : rawOf.get(cached)
  // Not `cached.doc`: reading it would materialise the document this avoids.
  if (cached !== undefined && (held === undefined || held.size !== held.raw.size || unmerged.has(cached))) return { loaded: await loadShard(kernel, rt, epoch, shard) }
  if (cached !== undefined && held !== undefined) {
    rt.shards.delete(key)
    rt.shards.set(key, cached)
    return { loaded: cached, raw: held.raw }
  }
  const actor = actorOf(kernel.identity.deviceId)
  const changes = await kernel.store.listChanges(rt.id, epoch, shard)
  const { shard: raw } = RawShard.of(actor, changes)
  const own = await ownDocument(kernel.store, rt, epoch, shard, actor, subtreeOf(raw.view([]), actor) !== undefined)
  const entry = rawEntry(raw, changes.length, own)
  if (rt.shards.size >= SHARDS_IN_MEMORY) rt.shards.delete(rt.shards.keys().next().value!)
  rt.shards.set(key, entry)
  return { loaded: entry, raw }
}

async function readShard(store: CoreStore, rt: ConversationRuntime, epoch: EpochId, shard: number, device: DeviceId): Promise<LoadedShard> {
  const actor = actorOf(device)
  const changes = await store.listChanges(rt.id, epoch, shard)
  let doc = createShard(actor)
  if (changes.length > 0) doc = applyRemoteChanges(doc, changes).doc
  const own = await ownDocument(store, rt, epoch, shard, actor, subtreeOf(doc, actor) !== undefined)
  return { doc, stored: changes.length, own }
}

async function ownDocument(store: CoreStore, rt: ConversationRuntime, epoch: EpochId, shard: number, actor: ActorId, wrote: boolean): Promise<Shard | undefined> {
  const ownChanges = await store.listOwnChanges(rt.id, epoch, shard)
  // Never written here: a fresh own document. Written with own documents: rebuilt from them. Written before they
  // existed (our subtree is there, no own changes kept): we keep writing on the merged document.
  return !wrote ? createShard(actor) : ownChanges.length > 0 ? applyRemoteChanges(createShard(actor), ownChanges).doc : undefined
}
