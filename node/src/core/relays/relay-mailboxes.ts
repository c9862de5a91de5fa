/**
 * Store-and-forward through community relays, from the core's side.
 *
 * Every envelope this device writes (messages, membership operations, key grants: the whole own stream of an epoch)
 * is deposited in the epoch's mailbox on each of the conversation's relays, in order, retried with backoff until the
 * relay acknowledges it durably. On start, on reconnect and on a timer the device fetches every mailbox of every
 * conversation from each relay until caught up, and while a relay is connected it keeps a long-poll open on each
 * current mailbox so new deposits arrive at once. What comes from a relay goes through the same validation as gossip
 * (signature, membership, replay), so a relay can withhold but not forge; duplicates from several relays and from
 * peers are dropped by the stream position.
 *
 * Mailbox keys derive from the epoch secret (EpochKeys.mailboxSecret): the relay can check a member's capability but
 * learns neither the conversation, nor who is in it, nor what is said.
 */
import { createHash } from 'node:crypto'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import type { MailboxClient } from '../../../common/net/mailbox-client.js'
import { MailboxRefusedError } from '../../../common/wire/mailbox.js'
import type { ConversationId, EpochId } from '../../ids.js'
import type { Logger } from '../logger.js'

/** What this module needs of the mailbox protocol client (common/net/mailbox-client); tests may pass their own. */
export type MailboxPort = Pick<MailboxClient, 'deposit' | 'fetch'>

export interface MailboxTarget {
  conversation: ConversationId
  /** Relay multiaddrs, each ending in /p2p/<relay PeerId>. */
  relays: string[]
  epochs: Array<{ epoch: EpochId; mailboxSecret: Uint8Array; current: boolean }>
}

export interface RelayCursor {
  /** Own stream position up to which this relay acknowledged our envelopes. */
  deposited: number
  /** Where the next fetch from this relay's mailbox starts; null before the first. */
  cursor: string | null
}

/** What the core gives this module: its conversations, its own streams and its receive path. */
export interface MailboxHost {
  targets(): MailboxTarget[]
  ownHave(conversation: ConversationId, epoch: EpochId): number
  ownEnvelopes(conversation: ConversationId, epoch: EpochId, afterSeq: number, max: number): Promise<Array<{ seq: number; bytes: Uint8Array }>>
  /** Validates and stores envelopes as if they came by gossip; resolves once they are processed. */
  receive(conversation: ConversationId, envelopes: Uint8Array[]): Promise<void>
  /** Envelopes that `receive` will get next: their signatures may be verified meanwhile. */
  verifyAhead?(conversation: ConversationId, envelopes: Uint8Array[]): void
  /** Our envelopes after `afterSeq` up to `upToSeq` are durable on a relay: pending messages among them become "sent". */
  deposited(conversation: ConversationId, epoch: EpochId, afterSeq: number, upToSeq: number): Promise<void>
  loadCursor(conversation: ConversationId, epoch: EpochId, relayPeer: string): Promise<RelayCursor>
  /** Saved with a synced write, which also makes durable what `receive` stored before it. */
  saveCursor(conversation: ConversationId, epoch: EpochId, relayPeer: string, cursor: RelayCursor): Promise<void>
  isConnected(peer: string): boolean
}

export interface RelayStatus {
  address: string
  peerId: string
  /** ok: the last exchange worked; refused: the relay said no (reason says why); unreachable: it did not answer. */
  state: 'ok' | 'refused' | 'unreachable' | 'unknown'
  /** A relay's refusal reason or the error, for the user to see. */
  detail: string | null
  at: number
}

export interface RelayMailboxesOptions {
  host: MailboxHost
  port: MailboxPort
  logger: Logger
  now?: () => number
  /** Full pass over every mailbox, ms. Default 60 s (long-polls carry the fast path). */
  intervalMs?: number
  /** Long-poll wait per fetch. Default 20 s; 0 turns long-polling off. */
  waitMs?: number
  /** Most long-polls held at once per relay. Default 16: the most recently active conversations. */
  maxWatches?: number
}

const DEPOSIT_BATCH = 128
const DEPOSIT_BATCH_BYTES = 768 * 1024
/** Envelopes asked for per mailbox page. */
export const MAILBOX_FETCH_LIMIT = 500
const BACKOFF_MIN_MS = 1_000
const BACKOFF_MAX_MS = 5 * 60_000
/** A refusal (quota, disk) will not clear in a second; wait longer before asking the same relay again. */
const REFUSAL_BACKOFF_MS = 60_000

