import { keyAt } from '../../../common/crypto/sender-chain.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, sealEnvelope } from '../../../common/wire/envelope.js'
import type { EpochKeys } from '../../conversation/epoch-keys.js'
import type { Identity } from '../../identity/identity.js'
import type { OwnChain } from '../../store/core-store.js'

export interface SealedOwn {
  /** The envelope, signed by this device. */
  bytes: Uint8Array
  /** Its position in our stream of the epoch. */
  seq: number
  /** Our chain after it: to be written in the same batch as the envelope. */
  next: OwnChain
}

/**
 * The one place that writes into our own stream: the next position, sealed and signed. Content is encrypted with that
 * position's sender-chain key; control envelopes (membership operations, keys) with the epoch's control key, and the
 * chain cursor still moves with the position, because content keys are indexed by position and skipped positions
 * then cost nothing later.
 */
export function sealOwn(identity: Identity, keys: EpochKeys, own: OwnChain, kind: EnvelopeKind, body: Uint8Array, secrets?: Uint8Array): SealedOwn {
  const seq = own.next
  const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: seq }, seq)
  const bytes = sealEnvelope({
    keys: keys.envelope,
    header: { device: identity.deviceKey.publicKey, seq, kind },
    bodyKey: kind === EnvelopeKind.content ? step.key : keys.controlKey,
    body,
    signingSeed: identity.deviceKey.seed,
    secrets,
  })
  return { bytes, seq, next: { ...own, next: seq + 1, cursorKey: toBase64Url(step.next.chainKey) } }
}

/** A signal (a receipt, typing): no position in the stream (seq 0), sealed with the control key, never stored. */
export function sealSignal(identity: Identity, keys: EpochKeys, body: Uint8Array): Uint8Array {
  return sealEnvelope({
    keys: keys.envelope,
    header: { device: identity.deviceKey.publicKey, seq: 0, kind: EnvelopeKind.signal },
    bodyKey: keys.controlKey,
    body,
    signingSeed: identity.deviceKey.seed,
  })
}
