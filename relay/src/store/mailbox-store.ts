/**
 * The relay's mailbox store: opaque envelopes per mailbox, in deposit order, with idempotent deposits, quotas,
 * retention and a disk budget with oldest-first eviction. Keyspace: layout.ts.
 *
 * One writer, group commit. Every write (deposits, acks, sweeps) goes through one queue. While a synced batch is on its
 * way to disk, new deposits queue up; the next batch takes all of them at once, so under load many deposits share one
 * fsync (a synced put costs ~0.3 ms, a synced batch of 100 ~0.7 ms) and a deposit is acknowledged only once its batch
 * is durable. Because only this queue writes, the in-memory counters (sequence, totals, mailbox and peer usage) are
 * authoritative: they are staged while a batch is built and applied only after the batch is on disk.
 *
 * Decisions per envelope, in order: duplicate (same mailbox, same SHA-256: answered `duplicate`, nothing written),
 * mailbox quota, the depositing peer's daily quota, then the disk budget: if the batch does not fit, the oldest
 * envelopes of the whole relay are evicted in the same atomic batch; an envelope that cannot fit even then is refused
 * `disk-full`, as is everything in a batch the disk itself refused (ENOSPC).
 */
import { createHash, createHmac } from 'node:crypto'
import { HearthError } from '../../../node/common/errors.js'
import type { BatchOp, Database } from '../../../node/common/storage/database.js'
import { migrate } from '../../../node/common/storage/migrations.js'
import { MIGRATIONS } from './mailbox-migrations.js'
import type { AckOutcome, MailboxStoreOptions, Page, StoreEvents, StoreLimits, SweepResult } from './mailbox-types.js'
import { type DepositEnvelope, type DepositOutcome, type PageItem } from '../../../node/common/wire/mailbox.js'
import { equalBytes, toBase64Url } from '../../../node/common/util/bytes.js'
import {
  ITEM_OVERHEAD_BYTES,
  RELAY_META_KEY,
  STATE_KEY,
  arrivalKey,
  arrivalRange,
  decodeArrival,
  decodeItem,
  decodeMeta,
  decodeSeq,
  decodeState,
  decodeStats,
  decodeUsage,
  dedupKey,
  encodeArrival,
  encodeItem,
  encodeSeq,
  encodeState,
  encodeStats,
  encodeUsage,
  idText,
  itemKey,
  itemRange,
  readerKey,
  readerRange,
  statsKey,
  usageDayStart,
  usageKey,
  usageRange,
  seqFromKey,
  type Counters,
  type MailboxStats,
  type RelayMeta,
} from './layout.js'

export type { AckOutcome, MailboxStoreOptions, Page, StoreEvents, StoreLimits, SweepResult } from './mailbox-types.js'

const DAY_MS = 24 * 60 * 60 * 1000
/** When over budget, evict down to this fraction of it, so a full relay does not evict on every single deposit. */
const EVICTION_TARGET = 0.98
/** Entries one sweep step handles before yielding the writer to deposits. */
const SWEEP_STEP = 2_000


interface PreparedEnvelope {
  hash: Uint8Array
  hashText: string
  bytes: Uint8Array
  /** Decided before queueing (too large, id does not match). */
  outcome?: DepositOutcome
}

type Job =
  | { kind: 'deposit'; mailbox: Uint8Array; mbx: string; peer: string; envelopes: PreparedEnvelope[]; resolve: (o: DepositOutcome[]) => void; reject: (e: unknown) => void }
  | { kind: 'ack'; mbx: string; reader: string; seq: number; resolve: (o: AckOutcome) => void; reject: (e: unknown) => void }
  | { kind: 'sweep'; resolve: (r: SweepResult) => void; reject: (e: unknown) => void }


export class MailboxStore {
  readonly #db: Database
  readonly #limits: StoreLimits
  readonly #events: StoreEvents
  readonly #now: () => number
  readonly #maxBatch: number
  readonly #statsCacheSize: number
  readonly #generation: string
  readonly #peerSalt: Uint8Array

