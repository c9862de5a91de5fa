import { sealTo } from '../../../common/crypto/sealed-box.js'
import { fromBase64Url } from '../../../common/util/bytes.js'
import { sealContext } from '../../conversation/epoch-keys.js'
import { memberDevices } from '../../conversation/membership-log.js'
import type { MembershipOp } from '../../conversation/membership-op.js'
import { encodeChainGrant, type ForwardedChain } from '../../history/payloads.js'
import type { DeviceId, EpochId } from '../../ids.js'
import type { StreamState } from '../../store/core-store.js'
import { parseStreamKey, type ConversationRuntime } from '../conversation-runtime.js'

/**
 * Handing on received chains (docs/adr/0033). A device that seals an epoch to a newcomer (an `add-device` linking a
 * device of its account, a `reseal` for a device restored from the phrase) also hands it the chains of the epoch's
 * other senders that it holds, so the newcomer reads the whole epoch even when a sender never comes online again (a
 * member who left, a lost device). The recipient takes a handed-on chain only once it opens one of that sender's
 * envelopes (receive/offered-chain.ts): a wrong one costs nothing.
 */

/** The context a handed-on chain is sealed under: bound to the conversation, the epoch and the chain's sender. */
export const forwardedChainContext = (conversation: string, epoch: string, sender: string) => sealContext('chain-forward', conversation, `${epoch}/${sender}`)

/** Which device an operation seals epochs to, for the two operations that admit a device of an existing account. */
export function sealedDevice(op: MembershipOp): { device: DeviceId; epochs: EpochId[] } | undefined {
  const body = op.body
  if (body.type === 'add-device') return { device: body.cert.device as DeviceId, epochs: body.seals.map((s) => s.epoch as EpochId) }
  if (body.type === 'reseal') return { device: body.device as DeviceId, epochs: body.seals.map((s) => s.epoch as EpochId) }
  return undefined
}

/** The chain a stream was granted with (index 0), if this device still knows it. */
export function grantedChain(s: StreamState): string | undefined {
  if (s.granted !== undefined) return s.granted
  // A stream whose chain never moved holds it as granted (records written before `granted` existed).
  return s.chain !== null && s.chain.index === 0 ? s.chain.key : undefined
}

/** The key that says one chain was handed to one device: `${epoch}/${recipient}/${sender}`. */
const handedKey = (epoch: string, device: string, sender: string) => `${epoch}/${device}/${sender}`

/**
 * The chains `me` should hand on now: for each epoch `me` sealed to a device by one of its own (valid) operations,
 * every chain `me` holds in that epoch from a sender other than itself and the recipient, not handed before. The
 * recipient must still be a member device and in the current epoch (it reads the keys envelope there).
 */
export function chainsToHandOn(rt: ConversationRuntime, me: DeviceId, handed: ReadonlySet<string>): Array<ForwardedChain & { key: string }> {
  const readers = memberDevices(rt.log)
  const current = rt.log.epochs.get(rt.log.currentEpoch)
  const out: Array<ForwardedChain & { key: string }> = []
  for (const op of rt.ops.values()) {
    if (op.author.device !== me || rt.log.unauthorized.has(op.hash)) continue
    const sealed = sealedDevice(op)
    if (sealed === undefined || sealed.device === me) continue
    const cert = readers.get(sealed.device)
    if (cert === undefined || current?.devices.has(sealed.device) !== true) continue
    for (const epoch of sealed.epochs) {
      for (const [streamKey, state] of rt.streams) {
        const { epoch: e, device: sender } = parseStreamKey(streamKey)
        if (e !== epoch || sender === me || sender === sealed.device) continue
        const chain = grantedChain(state)
        const key = handedKey(epoch, sealed.device, sender)
        if (chain === undefined || handed.has(key)) continue
        const box = sealTo(cert.dhPublic, encodeChainGrant(fromBase64Url(chain)), forwardedChainContext(rt.id, epoch, sender))
        out.push({ device: sealed.device, epoch, sender, box, key })
      }
    }
  }
  return out
}
