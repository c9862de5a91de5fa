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

/** The devices `me` sealed epochs to by its own operations that the log accepted (an `add-device`, a `reseal`). */
export function sealedByMe(rt: ConversationRuntime, me: DeviceId): Array<{ device: DeviceId; epochs: EpochId[] }> {
  const out: Array<{ device: DeviceId; epochs: EpochId[] }> = []
  for (const op of rt.ops.values()) {
    if (op.author.device !== me || rt.log.unauthorized.has(op.hash)) continue
    const sealed = sealedDevice(op)
    if (sealed !== undefined && sealed.device !== me) out.push(sealed)
  }
  return out
}

/**
 * The chains `me` should hand on now: for each epoch it sealed to a device (`sealed`, from sealedByMe), every chain
 * `me` holds in that epoch from a sender other than itself and the recipient, not handed before. The recipient must
 * still be a member device and in the current epoch (it reads the keys envelope there).
 */
export function chainsToHandOn(
  rt: ConversationRuntime,
  me: DeviceId,
  sealed: ReadonlyArray<{ device: DeviceId; epochs: EpochId[] }>,
  handed: ReadonlySet<string>,
): Array<ForwardedChain & { key: string }> {
  const readers = memberDevices(rt.log)
  const current = rt.log.epochs.get(rt.log.currentEpoch)
  const out: Array<ForwardedChain & { key: string }> = []
  for (const { device, epochs } of sealed) {
    const cert = readers.get(device)
    if (cert === undefined || current?.devices.has(device) !== true) continue
    const wanted = new Set<string>(epochs)
    for (const [streamKey, state] of rt.streams) {
      const { epoch, device: sender } = parseStreamKey(streamKey)
      if (!wanted.has(epoch) || sender === me || sender === device) continue
      const chain = grantedChain(state)
      const key = handedKey(epoch, device, sender)
      if (chain === undefined || handed.has(key)) continue
      const box = sealTo(cert.dhPublic, encodeChainGrant(fromBase64Url(chain)), forwardedChainContext(rt.id, epoch, sender))
      out.push({ device, epoch, sender, box, key })
    }
  }
  return out
}
