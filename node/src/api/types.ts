/**
 * Shapes the core API returns. They are plain JSON so the same values cross a MessagePort, a WebSocket and the CLI's
 * `--json` output unchanged.
 */
import type { MuteSetting } from './mute.js'

export type MessageState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed'

export interface MessageView {
  id: string
  conversation: string
  author: string
  authorName: string
  device: string
  /** Encoded hybrid logical clock; `sentAt` is its wall-clock part in ms. */
  hlc: string
  sentAt: number
  /** Position in the total order every replica computes; also the pagination cursor. */
  orderKey: string
  body: string
  edited: boolean
  deleted: boolean
  /** Set when an admin deleted someone else's message for everyone: the admin's account (docs/adr/0026). */
  deletedBy?: string | undefined
  reactions: Record<string, string[]>
  mine: boolean
  state: MessageState
  failure: string | null
  /**
   * Set when the message was withdrawn on every member: 'conflict' when its device signed two different messages for
   * one position (equivocation), 'removed' when it was written after its author's removal. Body and reactions are
   * empty; pages leave withdrawn messages out, events carry them so a screen showing one can mark it. Absent: no.
   */
  withdrawn?: 'conflict' | 'removed' | null
  /** The message this one answers, drawn from the original as it is now (edited, deleted or not held). */
  replyTo?: ReplyQuote | null
  /** Accounts the message mentions. */
  mentions?: string[]
  /** True when it mentions this account. */
  mentionsMe?: boolean
  /** Deleted for me on this device: a screen showing it removes it; pages leave it out. */
  hidden?: boolean
  /** Photos and files the message carries (its `body` is then the caption, perhaps empty). */
  attachments?: AttachmentView[]
}

/**
 * Where a file of a message is on this device: `complete` (readable with files.read), `uploading` (ours, still being
 * stored), `downloading`, `waiting` (no one who has it is reachable yet), `available` (larger than the automatic
 * download size: on click), `failed` (with `error`), `removed` (cleared from this device or deleted).
 */
export type AttachmentState = 'complete' | 'uploading' | 'downloading' | 'waiting' | 'available' | 'failed' | 'removed'

export interface AttachmentView {
  /** Position in the message: the `index` of files.read / files.download. */
  index: number
  name: string
  /** Bytes of the file itself (not its padded, encrypted form). */
  size: number
  /** The type sniffed from the bytes (by the sender, then again here once complete); never the name's extension. */
  mime: string
  kind: 'image' | 'file'
  width?: number
  height?: number
  /** A tiny placeholder image (thumbhash, base64) to show until the image itself is here. */
  thumbhash?: string
  state: AttachmentState
  /** Bytes held so far. */
  received: number
  error?: string
  /** A type that can run code when opened (executables, scripts, installers): open only after a warning. */
  risky?: boolean
  /**
   * Ours only: the other member devices that fetched some or all of the file from this device (`complete` once every
   * chunk went to them). Fetches from another member or a relay are not seen here, so this is a lower bound.
   */
  receivedBy?: FileReceiptView[]
  /** Ours only: how many member devices other than this one the conversation has now (the "of" in "2 of 3"). */
  recipients?: number
}

/** One member device that fetched our file from this device. */
export interface FileReceiptView {
  account: string
  displayName: string
  device: string
  /** Bytes it fetched from us so far (about; the file's size once complete). */
  received: number
  complete: boolean
}

/** Bytes of files this device keeps for one conversation. */
export interface FileUsageView {
  conversationId: string
  bytes: number
}

/** What a reply shows of the message it answers: never a copy kept with the reply, always the original now. */
export interface ReplyQuote {
  id: string
  author: string
  authorName: string
  /** The original's text now; '' when it was deleted or is not held here. */
  body: string
  deleted: boolean
  /** True when this device does not hold the original (not synced yet, or from before it joined). */
  missing: boolean
}

/** One version of an edited message. */
export interface MessageVersionView {
  body: string
  /** Wall-clock ms of the send or the edit. */
  at: number
}

/** Who holds and who has read one message (from their devices' receipts). */
export interface SeenByView {
  read: Array<{ account: string; displayName: string }>
  /** Hold it but have not read it yet. */
  delivered: Array<{ account: string; displayName: string }>
}

/** A member device that signed conflicting messages in a conversation (equivocation); its messages there are hidden. */
export interface ConflictView {
  account: string
  displayName: string
  device: string
  /** How many positions it signed twice. */
  positions: number
  /** When this device first learnt of it (ms). */
  at: number
}

