import type { HistoryProgressView } from '../../api/types.js'
import type { AccountId, ConversationId, DeviceId } from '../../ids.js'
import type { StreamPosition } from '../../sync/sync-frames.js'
import { parseStreamKey, streamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import { lastWritable } from '../equivocation.js'
import type { Kernel } from '../kernel.js'
import { historyFigures, type HistoryFigures } from './history-figures.js'

export const HISTORY_PROGRESS = {
  /** How often stream positions are looked at; a conversation's progress is announced at most this often. */
  tickMs: 400,
  /**
   * A catch-up is shown once this much is left, or once it has lasted `showAfterMs`: a few envelopes late (reordered
   * in flight, a member's burst) are no news to the person.
   */
  showAfterEnvelopes: 20,
  showAfterMs: 2000,
  /**
   * A stream holding envelopes it cannot read (no keys yet, or no certificate) is stuck once neither what it holds nor
   * what it read moved for this long and nothing more of the conversation is known to come (the keys of a newcomer
   * often come last, after the envelopes they open).
   */
  stuckAfterMs: 4000,
  /**
   * A catch-up nothing moved in for this long is given up: the member whose claims it counted went away (or lied), or
   * what it holds cannot be read yet.
   */
  staleAfterMs: 120_000,
}
export type HistoryProgressOptions = typeof HISTORY_PROGRESS

/** One conversation catching up: what members said exists, and where each stream stood when it began. */
interface CatchUp {
  claims: Map<StreamKey, number>
  start: Map<StreamKey, number>
  startedAt: number
  shown: boolean
  /** have + total when last looked at, and since when: for stale claims. */
  mark: number
  movedAt: number
}

type ProgressKernel = Pick<Kernel, 'conversations' | 'now' | 'identity' | 'stopped'>

const NOTHING = new Map<StreamKey, number>()

/**
 * How much of each conversation's history this device knows exists but has not got or read yet: what a linked or
 * restored device shows while its history arrives. Everything is in memory and derived from stream positions (no read
 * of the store): members' claims come from sync answers and requests, gaps and receipts; a look at the streams every
 * `tickMs` announces a conversation whose figures moved, so the UI never polls.
 */
export class HistoryProgress {
  private readonly catchUps = new Map<ConversationId, CatchUp>()
  /** Streams holding envelopes they have not read, with where they stood when last seen moving and since when. */
  private readonly unread = new Map<ConversationId, Map<StreamKey, { have: number; done: number; since: number }>>()
  /** What was last announced per conversation (JSON), for those with something to show. */
  private readonly announced = new Map<ConversationId, string>()
  private timer: NodeJS.Timeout | undefined
  private onMoved: (id: ConversationId) => void = () => {}

  constructor(
    private readonly kernel: ProgressKernel,
    private readonly options: HistoryProgressOptions = HISTORY_PROGRESS,
  ) {}

  /** Starts looking; `onMoved` is told of a conversation whose progress changed (it announces its summary). */
  watch(onMoved: (id: ConversationId) => void): void {
    this.onMoved = onMoved
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.tick(), this.options.tickMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * A member says `stream` reaches `seq`. Only streams of epochs we read and devices the log knows count: a claim is a
   * peer's word, and at worst it shows progress that does not move until `staleAfterMs` gives it up.
   */
  claim(id: ConversationId, stream: StreamKey, seq: number): void {
    const rt = this.kernel.conversations.get(id)
    if (rt === undefined || rt.record.removed || !Number.isSafeInteger(seq) || seq <= 0) return
    const { epoch, device } = parseStreamKey(stream)
    const account = rt.log.knownDevices.get(device)?.account
    if (device === this.kernel.identity.deviceId || !rt.epochs.has(epoch) || account === undefined) return
    // Members serve a stream only as far as the log lets its device write (a removed device's cutoff): no further.
    const claimed = lastWritable(rt.log, epoch, device, account, seq)
    if (claimed <= (rt.streams.get(stream)?.have ?? 0)) return
    const c = this.catchUps.get(id) ?? this.begin(rt)
    if (claimed > (c.claims.get(stream) ?? 0)) c.claims.set(stream, claimed)
  }

  /** A member's vector (a sync answer's end): every stream it names. */
  claimAll(id: ConversationId, vector: readonly StreamPosition[]): void {
    for (const p of vector) this.claim(id, streamKey(p.epoch, p.device), p.seq)
  }

  /** The summary's `history` field now; undefined when there is nothing to show. */
  view(rt: ConversationRuntime): HistoryProgressView | undefined {
    // Removed from it: nothing more is coming, and nobody will hand us keys.
    if (rt.record.removed) return undefined
    const c = this.catchUps.get(rt.id)
    // The common case, kept cheap (every summary and every tick): nothing being fetched, no stream holding unread ones.
    if (c === undefined && !this.unread.has(rt.id)) return undefined
    const f = this.figures(rt, c)
    const behind = c !== undefined && c.shown && f.read < f.total
    if (!behind && f.waiting === 0) return undefined
    // Held and read count half each: a newcomer's keys often come after the envelopes they open, and the bar moves
    // while those arrive, not only once they can be read.
    const view: HistoryProgressView = behind ? { have: Math.floor((f.read + f.received) / 2), total: f.total } : { have: 0, total: 0 }
    if (f.waiting > 0) {
      view.waiting = f.waiting
      view.waitingFor = waitingFor(rt, f.waitingFor)
    }
    return view
  }

  /** Looks at every conversation and announces those whose progress changed. */
  tick(): void {
    if (this.kernel.stopped) {
      this.stop()
      return
    }
    const now = this.kernel.now()
    for (const rt of this.kernel.conversations.values()) {
      this.look(rt, now)
      const view = this.view(rt)
      const text = view === undefined ? '' : JSON.stringify(view)
      if (text === (this.announced.get(rt.id) ?? '')) continue
      if (text === '') this.announced.delete(rt.id)
      else this.announced.set(rt.id, text)
      this.onMoved(rt.id)
    }
    // Conversations no longer held (forgotten) leave nothing behind.
    for (const map of [this.catchUps, this.unread, this.announced]) {
      for (const id of map.keys()) if (!this.kernel.conversations.has(id)) map.delete(id)
    }
  }

  private begin(rt: ConversationRuntime): CatchUp {
    const start = new Map<StreamKey, number>()
    for (const [key, s] of rt.streams) start.set(key, s.done)
    const now = this.kernel.now()
    const c: CatchUp = { claims: new Map(), start, startedAt: now, shown: false, mark: -1, movedAt: now }
    this.catchUps.set(rt.id, c)
    return c
  }

  private figures(rt: ConversationRuntime, c: CatchUp | undefined): HistoryFigures {
    const unread = this.unread.get(rt.id)
    const now = this.kernel.now()
    // While members said more exists than we hold, the missing keys may be in it.
    const coming = c !== undefined && [...c.claims].some(([key, claimed]) => claimed > (rt.streams.get(key)?.have ?? 0))
    return historyFigures({
      streams: rt.streams,
      epochs: rt.epochs,
      claims: c?.claims ?? NOTHING,
      // Without a catch-up, only `waiting` is read from the figures.
      start: c?.start ?? NOTHING,
      stuck: (key) => {
        const u = unread?.get(key)
        return !coming && u !== undefined && now - u.since >= this.options.stuckAfterMs
      },
    })
  }

  private look(rt: ConversationRuntime, now: number): void {
    let unread = this.unread.get(rt.id)
    let moving = false
    for (const [key, s] of rt.streams) {
      if (s.have > s.done) {
        if (unread === undefined) this.unread.set(rt.id, (unread = new Map()))
        const u = unread.get(key)
        if (u === undefined || u.done !== s.done || u.have !== s.have) unread.set(key, { have: s.have, done: s.done, since: now })
        if (now - (unread.get(key)?.since ?? now) < this.options.stuckAfterMs) moving = true
      } else unread?.delete(key)
    }
    if (unread?.size === 0) this.unread.delete(rt.id)
    if (rt.record.removed) {
      this.catchUps.delete(rt.id)
      return
    }
    const c = this.catchUps.get(rt.id) ?? (moving ? this.begin(rt) : undefined)
    if (c === undefined) return
    for (const [key, claimed] of c.claims) if ((rt.streams.get(key)?.have ?? 0) >= claimed) c.claims.delete(key)
    const f = this.figures(rt, c)
    if (f.read >= f.total) {
      this.catchUps.delete(rt.id)
      return
    }
    const mark = f.read + f.received + f.total
    if (mark !== c.mark) {
      c.mark = mark
      c.movedAt = now
    } else if (now - c.movedAt >= this.options.staleAfterMs) {
      // Nothing moved for long: what was claimed is not coming now, and what is held cannot be read (its device's
      // certificate has not come). A stream that moves again starts another catch-up.
      this.catchUps.delete(rt.id)
      return
    }
    if (f.total - f.read >= this.options.showAfterEnvelopes || now - c.startedAt >= this.options.showAfterMs) c.shown = true
  }
}

/** The accounts of the devices whose keys are awaited, with the names the log gives them. */
function waitingFor(rt: ConversationRuntime, devices: DeviceId[]): Array<{ account: string; displayName: string }> {
  const accounts = new Set<AccountId>()
  for (const d of devices) {
    const account = rt.log.knownDevices.get(d)?.account
    if (account !== undefined) accounts.add(account)
  }
  return [...accounts].map((account) => ({ account, displayName: rt.log.names.get(account) ?? account.slice(0, 8) }))
}

const trackers = new WeakMap<ProgressKernel, HistoryProgress>()

/**
 * The one tracker of a core: the sync paths that learn what members hold and the read model that builds summaries
 * reach it through the kernel they share, so the core's facade needs no wiring for it.
 */
export function historyProgressOf(kernel: ProgressKernel): HistoryProgress {
  let tracker = trackers.get(kernel)
  if (tracker === undefined) trackers.set(kernel, (tracker = new HistoryProgress(kernel)))
  return tracker
}
