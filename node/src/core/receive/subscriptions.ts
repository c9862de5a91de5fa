import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import type { GossipVerdict } from './gossip-validator.js'

/**
 * Keeps a conversation's gossip subscriptions to the topics of the epochs we hold (none once we were removed), each
 * with the validator in front and the inbox behind it.
 */
export function refreshSubscriptions(
  kernel: Kernel,
  rt: ConversationRuntime,
  validate: (rt: ConversationRuntime, data: Uint8Array, from: string) => GossipVerdict,
  receive: (rt: ConversationRuntime, data: Uint8Array, from: string) => void,
): void {
  const { node } = kernel
  const wanted = new Set<string>()
  if (!rt.record.removed) for (const keys of rt.epochs.values()) wanted.add(keys.topic)
  for (const topic of rt.topics) {
    if (!wanted.has(topic)) {
      node.unsubscribe(topic)
      rt.topics.delete(topic)
    }
  }
  for (const topic of wanted) {
    if (rt.topics.has(topic)) continue
    rt.topics.add(topic)
    node.setTopicValidator(topic, (data, from) => validate(rt, data, from))
    node.subscribe(topic, (data, from) => receive(rt, data, from))
  }
}