  #seq: number
  #storedBytes: number
  #storedEnvelopes: number
  #lastArrival = 0
  /** Mailbox usage, LRU by insertion order; authoritative when present (this is the only writer). */
  readonly #stats = new Map<string, MailboxStats>()
  /** Usage of depositing peers for `#usageDay`. */
  readonly #usage = new Map<string, Counters>()
  #usageDay = -1

  readonly #queue: Job[] = []
  #draining: Promise<void> | undefined
  #closed = false

  private constructor(db: Database, meta: RelayMeta, state: { q: number; b: number; n: number }, options: MailboxStoreOptions) {
    this.#db = db
    this.#limits = options.limits
    this.#events = options.events ?? {}
    this.#now = options.now ?? Date.now
    this.#maxBatch = options.maxBatchEnvelopes ?? 2_000
    this.#statsCacheSize = options.statsCacheSize ?? 20_000
    this.#generation = toBase64Url(meta.generation)
    this.#peerSalt = meta.peerSalt
    this.#seq = state.q
    this.#storedBytes = state.b
    this.#storedEnvelopes = state.n
  }

  /** Migrates `db` and loads the counters. The caller owns `db` (and closes it after `close()`). */
  static async open(db: Database, options: MailboxStoreOptions): Promise<MailboxStore> {
    await migrate(db, MIGRATIONS)
    const metaBytes = await db.get(RELAY_META_KEY)
    const stateBytes = await db.get(STATE_KEY)
    if (metaBytes === undefined || stateBytes === undefined) throw new HearthError('CORRUPT_DATA', 'relay store: meta records missing')
    const store = new MailboxStore(db, decodeMeta(metaBytes), decodeState(stateBytes), options)
    // Arrival times only move forward within a run; start from the newest stored one (a clock stepped back).
    for await (const [, value] of db.iterate({ ...arrivalRange(), reverse: true, limit: 1 })) {
      store.#lastArrival = decodeArrival(value).arrival
    }
    return store
  }

