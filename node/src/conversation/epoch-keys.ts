import { hkdf } from '../../common/crypto/kdf.js'
import { Labels } from '../../common/crypto/labels.js'
import { toHex, utf8 } from '../../common/util/bytes.js'
import type { EnvelopeKeys } from '../../common/wire/envelope.js'
import type { EpochId } from '../ids.js'

/**
 * Everything a member needs per epoch derives from the epoch secret, each with its own label, so learning one key
 * (say, a relay learning a mailbox id) reveals nothing about the others. A new epoch starts when the conversation is
 * created and whenever a member is removed: the removed member never receives the new secret.
 */
export interface EpochKeys {
  id: EpochId
  envelope: EnvelopeKeys
  /** Encrypts membership, key-distribution and signal envelopes. */
  controlKey: Uint8Array
  /** Gossipsub topic: opaque, and different in every epoch, so a removed member cannot even find it. */
  topic: string
  /** Shared by the epoch's members; the relay mailbox keys and id derive from it (common/crypto/mailbox-capability). */
  mailboxSecret: Uint8Array
}

export function deriveEpochKeys(epochSecret: Uint8Array): EpochKeys {
  const epochTag = hkdf(Labels.epochTag, epochSecret, { length: 8 })
  return {
    id: toHex(epochTag) as EpochId,
    envelope: { epochTag, headerKey: hkdf(Labels.headerKey, epochSecret) },
    controlKey: hkdf(Labels.controlKey, epochSecret),
    topic: `/hearth/c/${toHex(hkdf(Labels.topic, epochSecret, { length: 20 }))}`,
    mailboxSecret: hkdf(Labels.mailbox, epochSecret),
  }
}

/** Associated data that binds a sealed epoch secret or chain key to its conversation and purpose. */
export function sealContext(purpose: string, conversation: string, epoch: string): Uint8Array {
  return utf8(`hearth/v1/${purpose}\u0000${conversation}\u0000${epoch}`)
}