export function relayPeerOf(address: string): string {
  const parts = address.split('/p2p/')
  return parts[parts.length - 1] ?? address
}

/**
 * A pass run on start, on every kick and every `intervalMs`, one at a time: kicks during a pass coalesce into one more
 * pass right after it. The relay mailboxes and both sides of a join through a relay run their passes this way.
 */
export class PassLoop {
  private running: Promise<void> | undefined
  private again = false
  private timer: NodeJS.Timeout | undefined
  private halted = false

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly failed: (err: unknown) => void,
    private readonly intervalMs: number,
  ) {}

  /** True once stop() was called: a pass in flight should end early. */
  get stopped(): boolean {
    return this.halted
  }

  /** A pass now, then one on each `tick` every intervalMs (by default a kick; an owner may do more on its ticks). */
  start(tick: () => void = () => this.kick()): void {
    this.timer = setInterval(tick, this.intervalMs)
    this.timer.unref()
    tick()
  }

  /** No more passes; resolves once the one in flight, if any, ended. Synchronous up to that wait. */
  async stop(): Promise<void> {
    this.halted = true
    if (this.timer) clearInterval(this.timer)
    await this.running
  }

  /** Asks for a pass soon. True when one started now; false when one runs already (another follows it) or stopped. */
  kick(): boolean {
    if (this.halted) return false
    if (this.running) {
      this.again = true
      return false
    }
    this.running = this.pass()
      .catch((err: unknown) => this.failed(err))
      .finally(() => {
        this.running = undefined
        if (this.again && !this.halted) {
          this.again = false
          this.kick()
        }
      })
    return true
  }

  /** Another pass right after the one running (it left work for later). */
  runAgain(): void {
    this.again = true
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }
}

export class RelayMailboxes {
  private readonly host: MailboxHost
  private readonly port: MailboxPort
  private readonly log: Logger
  private readonly now: () => number
  private readonly waitMs: number
  private readonly maxWatches: number
  private readonly keys = new Map<string, MailboxKeys>()
  private readonly status = new Map<string, RelayStatus>()
  private readonly backoff = new Map<string, { until: number; delay: number }>()
  private readonly watches = new Map<string, Promise<void>>()
  private readonly cursorUpdates = new Map<string, Promise<void>>()
  private readonly statusListeners = new Set<(status: RelayStatus[]) => void>()
  private readonly loop: PassLoop

  constructor(options: RelayMailboxesOptions) {
    this.host = options.host
    this.port = options.port
    this.log = options.logger
    this.now = options.now ?? Date.now
    this.waitMs = options.waitMs ?? 20_000
    this.maxWatches = options.maxWatches ?? 16
    this.loop = new PassLoop(
      () => this.pass(),
      (err) => this.log.warn({ err }, 'relay pass failed'),
      options.intervalMs ?? 60_000,
    )
  }

  start(): void {
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    // Long-polls end by themselves within waitMs; nobody should wait that long to quit, and their results are
    // dropped once stopped.
  }

  /** Asks for a pass soon: after a send, a new relay connection, a settings change. Coalesces. */
  kick(): void {
    this.loop.kick()
  }

  /** A relay (re)connected: retry it at once rather than at the end of its backoff. */
  relayConnected(peer: string): void {
    this.backoff.delete(peer)
    this.kick()
  }

  statuses(): RelayStatus[] {
    return [...this.status.values()]
  }

  onStatus(listener: (status: RelayStatus[]) => void): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  /** Resolves when no pass is running (tests and the benchmark wait on it). */
  async idle(): Promise<void> {
    await this.loop.idle()
  }

  private get stopped(): boolean {
    return this.loop.stopped
  }

  private async pass(): Promise<void> {
    // A fetch can bring a new epoch (a removal's rotation): go round again until nothing new turns up.
    for (let round = 0; round < 4 && !this.stopped; round++) {
      const before = this.epochCount()
      for (const target of this.host.targets()) {
        for (const address of target.relays) {
          if (this.stopped) return
          const peer = relayPeerOf(address)
          const wait = this.backoff.get(peer)
          if (wait && wait.until > this.now()) continue
          await this.serve(target, address, peer)
        }
      }
      if (this.epochCount() === before) break
    }
    this.startWatches()
  }

