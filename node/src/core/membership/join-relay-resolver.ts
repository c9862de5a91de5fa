/**
 * A short invite resolved through a relay while the device that made it is offline (docs/adr/0027).
 *
 * The device that made an invite deposits the rest of it (the full invite without its secret, sealed under the short
 * secret's answer key exactly as a lookup answer is) in a mailbox whose secret derives from the short secret, on each
 * of the conversation's relays. A short link whose locator is a relay circuit names such a relay: the joiner reads
 * that mailbox and takes the first deposit that opens. Only holders of the short secret can find the mailbox or open
 * what is in it; someone else holding the code could deposit an invite of their own making, but the device that made
 * the invite deposits first (when it makes it), so the first one that opens is its own.
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { multiaddr } from '@multiformats/multiaddr'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { HearthError } from '../../../common/errors.js'
import { concatBytes, utf8 } from '../../../common/util/bytes.js'
import type { InviteCode } from '../../conversation/invite-code.js'
import { openInviteDetails, sealInviteDetails, type InviteDetails, type ShortInviteKeys } from '../../conversation/short-invite-keys.js'
import type { ShortInvite } from '../../conversation/short-invite.js'
import type { MailboxPort } from '../relays/relay-mailboxes.js'
import { UNREACHABLE_MESSAGE, type InviteResolver } from './invite-resolver.js'

/** The "responder" the sealed invite is bound to: a relay deposit, never a lookup answer from a device. */
export const RELAY_INVITE_RESPONDER = 'hearth-relay-invite'
/** Deposits read from the mailbox: the first that opens wins. */
const MAX_ITEMS = 50

/** The mailbox where a short invite's full invite waits: its secret derives from the short secret's answer key. */
export function shortInviteMailbox(keys: ShortInviteKeys): MailboxKeys {
  const info = concatBytes(utf8('hearth/v1/short-invite-mailbox'), Uint8Array.of(0))
  return deriveMailboxKeys(nobleHkdf(nobleSha256, keys.answerKey, undefined, info, 32))
}

/** What the inviting device deposits: the invite without its secret, sealed as a lookup answer is. */
export const sealedInviteForRelay = (keys: ShortInviteKeys, details: InviteDetails): Uint8Array =>
  sealInviteDetails(keys, RELAY_INVITE_RESPONDER, details)

/** The relay a circuit locator goes through (with its /p2p/), or null for a direct locator. */
export function relayOfLocator(locator: Uint8Array): string | null {
  let text: string
  try {
    text = multiaddr(locator).toString()
  } catch {
    return null
  }
  const circuit = text.indexOf('/p2p-circuit')
  if (circuit < 0) return null
  const relay = text.slice(0, circuit)
  return relay.includes('/p2p/') ? relay : null
}

export class RelayMailboxResolver implements InviteResolver {
  readonly name = 'relay-mailbox'

  constructor(private readonly port: MailboxPort) {}

  async resolve(short: ShortInvite, keys: ShortInviteKeys, signal: AbortSignal): Promise<InviteCode> {
    const relay = relayOfLocator(short.locator)
    if (relay === null) throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE)
    let items
    try {
      items = (await this.port.fetch(relay, shortInviteMailbox(keys), { after: null, limit: MAX_ITEMS, signal })).items
    } catch (err) {
      throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE, { cause: err })
    }
    for (const item of items) {
      try {
        return openInviteDetails(keys, RELAY_INVITE_RESPONDER, item.bytes)
      } catch {
        // Not this invite (garbage, or sealed under another key): the next deposit may be.
      }
    }
    throw new HearthError('UNREACHABLE', UNREACHABLE_MESSAGE)
  }
}
