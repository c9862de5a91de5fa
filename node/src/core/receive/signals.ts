import { openEnvelopeBody } from '../../../common/wire/envelope.js'
import { decodeSignal } from '../../history/payloads.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import type { Receipts } from '../receipts/receipts.js'
import type { Typing } from '../receipts/typing.js'
import type { Admitted } from './admission.js'

/** A signal envelope (seq 0: never part of a stream) to the part that handles its type. */
export function signalRouter(kernel: Kernel, receipts: Receipts, typing: Typing) {
  return async (rt: ConversationRuntime, { frame, header, keys, device }: Admitted): Promise<void> => {
    let signal
    try {
      signal = decodeSignal(openEnvelopeBody(frame, header, keys.controlKey))
    } catch {
      kernel.counters.count('bad-signal')
      return
    }
    if (signal.type === 'receipt') await receipts.onReceipt(rt, device, signal.receipt)
    else typing.onTyping(rt, device, signal.typing)
  }
}