  private epochCount(): number {
    return this.host.targets().reduce((n, t) => n + t.epochs.length, 0)
  }

  private async serve(target: MailboxTarget, address: string, peer: string): Promise<void> {
    try {
      for (const { epoch, mailboxSecret } of target.epochs) {
        const keys = this.keysFor(mailboxSecret)
        await this.depositOwn(target.conversation, epoch, address, peer, keys)
        await this.fetchAll(target.conversation, epoch, address, peer, keys)
      }
      this.backoff.delete(peer)
      this.setStatus(address, peer, 'ok', null)
    } catch (err) {
      this.failed(address, peer, err)
    }
  }

  private async depositOwn(conversation: ConversationId, epoch: EpochId, address: string, peer: string, keys: MailboxKeys): Promise<void> {
    const have = this.host.ownHave(conversation, epoch)
    let state = await this.host.loadCursor(conversation, epoch, peer)
    while (state.deposited < have && !this.stopped) {
      const envelopes = await this.host.ownEnvelopes(conversation, epoch, state.deposited, DEPOSIT_BATCH)
      const batch: Array<{ seq: number; bytes: Uint8Array }> = []
      let bytes = 0
      for (const e of envelopes) {
        if (batch.length > 0 && bytes + e.bytes.length > DEPOSIT_BATCH_BYTES) break
        batch.push(e)
        bytes += e.bytes.length
      }
      if (batch.length === 0) return
      const outcomes = await this.port.deposit(
        address,
        keys,
        batch.map((e) => ({ id: envelopeId(e.bytes), bytes: e.bytes })),
      )
      // Positions only advance over a contiguous run of acknowledged envelopes: the stream must reach the relay gap-free.
      let upTo = state.deposited
      for (let i = 0; i < batch.length; i++) {
        const outcome = outcomes[i]
        if (outcome === undefined) break
        if (outcome.status === 'refused') throw new RelayRefusal(outcome.reason)
        upTo = batch[i]!.seq
      }
      if (upTo === state.deposited) return
      const from = state.deposited
      state = await this.updateCursor(conversation, epoch, peer, (s) => ({ ...s, deposited: upTo }))
      await this.host.deposited(conversation, epoch, from, upTo)
    }
  }

  private async fetchAll(conversation: ConversationId, epoch: EpochId, address: string, peer: string, keys: MailboxKeys): Promise<void> {
    let state = await this.host.loadCursor(conversation, epoch, peer)
    const fetchPage = (after: string | null) => this.port.fetch(address, keys, { after, limit: MAILBOX_FETCH_LIMIT })
    let page = await fetchPage(state.cursor)
    for (;;) {
      if (this.stopped) return
      // The next page is asked for, and its signatures set verifying, while this one is processed: across the internet
      // each page costs a round trip to the relay, which then overlaps the work instead of adding to it. The cursor
      // still moves only once a page is processed.
      const ahead = page.more ? fetchPage(page.next) : undefined
      ahead
        ?.then((next) => this.host.verifyAhead?.(conversation, next.items.map((i) => i.bytes)))
        // Its failure is met where it is awaited below; if this page's processing fails first, nobody awaits it.
        .catch(() => {})
      if (page.items.length > 0) await this.host.receive(conversation, page.items.map((i) => i.bytes))
      if (page.next !== state.cursor) {
        const next = page.next
        state = await this.updateCursor(conversation, epoch, peer, (s) => ({ ...s, cursor: next }))
      }
      if (ahead === undefined) return
      page = await ahead
    }
  }

  /** One long-poll per (relay, current mailbox) while the relay is connected, for the most active conversations. */
  private startWatches(): void {
    if (this.waitMs <= 0 || this.stopped) return
    const perRelay = new Map<string, number>()
    for (const target of this.host.targets()) {
      const current = target.epochs.find((e) => e.current)
      if (!current) continue
      for (const address of target.relays) {
        const peer = relayPeerOf(address)
        const count = perRelay.get(peer) ?? 0
        if (count >= this.maxWatches || !this.host.isConnected(peer)) continue
        perRelay.set(peer, count + 1)
        const key = `${peer}/${target.conversation}/${current.epoch}`
        if (this.watches.has(key)) continue
        const watch = this.watch(target.conversation, current.epoch, address, peer, this.keysFor(current.mailboxSecret))
          .catch((err: unknown) => this.failed(address, peer, err))
          .finally(() => this.watches.delete(key))
        this.watches.set(key, watch)
      }
    }
  }