  /** Stored envelopes and their counted bytes (envelope bytes + ITEM_OVERHEAD_BYTES each). */
  get totals(): { bytes: number; envelopes: number } {
    return { bytes: this.#storedBytes, envelopes: this.#storedEnvelopes }
  }

  /** Deposits queued and not yet written. */
  get queued(): number {
    return this.#queue.length
  }

  /**
   * Queues a deposit; resolves with one outcome per envelope once the batch holding them is synced to disk.
   * `depositor` is the remote PeerId (only a keyed hash of it is stored, for its daily quota).
   */
  deposit(mailboxId: Uint8Array, depositor: string, envelopes: readonly DepositEnvelope[]): Promise<DepositOutcome[]> {
    const prepared = envelopes.map((e): PreparedEnvelope => {
      const hash = new Uint8Array(createHash('sha256').update(e.bytes).digest())
      const prepared: PreparedEnvelope = { hash, hashText: idText(hash), bytes: e.bytes }
      if (e.bytes.length > this.#limits.maxEnvelopeBytes) prepared.outcome = { status: 'refused', reason: 'too-large' }
      else if (!equalBytes(e.id, hash.subarray(0, e.id.length))) prepared.outcome = { status: 'refused', reason: 'bad-id' }
      return prepared
    })
    const peer = toBase64Url(createHmac('sha256', this.#peerSalt).update(depositor).digest().subarray(0, 16))
    return new Promise((resolve, reject) => {
      this.#enqueue({ kind: 'deposit', mailbox: mailboxId, mbx: idText(mailboxId), peer, envelopes: prepared, resolve, reject })
    })
  }

  /** Remembers a reader's position (only forward). A cursor from another store generation is ignored. */
  ack(mailboxId: Uint8Array, reader: Uint8Array, cursor: string): Promise<AckOutcome> {
    const seq = this.#seqOf(cursor)
    if (seq === undefined || seq === 0) return Promise.resolve('ok')
    return new Promise((resolve, reject) => {
      this.#enqueue({ kind: 'ack', mbx: idText(mailboxId), reader: idText(reader), seq, resolve, reject })
    })
  }

  /**
   * A page of a mailbox after `after`, or after the reader's acknowledged position when `after` is null and a
   * reader tag is given. A cursor from another generation (the store was wiped) or from the future (restored from an
   * older backup) reads from the start: duplicates are harmless to members, gaps are not.
   */
  async page(mailboxId: Uint8Array, from: { after: string | null; reader: Uint8Array | null }, limit: number, maxBytes: number): Promise<Page> {
    const mbx = idText(mailboxId)
    let afterSeq = 0
    if (from.after !== null) {
      afterSeq = this.#seqOf(from.after) ?? 0
    } else if (from.reader !== null) {
      const stored = await this.#db.get(readerKey(mbx, idText(from.reader)))
      afterSeq = stored === undefined ? 0 : decodeSeq(stored)
      if (afterSeq > this.#seq) afterSeq = 0
    }
    const cutoff = this.#now() - this.#limits.retentionMs
    const items: PageItem[] = []
    let bytes = 0
    let lastSeq = afterSeq
    let more = false
    const range = itemRange(mbx)
    for await (const [k, value] of this.#db.iterate({ gt: itemKey(mbx, afterSeq), lt: range.lt })) {
      const item = decodeItem(value)
      if (items.length >= limit || (items.length > 0 && bytes + item.bytes.length > maxBytes)) {
        more = true
        break
      }
      const seq = seqFromKey(k)
      lastSeq = seq
      // Past retention but not swept yet: members must not rely on it, so it is not served.
      if (item.arrival < cutoff) continue
      items.push({ cursor: this.cursorOf(seq), id: new Uint8Array(item.hash), bytes: item.bytes })
      bytes += item.bytes.length
    }
    return { items, next: this.cursorOf(lastSeq), more }
  }

  /** Deletes envelopes past retention and yesterday's peer usage; runs on the writer queue in steps. */
  async sweep(): Promise<SweepResult> {
    const total: SweepResult = { expired: 0, expiredBytes: 0 }
    for (;;) {
      const step = await new Promise<SweepResult & { done: boolean }>((resolve, reject) => {
        this.#enqueue({ kind: 'sweep', resolve: resolve as (r: SweepResult) => void, reject })
      })
      total.expired += step.expired
      total.expiredBytes += step.expiredBytes
      if (step.done || this.#closed) return total
    }
  }

  /** Stops taking work and waits until everything queued is written. Does not close the database. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#draining
  }

  cursorOf(seq: number): string {
    return `${this.#generation}.${seq.toString(16)}`
  }

  /** The sequence number of one of our cursors; undefined for another generation's or a future one. */
  #seqOf(cursor: string): number | undefined {
    const dot = cursor.lastIndexOf('.')
    if (dot < 0 || cursor.slice(0, dot) !== this.#generation) return undefined
    const hex = cursor.slice(dot + 1)
    if (!/^[0-9a-f]{1,13}$/.test(hex)) return undefined
    const seq = Number.parseInt(hex, 16)
    return seq <= this.#seq ? seq : undefined
  }

  #enqueue(job: Job): void {
    if (this.#closed) {
      job.reject(new HearthError('NOT_RUNNING', 'relay store is closing'))
      return
    }
    this.#queue.push(job)
    // setImmediate, not a microtask: deposits decoded in the same turn of the event loop share the first batch too.
    this.#draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain())
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const jobs = this.#takeBatch()
        const first = jobs[0]!
        if (first.kind === 'sweep') {
          try {
            first.resolve(await this.#sweepStep())
          } catch (err) {
            first.reject(err)
          }
        } else {
          await this.#writeBatch(jobs as Array<Exclude<Job, { kind: 'sweep' }>>)
        }
      }
    } finally {
      this.#draining = undefined
    }
  }

  /** Deposits and acks up to the batch bound, or one sweep step alone. */
  #takeBatch(): Job[] {
    const queue = this.#queue
    const head = queue[0]!
    if (head.kind === 'sweep') return [queue.shift()!]
    const jobs: Job[] = []
    let envelopes = 0
    for (let next = queue[0]; next !== undefined && next.kind !== 'sweep'; next = queue[0]) {
      const size = next.kind === 'deposit' ? next.envelopes.length : 1
      if (jobs.length > 0 && envelopes + size > this.#maxBatch) break
      jobs.push(queue.shift()!)
      envelopes += size
    }
    return jobs
  }

  async #writeBatch(jobs: Array<Exclude<Job, { kind: 'sweep' }>>): Promise<void> {
    const started = performance.now()
    const now = this.#now()
    const day = Math.floor(now / DAY_MS)
    try {
      const deposits = jobs.filter((j): j is Extract<Job, { kind: 'deposit' }> => j.kind === 'deposit')
      const acks = jobs.filter((j): j is Extract<Job, { kind: 'ack' }> => j.kind === 'ack')

      // Everything the decisions need, read up front: duplicates, mailbox usage, peer usage, reader positions.
      const dedupKeys = [...new Set(deposits.flatMap((j) => j.envelopes.filter((e) => e.outcome === undefined).map((e) => dedupKey(j.mbx, e.hashText))))]
      const existing = new Set<string>()
      const found = dedupKeys.length === 0 ? [] : await this.#db.getMany(dedupKeys)
      found.forEach((v, i) => {
        if (v !== undefined) existing.add(dedupKeys[i]!)
      })
      const stats = await this.#stagedStats([...deposits.map((j) => j.mbx), ...acks.map((j) => j.mbx)])
      const usage = await this.#stagedUsage(deposits.map((j) => j.peer), day)
      const readerPositions = await this.#readerPositions(acks)

      const outcomes = new Map<Extract<Job, { kind: 'deposit' }>, DepositOutcome[]>()
      const accepted: Array<{ job: Extract<Job, { kind: 'deposit' }>; index: number; size: number }> = []
      const inBatch = new Set<string>()
      let incoming = 0
      for (const job of deposits) {
        const results: DepositOutcome[] = []
        outcomes.set(job, results)
        const box = stats.get(job.mbx)!
        const peer = usage.get(job.peer)!
        for (const [index, e] of job.envelopes.entries()) {
          results.push(this.#decide(e, job.mbx, box, peer, existing, inBatch))
          if (results[index]!.status !== 'stored') continue
          const size = e.bytes.length + ITEM_OVERHEAD_BYTES
          incoming += size
          accepted.push({ job, index, size })
        }
      }

      const ops: BatchOp[] = []
      let storedBytes = this.#storedBytes
      let storedEnvelopes = this.#storedEnvelopes
      let evicted = 0
      let evictedBytes = 0
      if (storedBytes + incoming > this.#limits.maxStoredBytes) {
        const target = Math.floor(this.#limits.maxStoredBytes * EVICTION_TARGET) - incoming
        const freed = await this.#evictInto(ops, stats, storedBytes - Math.max(0, target))
        evicted = freed.envelopes
        evictedBytes = freed.bytes
        storedBytes -= freed.bytes
        storedEnvelopes -= freed.envelopes
        // Still no room (the budget is smaller than this batch): refuse the newest of it.
        while (accepted.length > 0 && storedBytes + incoming > this.#limits.maxStoredBytes) {
          const last = accepted.pop()!
          const e = last.job.envelopes[last.index]!
          const box = stats.get(last.job.mbx)!
          const peer = usage.get(last.job.peer)!
          box.n--
          box.b -= last.size
          peer.n--
          peer.b -= e.bytes.length
          incoming -= last.size
          outcomes.get(last.job)![last.index] = { status: 'refused', reason: 'disk-full' }
        }
      }

      let seq = this.#seq
      let arrival = Math.max(now, this.#lastArrival)
      const touched = new Set<string>()
      for (const { job, index, size } of accepted) {
        const e = job.envelopes[index]!
        seq++
        ops.push({ type: 'put', key: itemKey(job.mbx, seq), value: encodeItem(arrival, e.hash, e.bytes) })
        ops.push({ type: 'put', key: arrivalKey(seq), value: encodeArrival({ arrival, mailbox: job.mailbox, hash: e.hash, size }) })
        ops.push({ type: 'put', key: dedupKey(job.mbx, e.hashText), value: encodeSeq(seq) })
        touched.add(job.mbx)
      }
      storedBytes += incoming
      storedEnvelopes += accepted.length

      const ackOutcomes = new Map<Extract<Job, { kind: 'ack' }>, AckOutcome>()
      for (const job of acks) {
        const rk = readerKey(job.mbx, job.reader)
        const current = readerPositions.get(rk)
        const box = stats.get(job.mbx)!
        if (current === undefined && box.r >= this.#limits.mailboxMaxReaders) {
          ackOutcomes.set(job, 'mailbox-quota')
          continue
        }
        ackOutcomes.set(job, 'ok')
        // Positions only move forward, and only matter while the mailbox holds something: an ack on an empty (or
        // unknown) mailbox stores nothing, so acks cannot be used to create records without depositing.
        if ((current !== undefined && current >= job.seq) || box.n === 0) continue
        if (current === undefined) box.r++
        readerPositions.set(rk, job.seq)
        ops.push({ type: 'put', key: rk, value: encodeSeq(job.seq) })
      }

      for (const [mbx, s] of stats) {
        ops.push(s.n === 0 && s.r === 0 ? { type: 'del', key: statsKey(mbx) } : { type: 'put', key: statsKey(mbx), value: encodeStats(s) })
      }
      for (const [peer, u] of usage) ops.push({ type: 'put', key: usageKey(day, peer), value: encodeUsage(u) })
      ops.push({ type: 'put', key: STATE_KEY, value: encodeState({ q: seq, b: storedBytes, n: storedEnvelopes }) })

      try {
        // Synced whenever something was stored or evicted: that is what a deposit acknowledgement promises.
        await this.#db.batch(ops, { sync: accepted.length > 0 || evicted > 0 })
      } catch (err) {
        if (!isDiskFull(err)) throw err
        for (const job of deposits) {
          job.resolve(outcomes.get(job)!.map((o) => (o.status === 'stored' ? { status: 'refused', reason: 'disk-full' } : o)))
        }
        for (const job of acks) job.reject(new HearthError('STORAGE_FULL', 'relay disk is full'))
        return
      }

      // Durable: now the in-memory state may move.
      this.#seq = seq
      this.#lastArrival = arrival
      this.#storedBytes = storedBytes
      this.#storedEnvelopes = storedEnvelopes
      for (const [mbx, s] of stats) this.#cacheStats(mbx, s)
      for (const [peer, u] of usage) this.#usage.set(peer, u)
      if (evicted > 0) this.#events.onEvicted?.(evicted, evictedBytes)
      this.#events.onBatch?.(accepted.length, performance.now() - started)
      for (const job of deposits) job.resolve(outcomes.get(job)!)
      for (const job of acks) job.resolve(ackOutcomes.get(job)!)
      for (const mbx of touched) this.#events.onStored?.(mbx)
    } catch (err) {
      for (const job of jobs) job.reject(err)
    }
  }

  /** The outcome of one envelope; counts an accepted one in the staged mailbox and peer usage. */
  #decide(e: PreparedEnvelope, mbx: string, box: MailboxStats, peer: Counters, existing: Set<string>, inBatch: Set<string>): DepositOutcome {
    if (e.outcome !== undefined) return e.outcome
    const dk = dedupKey(mbx, e.hashText)
    if (existing.has(dk) || inBatch.has(dk)) return { status: 'duplicate' }
    const size = e.bytes.length + ITEM_OVERHEAD_BYTES
    const limits = this.#limits
    if (box.n + 1 > limits.mailboxMaxEnvelopes || box.b + size > limits.mailboxMaxBytes) return { status: 'refused', reason: 'mailbox-quota' }
    if (peer.n + 1 > limits.peerMaxEnvelopesPerDay || peer.b + e.bytes.length > limits.peerMaxBytesPerDay) {
      return { status: 'refused', reason: 'peer-quota' }
    }
    if (size > limits.maxStoredBytes) return { status: 'refused', reason: 'disk-full' }
    box.n++
    box.b += size
    peer.n++
    peer.b += e.bytes.length
    inBatch.add(dk)
    return { status: 'stored' }
  }

  /** Copies of the usage of these mailboxes, to be changed while a batch is built. */
  #stagedStats(mailboxes: string[]): Promise<Map<string, MailboxStats>> {
    return this.#staged(mailboxes, this.#stats, statsKey, decodeStats, () => ({ b: 0, n: 0, r: 0 }))
  }

  /** Copies of today's usage of these depositing peers (yesterday's counters are dropped from memory). */
  #stagedUsage(peers: string[], day: number): Promise<Map<string, Counters>> {
    if (day !== this.#usageDay) {
      this.#usage.clear()
      this.#usageDay = day
    }
    return this.#staged(peers, this.#usage, (peer) => usageKey(day, peer), decodeUsage, () => ({ b: 0, n: 0 }))
  }

  /** Copies of records from `cache`, reading those it lacks from the database in one `getMany`. */
  async #staged<T extends object>(
    ids: string[],
    cache: Map<string, T>,
    keyOf: (id: string) => string,
    decode: (value: Uint8Array) => T,
    empty: () => T,
  ): Promise<Map<string, T>> {
    const staged = new Map<string, T>()
    const missing: string[] = []
    for (const id of new Set(ids)) {
      const cached = cache.get(id)
      if (cached === undefined) missing.push(id)
      else staged.set(id, { ...cached })
    }
    if (missing.length > 0) {
      const values = await this.#db.getMany(missing.map(keyOf))
      missing.forEach((id, i) => {
        const v = values[i]
        staged.set(id, v === undefined ? empty() : decode(v))
      })
    }
    return staged
  }

  async #readerPositions(acks: Array<Extract<Job, { kind: 'ack' }>>): Promise<Map<string, number>> {
    const keys = [...new Set(acks.map((j) => readerKey(j.mbx, j.reader)))]
    const out = new Map<string, number>()
    if (keys.length === 0) return out
    const values = await this.#db.getMany(keys)
    values.forEach((v, i) => {
      if (v !== undefined) out.set(keys[i]!, decodeSeq(v))
    })
    return out
  }

  /**
   * Adds deletions of the oldest envelopes (whole relay) to `ops` until `need` counted bytes are freed or nothing is
   * left. `stats` receives the affected mailboxes' usage.
   */
  async #evictInto(ops: BatchOp[], stats: Map<string, MailboxStats>, need: number): Promise<{ envelopes: number; bytes: number }> {
    let bytes = 0
    let envelopes = 0
    const victims: Array<{ seq: number; mbx: string; hash: string; size: number }> = []
    for await (const [k, value] of this.#db.iterate(arrivalRange())) {
      if (bytes >= need) break
      const entry = decodeArrival(value)
      victims.push({ seq: seqFromKey(k), mbx: idText(entry.mailbox), hash: idText(entry.hash), size: entry.size })
      bytes += entry.size
      envelopes++
    }
    const more = await this.#stagedStats(victims.map((v) => v.mbx).filter((m) => !stats.has(m)))
    for (const [mbx, s] of more) stats.set(mbx, s)
    for (const v of victims) this.#deleteItem(ops, stats.get(v.mbx)!, v)
    return { envelopes, bytes }
  }

