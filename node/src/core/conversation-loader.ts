import { HearthError } from '../../common/errors.js'
import { deriveEpochKeys } from '../conversation/epoch-keys.js'
import { computeLog } from '../conversation/membership-log.js'
import { decodeOp, type MembershipOp } from '../conversation/membership-op.js'
import type { DeviceId, OpHash } from '../ids.js'
import type { ConversationRecord, CoreStore } from '../store/core-store.js'
import { streamKey, type ConversationRuntime } from './conversation-runtime.js'

/** Reads one conversation's membership log, epoch keys, our chains and other devices' stream positions from disk. */
export async function loadRuntime(store: CoreStore, me: DeviceId, record: ConversationRecord): Promise<ConversationRuntime> {
  const ops = new Map<OpHash, MembershipOp>()
  for (const bytes of await store.listOps(record.id)) {
    const op = decodeOp(bytes)
    ops.set(op.hash, op)
  }
  const log = computeLog(ops.values(), record.root as OpHash)
  if (log === undefined) throw new HearthError('CORRUPT_DATA', `conversation ${record.id} has no valid root`)
  const rt: ConversationRuntime = {
    id: record.id,
    record,
    ops,
    log,
    epochs: new Map(),
    streams: new Map(),
    own: new Map(),
    shards: new Map(),
    topics: new Set(),
  }
  for (const secret of await store.listEpochSecrets(record.id)) {
    const keys = deriveEpochKeys(secret)
    rt.epochs.set(keys.id, keys)
    const own = await store.getOwnChain(record.id, keys.id)
    if (own) rt.own.set(keys.id, own)
    const epoch = log.epochs.get(keys.id)
    for (const device of log.knownDevices.keys()) {
      if (device === me || (epoch && !epoch.devices.has(device))) continue
      const s = await store.getStream(record.id, keys.id, device)
      if (s) rt.streams.set(streamKey(keys.id, device), s)
    }
  }
  return rt
}

/** The record of a conversation this device just created or joined: nothing read, nothing said yet. */
export function newRecord(now: number, fields: Pick<ConversationRecord, 'id' | 'root' | 'kind' | 'name' | 'relays'>): ConversationRecord {
  return { ...fields, createdAt: now, lastActivity: now, lastMessage: null, unread: 0, readUpTo: '', removed: false, theirReadUpTo: '' }
}