  private async watch(conversation: ConversationId, epoch: EpochId, address: string, peer: string, keys: MailboxKeys): Promise<void> {
    while (!this.stopped && this.host.isConnected(peer) && this.isCurrent(conversation, epoch)) {
      const state = await this.host.loadCursor(conversation, epoch, peer)
      const page = await this.port.fetch(address, keys, { after: state.cursor, limit: MAILBOX_FETCH_LIMIT, waitMs: this.waitMs })
      if (this.stopped) return
      if (page.items.length > 0) await this.host.receive(conversation, page.items.map((i) => i.bytes))
      if (page.next !== state.cursor) {
        const next = page.next
        await this.updateCursor(conversation, epoch, peer, (s) => ({ ...s, cursor: next }))
      }
      if (page.items.length > 0) this.kick() // new keys or a new epoch may have arrived with them
    }
  }

  /**
   * Read-modify-write of one relay cursor, one at a time per cursor: the pass (which advances `deposited`) and a
   * long-poll (which advances `cursor`) share the record, and an unserialised update would put back the other's
   * stale field.
   */
  private updateCursor(conversation: ConversationId, epoch: EpochId, peer: string, change: (state: RelayCursor) => RelayCursor): Promise<RelayCursor> {
    const key = `${peer}/${conversation}/${epoch}`
    const run = (this.cursorUpdates.get(key) ?? Promise.resolve()).then(async () => {
      const next = change(await this.host.loadCursor(conversation, epoch, peer))
      await this.host.saveCursor(conversation, epoch, peer, next)
      return next
    })
    const tail = run.then(
      () => {},
      () => {},
    )
    this.cursorUpdates.set(key, tail)
    void tail.then(() => {
      if (this.cursorUpdates.get(key) === tail) this.cursorUpdates.delete(key)
    })
    return run
  }

  private isCurrent(conversation: ConversationId, epoch: EpochId): boolean {
    return this.host.targets().some((t) => t.conversation === conversation && t.epochs.some((e) => e.epoch === epoch && e.current))
  }

  private keysFor(secret: Uint8Array): MailboxKeys {
    const k = Buffer.from(secret).toString('base64')
    let keys = this.keys.get(k)
    if (!keys) this.keys.set(k, (keys = deriveMailboxKeys(secret)))
    return keys
  }

  private failed(address: string, peer: string, err: unknown): void {
    if (this.stopped) return
    const refusal = err instanceof RelayRefusal ? err.reason : refusalOf(err)
    const previous = this.backoff.get(peer)
    const suggested = err instanceof MailboxRefusedError ? err.retryAfterMs : undefined
    const delay =
      suggested ?? (refusal !== null ? REFUSAL_BACKOFF_MS : Math.min(BACKOFF_MAX_MS, (previous?.delay ?? BACKOFF_MIN_MS / 2) * 2))
    this.backoff.set(peer, { until: this.now() + delay, delay })
    const detail = refusal ?? (err instanceof Error ? err.message : String(err))
    this.setStatus(address, peer, refusal !== null ? 'refused' : 'unreachable', detail)
    this.log.info({ relay: peer, detail, retryInMs: delay }, 'relay exchange failed')
    // Retry when the backoff ends, not only at the next timer tick.
    const t = setTimeout(() => this.kick(), delay + 10)
    t.unref()
  }

  private setStatus(address: string, peerId: string, state: RelayStatus['state'], detail: string | null): void {
    const previous = this.status.get(address)
    const next: RelayStatus = { address, peerId, state, detail, at: this.now() }
    this.status.set(address, next)
    if (previous?.state === state && previous.detail === detail) return
    const all = this.statuses()
    for (const l of this.statusListeners) {
      try {
        l(all)
      } catch (err) {
        this.log.warn({ err }, 'relay status listener failed')
      }
    }
  }
}

/** A relay said no to an envelope (quota, disk, size): not retried until the refusal backoff ends. */
export class RelayRefusal extends Error {
  constructor(readonly reason: string) {
    super(`relay refused: ${reason}`)
  }
}

function refusalOf(err: unknown): string | null {
  return err instanceof MailboxRefusedError ? err.reason : null
}

function envelopeId(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}