  #deleteItem(ops: BatchOp[], box: MailboxStats, v: { seq: number; mbx: string; hash: string; size: number }): void {
    ops.push({ type: 'del', key: itemKey(v.mbx, v.seq) })
    ops.push({ type: 'del', key: arrivalKey(v.seq) })
    ops.push({ type: 'del', key: dedupKey(v.mbx, v.hash) })
    box.n = Math.max(0, box.n - 1)
    box.b = Math.max(0, box.b - v.size)
  }

  /** One bounded step of retention: expired envelopes (oldest first), then peer usage of past days. */
  async #sweepStep(): Promise<SweepResult & { done: boolean }> {
    const cutoff = this.#now() - this.#limits.retentionMs
    const victims: Array<{ seq: number; mbx: string; hash: string; size: number }> = []
    let full = false
    for await (const [k, value] of this.#db.iterate({ ...arrivalRange(), limit: SWEEP_STEP + 1 })) {
      const entry = decodeArrival(value)
      if (entry.arrival >= cutoff) break
      if (victims.length === SWEEP_STEP) {
        full = true
        break
      }
      victims.push({ seq: seqFromKey(k), mbx: idText(entry.mailbox), hash: idText(entry.hash), size: entry.size })
    }
    const ops: BatchOp[] = []
    const stats = await this.#stagedStats(victims.map((v) => v.mbx))
    let bytes = 0
    for (const v of victims) {
      this.#deleteItem(ops, stats.get(v.mbx)!, v)
      bytes += v.size
    }
    // A mailbox left empty forgets its reader positions too: nothing to resume, and abandoned mailboxes must not
    // leave records behind forever.
    for (const [mbx, s] of stats) {
      if (s.n === 0 && s.r > 0) {
        for await (const k of this.#db.keys(readerRange(mbx))) ops.push({ type: 'del', key: k })
        s.r = 0
      }
      ops.push(s.n === 0 ? { type: 'del', key: statsKey(mbx) } : { type: 'put', key: statsKey(mbx), value: encodeStats(s) })
    }
    const today = Math.floor(this.#now() / DAY_MS)
    let oldUsage = 0
    if (!full) {
      for await (const k of this.#db.keys({ gte: usageRange().gte, lt: usageDayStart(today), limit: SWEEP_STEP })) {
        ops.push({ type: 'del', key: k })
        oldUsage++
      }
    }
    const storedBytes = this.#storedBytes - bytes
    const storedEnvelopes = this.#storedEnvelopes - victims.length
    if (ops.length > 0) {
      ops.push({ type: 'put', key: STATE_KEY, value: encodeState({ q: this.#seq, b: storedBytes, n: storedEnvelopes }) })
      // Not synced: a sweep lost to a crash is simply done again.
      await this.#db.batch(ops)
    }
    this.#storedBytes = storedBytes
    this.#storedEnvelopes = storedEnvelopes
    for (const [mbx, s] of stats) this.#cacheStats(mbx, s)
    if (victims.length > 0) this.#events.onExpired?.(victims.length, bytes)
    return { expired: victims.length, expiredBytes: bytes, done: !full && oldUsage < SWEEP_STEP }
  }

  #cacheStats(mbx: string, s: MailboxStats): void {
    this.#stats.delete(mbx)
    if (s.n === 0 && s.r === 0) return
    this.#stats.set(mbx, s)
    if (this.#stats.size > this.#statsCacheSize) {
      const oldest = this.#stats.keys().next()
      if (oldest.done !== true) this.#stats.delete(oldest.value)
    }
  }
}


/** LevelDB reports a full disk as an IO error whose text carries the OS's. */
function isDiskFull(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err)
  return /ENOSPC|No space left on device/i.test(text)
}

