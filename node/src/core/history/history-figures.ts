import type { DeviceId, EpochId } from '../../ids.js'
import type { StreamState } from '../../store/core-store.js'
import { parseStreamKey, type StreamKey } from '../conversation-runtime.js'

/** What one conversation's streams add up to, for the history progress (history-progress.ts). */
export interface HistoryFigures {
  /** Envelopes of this catch-up read so far (over the streams that can move now). */
  read: number
  /** Envelopes of this catch-up held so far, read or not (same streams). */
  received: number
  /** Envelopes this catch-up is known to need (over the same streams): what we hold and what members said exists. */
  total: number
  /** Envelopes held that wait for their sender's keys. */
  waiting: number
  /** The devices whose keys they wait for. */
  waitingFor: DeviceId[]
}

export interface FiguresInput {
  /** Other devices' streams, as the runtime holds them. */
  streams: ReadonlyMap<StreamKey, StreamState>
  /** Epochs whose secret we hold: a stream of another epoch is nothing we can read. */
  epochs: ReadonlySet<EpochId> | ReadonlyMap<EpochId, unknown>
  /** Highest position members said each stream reaches (only claims beyond what we held when they came). */
  claims: ReadonlyMap<StreamKey, number>
  /** Per stream, `done` when this catch-up began (a stream not listed began at 0). */
  start: ReadonlyMap<StreamKey, number>
  /** Streams holding envelopes they cannot read now, with nothing more known to come (asked of chainless ones only). */
  stuck: (key: StreamKey) => boolean
}

/**
 * Counts in envelopes: cheap (stream positions in memory, no read of the store) and what the wire tells of. A stream
 * that cannot move for want of its sender's chain counts apart as `waiting`, so the percentage never waits for it. One
 * that has its chain is being read, however long that takes (a newcomer's whole stream is read in one go once its
 * keys came).
 */
export function historyFigures(input: FiguresInput): HistoryFigures {
  let read = 0
  let received = 0
  let total = 0
  let waiting = 0
  const waitingFor = new Set<DeviceId>()
  for (const [key, s] of input.streams) {
    const { epoch, device } = parseStreamKey(key)
    if (!input.epochs.has(epoch)) continue
    if (s.have > s.done && s.chain === null && input.stuck(key)) {
      waiting += s.have - s.done
      waitingFor.add(device)
      continue
    }
    const from = Math.min(input.start.get(key) ?? 0, s.done)
    read += s.done - from
    received += s.have - from
    total += Math.max(input.claims.get(key) ?? 0, s.have) - from
  }
  // Streams a member told of that nothing of has arrived yet.
  for (const [key, claimed] of input.claims) {
    if (!input.streams.has(key) && input.epochs.has(parseStreamKey(key).epoch)) total += claimed
  }
  return { read, received, total, waiting, waitingFor: [...waitingFor] }
}