export interface ConversationSummary {
  id: string
  kind: 'direct' | 'group'
  name: string
  createdAt: number
  lastActivity: number
  lastMessage: { body: string; authorName: string; at: number } | null
  unread: number
  /** Unread messages that mention this account. */
  unreadMentions?: number
  memberCount: number
  role: 'admin' | 'member' | null
  removed: boolean
  /** Devices that sent conflicting messages here (the UI shows a banner). Absent: none. */
  conflicts?: ConflictView[]
  /** This person's mute here, as in force now (a lapsed timed mute reads as 'all'). Absent: not muted. */
  mute?: MuteSetting
  /** Put out of sight under "Archived" by this person. Absent: no. */
  archived?: boolean
  /** When this person pinned it to the top (pins are shown in this order), or null. Absent: not pinned. */
  pinnedAt?: number | null
  /** A group's description ('' when it has none). Absent: a direct chat. */
  description?: string
  /** True when this person left the group (then `removed` is true too: it is read-only here). Absent: no. */
  left?: boolean
  /**
   * A join not finished yet: 'waiting' (asked through the conversation's relay; the first admin back lets us in) or
   * 'refused' (`joinRefusal` says why, in words). Absent: a conversation we are in (or were removed from).
   */
  joinState?: 'waiting' | 'refused'
  /** Why the join was refused and what to do next, for the person to read. */
  joinRefusal?: string
  /**
   * History this device knows exists here but has not got or read yet (a linked or restored device, or one back after a
   * long time away, catching up): the UI shows "Getting history… 40%". Absent: caught up.
   */
  history?: HistoryProgressView
}

/** How far a conversation's history has arrived on this device (`ConversationSummary.history`). */
export interface HistoryProgressView {
  /**
   * Envelopes of this catch-up got so far, one held but not read yet counting half (a newcomer's keys often come after
   * the envelopes they open: the bar moves while those arrive).
   */
  have: number
  /**
   * Envelopes this catch-up is known to need; it grows as members tell of more. Equal to `have` when only `waiting`
   * is left (nothing more to fetch now).
   */
  total: number
  /**
   * Envelopes held that can be read only once their senders' keys arrive (when one of those devices, or one that
   * was given them, is online). Absent: none.
   */
  waiting?: number
  /** Whose keys those wait for, with names as shown. Present with `waiting`. */
  waitingFor?: Array<{ account: string; displayName: string }>
}

/**
 * A line of what happened in a conversation (joined, left, removed, added back, renamed, described, role changed, a
 * device changed, a person linked or removed one of their own devices), derived from its membership log: the same on
 * every member. Shown among the messages by `hlc`.
 */
export interface SystemLineView {
  /** The membership operation it comes from. */
  id: string
  kind: 'created' | 'joined' | 'added' | 'added-back' | 'removed' | 'left' | 'role' | 'about' | 'device-changed' | 'device-added' | 'device-revoked'
  /** Encoded hybrid logical clock of the operation; `at` is its wall-clock part in ms. */
  hlc: string
  at: number
  /** Who did it (for joined and left: who joined or left). */
  actor: string
  /** Whom it was done to, or null. */
  target: string | null
  /** The line as a person reads it, with current names ("Alice renamed the group to Cousins"). */
  text: string
  /**
   * On the latest device line of a person verified on this device whose devices changed since: the notice to show
   * ("Alice’s devices changed since you verified them…") and whom to verify again. This device's own view only.
   */
  verifyAgain?: { account: string; displayName: string; text: string }
}

/**
 * A request to start a direct chat between two devices nearby: `incoming` (someone asks us; accept or decline) or
 * `outgoing` (we asked; 'declined' once they said no).
 */
export interface ChatRequestView {
  id: string
  direction: 'incoming' | 'outgoing'
  peerId: string
  /** The asking account (incoming only). */
  account: string | null
  /** The asker's name from its device certificate (incoming), or the name we know the other device by, or null. */
  displayName: string | null
  conversationId: string
  at: number
  expiresAt: number
  state: 'pending' | 'declined'
}

/** An invite that can still admit someone (`conversations.invites`). */
export interface InviteView {
  id: string
  /** Epoch ms when it was made. */
  createdAt: number
  /** Epoch ms; 0 means it never expires. */
  expiresAt: number
  singleUse: boolean
  /** Accounts that joined with it. */
  uses: number
  /** `hearth://j/…` to read out, type or scan; null when another device made it (or it predates short links). */
  shortLink: string | null
  /** The full `hearth://join/…` link (works without the maker online to answer lookups); null like `shortLink`. */
  code: string | null
}

export interface MemberView {
  account: string
  displayName: string
  role: 'admin' | 'member'
  devices: Array<{ device: string; peerId: string; online: boolean }>
  me: boolean
  /** This person checked the member's safety number on this device (absent for oneself). */
  verified?: boolean
  /** Verified once, but the member's account key is no longer the one that was verified: the UI says so plainly. */
  verifiedKeyChanged?: boolean
  /** Verified once, but a device of theirs appeared since (docs/adr/0031, addendum): shown as "needs re-verification". */
  verifiedDevicesChanged?: boolean
}

/** The safety number between this account and another (docs/adr/0031-safety-numbers.md). */
export interface SafetyNumberView {
  /** 60 digits, the same on both sides; shown as 12 groups of five. */
  digits: string
  /** Base64 of the QR payload this device shows, for the other person to scan. */
  qr: string
  verified: boolean
  /** Verified once, but a device of theirs appeared since: the number is the same, the devices behind it are not. */
  verifiedDevicesChanged?: boolean
}

