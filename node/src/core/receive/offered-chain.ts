import { keyAt } from '../../../common/crypto/sender-chain.js'
import { fromBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, parseEnvelopeFrame, type EnvelopeFrame, type OpenedEnvelopeHeader } from '../../../common/wire/envelope.js'
import type { StreamState } from '../../store/core-store.js'
import { parseStreamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'

/**
 * Chains handed on by another device (docs/adr/0033, membership/hand-on-chains.ts) are offers: the device that handed
 * one may be wrong or lying, and a stream read with a wrong chain would have every message counted bad and skipped
 * for good. So an offer becomes the stream's chain only once it opens one of the sender's own envelopes, which the
 * sender signed: the chain that opens the envelope at one position is the sender's chain from its start.
 */

/** Offers kept per stream until one is checked; only the devices that sealed us the epoch may make them. */
export const MAX_OFFERS = 4
/** Content envelopes an offer is tried on: a sender's first envelope may itself be garbage it wrote. */
const TRIES = 3
/** Envelopes read from the stream's start to find those content envelopes (control envelopes come first). */
const SCAN = 256

/** Adds a chain offer to a stream that has none of its own; false when it is not needed or not kept. */
export function addOffer(s: StreamState, chain: string): boolean {
  const offers = s.offered ?? []
  if (s.chain !== null || offers.includes(chain) || offers.length >= MAX_OFFERS) return false
  s.offered = [...offers, chain]
  return true
}

export type OfferOutcome = 'taken' | 'waiting' | 'refused'

/**
 * Tries a stream's offers against its stored content envelopes. `taken`: the stream now has its chain (from index 0)
 * and the caller stores the state with what it processes. `waiting`: nothing to check against yet. `refused`: no
 * offer opened an envelope; they are dropped, counted, and the state is stored here.
 */
export async function checkOffers(kernel: Kernel, rt: ConversationRuntime, key: StreamKey, s: StreamState): Promise<OfferOutcome> {
  const offers = s.offered ?? []
  const { epoch, device } = parseStreamKey(key)
  const keys = rt.epochs.get(epoch)
  if (s.chain !== null || offers.length === 0 || s.have === 0 || keys === undefined) return 'waiting'
  const contents: Array<{ seq: number; frame: EnvelopeFrame; header: OpenedEnvelopeHeader }> = []
  const stored = await kernel.store.envelopesAfter(rt.id, epoch, device, 0, Math.min(SCAN, s.have))
  for (const bytes of stored) {
    try {
      const frame = parseEnvelopeFrame(bytes)
      // Verified before it was stored: decrypting the header is enough to read its kind and position.
      const header = openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false })
      if (header.kind === EnvelopeKind.content) contents.push({ seq: header.seq, frame, header })
    } catch {
      continue
    }
    if (contents.length >= TRIES) break
  }
  if (contents.length === 0) return 'waiting'
  for (const offer of offers) {
    const chain = { chainKey: fromBase64Url(offer), index: 0 }
    const opens = contents.some(({ seq, frame, header }) => {
      try {
        openEnvelopeBody(frame, header, keyAt(chain, seq).key)
        return true
      } catch {
        return false
      }
    })
    if (opens) {
      s.chain = { key: offer, index: 0 }
      s.granted = offer
      delete s.offered
      return 'taken'
    }
    kernel.counters.count('bad-forwarded-chain')
  }
  delete s.offered
  await kernel.store.commit([kernel.store.putStream(rt.id, epoch, device, s)], false)
  return 'refused'
}
