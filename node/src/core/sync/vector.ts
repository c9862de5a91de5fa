import type { StreamPosition } from '../../sync/sync-frames.js'
import { parseStreamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'

/** How far we hold every stream of a conversation, ours included: what a sync request and a sync's end carry. */
export function vector(kernel: Kernel, rt: ConversationRuntime): StreamPosition[] {
  const out: StreamPosition[] = []
  for (const [key, s] of rt.streams) out.push({ ...parseStreamKey(key), seq: s.have })
  for (const epoch of rt.own.keys()) out.push({ epoch, device: kernel.identity.deviceId, seq: kernel.ownHave(rt, epoch) })
  return out
}
