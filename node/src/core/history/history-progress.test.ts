import { describe, expect, it } from 'vitest'
import type { AccountId, ConversationId, DeviceId, EpochId } from '../../ids.js'
import type { StreamState } from '../../store/core-store.js'
import { streamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import { historyFigures } from './history-figures.js'
import { HISTORY_PROGRESS, HistoryProgress } from './history-progress.js'

const E = 'e1' as EpochId
const OTHER_EPOCH = 'e2' as EpochId
const alice = 'a'.repeat(64) as DeviceId
const bob = 'b'.repeat(64) as DeviceId
const me = 'c'.repeat(64) as DeviceId
const A = streamKey(E, alice)
const B = streamKey(E, bob)
const id = 'f'.repeat(32) as ConversationId

const stream = (have: number, done: number, chain: StreamState['chain'] = { key: 'k', index: done }): StreamState => ({ have, done, chain })

describe('historyFigures', () => {
  const base = { epochs: new Set([E]), claims: new Map<StreamKey, number>(), start: new Map<StreamKey, number>(), stuck: () => false }

  it('counts what was read since the catch-up began against what is held and claimed', () => {
    const f = historyFigures({
      ...base,
      streams: new Map([
        [A, stream(40, 30)],
        [B, stream(10, 10)],
      ]),
      claims: new Map([[A, 100]]),
      start: new Map([
        [A, 20],
        [B, 10],
      ]),
    })
    // Alice: 10 read and 20 held of 80 (from 20 to 100); Bob: caught up from the start.
    expect(f).toEqual({ read: 10, received: 20, total: 80, waiting: 0, waitingFor: [] })
  })

  it('counts claims of streams nothing has arrived of yet, in epochs we read', () => {
    const f = historyFigures({ ...base, streams: new Map(), claims: new Map([[A, 7], [streamKey(OTHER_EPOCH, bob), 9]]) })
    expect(f).toMatchObject({ read: 0, received: 0, total: 7 })
  })

  it('puts a stream without its chain that cannot move apart as waiting, so the percentage does not wait for it', () => {
    const f = historyFigures({
      ...base,
      streams: new Map([
        [A, stream(50, 0, null)],
        [B, stream(20, 20)],
      ]),
      claims: new Map([[A, 60]]),
      stuck: (k) => k === A,
    })
    expect(f).toEqual({ read: 20, received: 20, total: 20, waiting: 50, waitingFor: [alice] })
  })

  it('counts a stream that has its chain however long its reading takes; leaves out a stream of an epoch we do not read', () => {
    const f = historyFigures({
      ...base,
      streams: new Map([
        [A, stream(50, 10)],
        [streamKey(OTHER_EPOCH, bob), stream(30, 0, null)],
      ]),
      stuck: () => true,
    })
    expect(f).toEqual({ read: 10, received: 50, total: 50, waiting: 0, waitingFor: [] })
  })
})

/** A conversation runtime with just what the tracker reads. */
function fakeRuntime(streams: Map<StreamKey, StreamState>): ConversationRuntime {
  return {
    id,
    record: { removed: false },
    epochs: new Map([[E, {}]]),
    streams,
    log: {
      knownDevices: new Map([
        [alice, { account: 'acct-alice' }],
        [bob, { account: 'acct-bob' }],
      ]),
      names: new Map([['acct-alice' as AccountId, 'Alice']]),
      epochs: new Map([[E, { devices: new Set([alice, bob]) }]]),
      revokedDevices: new Map(),
      // Bob was removed: what his device wrote after its 50th envelope is refused by every member.
      removed: new Map([['acct-bob', { cutoffs: { [B]: 50 } }]]),
    },
  } as unknown as ConversationRuntime
}

function tracker(streams: Map<StreamKey, StreamState>) {
  const clock = { now: 1_000 }
  const rt = fakeRuntime(streams)
  const kernel = { conversations: new Map([[id, rt]]), now: () => clock.now, identity: { deviceId: me }, stopped: false }
  const progress = new HistoryProgress(kernel as never)
  const moved: ConversationId[] = []
  progress.watch((c) => moved.push(c))
  progress.stop() // ticks are driven by hand
  return { progress, rt, clock, moved }
}

describe('HistoryProgress', () => {
  it('shows a catch-up a member told of, moves with the streams and disappears once caught up', () => {
    const a = stream(0, 0)
    const { progress, rt, clock, moved } = tracker(new Map([[A, a]]))
    expect(progress.view(rt)).toBeUndefined()
    progress.claim(id, A, 300)
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 0, total: 300 })
    expect(moved).toEqual([id])

    Object.assign(a, { have: 120, done: 120 })
    clock.now += 500
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 120, total: 300 })
    expect(moved).toHaveLength(2)
    // Nothing moved: nothing announced.
    progress.tick()
    expect(moved).toHaveLength(2)

    Object.assign(a, { have: 300, done: 300 })
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
    expect(moved).toHaveLength(3)
  })

  it('counts from where the conversation stood: a device back after a while sees its own catch-up, not the whole history', () => {
    const a = stream(10_000, 10_000)
    const { progress, rt } = tracker(new Map([[A, a]]))
    progress.claim(id, A, 10_400)
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 0, total: 400 })
  })

  it('does not show a few envelopes late for less than a moment', () => {
    const { progress, rt, clock } = tracker(new Map([[A, stream(10, 10)]]))
    progress.claim(id, A, 13)
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
    clock.now += HISTORY_PROGRESS.showAfterMs
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 0, total: 3 })
  })

  it('ignores claims of our own stream, of devices the log does not know, of epochs we do not read, and nonsense', () => {
    const { progress, rt } = tracker(new Map())
    progress.claim(id, streamKey(E, me), 500)
    progress.claim(id, streamKey(E, 'd'.repeat(64) as DeviceId), 500)
    progress.claim(id, streamKey(OTHER_EPOCH, alice), 500)
    progress.claim(id, A, Number.NaN)
    progress.claim(id, A, -4)
    progress.claim('0'.repeat(32) as ConversationId, A, 500)
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('counts a removed device’s stream only up to its cutoff: members serve nothing past it', () => {
    const { progress, rt } = tracker(new Map([[B, stream(10, 10)]]))
    progress.claim(id, B, 90)
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 0, total: 40 })
  })

  it('gives up a catch-up nothing moved in for a long time', () => {
    const { progress, rt, clock } = tracker(new Map([[A, stream(0, 0)]]))
    progress.claimAll(id, [{ epoch: E, device: alice, seq: 1_000_000 }])
    progress.tick()
    expect(progress.view(rt)?.total).toBe(1_000_000)
    clock.now += HISTORY_PROGRESS.staleAfterMs
    progress.tick()
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('reports envelopes without their sender’s keys as waiting, by name, instead of a percentage that never moves', () => {
    const a = stream(0, 0, null)
    const b = stream(0, 0)
    const { progress, rt, clock } = tracker(
      new Map([
        [A, a],
        [B, b],
      ]),
    )
    progress.claim(id, A, 40)
    progress.claim(id, B, 60)
    progress.tick()
    Object.assign(a, { have: 40 })
    Object.assign(b, { have: 60, done: 60 })
    clock.now += 100
    progress.tick()
    // Alice's envelopes are held but unread: still counted (held counts half) while they may just be about to be read.
    expect(progress.view(rt)).toEqual({ have: 80, total: 100 })
    clock.now += HISTORY_PROGRESS.stuckAfterMs
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 0, total: 0, waiting: 40, waitingFor: [{ account: 'acct-alice', displayName: 'Alice' }] })

    // The keys came: read at once, nothing left to show.
    Object.assign(a, { done: 40, chain: { key: 'k', index: 40 } })
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('gives up envelopes that have their chain but are never read (their device unknown here), without a new catch-up', () => {
    const { progress, rt, clock } = tracker(new Map([[A, stream(50, 10)]]))
    progress.tick()
    expect(progress.view(rt)).toEqual({ have: 20, total: 40 })
    clock.now += HISTORY_PROGRESS.staleAfterMs
    progress.tick()
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('shows nothing for a conversation we were removed from', () => {
    const { progress, rt } = tracker(new Map([[A, stream(0, 0)]]))
    progress.claim(id, A, 300)
    progress.tick()
    expect(progress.view(rt)).toBeDefined()
    rt.record.removed = true
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('a newcomer’s stream whose keys come after its envelopes is arriving, not waiting, while more of it is known to come', () => {
    const a = stream(0, 0, null)
    const { progress, rt, clock } = tracker(new Map([[A, a]]))
    progress.claim(id, A, 1_001)
    for (const have of [200, 200, 600, 1_000]) {
      Object.assign(a, { have })
      clock.now += HISTORY_PROGRESS.stuckAfterMs
      progress.tick()
      // The bar moves as envelopes arrive (held counts half), and nothing says it waits for anyone.
      expect(progress.view(rt)).toEqual({ have: have / 2, total: 1_001 })
    }
    // The last envelope carries the keys: everything is read at once.
    Object.assign(a, { have: 1_001, done: 1_001, chain: { key: 'k', index: 1_001 } })
    progress.tick()
    expect(progress.view(rt)).toBeUndefined()
  })

  it('stops looking once the core stopped', () => {
    const { progress } = tracker(new Map())
    const kernel = (progress as unknown as { kernel: { stopped: boolean } }).kernel
    kernel.stopped = true
    progress.tick()
    expect((progress as unknown as { timer: unknown }).timer).toBeUndefined()
  })
})
