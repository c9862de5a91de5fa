import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type Database } from '../../../node/common/storage/database.js'
import { MAX_PAGE_BYTES } from '../../../node/common/wire/mailbox.js'
import { ITEM_OVERHEAD_BYTES } from './layout.js'
import { MailboxStore, type StoreLimits } from './mailbox-store.js'

const DAY = 24 * 60 * 60 * 1000
const LIMITS: StoreLimits = {
  maxEnvelopeBytes: 64 * 1024,
  mailboxMaxBytes: 10 * 1024 * 1024,
  mailboxMaxEnvelopes: 10_000,
  mailboxMaxReaders: 4,
  peerMaxBytesPerDay: 100 * 1024 * 1024,
  peerMaxEnvelopesPerDay: 100_000,
  retentionMs: 30 * DAY,
  maxStoredBytes: 1024 * 1024 * 1024,
}

const mailbox = (n: number): Uint8Array => new Uint8Array(32).fill(n)
function envelope(text: string, size = 0): { id: Uint8Array; bytes: Uint8Array } {
  const bytes = new Uint8Array(Math.max(size, text.length))
  bytes.set(new TextEncoder().encode(text))
  return { id: new Uint8Array(createHash('sha256').update(bytes).digest()), bytes }
}
const text = (b: Uint8Array): string => new TextDecoder().decode(b).replace(/\0+$/, '')

