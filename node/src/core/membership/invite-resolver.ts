import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { HearthNode } from '../../../common/net/create-node.js'
import { requestOne } from '../../../common/net/request-response.js'
import type { InviteCode } from '../../conversation/invite-code.js'
import { openInviteDetails, type ShortInviteKeys } from '../../conversation/short-invite-keys.js'
import type { ShortInvite } from '../../conversation/short-invite.js'
import { decodeLookupAnswer, encodeLookupRequest, INVITE_LOOKUP_LIMITS, INVITE_LOOKUP_PROTOCOL } from './join-lookup.js'

/**
 * Turns a short invite into the full invite it stands for. A short invite carries only a secret and one locator;
 * a resolver fetches the rest from some source and must return it only once it is proven by the secret (the answer
 * opened under the key the secret derives). The join then checks the membership log it is sent against the invite.
 *
 * A resolver either returns the invite or throws a HearthError:
 *  - UNREACHABLE: this source could not be asked; the joiner tries the next resolver;
 *  - INVITE_REVOKED / INVITE_USED / INVITE_EXPIRED: the source holds the invite and it can no longer admit anyone;
 *  - PROTOCOL_ERROR: the source answered with something that is not this invite.
 * Messages are written for the person joining: the UI shows them as they are.
 */
export interface InviteResolver {
  /** For logs: which source answered or failed. */
  readonly name: string
  resolve(short: ShortInvite, keys: ShortInviteKeys, signal: AbortSignal): Promise<InviteCode>
}

export const GONE_MESSAGE = 'This invite was revoked or has already been used: ask the person who invited you for a new one.'
export const EXPIRED_MESSAGE = 'This invite has expired: ask the person who invited you for a new one.'
export const UNREACHABLE_MESSAGE =
  'No one who can let you in is reachable right now: ask the person who invited you to open Hearth, then try again.'

/** How long reaching the locator may take before the joiner hears that no one is reachable. */
const DIAL_TIMEOUT_MS = 15_000

/**
 * Asks the device at the short invite's locator, which is online: dials it (learning its PeerId from the handshake,
 * since a short invite carries none), sends the lookup id and opens the answer.
 */
export class OnlinePeerResolver implements InviteResolver {
  readonly name = 'online-peer'

  constructor(private readonly node: HearthNode) {}

  async resolve(short: ShortInvite, keys: ShortInviteKeys, signal: AbortSignal): Promise<InviteCode> {
    const peer = await this.reach(multiaddr(short.locator), signal)
    if (peer === this.node.peerId) throw new HearthError('INVALID_INPUT', 'This invite was made on this device: send it to someone else.')
    let answer: Uint8Array
    try {
      answer = await requestOne(this.node, peer, INVITE_LOOKUP_PROTOCOL, encodeLookupRequest(keys.lookupId), INVITE_LOOKUP_LIMITS, { signal })
    } catch (err) {
      throw personError(err)
    }
    let box: Uint8Array
    try {
      box = decodeLookupAnswer(answer)
    } catch (err) {
      throw new HearthError('PROTOCOL_ERROR', 'The device at this address answered with something that is not this invite.', { cause: err })
    }
    const invite = openInviteDetails(keys, peer, box)
    // The join goes to the device that answered; an answer naming another one is not an answer about this invite.
    if (invite.peerId !== peer) throw new HearthError('PROTOCOL_ERROR', 'The device at this address answered for another device.')
    return invite
  }

  /** Connects to the locator and says who answered. A circuit without its relay's PeerId learns that first. */
  private async reach(address: Multiaddr, signal: AbortSignal): Promise<string> {
    const dial = async (ma: Multiaddr) => {
      try {
        const connection = await this.node.libp2p.dial(ma, { signal: AbortSignal.any([signal, AbortSignal.timeout(DIAL_TIMEOUT_MS)]) })
        return connection.remotePeer.toString()
      } catch (err) {
        throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: err })
      }
    }
    const text = address.toString()
    const circuit = text.indexOf('/p2p-circuit')
    if (circuit < 0) return dial(address)
    const relayPart = text.slice(0, circuit)
    if (relayPart.includes('/p2p/')) return dial(address)
    const relay = await dial(multiaddr(relayPart))
    return dial(multiaddr(`${relayPart}/p2p/${relay}${text.slice(circuit)}`))
  }
}

/** The lookup server's refusals, in words for the person joining; anything else means the device could not be asked. */
export function personError(err: unknown): HearthError {
  if (!isHearthError(err)) return new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: err })
  switch (err.code) {
    case 'NOT_FOUND':
    case 'INVITE_REVOKED':
    case 'INVITE_USED':
      return new HearthError(err.code === 'NOT_FOUND' ? 'INVITE_REVOKED' : err.code, GONE_MESSAGE, { cause: err })
    case 'INVITE_EXPIRED':
      return new HearthError('INVITE_EXPIRED', EXPIRED_MESSAGE, { cause: err })
    case 'REMOVED':
    case 'PROTOCOL_ERROR':
    case 'INVITE_INVALID':
      return err
    default:
      return new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: err })
  }
}
