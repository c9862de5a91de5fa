import type { AttachmentView, ConversationSummary, MessageView, Page } from '../../api/types.js'
import type { ConversationId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import { conflictViews, type Withdrawals } from '../equivocation.js'
import type { Kernel } from '../kernel.js'
import { conversationTitle } from './conversation-title.js'
import { historyProgressOf } from './history-progress.js'
import { filesOf } from './media-box.js'
import { lastMessageView, preview, quoteOf, sentAt, toView } from './views.js'

/**
 * What the UI reads: conversation summaries, pages of history, read positions, and the writes that change what a
 * screen already shows (row updates, withdrawals).
 */
export class ReadModel {
  /** The files of a row as the UI shows them now (blobs/file-service.ts); none until the file service is wired. */
  fileViews: (row: MessageRow) => Promise<AttachmentView[] | undefined> = () => Promise.resolve(undefined)

  constructor(
    private readonly kernel: Kernel,
    private readonly withdrawals: Withdrawals,
    /** Tells members how far we have read (receipts/). */
    private readonly readMoved: (id: ConversationId) => void,
  ) {
    // A conversation whose history is still arriving is announced as it moves (history-progress.ts).
    historyProgressOf(kernel).watch((id) => this.emitConversation(id))
  }

  summary(rt: ConversationRuntime): ConversationSummary {
    return {
      id: rt.id,
      kind: rt.record.kind,
      name: conversationTitle(rt.record.kind, rt.record.name, rt.log, this.kernel.identity.account),
      createdAt: rt.record.createdAt,
      lastActivity: rt.record.lastActivity,
      lastMessage: lastMessageView(rt.record.lastMessage, rt.log.names),
      unread: rt.record.unread,
      unreadMentions: rt.record.unreadMentions ?? 0,
      memberCount: rt.log.members.size,
      role: rt.log.members.get(this.kernel.identity.account)?.role ?? null,
      removed: rt.record.removed,
      conflicts: conflictViews(this.withdrawals.conflicts(rt.id), rt.log.names),
      ...(rt.log.kind === 'group' ? { description: rt.log.description } : {}),
      ...(rt.record.removed && rt.log.removed.get(this.kernel.identity.account)?.left === true ? { left: true } : {}),
      ...historyField(historyProgressOf(this.kernel).view(rt)),
    }
  }

  list(): ConversationSummary[] {
    return [...this.kernel.conversations.values()].map((rt) => this.summary(rt)).sort((a, b) => b.lastActivity - a.lastActivity)
  }

  emitConversation(id: ConversationId): void {
    const rt = this.kernel.conversations.get(id)
    if (rt) this.kernel.events.emit('conversation.updated', { conversation: this.summary(rt) })
  }

  async page(id: ConversationId, options: { before?: string | undefined; limit?: number | undefined } = {}): Promise<Page> {
    const rt = this.kernel.runtime(id)
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500)
    const rows = await this.kernel.store.pageMessages(id, limit, options.before)
    // Withdrawn messages are shown nowhere (equivocation.ts), hidden ones not here; the cursor still moves past them.
    const nextBefore = rows.length === limit ? rows.at(-1)!.orderKey : null
    const messages = await this.views(rt, rows.reverse().filter((row) => !row.withdrawn && !row.hidden))
    return { messages, nextBefore }
  }

  /**
   * Rows as the UI shows them: current author names, mentions of us, and for replies the original as it is now (read
   * from `pending` first: rows of the same batch not written yet).
   */
  async views(rt: ConversationRuntime, rows: MessageRow[], pending?: ReadonlyMap<string, MessageRow>): Promise<MessageView[]> {
    const wanted = [...new Set(rows.flatMap((r) => (r.replyTo !== undefined && !pending?.has(r.replyTo.id) ? [r.replyTo.id] : [])))]
    const originals = wanted.length === 0 ? new Map<MessageId, MessageRow>() : await this.kernel.store.getMessages(rt.id, wanted)
    const me = this.kernel.identity.account
    const views = rows.map((row) => {
      const ref = row.replyTo
      const quote = ref === undefined ? null : quoteOf(ref, pending?.get(ref.id) ?? originals.get(ref.id), rt.log.names)
      return toView(row, rt.log.names, me, quote)
    })
    for (const [i, row] of rows.entries()) {
      if (row.files === undefined) continue
      const attachments = await this.fileViews(row)
      if (attachments !== undefined) views[i]!.attachments = attachments
    }
    return views
  }

  async markRead(id: ConversationId, upTo?: string): Promise<ConversationSummary> {
    const { store, queue } = this.kernel
    const summary = await queue.run(async () => {
      const rt = this.kernel.runtime(id)
      const newest = (await store.pageMessages(id, 1))[0]?.orderKey ?? ''
      const target = upTo === undefined || upTo > newest ? newest : upTo
      if (target <= rt.record.readUpTo) return this.summary(rt)
      let unread = 0
      let unreadMentions = 0
      const me = this.kernel.identity.account
      for (const row of await store.messagesAfter(id, target, 10_000)) {
        if (row.mine || row.withdrawn || row.hidden) continue
        unread++
        if (row.mentions?.includes(me)) unreadMentions++
      }
      rt.record = { ...rt.record, readUpTo: target, unread, unreadMentions }
      await store.commit([store.putConversation(rt.record)], false)
      return this.summary(rt)
    })
    this.kernel.events.emit('conversation.updated', { conversation: summary })
    this.readMoved(id)
    return summary
  }

  /** Writes rows whose state or content changed and tells the UI. */
  async updateRows(id: ConversationId, rows: MessageRow[]): Promise<void> {
    const { store, events } = this.kernel
    await store.commit(rows.flatMap((r) => store.putMessage(r)), false)
    const rt = this.kernel.conversations.get(id)
    const views = rt === undefined ? rows.map((r) => toView(r)) : await this.views(rt, rows)
    for (const message of views) events.emit('message.updated', { conversation: id, message })
  }

  /** After a change of the membership log: withdraw what removed devices wrote beyond their cutoffs (equivocation.ts). */
  async withdrawBeyondCutoffs(rt: ConversationRuntime): Promise<void> {
    const { puts, rows } = await this.withdrawals.withdrawBeyondCutoffs(rt)
    if (puts.length === 0) return
    await this.kernel.store.commit(puts, true)
    await this.afterWithdrawal(rt, rows)
  }

  /** Tells the UI which messages were withdrawn, and keeps the conversation's preview from quoting one. */
  async afterWithdrawal(rt: ConversationRuntime, rows: MessageRow[]): Promise<void> {
    const { store, events } = this.kernel
    for (const r of rows) events.emit('message.updated', { conversation: rt.id, message: toView(r, rt.log.names) })
    const last = rt.record.lastMessage
    const quoted = last !== null && rows.some((r) => r.author === last.author && sentAt(r.hlc) === last.at)
    const unread = rows.filter((r) => !r.mine && r.author !== this.kernel.identity.account && r.orderKey > rt.record.readUpTo).length
    if (quoted || unread > 0) {
      const newest = quoted ? (await store.pageMessages(rt.id, 50)).find((r) => !r.withdrawn) : undefined
      const lastMessage = !quoted ? last : newest === undefined ? null : { body: preview(newest.body, filesOf(newest)), authorName: newest.authorName, author: newest.author, at: sentAt(newest.hlc) }
      rt.record = { ...rt.record, lastMessage, unread: Math.max(0, rt.record.unread - unread) }
      await store.commit([store.putConversation(rt.record)], false)
    }
    this.emitConversation(rt.id)
  }
}

const historyField = (history: ConversationSummary['history']): Pick<ConversationSummary, 'history'> => (history === undefined ? {} : { history })