describe('MailboxStore', () => {
  let db: Database
  let clock = 1_800_000_000_000
  const dirs: string[] = []

  async function open(limits: Partial<StoreLimits> = {}, events = {}): Promise<MailboxStore> {
    db = await openDatabase({ memory: true })
    return MailboxStore.open(db, { limits: { ...LIMITS, ...limits }, now: () => clock, events })
  }

  afterEach(async () => {
    await db?.close()
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  async function all(store: MailboxStore, box: Uint8Array, after: string | null = null): Promise<string[]> {
    const out: string[] = []
    for (;;) {
      const page = await store.page(box, { after, reader: null }, 3, MAX_PAGE_BYTES)
      out.push(...page.items.map((i) => text(i.bytes)))
      after = page.next
      if (!page.more) return out
    }
  }

  it('stores in deposit order and pages by cursor', async () => {
    const store = await open()
    const results = await store.deposit(mailbox(1), 'peerA', ['a', 'b', 'c', 'd'].map((t) => envelope(t)))
    expect(results).toEqual(Array(4).fill({ status: 'stored' }))
    await store.deposit(mailbox(1), 'peerB', [envelope('e')])
    await store.deposit(mailbox(2), 'peerB', [envelope('other')])
    expect(await all(store, mailbox(1))).toEqual(['a', 'b', 'c', 'd', 'e'])
    const first = await store.page(mailbox(1), { after: null, reader: null }, 2, MAX_PAGE_BYTES)
    expect(first.more).toBe(true)
    expect(first.next).toBe(first.items[1]!.cursor)
    expect(await all(store, mailbox(1), first.next)).toEqual(['c', 'd', 'e'])
    // The id served is the SHA-256 of the bytes.
    expect(Buffer.from(first.items[0]!.id).toString('hex')).toBe(createHash('sha256').update(first.items[0]!.bytes).digest('hex'))
    const end = await store.page(mailbox(1), { after: (await store.page(mailbox(1), { after: null, reader: null }, 10, MAX_PAGE_BYTES)).next, reader: null }, 10, MAX_PAGE_BYTES)
    expect(end.items).toEqual([])
    expect(end.more).toBe(false)
    expect(store.totals.envelopes).toBe(6)
  })

  it('bounds a page in bytes but always serves one item', async () => {
    const store = await open()
    await store.deposit(mailbox(1), 'p', [envelope('x', 40_000), envelope('y', 40_000), envelope('z', 40_000)])
    const page = await store.page(mailbox(1), { after: null, reader: null }, 100, 50_000)
    expect(page.items.map((i) => text(i.bytes))).toEqual(['x'])
    expect(page.more).toBe(true)
  })

  it('is idempotent per mailbox, within a batch and across batches, and checks ids against the bytes', async () => {
    const store = await open()
    const a = envelope('a')
    const short = { id: a.id.subarray(0, 16), bytes: a.bytes }
    expect(await store.deposit(mailbox(1), 'p', [a, short])).toEqual([{ status: 'stored' }, { status: 'duplicate' }])
    expect(await store.deposit(mailbox(1), 'q', [a])).toEqual([{ status: 'duplicate' }])
    expect(await store.deposit(mailbox(2), 'q', [a])).toEqual([{ status: 'stored' }])
    const forged = { id: envelope('b').id, bytes: a.bytes }
    expect(await store.deposit(mailbox(3), 'q', [forged])).toEqual([{ status: 'refused', reason: 'bad-id' }])
    expect(await store.deposit(mailbox(3), 'q', [envelope('big', 64 * 1024 + 1)])).toEqual([{ status: 'refused', reason: 'too-large' }])
    expect(store.totals.envelopes).toBe(2)
  })

  it('refuses over the mailbox quota (count and bytes) without touching other mailboxes', async () => {
    const store = await open({ mailboxMaxEnvelopes: 3, mailboxMaxBytes: 3 * (1000 + ITEM_OVERHEAD_BYTES) })
    const results = await store.deposit(mailbox(1), 'p', ['a', 'b', 'c', 'd'].map((t) => envelope(t)))
    expect(results.map((r) => r.status === 'refused' ? r.reason : r.status)).toEqual(['stored', 'stored', 'stored', 'mailbox-quota'])
    expect(await store.deposit(mailbox(2), 'p', [envelope('x', 1000), envelope('y', 1000), envelope('z', 1001)])).toEqual([
      { status: 'stored' },
      { status: 'stored' },
      { status: 'refused', reason: 'mailbox-quota' },
    ])
  })

  it('refuses over a peer daily quota, and the quota renews the next day', async () => {
    const store = await open({ peerMaxEnvelopesPerDay: 2 })
    const r = await store.deposit(mailbox(1), 'peerA', ['a', 'b', 'c'].map((t) => envelope(t)))
    expect(r[2]).toEqual({ status: 'refused', reason: 'peer-quota' })
    expect(await store.deposit(mailbox(1), 'peerB', [envelope('c')])).toEqual([{ status: 'stored' }])
    clock += DAY
    expect(await store.deposit(mailbox(1), 'peerA', [envelope('d')])).toEqual([{ status: 'stored' }])
  })

  it('groups concurrent deposits into few synced batches', async () => {
    const batches: number[] = []
    const store = await open({}, { onBatch: (stored: number) => batches.push(stored) })
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.deposit(mailbox(i % 7), `peer${i % 13}`, [envelope(`m${i}`)])))
    expect(results.flat().every((r) => r.status === 'stored')).toBe(true)
    expect(batches.reduce((a, b) => a + b, 0)).toBe(200)
    expect(batches.length).toBeLessThanOrEqual(2)
  })

  it('hides and then sweeps what is past retention; the idempotency entry goes with it', async () => {
    const expired: number[] = []
    const store = await open({ retentionMs: DAY }, { onExpired: (n: number) => expired.push(n) })
    await store.deposit(mailbox(1), 'p', [envelope('old1'), envelope('old2')])
    clock += DAY / 2
    await store.deposit(mailbox(1), 'p', [envelope('new')])
    clock += DAY / 2 + 1
    expect(await all(store, mailbox(1))).toEqual(['new'])
    expect(await store.sweep()).toMatchObject({ expired: 2 })
    expect(expired).toEqual([2])
    expect(store.totals.envelopes).toBe(1)
    expect(await store.deposit(mailbox(1), 'p', [envelope('old1')])).toEqual([{ status: 'stored' }])
    expect(await all(store, mailbox(1))).toEqual(['new', 'old1'])
  })

  it('evicts the oldest envelopes of the whole relay to stay within the disk budget, and counts them', async () => {
    const evictions: number[] = []
    const each = 1000 + ITEM_OVERHEAD_BYTES
    const store = await open({ maxStoredBytes: 10 * each, mailboxMaxBytes: 10 * each }, { onEvicted: (n: number) => evictions.push(n) })
    for (let i = 0; i < 8; i++) await store.deposit(mailbox(i % 2), 'p', [envelope(`e${i}`, 1000)])
    await store.deposit(mailbox(3), 'p', [envelope('n1', 1000), envelope('n2', 1000), envelope('n3', 1000)])
    expect(evictions.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1)
    expect(store.totals.bytes).toBeLessThanOrEqual(10 * each)
    const zero = await all(store, mailbox(0))
    expect(zero).not.toContain('e0')
    expect(await all(store, mailbox(3))).toEqual(['n1', 'n2', 'n3'])
    // One envelope larger than the whole budget cannot be stored by evicting.
    const tiny = await open({ maxStoredBytes: 1024 * 1024, mailboxMaxBytes: 1024 * 1024, maxEnvelopeBytes: 64 * 1024 })
    const many = Array.from({ length: 20 }, (_, i) => envelope(`big${i}`, 60_000))
    // Deposited together (one batch), in different mailboxes: the batch alone is larger than the budget.
    const outcome = (await Promise.all(many.map((e, i) => tiny.deposit(mailbox(i), 'p', [e])))).flat()
    expect(outcome.filter((o) => o.status === 'stored').length).toBeGreaterThan(0)
    expect(outcome.at(-1)).toEqual({ status: 'refused', reason: 'disk-full' })
    expect(tiny.totals.bytes).toBeLessThanOrEqual(1024 * 1024)
  })

  it('remembers reader positions (forward only, bounded), and reads from them', async () => {
    const store = await open({ mailboxMaxReaders: 2 })
    const readerA = new Uint8Array(16).fill(1)
    expect(await store.ack(mailbox(1), readerA, store.cursorOf(0))).toBe('ok')
    await store.deposit(mailbox(1), 'p', ['a', 'b', 'c'].map((t) => envelope(t)))
    const page = await store.page(mailbox(1), { after: null, reader: null }, 2, MAX_PAGE_BYTES)
    expect(await store.ack(mailbox(1), readerA, page.next)).toBe('ok')
    const resumed = await store.page(mailbox(1), { after: null, reader: readerA }, 10, MAX_PAGE_BYTES)
    expect(resumed.items.map((i) => text(i.bytes))).toEqual(['c'])
    // Backwards is ignored.
    expect(await store.ack(mailbox(1), readerA, page.items[0]!.cursor)).toBe('ok')
    expect((await store.page(mailbox(1), { after: null, reader: readerA }, 10, MAX_PAGE_BYTES)).items).toHaveLength(1)
    expect(await store.ack(mailbox(1), new Uint8Array(16).fill(2), page.next)).toBe('ok')
    expect(await store.ack(mailbox(1), new Uint8Array(16).fill(3), page.next)).toBe('mailbox-quota')
    // An unknown reader starts from the beginning.
    expect((await store.page(mailbox(1), { after: null, reader: new Uint8Array(16).fill(9) }, 10, MAX_PAGE_BYTES)).items).toHaveLength(3)
  })

  it('reads from the start for a cursor of another generation or from the future', async () => {
    const store = await open()
    await store.deposit(mailbox(1), 'p', [envelope('a')])
    for (const after of ['AAAAAAAAAAA.1', `${store.cursorOf(0).split('.')[0]}.ffff`, 'garbage']) {
      expect((await store.page(mailbox(1), { after, reader: null }, 10, MAX_PAGE_BYTES)).items).toHaveLength(1)
    }
  })

  it('keeps everything acknowledged, and its counters, across a reopen of a real LevelDB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hearth-relay-store-'))
    dirs.push(dir)
    let real = await openDatabase({ path: join(dir, 'db') })
    let store = await MailboxStore.open(real, { limits: LIMITS })
    await store.deposit(mailbox(1), 'p', [envelope('a'), envelope('b')])
    const cursor = (await store.page(mailbox(1), { after: null, reader: null }, 1, MAX_PAGE_BYTES)).next
    await store.close()
    await real.close()
    real = await openDatabase({ path: join(dir, 'db') })
    store = await MailboxStore.open(real, { limits: LIMITS })
    expect(store.totals.envelopes).toBe(2)
    const page = await store.page(mailbox(1), { after: cursor, reader: null }, 10, MAX_PAGE_BYTES)
    expect(page.items.map((i) => text(i.bytes))).toEqual(['b'])
    await store.deposit(mailbox(1), 'p', [envelope('c')])
    expect((await store.page(mailbox(1), { after: page.next, reader: null }, 10, MAX_PAGE_BYTES)).items.map((i) => text(i.bytes))).toEqual(['c'])
    await store.close()
    await expect(store.deposit(mailbox(1), 'p', [envelope('d')])).rejects.toMatchObject({ code: 'NOT_RUNNING' })
    await real.close()
  })
})
