/**
 * One open chat's messages, as a pure reducer: pages from `messages.page`, live `message.added` / `message.updated`
 * events and the composer's optimistic rows all merge here.
 *
 * Invariants:
 *  - `messages` is sorted by `orderKey` (the total order every replica computes, fixed for a message's life) with no
 *    two entries of one id;
 *  - an event or page never makes a message go back to an older state (a late page cannot undo "read");
 *  - optimistic rows (typed here, not yet accepted by the core) come after every real message, in the order typed,
 *    and each disappears as soon as the core's real message for it is known.
 */
import type { AttachmentState, AttachmentView, FileReceiptView, MessageState, MessageView, Page, ReplyQuote } from '../../../node/src/api/types.js'

/** A file of a message being sent, as its row shows it until the core has the message. */
export interface OptimisticFile {
  name: string
  size: number
  kind: 'image' | 'file'
}

export interface OptimisticMessage {
  localId: string
  body: string
  /** When it was typed, epoch ms (shown until the core's timestamp replaces it). */
  at: number
  /** `sending` while the core has not answered; `failed` if it refused (the reason is in `error`). */
  status: 'sending' | 'failed'
  error: string | null
  /** The files it carries, if any; `sent` counts the bytes of all of them the core has taken so far. */
  files?: OptimisticFile[]
  sent?: number
}

/** A `file.progress` event: how far one file of a message has come on this device. */
export interface FileProgress {
  messageId: string
  index: number
  state: AttachmentState
  received: number
  error?: string | undefined
  /** Ours only: who fetched it from this device (AttachmentView.receivedBy / recipients). */
  receivedBy?: FileReceiptView[] | undefined
  recipients?: number | undefined
}

export interface ChatState {
  messages: MessageView[]
  optimistic: OptimisticMessage[]
  /** Cursor for the next older page; null when the oldest page is loaded. */
  nextBefore: string | null
  /** True once the newest page arrived. */
  loaded: boolean
  loadingOlder: boolean
  error: string | null
}

export type ChatAction =
  | { type: 'page'; page: Page; older: boolean }
  | { type: 'loadingOlder' }
  | { type: 'loadFailed'; error: string }
  | { type: 'upsert'; message: MessageView }
  | { type: 'optimisticAdded'; localId: string; body: string; at: number; files?: OptimisticFile[] }
  | { type: 'optimisticProgress'; localId: string; sent: number }
  | { type: 'fileProgress'; progress: FileProgress }
  | { type: 'optimisticSent'; localId: string; message: MessageView }
  | { type: 'optimisticFailed'; localId: string; error: string }
  | { type: 'optimisticRetried'; localId: string }
  | { type: 'optimisticDiscarded'; localId: string }

export const initialChatState: ChatState = {
  messages: [],
  optimistic: [],
  nextBefore: null,
  loaded: false,
  loadingOlder: false,
  error: null,
}

/** How far along each state is: pending → sent → delivered → read. */
const STATE_RANK: Record<Exclude<MessageState, 'failed'>, number> = { pending: 1, sent: 2, delivered: 3, read: 4 }

/**
 * Whether a message may go from `from` to `to`. Forward only, with two exceptions: a message nobody has received yet
 * can fail (its sender was removed), and a failed one can go anywhere (retry makes it pending again).
 */
