import { orderKeySeq, shardOf } from '../../../../../crdt/src/index.js'
import { HearthError } from '../../../../common/errors.js'
import type { MessageRow } from '../../../store/core-store.js'
import type { ConversationRuntime } from '../../conversation-runtime.js'

/**
 * Where a reaction, edit or delete of `row` must go: the shard document that holds it, in the epoch it was written in
 * (we must still hold that epoch's keys). Rows written before rows recorded their shard derive it from the author's
 * message count, which is how the author chose it.
 */
export function targetShard(rt: ConversationRuntime, row: MessageRow): { epoch: MessageRow['epoch']; shard: number } {
  if (!rt.epochs.has(row.epoch)) throw new HearthError('NOT_FOUND', 'that message is from before this device joined')
  if (row.withdrawn) throw new HearthError('NOT_FOUND', 'that message was withdrawn')
  return { epoch: row.epoch, shard: row.shard ?? shardOf(orderKeySeq(row.orderKey)) }
}
