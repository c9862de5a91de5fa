/**
 * Verifying a person (docs/adr/0031-safety-numbers.md): the safety number between this account and another, the QR
 * payload to show or scan, and the verified mark kept on this device. Only people this device shares a conversation
 * with can be verified: an account nobody here has met has no key worth checking yet.
 */
import { safetyNumber, scannedMatches, type FingerprintParty } from '../../../common/crypto/safety-number.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { MemberView, SafetyNumberView } from '../../api/types.js'
import { idBytes, type AccountId, type ConversationId } from '../../ids.js'
import type { Kernel } from '../kernel.js'
import type { VerifiedPeople } from './verified-people.js'

/** A QR payload is ~72 bytes; its base64 ~100 characters. The API bounds the text before it arrives here. */
export const MAX_SCANNED_CHARS = 256

/**
 * Hearth's party for the safety number: the account's Ed25519 public key, and as the stable identifier the account id,
 * which is that same key (Signal binds the key to a phone number or ACI; Hearth has no other identifier to bind).
 */
export function accountParty(account: AccountId): FingerprintParty {
  const key = idBytes(account)
  return { key, id: key }
}

export class People {
  constructor(
    private readonly kernel: Kernel,
    private readonly verified: VerifiedPeople,
    private readonly membersChanged: (conversation: ConversationId) => void,
  ) {}

  safetyNumber(account: AccountId): SafetyNumberView {
    this.requireKnown(account)
    const n = this.compute(account)
    return { digits: n.digits, qr: Buffer.from(n.qr).toString('base64'), verified: this.verified.stateOf(account, account).verified }
  }

  /**
   * Marks the person verified. With `scanned` (the base64 text of their QR code), only when it matches: a code of
   * someone else, or of a key either side does not hold, is refused with VERIFY_MISMATCH and nothing is stored.
   */
  async verify(account: AccountId, scanned?: string): Promise<void> {
    this.requireKnown(account)
    if (scanned !== undefined) {
      const payload = decodeScanned(scanned)
      if (!matches(this.compute(account).qr, payload)) {
        this.kernel.counters.count('verify-mismatch')
        throw new HearthError(
          'VERIFY_MISMATCH',
          'This code does not match: it is not this person’s, or one of you sees a different key. Do not mark them verified.',
        )
      }
    }
    await this.verified.verify(account, account, scanned === undefined ? 'compared' : 'scanned')
    this.announce(account)
  }

  async unverify(account: AccountId): Promise<void> {
    this.requireKnown(account)
    await this.verified.unverify(account)
    this.announce(account)
  }

  /** Member views with the verified mark of everyone but oneself. */
  decorate(members: MemberView[]): MemberView[] {
    return members.map((m) => (m.me ? m : { ...m, ...this.verified.stateOf(m.account as AccountId, m.account) }))
  }

  private compute(account: AccountId) {
    return safetyNumber(accountParty(this.kernel.identity.account), accountParty(account))
  }

  private requireKnown(account: AccountId): void {
    if (account === this.kernel.identity.account) throw new HearthError('INVALID_INPUT', 'That is you: a safety number is between you and someone else.')
    if (this.conversationsWith(account).length === 0) throw new HearthError('NOT_FOUND', 'You have no conversation with this person.')
  }

  private conversationsWith(account: AccountId): ConversationId[] {
    return [...this.kernel.conversations.values()].filter((rt) => rt.log.members.has(account)).map((rt) => rt.id)
  }

  /** Member lists showing this person are shown again with the new mark. */
  private announce(account: AccountId): void {
    for (const id of this.conversationsWith(account)) this.membersChanged(id)
  }
}

/** `scannedMatches`, with its refusals of what is not a code in words for the person who scanned it. */
function matches(ours: Uint8Array, scanned: Uint8Array): boolean {
  try {
    return scannedMatches(ours, scanned)
  } catch (err) {
    if (isHearthError(err, 'UNSUPPORTED_VERSION')) {
      throw new HearthError('UNSUPPORTED_VERSION', 'This code was made by a newer Hearth. Update Hearth, or compare the digits instead.', { cause: err })
    }
    if (isHearthError(err, 'MALFORMED')) throw new HearthError('MALFORMED', NOT_A_CODE, { cause: err })
    throw err
  }
}

const NOT_A_CODE = 'This is not a Hearth safety number code.'

/** The scanned text as bytes; MALFORMED when it is not base64 of a plausible size. */
function decodeScanned(text: string): Uint8Array {
  if (text.length > MAX_SCANNED_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new HearthError('MALFORMED', NOT_A_CODE)
  }
  return Buffer.from(text, 'base64')
}