/** A former member (removed by an admin): shown so an admin can add them back. */
export interface RemovedMemberView {
  account: string
  displayName: string
  /** True when they left by themselves (an admin adds them back the same way). Absent: removed by an admin. */
  left?: boolean
}

export interface PeerView {
  peerId: string
  /** Display name when the peer is a device of someone we share a conversation with. */
  displayName: string | null
  addresses: string[]
}

export interface WhoAmI {
  account: string
  device: string
  displayName: string
  peerId: string
  addresses: string[]
}

export interface Page {
  messages: MessageView[]
  /** Pass as `before` to get the next older page; null when this is the oldest. */
  nextBefore: string | null
}

/** What a person configured. A new `displayName` reaches every conversation's members as a `profile` operation. */
export interface SettingsView {
  displayName: string
  /** Relay multiaddrs, each ending in /p2p/<relay PeerId>. */
  relays: string[]
  /** Files up to this size download by themselves when a member's device has them (bytes; 0: never). */
  autoDownloadPeerBytes: number
  /** The same when a relay is the only source (bytes; 0: never). */
  autoDownloadRelayBytes: number
  /** The largest file this device sends (bytes). */
  maxFileBytes: number
  /**
   * Room received photos and files may take on this device (bytes; 0: no limit). Beyond it the least recently opened
   * are removed from this device (they can be downloaded again); files sent from here are never removed.
   */
  keepReceivedBytes: number
}

/**
 * Where the app host is in its life: no identity yet (`new`), a new identity waiting for its recovery phrase to be
 * confirmed (`confirming`, nothing saved yet), an identity on disk that is not open (`locked`), opening the core
 * (`starting`), serving the core API (`ready`), or shut down (`stopped`).
 */
export type AppState = 'new' | 'confirming' | 'linking' | 'locked' | 'starting' | 'ready' | 'stopped'

export interface AppStatus {
  state: AppState
  /** True when creating, restoring and unlocking take a passphrase (false where the OS keychain wraps the keys). */
  needsPassphrase: boolean
  /** Why the app is where it is, when the UI should say so: 'revoked' — another device of the account unlinked this one, which wiped itself. */
  notice?: 'revoked'
}

/** The code a new device shows so a device already in the account can link it (`app.linkStart`). */
export interface LinkOfferView {
  /** hearth://link/…: for the QR code, and grouped for typing. */
  link: string
  /** When the code stops working (ms). */
  expiresAt: number
}

/** The new device's side of linking, step by step (`app.linking`). */
export interface NewDeviceLinkingView {
  stage: 'waiting' | 'confirm' | 'receiving' | 'failed'
  /** `waiting`: the code to show. */
  link?: string
  expiresAt?: number
  /** `confirm`: the 6 digits both screens show. */
  code?: string
  /** `failed`: why, in words for the person. */
  error?: string
}

export interface AppInfo {
  /** Hearth's own version (package.json). */
  version: string
  dataDir: string
  /** Runtime versions worth telling in a bug report: node, and electron/chrome where they run. */
  runtime: Record<string, string>
}

/** The account area of Settings: what this device can show and change about how its keys are kept. */
export interface AccountStatus {
  /** False on a device set up before the phrase was kept in the identity file: it cannot show the phrase. */
  recoveryPhraseKept: boolean
  /** What wraps the identity file: a passphrase the person types, or the OS keychain (desktop safeStorage). */
  protection: 'passphrase' | 'keychain'
}

/** The recovery phrase shown again; null where this device has none kept. Never logged nor pushed as an event. */
export interface RecoveryPhraseView {
  phrase: string | null
}

export interface CreatedIdentity {
  /** The 24-word recovery phrase; kept (as its entropy) in the wrapped identity file, shown again only on request. */
  recoveryPhrase: string
  /** 1-based positions of the words the person must type back in `app.confirmRecovery`. */
  confirmPositions: number[]
}

/** One device of this account (Settings → Devices). */
export interface DeviceView {
  device: string
  peerId: string
  /** What the person calls it (its computer's name until renamed), kept in step across their devices. */
  name: string
  /** What it runs on (the operating system), or '' when not known yet. */
  kind: string
  /** This device. */
  current: boolean
  /** When the account key vouched for it (its certificate), ms. */
  linkedAt: number
  /** Connected now. */
  online: boolean
  /** When this device last saw it connected (ms), null if never since this device started; the current device: now. */
  lastSeen: number | null
}

/** How linking another device is going, on the device already in use (`devices.link`). */
export interface LinkProgressView {
  stage: 'connecting' | 'confirm' | 'admitting' | 'done' | 'failed'
  /** `confirm`: the 6 digits both screens show; the person compares them before anything is shared. */
  code?: string
  /** `failed`: why, in words for the person. */
  error?: string
}
