import { describe, expect, it } from 'vitest'
import { HLC_ZERO, applyRemoteChanges, asActorId, createShard, hlcNow, listMessages, missingDeps, sendMessage, setReaction, type Shard } from '../../../../crdt/src/index.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { toHex } from '../../../common/util/bytes.js'
import type { ConversationId, DeviceId, EpochId } from '../../ids.js'
import type { CoreStore } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { loadShard, withUnmerged, type LoadedShard } from './shards.js'

const me = toHex(randomBytes(32)) as DeviceId
const actor = actorOf(me)
const other = asActorId(toHex(randomBytes(16)))
const epoch = 'e1' as EpochId
/** Every shard here is cached: a read of the store would be a bug in the test, so the store refuses. */
const kernel = {
  identity: { deviceId: me },
  store: new Proxy({}, { get: () => () => Promise.reject(new Error('the store was read')) }) as CoreStore,
} as unknown as Pick<Kernel, 'store' | 'identity'>

function runtime(entry: LoadedShard): ConversationRuntime {
  return { id: 'c' as ConversationId, shards: new Map([[`${epoch}/0`, entry]]) } as unknown as ConversationRuntime
}

let count = 0
function send(doc: Shard, onto: Shard): { doc: Shard; change: Uint8Array; id: string } {
  const id = toHex(randomBytes(16))
  const r = sendMessage(doc, actor, { id: id as never, body: `m${count}`, hlc: hlcNow(HLC_ZERO, 1_000 + count), seq: count++ }, onto)
  return { ...r, id }
}

/** Our message `n` sends: each written onto the own document, the merged one left behind, as the outbox does. */
function sendLazily(entry: LoadedShard, n: number): { entry: LoadedShard; ids: string[] } {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const sent = send(entry.own!, entry.own!)
    ids.push(sent.id)
    entry = withUnmerged(entry, { stored: entry.stored + 1, own: sent.doc }, sent.change)
  }
  return { entry, ids }
}

const ids = (doc: Shard) => listMessages(doc).map((m) => m.id as string)

describe('shard documents with our own changes merged lazily', () => {
  it('a read of the merged document brings it up to date with every own change, in one go', async () => {
    const start: LoadedShard = { doc: createShard(actor), stored: 0, own: createShard(actor) }
    const { entry, ids: sent } = sendLazily(start, 3)
    expect(ids(entry.doc)).toEqual([]) // not merged yet
    expect(entry.stored).toBe(3)
    const rt = runtime(entry)
    const mergedView = await loadShard(kernel, rt, epoch, 0)
    expect(ids(mergedView.doc)).toEqual(sent)
    expect(mergedView.own).toBe(entry.own)
    expect(mergedView.stored).toBe(3)
    // Merged once: the cache now holds the merged document and nothing waits any more.
    const again = await loadShard(kernel, rt, epoch, 0)
    expect(again).toBe(mergedView)
  })

  it('ownOnly leaves the merged document waiting; the next full read still gets every change', async () => {
    const { entry, ids: first } = sendLazily({ doc: createShard(actor), stored: 0, own: createShard(actor) }, 2)
    const rt = runtime(entry)
    const ownOnly = await loadShard(kernel, rt, epoch, 0, { ownOnly: true })
    expect(ids(ownOnly.doc)).toEqual([])
    const { entry: more, ids: second } = sendLazily(ownOnly, 2)
    rt.shards.set(`${epoch}/0`, more)
    expect(ids((await loadShard(kernel, rt, epoch, 0)).doc)).toEqual([...first, ...second])
  })

  it('an entry put back after a failed write brings back only the changes it had', async () => {
    const { entry: before, ids: kept } = sendLazily({ doc: createShard(actor), stored: 0, own: createShard(actor) }, 2)
    const { entry: after } = sendLazily(before, 1)
    expect(after.stored).toBe(3)
    // The outbox restores `before` when the batch holding the third change was not written.
    const rt = runtime(before)
    expect(ids((await loadShard(kernel, rt, epoch, 0)).doc)).toEqual(kept)
  })

  it("another device's change that depends on our lazily merged message applies once the document is read", async () => {
    const first = send(createShard(actor), createShard(actor))
    const entry = withUnmerged({ doc: createShard(actor), stored: 0, own: createShard(actor) }, { stored: 1, own: first.doc }, first.change)
    // Their replica has our message and reacts to it: their change depends on ours.
    const replica = applyRemoteChanges(createShard(other), [first.change]).doc
    const theirs = setReaction(replica, other, { target: { author: actor, id: first.id as never }, emoji: '👍' })
    const merged = await loadShard(kernel, runtime(entry), epoch, 0)
    const applied = applyRemoteChanges(merged.doc, [theirs.change])
    expect(missingDeps(applied.doc)).toEqual([])
    expect(listMessages(applied.doc)[0]!.reactions).toEqual({ '👍': [other] })
  })
})
