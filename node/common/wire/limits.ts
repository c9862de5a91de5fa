/**
 * Wire limits. Every decoder checks its input against one of these before it parses anything, so a peer cannot make
 * us allocate or work in proportion to what it claims. docs/LIMITS.md explains each figure.
 */
export const Limits = {
  /** An encrypted envelope, as gossiped, synced and stored on relays: one cap on every path, relays included. */
  maxEnvelopeBytes: 64 * 1024,
  /** A message body in UTF-8 bytes: leaves room for the Automerge change and the envelope overhead. */
  maxBodyBytes: 32 * 1024,
  /** One frame of a request/response protocol (a page of sync carries many envelopes). */
  maxFrameBytes: 4 * 1024 * 1024 - 64 * 1024,
  /** Envelopes in one sync page. */
  maxEnvelopesPerPage: 256,
  /** A membership operation (it carries one sealed epoch secret per member device). */
  maxMembershipOpBytes: 256 * 1024,
  /** An invite code as text. A QR code in byte mode holds up to 2,953 bytes; stay well below. */
  maxInviteChars: 1_500,
  /** The longest an invite that expires may last (one that never expires is asked for as such). */
  maxInviteLifetimeMs: 365 * 24 * 3600_000,
  /**
   * Members in one conversation. A rotation seals the new epoch secret to every member device inside one envelope
   * (about 175 bytes each), so the envelope cap bounds this: 200 single-device members fit with room to spare.
   */
  maxMembers: 200,
  /** Devices one member may bring. */
  maxDevicesPerMember: 8,
} as const