export function mayMove(from: MessageState, to: MessageState): boolean {
  if (from === 'failed') return true
  if (to === 'failed') return from === 'pending' || from === 'sent'
  return STATE_RANK[to] >= STATE_RANK[from]
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'page': {
      const messages = mergeSorted(state.messages, action.page.messages)
      // The newest page sets the cursor only the first time; later refreshes of the newest page must not reset it.
      const nextBefore = action.older || !state.loaded ? action.page.nextBefore : state.nextBefore
      return {
        ...state,
        messages,
        nextBefore,
        loaded: true,
        loadingOlder: action.older ? false : state.loadingOlder,
        error: null,
      }
    }
    case 'loadingOlder':
      return { ...state, loadingOlder: true, error: null }
    case 'loadFailed':
      return { ...state, loadingOlder: false, error: action.error }
    case 'upsert': {
      const at = indexOfMessage(state.messages, action.message)
      // Deleted for me: it leaves the screen (pages leave it out too); replies to it lose their text.
      if (action.message.hidden === true) {
        const without = at === -1 ? state.messages : [...state.messages.slice(0, at), ...state.messages.slice(at + 1)]
        return { ...state, messages: withQuotesOf(without, action.message) }
      }
      const merged = mergeSorted(state.messages, [action.message])
      return {
        ...state,
        messages: merged === state.messages ? merged : withQuotesOf(merged, action.message),
        optimistic: at === -1 ? withoutAccepted(state.optimistic, action.message) : state.optimistic,
      }
    }
    case 'optimisticAdded': {
      const row: OptimisticMessage = { localId: action.localId, body: action.body, at: action.at, status: 'sending', error: null }
      if (action.files !== undefined && action.files.length > 0) Object.assign(row, { files: action.files, sent: 0 })
      return { ...state, optimistic: [...state.optimistic, row] }
    }
    case 'optimisticProgress':
      return { ...state, optimistic: state.optimistic.map((o) => (o.localId === action.localId ? { ...o, sent: action.sent } : o)) }
    case 'fileProgress':
      return withFileProgress(state, action.progress)
    case 'optimisticSent':
      return {
        ...state,
        messages: mergeSorted(state.messages, [action.message]),
        optimistic: state.optimistic.filter((o) => o.localId !== action.localId),
      }
    case 'optimisticFailed':
      return { ...state, optimistic: state.optimistic.map((o) => (o.localId === action.localId ? { ...o, status: 'failed', error: action.error } : o)) }
    case 'optimisticRetried':
      return {
        ...state,
        optimistic: state.optimistic.map((o) => (o.localId === action.localId ? { ...o, status: 'sending', error: null, ...(o.files === undefined ? {} : { sent: 0 }) } : o)),
      }
    case 'optimisticDiscarded':
      return { ...state, optimistic: state.optimistic.filter((o) => o.localId !== action.localId) }
  }
}

/**
 * Merges messages into a sorted list: new ids are inserted in order, known ids are replaced unless that would move
 * the state backwards. Linear in the list for a page, logarithmic search for a single event at the end (the common
 * case: a new message is the newest).
 */
export function mergeSorted(current: MessageView[], incoming: MessageView[]): MessageView[] {
  if (incoming.length === 0) return current
  const byId = new Map<string, number>()
  // Small inputs (one event) look their id up by search instead of indexing the whole list.
  const lookup = (id: string, orderKey: string): number => {
    if (incoming.length > 8) {
      if (byId.size === 0) current.forEach((m, i) => byId.set(m.id, i))
      return byId.get(id) ?? -1
    }
    return indexOfMessage(current, { id, orderKey })
  }
  let next: MessageView[] | undefined
  const fresh: MessageView[] = []
  for (const message of incoming) {
    const at = lookup(message.id, message.orderKey)
    if (at === -1) {
      fresh.push(message)
      continue
    }
    const old = current[at]!
    const merged = newer(old, message)
    if (merged !== old) {
      next ??= current.slice()
      next[at] = merged
    }
  }
  const base = next ?? current
  if (fresh.length === 0) return base
  fresh.sort(compareMessages)
  // Dedup within the incoming batch itself.
  const unique = fresh.filter((m, i) => i === 0 || m.id !== fresh[i - 1]!.id)
  if (base.length === 0) return unique
  // Common cases: a page of older messages (all before) or new ones (all after).
  if (compareMessages(unique.at(-1)!, base[0]!) < 0) return [...unique, ...base]
  if (compareMessages(unique[0]!, base.at(-1)!) > 0) return [...base, ...unique]
  const out: MessageView[] = []
  let i = 0
  let j = 0
  while (i < base.length || j < unique.length) {
    if (j >= unique.length || (i < base.length && compareMessages(base[i]!, unique[j]!) <= 0)) out.push(base[i++]!)
    else out.push(unique[j++]!)
  }
  return out
}

function newer(old: MessageView, incoming: MessageView): MessageView {
  if (!mayMove(old.state, incoming.state)) {
    // The state stays where it got to, but whatever else changed (an edit, a reaction, a quote) still shows.
    return sameContent(old, incoming) ? old : { ...incoming, state: old.state, failure: old.failure }
  }
  return incoming
}

function sameContent(a: MessageView, b: MessageView): boolean {
  return (
    a.body === b.body &&
    a.edited === b.edited &&
    a.deleted === b.deleted &&
    (a.withdrawn ?? null) === (b.withdrawn ?? null) &&
    sameReactions(a.reactions, b.reactions) &&
    sameQuote(a.replyTo, b.replyTo) &&
    sameAttachments(a.attachments, b.attachments)
  )
}

