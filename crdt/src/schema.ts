import type { Doc, ImmutableString } from '@automerge/automerge'

/**
 * The shape of a shard document, as written by honest devices.
 *
 * The root holds one subtree per device, keyed by its actor id, and nothing else: a device may only write inside its
 * own subtree (authorship.ts enforces this on every remote change), so no member can create, alter or delete another
 * member's messages or reactions. There are deliberately no shared containers at the root: two devices that both
 * created `root.messages` concurrently would produce a conflict where one device's container silently loses.
 *
 * Every string is an `ImmutableString`. In Automerge 3 a plain JS string becomes a collaborative Text object, which
 * costs one op per character (measured: 3x slower loads, 3x memory); these strings are replaced, never co-edited.
 *
 * Readers must not trust this shape: a malicious device can put anything in its own subtree, so selectors parse
 * defensively and skip what does not fit. The types here are for writers.
 */
export interface AttachmentObj {
  id: ImmutableString
  name: ImmutableString
  size: number
  mime: ImmutableString
  sha256hex: ImmutableString
}

export interface MessageObj {
  id: ImmutableString
  /** Only 'text' today; other kinds from newer clients are shown as unsupported rather than dropped. */
  kind: ImmutableString
  /** The original body; '' once deleted, and '' when the text is sealed in `box`. Edits do not overwrite it, they are added to `edits`. */
  body: ImmutableString
  /**
   * The text sealed under a key kept outside the document (the core's per-message content key), so that forgetting
   * the key makes every copy of the history unreadable. At most MAX_BOX_BYTES.
   */
  box?: Uint8Array
  /** Encoded HLC of the send (hlc.ts `encodeHlc`). */
  hlc: ImmutableString
  /** The device's 0-based count of messages sent before this one, across all shards; the third part of the order key. */
  seq: number
  /** `refKey` (ref.ts) of the message this one answers. */
  replyTo?: ImmutableString
  /** Accounts (64 hex characters) the message mentions, at most MAX_MENTIONS. */
  mentions?: ImmutableString[]
  /** Plain attachment metadata: read from older documents, never written by Hearth (files travel sealed in `media`). */
  attachments?: AttachmentObj[]
  /**
   * The message's files (photos, documents), sealed under the same content key as `box`: each file's blob id, its
   * key and what the bubble shows (name, type, size, placeholder). Edits change the caption only. At most
   * MAX_MEDIA_BYTES.
   */
  media?: Uint8Array
  /** Encoded edit HLC -> replacement body (text, or sealed like `box`). The greatest key is the current body. */
  edits?: Record<string, ImmutableString | Uint8Array>
  deleted?: true
}

/** emoji -> reacted. `false` is kept rather than deleting the key so an un-react is an ordinary overwrite. */
export type ReactionObj = Record<string, boolean>

export interface DeviceSubtree {
  /** message id -> message */
  m: Record<string, MessageObj>
  /** refKey of the target message -> reactions by this device */
  r: Record<string, ReactionObj>
  /**
   * refKey of another device's message -> true: this device, as an admin, deleted it for everyone. Only a claim:
   * readers honour it only if the membership log says the device's account may (the core decides, not the document).
   */
  x?: Record<string, true>
}

export type ShardRoot = Record<string, DeviceSubtree>

export type Shard = Doc<ShardRoot>

export const MESSAGE_KIND_TEXT = 'text'

/** Longest body, in UTF-16 code units (JS string length). */
export const MAX_BODY_CHARS = 16_000
export const MAX_ATTACHMENTS = 32
export const MAX_MENTIONS = 50
/** A sealed body: the longest text the core sends (32 KiB of UTF-8) plus the AEAD's nonce and tag, with room to spare. */
export const MAX_BOX_BYTES = 48 * 1024
/** Sealed file descriptions of one message: ten files with long names fit with room to spare. */
export const MAX_MEDIA_BYTES = 16 * 1024
export const MAX_ATTACHMENT_NAME_CHARS = 255
export const MAX_MIME_CHARS = 255
/** An emoji with skin tone and ZWJ sequences fits easily; the bound only stops reactions being used as messages. */
export const MAX_EMOJI_CHARS = 32
