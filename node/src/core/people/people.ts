/**
 * Verifying a person (docs/adr/0031-safety-numbers.md): the safety number between this account and another, the QR
 * payload to show or scan, and the verified mark, kept in step across this account's devices (own-sync-verified.ts).
 * Only people this device shares a conversation with can be verified here: an account nobody here has met has no key
 * worth checking yet. A mark from another device of ours is kept whoever it names, and shows once they are met.
 */
import { safetyNumber, scannedMatches, type FingerprintParty } from '../../../common/crypto/safety-number.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import type { MemberView, SafetyNumberView, SystemLineView } from '../../api/types.js'
import { idBytes, type AccountId, type ConversationId } from '../../ids.js'
import type { Kernel } from '../kernel.js'
import type { VerifiedPeople, VerifiedRecord } from './verified-people.js'

/** A QR payload is ~72 bytes; its base64 ~100 characters. The API bounds the text before it arrives here. */
export const MAX_SCANNED_CHARS = 256

/**
 * Hearth's party for the safety number: the account's Ed25519 public key, and as the stable identifier the account id,
 * which is that same key (Signal binds the key to a phone number or ACI; Hearth has no other identifier to bind).
 */
/**
 * The timeline's line kinds (membership-events.ts) that mean a person's set of devices changed. A new kind of device
 * event is one more entry here; its line then carries the "verify again" notice like the others.
 */
export const DEVICE_CHANGE_KINDS: ReadonlySet<string> = new Set(['device-changed', 'device-added', 'device-revoked'])

/** Whom a device line is about: its target, or for a person's own act (a device they added) the actor. */
function personOf(line: SystemLineView): AccountId {
  return (line.target ?? line.actor) as AccountId
}

export function accountParty(account: AccountId): FingerprintParty {
  const key = idBytes(account)
  return { key, id: key }
}

export class People {
  /** Told of a mark set or cleared here (not of those `applyFromOwnDevice` sets), within its write: own-sync stamps it. */
  onChange: ((account: AccountId, record: VerifiedRecord | null) => void) | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly verified: VerifiedPeople,
    private readonly membersChanged: (conversation: ConversationId) => void,
  ) {}

  safetyNumber(account: AccountId): SafetyNumberView {
    this.requireKnown(account)
    const n = this.compute(account)
    const state = this.stateOf(account)
    return {
      digits: n.digits,
      qr: Buffer.from(n.qr).toString('base64'),
      verified: state.verified,
      ...(state.verifiedDevicesChanged === true ? { verifiedDevicesChanged: true } : {}),
    }
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
    // Bound to the devices seen now: one that appears later asks for verifying again.
    await this.verified.verify(account, account, scanned === undefined ? 'compared' : 'scanned', this.devicesOf(account), this.written(account))
    this.announce(account)
  }

  async unverify(account: AccountId): Promise<void> {
    this.requireKnown(account)
    await this.verified.unverify(account, this.written(account))
    this.announce(account)
  }

  /** Every mark held here, by account. */
  marks(): ReadonlyMap<AccountId, VerifiedRecord> {
    return this.verified.all()
  }

  /**
   * The mark another device of ours set or cleared (`null`), unless a change made here meanwhile wins
   * (`stillWanted`). True when written. A mark of oneself is refused: no device of ours makes one.
   */
  async applyFromOwnDevice(account: AccountId, record: VerifiedRecord | null, stillWanted: () => boolean): Promise<boolean> {
    if (account === this.kernel.identity.account) throw new HearthError('MALFORMED', 'a verified mark of this account itself')
    const written = await this.verified.replace(account, record, stillWanted)
    if (written) this.announce(account)
    return written
  }

  /** Member views with the verified mark of everyone but oneself. */
  decorate(members: MemberView[]): MemberView[] {
    return members.map((m) => (m.me ? m : { ...m, ...this.stateOf(m.account as AccountId) }))
  }

  /**
   * The timeline's lines with the key-change notice: for each person verified here whose devices changed since, their
   * latest device line says so and offers to verify again. Only the latest, so a long history does not repeat it;
   * it goes away once they are verified again. Which line is decided by the device set, never by the lines' clocks
   * (a peer chooses those).
   */
  decorateLines(id: ConversationId, lines: SystemLineView[]): SystemLineView[] {
    const rt = this.kernel.runtime(id)
    const latest = new Map<AccountId, number>()
    lines.forEach((line, i) => {
      if (DEVICE_CHANGE_KINDS.has(line.kind)) latest.set(personOf(line), i)
    })
    if (latest.size === 0) return lines
    const noticed = new Set<number>()
    for (const [account, i] of latest) {
      if (account === this.kernel.identity.account) continue
      if (this.stateOf(account).verifiedDevicesChanged === true) noticed.add(i)
    }
    if (noticed.size === 0) return lines
    return lines.map((line, i) => {
      if (!noticed.has(i)) return line
      const account = personOf(line)
      const name = rt.log.names.get(account) ?? 'Someone'
      return { ...line, verifyAgain: { account, displayName: name, text: `${name}’s devices changed since you verified them. Verify ${name} again.` } }
    })
  }

  private written(account: AccountId) {
    return (record: VerifiedRecord | null) => this.onChange?.(account, record)
  }

  /** The verified mark of a person, against their key and every device of theirs this device knows of. */
  private stateOf(account: AccountId) {
    return this.verified.stateOf(account, account, this.devicesOf(account))
  }

  /** The person's devices in every conversation shared with them. */
  private devicesOf(account: AccountId): Set<string> {
    const devices = new Set<string>()
    for (const rt of this.kernel.conversations.values()) {
      const member = rt.log.members.get(account)
      if (member !== undefined) for (const device of member.devices.keys()) devices.add(device)
    }
    return devices
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
