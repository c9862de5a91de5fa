/**
 * Domain-separation labels. Every KDF and every signature uses exactly one of these, so a key or signature made for
 * one purpose can never be replayed as another. The version lives in the string: changing a construction means a
 * new label, never reusing an old one with a different meaning.
 */
export const Labels = {
  accountFromRecovery: 'hearth/v1/account-from-recovery',
  sealedBox: 'hearth/v1/sealed-box',
  chainMessageKey: 'hearth/v1/chain-message-key',
  keystore: 'hearth/v1/keystore',
  topic: 'hearth/v1/topic',
  controlKey: 'hearth/v1/control-key',
  envelopeSig: 'hearth/v1/envelope-sig',
  deviceCert: 'hearth/v1/device-cert',
  dbRecord: 'hearth/v1/db-record',
  invite: 'hearth/v1/invite',
  mailbox: 'hearth/v1/mailbox',
  epochTag: 'hearth/v1/epoch-tag',
  headerKey: 'hearth/v1/header-key',
  membershipOp: 'hearth/v1/membership-op',
  syncAuth: 'hearth/v1/sync-auth',
  joinRequest: 'hearth/v1/join-request',
  // Relay mailbox capabilities (crypto/mailbox-capability.ts): keys from a mailbox secret, the id, request signatures.
  mailboxDepositKey: 'hearth/v1/mailbox-deposit-key',
  mailboxReadKey: 'hearth/v1/mailbox-read-key',
  mailboxId: 'hearth/v1/mailbox-id',
  mailboxRequest: 'hearth/v1/mailbox-request',
  mailboxReaderTag: 'hearth/v1/mailbox-reader-tag',
  // Linking a device (crypto/pairing.ts): the transcript's prefix and the box's associated data, then one key each.
  pair: 'hearth/v1/pair',
  pairProofE: 'hearth/v1/pair-proof-e',
  pairProofN: 'hearth/v1/pair-proof-n',
  pairSas: 'hearth/v1/pair-sas',
  pairBox: 'hearth/v1/pair-box',
  // Restoring from the recovery phrase across the internet (core/devices/restore-rendezvous.ts).
  restoreMailbox: 'hearth/v1/restore-mailbox',
  restoreAnnounce: 'hearth/v1/restore-announce',
} as const

export type Label = (typeof Labels)[keyof typeof Labels]
