import { applyRemoteChanges, createShard, subtreeOf, type Shard } from '../../../../crdt/src/index.js'
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

async function readShard(store: CoreStore, rt: ConversationRuntime, epoch: EpochId, shard: number, device: DeviceId): Promise<LoadedShard> {
  const actor = actorOf(device)
  const changes = await store.listChanges(rt.id, epoch, shard)
  let doc = createShard(actor)
  if (changes.length > 0) doc = applyRemoteChanges(doc, changes).doc
  const ownChanges = await store.listOwnChanges(rt.id, epoch, shard)
  // Never written here: a fresh own document. Written with own documents: rebuilt from them. Written before they
  // existed (our subtree is there, no own changes kept): we keep writing on the merged document.
  const wrote = subtreeOf(doc, actor) !== undefined
  const own = !wrote ? createShard(actor) : ownChanges.length > 0 ? applyRemoteChanges(createShard(actor), ownChanges).doc : undefined
  return { doc, stored: changes.length, own }
}
