import type { Shard } from '../../../crdt/src/index.js'
import type { EpochKeys } from '../conversation/epoch-keys.js'
import type { LogState } from '../conversation/membership-log.js'
import type { MembershipOp } from '../conversation/membership-op.js'
import type { ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import type { ConversationRecord, OwnChain, StreamState } from '../store/core-store.js'

/**
 * The in-memory state the core keeps for one conversation: everything here is either derived from the store at open
 * or written to the store in the same batch that changes it, so a crash loses nothing that was acknowledged.
 */
export interface ConversationRuntime {
  id: ConversationId
  record: ConversationRecord
  ops: Map<OpHash, MembershipOp>
  log: LogState
  /** Epochs whose secret this device holds, by epoch id. */
  epochs: Map<EpochId, EpochKeys>
  /** Other devices' streams. */
  streams: Map<StreamKey, StreamState>
  /** Our own chain per epoch we write in. */
  own: Map<EpochId, OwnChain>
  /**
   * Loaded shard documents, by `${epoch}/${shard}`, with their number of stored changes, and the document of our own
   * changes we write onto (undefined for a shard we wrote in before own documents existed).
   */
  shards: Map<string, { doc: Shard; stored: number; own?: Shard | undefined }>
  /** Topics we are subscribed to. */
  topics: Set<string>
}

/** One device's stream in one epoch: `${epoch}/${device}`. */
export type StreamKey = string & { readonly __brand: 'StreamKey' }

export const streamKey = (epoch: EpochId, device: DeviceId): StreamKey => `${epoch}/${device}` as StreamKey

export function parseStreamKey(k: StreamKey): { epoch: EpochId; device: DeviceId } {
  const [epoch, device] = k.split('/') as [EpochId, DeviceId]
  return { epoch, device }
}
