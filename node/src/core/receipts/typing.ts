import { encodeHlc } from '../../../../crdt/src/index.js'
import type { TypingPayload } from '../../history/payloads.js'
import { encodeTyping } from '../../history/payloads.js'
import type { ConversationId, DeviceId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { sealSignal } from '../send/own-stream.js'

/** While someone types, their device says so this often at most; the UI refreshes on each. */
export const TYPING_REFRESH_MS = 3_000
/** A typing indicator without a refresh clears after this long (a few refreshes may be lost to gossip). */
export const TYPING_SHOWN_MS = 7_000

/**
 * Typing indicators: a signal (never stored, never deposited on a relay), sent at most every few seconds while the
 * person types, shown for a few seconds after the last one. A message from the same person clears it (the UI does).
 */
export class Typing {
  private readonly lastSent = new Map<ConversationId, number>()

  constructor(private readonly kernel: Kernel) {}

  /** The person is typing in a conversation: tell its members, unless we did a moment ago. */
  async typing(id: ConversationId): Promise<void> {
    const { identity, node, now } = this.kernel
    const rt = this.kernel.runtime(id)
    const keys = rt.epochs.get(rt.log.currentEpoch)
    if (rt.record.removed || keys === undefined) return
    const at = now()
    if (at - (this.lastSent.get(id) ?? Number.NEGATIVE_INFINITY) < TYPING_REFRESH_MS) return
    this.lastSent.set(id, at)
    await node.publish(keys.topic, sealSignal(identity, keys, encodeTyping({ hlc: encodeHlc(this.kernel.tick()) })))
  }

  /** A member's device says its person is typing. */
  onTyping(rt: ConversationRuntime, device: DeviceId, _payload: TypingPayload): void {
    const cert = rt.log.knownDevices.get(device)
    if (cert === undefined || !rt.log.members.has(cert.account)) return
    this.kernel.events.emit('typing', {
      conversation: rt.id,
      account: cert.account,
      displayName: rt.log.names.get(cert.account) ?? cert.displayName,
      until: this.kernel.now() + TYPING_SHOWN_MS,
    })
  }
}
