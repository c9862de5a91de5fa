import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ConversationId, DeviceId, EpochId, MessageId } from '../../ids.js'
import type { MessageRow, MessageState } from '../../store/core-store.js'
import { nextState, type MessageEvent } from './message-state.js'

const row = (state: MessageState, mine = true): MessageRow => ({
  id: 'm' as MessageId,
  conversation: 'c' as ConversationId,
  author: 'a',
  authorName: 'Alice',
  device: 'd' as DeviceId,
  epoch: 'e' as EpochId,
  seq: 1,
  hlc: '0000000000001-000000',
  orderKey: 'k',
  body: 'hi',
  edited: false,
  deleted: false,
  reactions: {},
  mine,
  state,
  failure: state === 'failed' ? 'why' : null,
})

const states: MessageState[] = ['pending', 'sent', 'delivered', 'read', 'failed']
const events: MessageEvent[] = [{ type: 'deposited' }, { type: 'delivered' }, { type: 'read' }, { type: 'undeliverable', reason: 'removed' }, { type: 'retry' }]

describe('nextState', () => {
  it('moves our messages as the table says, and nothing else', () => {
    const table: Record<MessageState, Record<MessageEvent['type'], MessageState | null>> = {
      pending: { deposited: 'sent', delivered: 'delivered', read: 'read', undeliverable: 'failed', retry: null },
      sent: { deposited: null, delivered: 'delivered', read: 'read', undeliverable: 'failed', retry: null },
      delivered: { deposited: null, delivered: null, read: 'read', undeliverable: null, retry: null },
      read: { deposited: null, delivered: null, read: null, undeliverable: null, retry: null },
      failed: { deposited: null, delivered: 'delivered', read: 'read', undeliverable: null, retry: 'pending' },
    }
    for (const from of states) {
      for (const event of events) {
        expect(nextState(row(from), event)?.state ?? null, `${from} + ${event.type}`).toBe(table[from][event.type])
      }
    }
  })

  it('keeps a failure reason only while failed', () => {
    expect(nextState(row('pending'), { type: 'undeliverable', reason: 'removed' })?.failure).toBe('removed')
    expect(nextState(row('failed'), { type: 'retry' })?.failure).toBeNull()
    expect(nextState(row('failed'), { type: 'delivered' })?.failure).toBeNull()
  })

  it("never touches another member's message", () => {
    for (const from of states) for (const event of events) expect(nextState(row(from, false), event)).toBeUndefined()
  })

  it('delivered and read are never undone, whatever events follow', () => {
    fc.assert(
      fc.property(fc.constantFrom(...states), fc.array(fc.constantFrom(...events), { maxLength: 20 }), (start, sequence) => {
        let current = row(start)
        let reached = false
        for (const event of sequence) {
          current = nextState(current, event) ?? current
          if (current.state === 'delivered' || current.state === 'read') reached = true
          if (reached) expect(['delivered', 'read']).toContain(current.state)
        }
      }),
    )
  })
})