function sameAttachments(a: AttachmentView[] | undefined, b: AttachmentView[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.length === b.length && a.every((x, i) => sameAttachment(x, b[i]!))
}

function sameAttachment(a: AttachmentView, b: AttachmentView): boolean {
  return (
    a.index === b.index &&
    a.state === b.state &&
    a.received === b.received &&
    a.error === b.error &&
    a.name === b.name &&
    a.recipients === b.recipients &&
    sameReceipts(a.receivedBy, b.receivedBy)
  )
}

function sameReceipts(a: FileReceiptView[] | undefined, b: FileReceiptView[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.length === b.length && a.every((x, i) => x.device === b[i]!.device && x.received === b[i]!.received && x.complete === b[i]!.complete && x.displayName === b[i]!.displayName)
}

/**
 * A file moved on: the one attachment of the loaded message changes, nothing else. Progress events come often while a
 * file downloads and carry only the file's own state; one for a message not loaded (or a file it does not have) is
 * dropped (the page brings the file's state when the message is loaded). A late event never takes a complete file
 * back to downloading.
 */
function withFileProgress(state: ChatState, progress: FileProgress): ChatState {
  const i = state.messages.findIndex((m) => m.id === progress.messageId)
  if (i === -1) return state
  const message = state.messages[i]!
  const attachments = message.attachments
  const at = attachments?.findIndex((a) => a.index === progress.index) ?? -1
  if (attachments === undefined || at === -1) return state
  const old = attachments[at]!
  if (old.state === 'complete' && (progress.state === 'downloading' || progress.state === 'waiting')) return state
  const next: AttachmentView = { ...old, state: progress.state, received: progress.received }
  if (progress.error === undefined) delete next.error
  else next.error = progress.error
  if (progress.receivedBy !== undefined) {
    next.receivedBy = progress.receivedBy
    next.recipients = progress.recipients ?? 0
  }
  if (sameAttachment(old, next)) return state
  const messages = state.messages.slice()
  messages[i] = { ...message, attachments: attachments.map((a, j) => (j === at ? next : a)) }
  return { ...state, messages }
}

function sameReactions(a: Record<string, string[]>, b: Record<string, string[]>): boolean {
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((k) => {
    const x = a[k]!
    const y = b[k]
    return y !== undefined && x.length === y.length && x.every((v, i) => v === y[i])
  })
}

function sameQuote(a: ReplyQuote | null | undefined, b: ReplyQuote | null | undefined): boolean {
  if (a == null || b == null) return (a ?? null) === (b ?? null)
  return a.id === b.id && a.body === b.body && a.deleted === b.deleted && a.missing === b.missing && a.authorName === b.authorName
}

/**
 * What a reply quoting `original` shows now. The core draws quotes when it hands a message out, so a reply already on
 * screen would keep the text it was loaded with: this applies the original's edit, deletion or arrival to it.
 */
export function quoteFrom(quote: ReplyQuote, original: MessageView): ReplyQuote {
  if (original.withdrawn) return { ...quote, body: '', deleted: false, missing: true }
  const gone = original.deleted || original.hidden === true
  return { ...quote, author: original.author, authorName: original.authorName, body: gone ? '' : original.body, deleted: original.deleted, missing: false }
}

/** Loaded replies to `original` with their quotes brought up to date; the same array when none changed. */
export function withQuotesOf(messages: MessageView[], original: MessageView): MessageView[] {
  let next: MessageView[] | undefined
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    if (m.replyTo?.id !== original.id) continue
    const quote = quoteFrom(m.replyTo, original)
    if (sameQuote(quote, m.replyTo)) continue
    next ??= messages.slice()
    next[i] = { ...m, replyTo: quote }
  }
  return next ?? messages
}

function compareMessages(a: MessageView, b: MessageView): number {
  return a.orderKey < b.orderKey ? -1 : a.orderKey > b.orderKey ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** Where a message is in a sorted list, or -1. A message's order key never changes (it is derived from its clock). */
export function indexOfMessage(list: MessageView[], message: { id: string; orderKey: string }): number {
  for (let j = lowerBound(list, message.orderKey); j < list.length && list[j]!.orderKey === message.orderKey; j++) {
    if (list[j]!.id === message.id) return j
  }
  return -1
}

/** First index whose orderKey is >= key. */
function lowerBound(list: MessageView[], key: string): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]!.orderKey < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * Drops the optimistic row the core has just accepted. The core announces a sent message (`message.added`) before it
 * answers the send, so a new message of ours with the body of the oldest row still sending is that row: without this
 * the message would show twice for a moment.
 */
function withoutAccepted(optimistic: OptimisticMessage[], message: MessageView): OptimisticMessage[] {
  if (optimistic.length === 0 || !message.mine) return optimistic
  const i = optimistic.findIndex((o) => o.status === 'sending' && o.body === message.body)
  return i === -1 ? optimistic : [...optimistic.slice(0, i), ...optimistic.slice(i + 1)]
}
