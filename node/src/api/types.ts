/**
 * Shapes the core API returns. They are plain JSON so the same values cross a MessagePort, a WebSocket and the CLI's
 * `--json` output unchanged.
 */
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
  reactions: Record<string, string[]>
  mine: boolean
  state: MessageState
  failure: string | null
}

export interface ConversationSummary {
  id: string
  kind: 'direct' | 'group'
  name: string
  createdAt: number
  lastActivity: number
  lastMessage: { body: string; authorName: string; at: number } | null
  unread: number
  memberCount: number
  role: 'admin' | 'member' | null
  removed: boolean
}

export interface MemberView {
  account: string
  displayName: string
  role: 'admin' | 'member'
  devices: Array<{ device: string; peerId: string; online: boolean }>
  me: boolean
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
