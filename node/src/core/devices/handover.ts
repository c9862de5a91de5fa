import { deriveEpochKeys } from '../../conversation/epoch-keys.js'
import type { EpochState } from '../../conversation/membership-log.js'
import type { EpochSeal } from '../../conversation/membership-op.js'
import type { DeviceCert } from '../../identity/device-cert.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { sealEpoch } from '../membership/membership-engine.js'
import type { LinkedConversation } from './pair-frames.js'

/**
 * What a device of ours hands another device entering a conversation (linked, devices.ts; restored, restore.ts): the
 * secrets of the epochs it reads that `wanted` picks, sealed to the device, and the conversation with its log.
 */
export async function sealEpochsTo(kernel: Kernel, rt: ConversationRuntime, cert: DeviceCert, wanted: (epoch: EpochState) => boolean): Promise<EpochSeal[]> {
  const seals: EpochSeal[] = []
  for (const secret of await kernel.store.listEpochSecrets(rt.id)) {
    const id = deriveEpochKeys(secret).id
    const epoch = rt.log.epochs.get(id)
    if (epoch === undefined || !epoch.devices.has(kernel.identity.deviceId) || !wanted(epoch)) continue
    seals.push({ epoch: id, box: sealEpoch(rt.id, id, secret, cert.dhPublic) })
  }
  return seals
}

/** The conversation as a device entering it takes it: its record's fields and every operation the log keeps. */
export function linkedConversation(rt: ConversationRuntime): LinkedConversation {
  return {
    id: rt.id,
    root: rt.record.root,
    kind: rt.record.kind,
    name: rt.record.name,
    createdAt: rt.record.createdAt,
    relays: rt.record.relays ?? [],
    ops: [...rt.ops.values()].filter((op) => !rt.log.unauthorized.has(op.hash)).map((op) => op.bytes),
  }
}
