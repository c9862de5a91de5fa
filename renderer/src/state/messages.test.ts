import { describe, expect, it } from 'vitest'
import type { MessageView, ReplyQuote } from '../../../node/src/api/types.js'
import { message } from '../testing/fake-api.js'
import { chatReducer, initialChatState, mergeSorted, type ChatState } from './messages.js'

const keys = (state: ChatState) => state.messages.map((m) => m.orderKey)

describe('chatReducer', () => {
  it('merges pages and events in order key order, without duplicates', () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((k) => message({ orderKey: k, id: k.repeat(32) }))
    let state = chatReducer(initialChatState, { type: 'page', page: { messages: [c!, d!], nextBefore: 'c' }, older: false })
    expect(state.loaded).toBe(true)
    expect(state.nextBefore).toBe('c')
    state = chatReducer(state, { type: 'upsert', message: e! })
    state = chatReducer(state, { type: 'upsert', message: d! })
    state = chatReducer(state, { type: 'loadingOlder' })
    expect(state.loadingOlder).toBe(true)
    state = chatReducer(state, { type: 'page', page: { messages: [a!, b!], nextBefore: null }, older: true })
    expect(keys(state)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(state.nextBefore).toBeNull()
    expect(state.loadingOlder).toBe(false)
    // A late refresh of the newest page does not reset the cursor to an older position.
    state = chatReducer(state, { type: 'page', page: { messages: [d!, e!], nextBefore: 'd' }, older: false })
    expect(state.nextBefore).toBeNull()
    expect(keys(state)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('inserts a message that belongs in the middle (a peer caught up) at its place', () => {
    const list = ['a', 'c', 'e'].map((k) => message({ orderKey: k, id: k.repeat(32) }))
    const merged = mergeSorted(list, [message({ orderKey: 'd', id: 'd'.repeat(32) }), message({ orderKey: 'b', id: 'b'.repeat(32) })])
    expect(merged.map((m) => m.orderKey)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(mergeSorted(list, [])).toBe(list)
  })

  it('never moves a message back to an older state; only an undelivered one fails, and a failed one retries', () => {
    const sent = message({ orderKey: 'k', id: 'f'.repeat(32), mine: true, state: 'sent' })
    let state = chatReducer(initialChatState, { type: 'upsert', message: sent })
    state = chatReducer(state, { type: 'upsert', message: { ...sent, state: 'failed', failure: 'removed' } })
    expect(state.messages[0]).toMatchObject({ state: 'failed', failure: 'removed' })
    state = chatReducer(state, { type: 'upsert', message: { ...sent, state: 'pending', failure: null } })
    expect(state.messages[0]!.state).toBe('pending')
    state = chatReducer(state, { type: 'upsert', message: { ...sent, state: 'read' } })
    // A page fetched before the read receipt arrives after it: still read.
    state = chatReducer(state, { type: 'page', page: { messages: [{ ...sent, state: 'delivered' }], nextBefore: null }, older: false })
    expect(state.messages[0]!.state).toBe('read')
    state = chatReducer(state, { type: 'upsert', message: { ...sent, state: 'failed', failure: 'late' } })
    expect(state.messages[0]!.state).toBe('read')
    // Content changes still apply even when the state in the update is stale.
    state = chatReducer(state, { type: 'upsert', message: { ...sent, state: 'sent', body: 'edited', edited: true } })
    expect(state.messages[0]).toMatchObject({ state: 'read', body: 'edited', edited: true })
  })

  it('shows an optimistic row at once and replaces it by the real message, whichever comes first', () => {
    const old = message({ orderKey: 'a', id: 'a'.repeat(32) })
    let state = chatReducer(initialChatState, { type: 'page', page: { messages: [old], nextBefore: null }, older: false })
    state = chatReducer(state, { type: 'optimisticAdded', localId: '1', body: 'one', at: 1 })
    state = chatReducer(state, { type: 'optimisticAdded', localId: '2', body: 'two', at: 2 })
    expect(state.optimistic.map((o) => [o.body, o.status])).toEqual([
      ['one', 'sending'],
      ['two', 'sending'],
    ])
    // The core's event for "one" arrives before its answer: the row is replaced, not doubled.
    const one = message({ orderKey: 'b', id: 'b'.repeat(32), mine: true, body: 'one', state: 'pending' })
    state = chatReducer(state, { type: 'upsert', message: one })
    expect(state.optimistic.map((o) => o.body)).toEqual(['two'])
    state = chatReducer(state, { type: 'optimisticSent', localId: '1', message: one })
    expect(state.messages.map((m) => m.body)).toEqual(['hello', 'one'])
    // "two" is answered first, then its event: no duplicate either.
    const two = message({ orderKey: 'c', id: 'c'.repeat(32), mine: true, body: 'two', state: 'pending' })
    state = chatReducer(state, { type: 'optimisticSent', localId: '2', message: two })
    state = chatReducer(state, { type: 'upsert', message: two })
    expect(state.optimistic).toEqual([])
    expect(state.messages.map((m) => m.body)).toEqual(['hello', 'one', 'two'])
  })

  it('an update of an old message of mine with the same text does not swallow a new optimistic row', () => {
    const earlier = message({ orderKey: 'a', id: 'a'.repeat(32), mine: true, body: 'ok', state: 'sent' })
    let state = chatReducer(initialChatState, { type: 'page', page: { messages: [earlier], nextBefore: null }, older: false })
    state = chatReducer(state, { type: 'optimisticAdded', localId: '1', body: 'ok', at: 1 })
    state = chatReducer(state, { type: 'upsert', message: { ...earlier, state: 'delivered' } })
    expect(state.optimistic).toHaveLength(1)
  })

  it('keeps a refused send as a failed row that can be retried or discarded', () => {
    let state = chatReducer(initialChatState, { type: 'optimisticAdded', localId: '1', body: 'hi', at: 1 })
    state = chatReducer(state, { type: 'optimisticFailed', localId: '1', error: 'message is too large' })
    expect(state.optimistic[0]).toMatchObject({ status: 'failed', error: 'message is too large' })
    state = chatReducer(state, { type: 'optimisticRetried', localId: '1' })
    expect(state.optimistic[0]).toMatchObject({ status: 'sending', error: null })
    state = chatReducer(state, { type: 'optimisticDiscarded', localId: '1' })
    expect(state.optimistic).toEqual([])
  })

  it('records a failed load', () => {
    const state = chatReducer({ ...initialChatState, loadingOlder: true }, { type: 'loadFailed', error: 'boom' })
    expect(state).toMatchObject({ loadingOlder: false, error: 'boom' })
  })

  it('merges 100k messages page by page in linear time per page', () => {
    let state = initialChatState
    const total = 100_000
    const pageSize = 500
    // Newest page first, then older pages, as scrolling up does.
    for (let end = total; end > 0; end -= pageSize) {
      const messages = []
      for (let i = end - pageSize; i < end; i++) messages.push(message({ orderKey: String(i).padStart(8, '0'), id: i.toString(16).padStart(32, '0') }))
      state = chatReducer(state, { type: 'page', page: { messages, nextBefore: end - pageSize === 0 ? null : 'x' }, older: end !== total })
    }
    expect(state.messages).toHaveLength(total)
    expect(state.messages[0]!.orderKey).toBe('00000000')
    expect(state.messages.at(-1)!.orderKey).toBe('00099999')
  })

  it('a message deleted for me leaves the list; replies to it lose its text', () => {
    const original = message({ orderKey: 'a', id: 'a'.repeat(32), body: 'dinner at 7?' })
    const reply = message({ orderKey: 'b', id: 'b'.repeat(32), replyTo: quoteOf(original) })
    let state = chatReducer(initialChatState, { type: 'page', page: { messages: [original, reply], nextBefore: null }, older: false })
    state = chatReducer(state, { type: 'upsert', message: { ...original, hidden: true } })
    expect(state.messages.map((m) => m.id)).toEqual([reply.id])
    expect(state.messages[0]!.replyTo).toMatchObject({ body: '', missing: false })
    // An event about a message never loaded changes nothing.
    const other = message({ orderKey: 'c', id: 'c'.repeat(32), hidden: true })
    expect(chatReducer(state, { type: 'upsert', message: other }).messages).toEqual(state.messages)
  })

  it("an edit or deletion of the original shows in the replies already on screen", () => {
    const original = message({ orderKey: 'a', id: 'a'.repeat(32), body: 'dinner at 7?' })
    const reply = message({ orderKey: 'b', id: 'b'.repeat(32), body: 'yes!', replyTo: quoteOf(original) })
    const unrelated = message({ orderKey: 'c', id: 'c'.repeat(32) })
    let state = chatReducer(initialChatState, { type: 'page', page: { messages: [original, reply, unrelated], nextBefore: null }, older: false })
    state = chatReducer(state, { type: 'upsert', message: { ...original, body: 'dinner at 8?', edited: true } })
    expect(state.messages[1]!.replyTo).toMatchObject({ body: 'dinner at 8?', deleted: false })
    expect(state.messages[2]).toBe(unrelated)
    state = chatReducer(state, { type: 'upsert', message: { ...original, body: '', deleted: true } })
    expect(state.messages[1]!.replyTo).toMatchObject({ body: '', deleted: true })
    state = chatReducer(state, { type: 'upsert', message: { ...original, body: '', withdrawn: 'conflict' } })
    expect(state.messages[1]!.replyTo).toMatchObject({ missing: true })
  })

  it('an original that arrives after its reply fills the quote in', () => {
    const original = message({ orderKey: 'a', id: 'a'.repeat(32), body: 'first', author: 'e'.repeat(64), authorName: 'Eve' })
    const reply = message({ orderKey: 'b', id: 'b'.repeat(32), replyTo: { id: original.id, author: original.author, authorName: 'eeeeeeee', body: '', deleted: false, missing: true } })
    let state = chatReducer(initialChatState, { type: 'upsert', message: reply })
    state = chatReducer(state, { type: 'upsert', message: original })
    expect(state.messages[1]!.replyTo).toEqual({ id: original.id, author: original.author, authorName: 'Eve', body: 'first', deleted: false, missing: false })
  })

  it('a reaction or an edit still shows when the event carries an older state than the one shown', () => {
    const m = message({ orderKey: 'a', id: 'a'.repeat(32), mine: true, state: 'read' })
    let state = chatReducer(initialChatState, { type: 'upsert', message: m })
    state = chatReducer(state, { type: 'upsert', message: { ...m, state: 'delivered', reactions: { '👍': ['b'.repeat(64)] } } })
    expect(state.messages[0]).toMatchObject({ state: 'read', reactions: { '👍': ['b'.repeat(64)] } })
    const before = state.messages
    state = chatReducer(state, { type: 'upsert', message: { ...m, state: 'delivered', reactions: { '👍': ['b'.repeat(64)] } } })
    expect(state.messages).toBe(before)
  })
})

function quoteOf(original: MessageView): ReplyQuote {
  return { id: original.id, author: original.author, authorName: original.authorName, body: original.body, deleted: false, missing: false }
}

describe('file progress', () => {
  const file = (over: Partial<NonNullable<MessageView['attachments']>[number]> = {}) => ({
    index: 0,
    name: 'a.jpg',
    size: 100,
    mime: 'image/jpeg',
    kind: 'image' as const,
    state: 'downloading' as const,
    received: 10,
    ...over,
  })
  const loaded = (m: MessageView) => chatReducer(initialChatState, { type: 'page', page: { messages: [m], nextBefore: null }, older: false })

  it('moves one file of a loaded message on, and nothing else', () => {
    const m = message({ id: '1'.repeat(32), attachments: [file(), file({ index: 1, name: 'b.pdf', kind: 'file' })] })
    const before = loaded(m)
    const after = chatReducer(before, { type: 'fileProgress', progress: { messageId: m.id, index: 1, state: 'failed', received: 0, error: 'no source' } })
    expect(after.messages[0]!.attachments![1]).toMatchObject({ state: 'failed', received: 0, error: 'no source' })
    expect(after.messages[0]!.attachments![0]).toBe(m.attachments![0])
    // Retried: the old reason goes.
    const again = chatReducer(after, { type: 'fileProgress', progress: { messageId: m.id, index: 1, state: 'downloading', received: 5 } })
    expect(again.messages[0]!.attachments![1]!.error).toBeUndefined()
  })

  it('ignores events for messages not loaded or files they do not have, and a late one after completion', () => {
    const m = message({ id: '2'.repeat(32), attachments: [file({ state: 'complete', received: 100 })] })
    const state = loaded(m)
    expect(chatReducer(state, { type: 'fileProgress', progress: { messageId: 'f'.repeat(32), index: 0, state: 'complete', received: 1 } })).toBe(state)
    expect(chatReducer(state, { type: 'fileProgress', progress: { messageId: m.id, index: 5, state: 'complete', received: 1 } })).toBe(state)
    expect(chatReducer(state, { type: 'fileProgress', progress: { messageId: m.id, index: 0, state: 'downloading', received: 50 } })).toBe(state)
    // Cleared from this device: that may follow completion.
    const removed = chatReducer(state, { type: 'fileProgress', progress: { messageId: m.id, index: 0, state: 'removed', received: 0 } })
    expect(removed.messages[0]!.attachments![0]!.state).toBe('removed')
  })

  it('a message update that only moves a file on is still applied when its state may not go back', () => {
    const m = message({ id: '3'.repeat(32), state: 'read', mine: true, attachments: [file()] })
    const state = loaded(m)
    const next = chatReducer(state, { type: 'upsert', message: { ...m, state: 'delivered', attachments: [file({ state: 'complete', received: 100 })] } })
    expect(next.messages[0]!.state).toBe('read')
    expect(next.messages[0]!.attachments![0]!.state).toBe('complete')
  })

  it('an optimistic row with files counts the bytes taken, and starts again from 0 on retry', () => {
    let state = chatReducer(initialChatState, { type: 'optimisticAdded', localId: 'l1', body: '', at: 1, files: [{ name: 'a.bin', size: 100, kind: 'file' }] })
    state = chatReducer(state, { type: 'optimisticProgress', localId: 'l1', sent: 60 })
    expect(state.optimistic[0]).toMatchObject({ sent: 60, files: [{ name: 'a.bin' }] })
    state = chatReducer(state, { type: 'optimisticFailed', localId: 'l1', error: 'x' })
    state = chatReducer(state, { type: 'optimisticRetried', localId: 'l1' })
    expect(state.optimistic[0]).toMatchObject({ sent: 0, status: 'sending' })
  })
})
