import { describe, expect, it } from 'vitest'
import type { ConversationId, EpochId } from '../../ids.js'
import { Logger } from '../logger.js'
import { RelayMailboxes, type MailboxHost, type MailboxPort, type RelayCursor } from './relay-mailboxes.js'

const conversation = 'c1' as ConversationId
const epoch = 'e1' as EpochId
const relayPeer = '12D3KooWRelay'
const address = `/ip4/127.0.0.1/tcp/1/p2p/${relayPeer}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('RelayMailboxes', () => {
  it('a long-poll that returns while a deposit is being recorded does not put back the stale position', async () => {
    // The cursor record holds both what the relay acknowledged (`deposited`, advanced by the pass) and where the next
    // fetch starts (`cursor`, advanced by the long-poll). Writes are slow here, as a synced LevelDB write can be.
    let saved: RelayCursor = { deposited: 0, cursor: null }
    const history: RelayCursor[] = []
    let have = 0
    let deposits = 0
    let relayHolds = false
    let announce: () => void = () => {}
    const host: MailboxHost = {
      targets: () => [{ conversation, relays: [address], epochs: [{ epoch, mailboxSecret: new Uint8Array(32), current: true }] }],
      ownHave: () => have,
      ownEnvelopes: async (_c, _e, after) => (after < have ? [{ seq: 1, bytes: new Uint8Array([1, 2, 3]) }] : []),
      receive: async () => {},
      deposited: async () => {},
      loadCursor: async () => ({ ...saved }),
      saveCursor: async (_c, _e, _r, cursor) => {
        await sleep(20)
        saved = { ...cursor }
        history.push(saved)
      },
      isConnected: () => true,
    }
    const item = { cursor: 'c1', id: new Uint8Array(32), bytes: new Uint8Array([1, 2, 3]) }
    const port: MailboxPort = {
      deposit: async (_relay, _keys, envelopes) => {
        deposits++
        relayHolds = true
        // The long-poll sees the new deposit a moment after the relay acknowledged it.
        setTimeout(() => announce(), 5)
        return envelopes.map((e) => ({ id: e.id, status: 'stored' as const }))
      },
      fetch: async (_relay, _keys, options = {}) => {
        const at = options.after ?? 'c0'
        if (at === 'c0' && relayHolds) return { items: [item], next: 'c1', more: false }
        if (at === 'c0' && options.waitMs !== undefined) {
          await new Promise<void>((resolve) => (announce = resolve))
          return { items: [item], next: 'c1', more: false }
        }
        if (options.waitMs !== undefined) await sleep(options.waitMs)
        return { items: [], next: at, more: false }
      },
    }
    const mailboxes = new RelayMailboxes({ host, port, logger: Logger.silent(), waitMs: 50, intervalMs: 60_000 })
    mailboxes.start()
    await mailboxes.idle()
    // Let the long-poll open, then write one envelope.
    await sleep(10)
    have = 1
    mailboxes.kick()
    await sleep(200)
    await mailboxes.idle()
    await mailboxes.stop()
    await sleep(60)
    expect(saved).toEqual({ deposited: 1, cursor: 'c1' })
    expect(deposits).toBe(1)
    // Neither field ever went back, not even for a moment (a crash then would resend or refetch).
    expect(history.map((h) => h.deposited)).toEqual([...history.map((h) => h.deposited)].sort((a, b) => a - b))
    expect(history.findIndex((h) => h.cursor === 'c1')).toBeGreaterThan(-1)
    expect(history.slice(history.findIndex((h) => h.cursor === 'c1')).every((h) => h.cursor === 'c1')).toBe(true)
  })

  it('a backlog is fetched a page ahead, verified ahead, and the cursor moves only once a page is processed', async () => {
    const pages = [['a1', 'a2'], ['b1', 'b2'], ['c1']]
    const log: string[] = []
    let saved: RelayCursor = { deposited: 0, cursor: null }
    const page = (cursor: string | null) => {
      const n = cursor === null ? 0 : Number(cursor.slice(1))
      const items = pages[n]!.map((name) => ({ cursor: name, id: new Uint8Array(32), bytes: new TextEncoder().encode(name) }))
      return { items, next: `p${n + 1}`, more: n + 1 < pages.length }
    }
    const names = (envelopes: Uint8Array[]) => envelopes.map((e) => new TextDecoder().decode(e)).join(',')
    const host: MailboxHost = {
      targets: () => [{ conversation, relays: [address], epochs: [{ epoch, mailboxSecret: new Uint8Array(32), current: true }] }],
      ownHave: () => 0,
      ownEnvelopes: async () => [],
      receive: async (_c, envelopes) => {
        log.push(`receive ${names(envelopes)}`)
        await sleep(30)
        log.push(`received ${names(envelopes)}`)
      },
      verifyAhead: (_c, envelopes) => log.push(`verify ahead ${names(envelopes)}`),
      deposited: async () => {},
      loadCursor: async () => ({ ...saved }),
      saveCursor: async (_c, _e, _r, cursor) => {
        saved = { ...cursor }
        log.push(`cursor ${cursor.cursor}`)
      },
      isConnected: () => true,
    }
    const port: MailboxPort = {
      deposit: async () => [],
      fetch: async (_relay, _keys, options = {}) => {
        if (options.waitMs !== undefined) {
          await sleep(options.waitMs)
          return { items: [], next: options.after ?? 'p0', more: false }
        }
        log.push(`fetch ${options.after}`)
        return page(options.after ?? null)
      },
    }
    const mailboxes = new RelayMailboxes({ host, port, logger: Logger.silent(), waitMs: 20, intervalMs: 60_000 })
    mailboxes.start()
    await mailboxes.idle()
    await mailboxes.stop()
    expect(log.filter((l) => !l.startsWith('fetch p3'))).toEqual([
      'fetch null',
      'fetch p1',
      'receive a1,a2',
      'verify ahead b1,b2',
      'received a1,a2',
      'cursor p1',
      'fetch p2',
      'receive b1,b2',
      'verify ahead c1',
      'received b1,b2',
      'cursor p2',
      'receive c1',
      'received c1',
      'cursor p3',
    ])
    expect(saved.cursor).toBe('p3')
  })
})
