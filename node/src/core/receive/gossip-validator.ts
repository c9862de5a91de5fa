import type { ConversationRuntime } from '../conversation-runtime.js'
import { streamKey } from '../conversation-runtime.js'
import { envelopeIdHex, positionKey, type Withdrawals } from '../equivocation.js'
import type { GossipRateLimit } from '../gossip-rate-limit.js'
import type { Kernel } from '../kernel.js'
import type { Admission } from './admission.js'

export type GossipVerdict = 'accept' | 'reject' | 'ignore'

/**
 * Gossip validator: runs before a message is forwarded. Only what a member can check cheaply: the header decrypts
 * with this epoch's key, the device may write here, the signature verifies. Duplicates are ignored (not forwarded,
 * not penalised); anything else that fails is rejected, which scores the forwarding peer down.
 */
export function gossipValidator(kernel: Kernel, admission: Admission, rate: GossipRateLimit, withdrawals: Withdrawals) {
  return (rt: ConversationRuntime, data: Uint8Array, from: string): GossipVerdict => {
    const verdict = admission.check(rt, data)
    if (verdict.ok) {
      const s = rt.streams.get(streamKey(verdict.epoch, verdict.device))
      if (verdict.header.seq !== 0 && s && verdict.header.seq <= s.have) {
        // A different version of a position we hold is equivocation evidence: forward it (gossipsub's seen cache makes
        // that once; not from the allowance, which replayed old envelopes must not drain) and let ingest compare it with
        // the stored one. Only a version seen before is a plain duplicate.
        // A position already known to be equivocated takes no more versions: a member cannot flood with them.
        const position = positionKey(verdict.epoch, verdict.device, verdict.header.seq)
        if (!withdrawals.isConflict(rt.id, position) && withdrawals.seen.lookup(rt.id, position, envelopeIdHex(data)) !== 'same') {
          return 'accept'
        }
        kernel.counters.count('duplicate')
        return 'ignore'
      }
      // New positions only spend the device's allowance (replayed old envelopes must not spend it); past it, neither
      // forwarded nor processed now, nobody blamed: sync fetches the rest later.
      if (rate.take(rt.id, verdict.device)) return 'accept'
      kernel.counters.count('rate-limited')
      return 'ignore'
    }
    if (verdict.reason === 'own') return 'ignore'
    kernel.counters.count(verdict.reason)
    // Possibly a member whose admission we have not seen yet: drop without blame; sync settles it.
    if (verdict.reason === 'unknown-device') return 'ignore'
    kernel.events.emit('security.rejected', { reason: verdict.reason, peer: from })
    return 'reject'
  }
}
