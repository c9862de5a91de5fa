/**
 * The relay's memory of mailbox request nonces (mailbox-capability.ts, docs/SECURITY.md "The relay"): it refuses a
 * request it has already accepted, in bounded memory, and no requester can use it to make anyone else's requests fail.
 *
 * Nonces are remembered per mailbox. A request's signature binds its mailbox but not the connection it arrives on, so
 * a replay can come from any PeerId but only ever for the same mailbox: that is the scope a replay check needs, and
 * only holders of a mailbox's capability can add to its memory. Forgetting a nonce early is safe only with a floor:
 * requests stamped at or before a forgotten one are refused as stale, so a forgotten request is never accepted again.
 * The rules below make every such floor land on the flooder, or stay below the timestamps honest clients send.
 *
 * - A mailbox over `maxPerMailbox` forgets its own oldest nonce (the lowest-stamped of the earliest) and raises its
 *   own floor. Its members share the capability, so only they can do that to it.
 * - When the guard is full, room comes, in this order, from: a record of a mailbox used only once whose timestamp is
 *   at least `marginMs` in the past (dropped whole; it raises the floor of mailboxes the guard does not know, which
 *   stays below what honest clients send); the mailbox being written to (its own oldest nonce); the mailbox holding
 *   the most nonces (its oldest, down to 32). Those floors rise to timestamps their own requesters already used.
 * - A mailbox used more than once is never dropped to make room: it leaves only when its newest timestamp leaves the
 *   window, which moves no floor. So an honest client that keeps using its mailboxes keeps being served, whatever
 *   mailboxes and PeerIds a stranger makes up.
 * - More than half full, the guard takes no timestamp more than `PRESSURE_FUTURE_MS` ahead of the relay's clock
 *   (`stale` with the relay's time: an honest client corrects its clock and signs again), so a flooder's records
 *   become droppable within seconds instead of at the far edge of the window.
 * - Failing all that, the guard is full of records made in the last seconds, and a request for a mailbox it does not
 *   know is refused as `busy` with the time until room frees up. Getting there takes far more accepted requests per
 *   second than a relay verifies (docs/LIMITS.md); even then known mailboxes are served.
 *
 * Memory is counted in units: one per nonce and `MAILBOX_RECORD_UNITS` per mailbox record, so a flood of one-request
 * mailboxes costs what it weighs.
 */

/** How far a request's timestamp may be from the relay's clock, either way. */
export const MAILBOX_CLOCK_WINDOW_MS = 30_000
/**
 * What a mailbox record weighs against `maxEntries`, in nonces: measured on Node 22, a remembered nonce takes about
 * 70 bytes and a mailbox record (its id, its map, its place in the indexes) about 360 more.
 */
export const MAILBOX_RECORD_UNITS = 5
const DEFAULT_MAX_ENTRIES = 400_000
const DEFAULT_MAX_PER_MAILBOX = 4096
/** Records are kept in time slots of window / SLOTS_PER_WINDOW, so finding the oldest costs a few dozen steps. */
const SLOTS_PER_WINDOW = 32
/**
 * How many nonces the biggest mailbox keeps when it gives up memory for others. Its floor then stays below what its
 * members sent lately even if their clocks disagree (only its lowest stamps go); a flooder's mailbox holds thousands.
 */
const SHARED_KEEPS = 32
/** How many of a mailbox's earliest nonces are looked at to pick the lowest-stamped one to forget. */
const FORGET_LOOKAHEAD = 64
/** How far ahead of the relay's clock a request may be stamped while the guard is more than half full. */
export const PRESSURE_FUTURE_MS = 1000

export type ReplayVerdict = 'fresh' | 'replayed' | 'stale' | 'busy'

export interface ReplayGuardOptions {
  /** Accepted clock difference either way. Default 30 seconds. */
  windowMs?: number
  /** Bound on memory, in units (a nonce is one, a mailbox record `MAILBOX_RECORD_UNITS`). Default 400,000 (~28 MB). */
  maxEntries?: number
  /** Bound on the nonces one mailbox holds. Default 4,096. */
  maxPerMailbox?: number
}

interface MailboxRecord {
  readonly key: string
  /** nonce → timestamp, in arrival order. */
  readonly nonces: Map<string, number>
  /** Requests stamped at or before this are stale: it is at least every timestamp this mailbox forgot early. */
  floor: number
  /** The highest timestamp recorded here (≥ floor). Once it leaves the window, the whole record can go. */
  top: number
  /** The time slot the record is filed under: Math.floor(top / slotMs). */
  slot: number
  /** Requests accepted for this mailbox while the record lived (counted up to 2: once, or more than once). */
  uses: number
}

/** Records filed by the time slot of their newest timestamp. A window spans a few dozen slots. */
class SlotIndex {
  readonly #slots = new Map<number, Set<MailboxRecord>>()

  add(box: MailboxRecord): void {
    let slot = this.#slots.get(box.slot)
    if (slot === undefined) this.#slots.set(box.slot, (slot = new Set()))
    slot.add(box)
  }

  delete(box: MailboxRecord): void {
    const slot = this.#slots.get(box.slot)
    slot?.delete(box)
    if (slot?.size === 0) this.#slots.delete(box.slot)
  }

  oldest(): number | undefined {
    let oldest: number | undefined
    for (const index of this.#slots.keys()) if (oldest === undefined || index < oldest) oldest = index
    return oldest
  }

  /** Any record of the slot but `except`. */
  pick(slot: number, except: MailboxRecord | undefined): MailboxRecord | undefined {
    for (const box of this.#slots.get(slot) ?? []) if (box !== except) return box
    return undefined
  }

  /** The records in slots up to `limit`, collected first so the caller may remove them. */
  upTo(limit: number): MailboxRecord[] {
    const out: MailboxRecord[] = []
    for (const [index, slot] of this.#slots) {
      // One by one: a slot may hold tens of thousands, too many to spread into arguments.
      if (index <= limit) for (const box of slot) out.push(box)
    }
    return out
  }
}

export class ReplayGuard {
  readonly windowMs: number
  readonly maxEntries: number
  readonly maxPerMailbox: number
  /** How far in the past a record's newest timestamp must be before dropping it may raise the shared floor. */
  readonly marginMs: number
  readonly #slotMs: number
  readonly #mailboxes = new Map<string, MailboxRecord>()
  /** Records of mailboxes used once: the only ones dropped to make room. */
  readonly #usedOnce = new SlotIndex()
  /** Records of mailboxes used more than once: they leave when they expire. */
  readonly #usedMore = new SlotIndex()
  /** Records by nonce count, for finding the biggest. */
  readonly #bySize = new Map<number, Set<MailboxRecord>>()
  #largest = 0
  #nonces = 0
  /** The floor of mailboxes without a record: the highest `top` of the records dropped while in the window. */
  #dropped = Number.NEGATIVE_INFINITY
  #expiredUpTo = Number.NEGATIVE_INFINITY

  constructor(options: ReplayGuardOptions = {}) {
    this.windowMs = options.windowMs ?? MAILBOX_CLOCK_WINDOW_MS
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.maxPerMailbox = options.maxPerMailbox ?? DEFAULT_MAX_PER_MAILBOX
    if (!(this.windowMs > 0) || !(this.maxPerMailbox >= 1) || !(this.maxEntries >= MAILBOX_RECORD_UNITS + 1)) {
      throw new RangeError('ReplayGuard needs a positive window and room for at least one request')
    }
    this.marginMs = Math.min(5_000, this.windowMs / 2)
    this.#slotMs = Math.max(1, Math.ceil(this.windowMs / SLOTS_PER_WINDOW))
  }

  /** Whether a timestamp is inside the window. Records nothing; `record` also applies the mailbox's floor. */
  isFresh(timestamp: number, now: number): boolean {
    return Number.isSafeInteger(timestamp) && Math.abs(now - timestamp) <= this.windowMs
  }

  /**
   * Records a request's nonce for its mailbox: 'fresh' the first time, 'replayed' after, 'stale' outside the window or
   * at or below the mailbox's floor, 'busy' when the guard cannot make room without hurting someone else.
   */
  record(mailbox: string, nonce: string, timestamp: number, now: number): ReplayVerdict {
    if (!this.isFresh(timestamp, now)) return 'stale'
    if (timestamp > now + PRESSURE_FUTURE_MS && this.units * 2 > this.maxEntries) return 'stale'
    this.#expire(now)
    let box = this.#mailboxes.get(mailbox)
    if (timestamp <= (box === undefined ? this.#dropped : box.floor)) return 'stale'
    if (box?.nonces.has(nonce) === true) return 'replayed'
    if (box !== undefined && box.nonces.size >= this.maxPerMailbox) this.#forgetOldest(box)
    const needed = box === undefined ? MAILBOX_RECORD_UNITS + 1 : 1
    while (this.units + needed > this.maxEntries) {
      if (this.#dropUsedOnce(now, box)) continue
      const payer = box !== undefined && box.nonces.size > 0 ? box : this.#biggest()
      if (payer === undefined) return 'busy'
      this.#forgetOldest(payer)
    }
    if (box === undefined) {
      // Dropped records may have held this mailbox's nonces: their floor covers them.
      box = { key: mailbox, nonces: new Map(), floor: this.#dropped, top: timestamp, slot: this.#slotOf(timestamp), uses: 0 }
      this.#mailboxes.set(mailbox, box)
    } else {
      this.#indexOf(box).delete(box)
      if (timestamp > box.top) box.top = timestamp
      box.slot = this.#slotOf(box.top)
    }
    box.uses = Math.min(box.uses + 1, 2)
    this.#indexOf(box).add(box)
    box.nonces.set(nonce, timestamp)
    this.#nonces++
    this.#resized(box, box.nonces.size - 1)
    return 'fresh'
  }

  /** When a `busy` guard expects room: a record used once becoming droppable, or one expiring. At least a second. */
  retryAfterMs(now: number): number {
    const once = this.#usedOnce.oldest()
    const more = this.#usedMore.oldest()
    const at = Math.min(
      once === undefined ? Infinity : (once + 1) * this.#slotMs + this.marginMs,
      more === undefined ? Infinity : (more + 2) * this.#slotMs + this.windowMs,
    )
    return Number.isFinite(at) ? Math.max(1000, Math.ceil(at - now)) : 1000
  }

  /** Nonces remembered. */
  get size(): number {
    return this.#nonces
  }

  /** Mailboxes remembered. */
  get mailboxes(): number {
    return this.#mailboxes.size
  }

  /** Memory in use, in the units of `maxEntries`. */
  get units(): number {
    return this.#nonces + this.#mailboxes.size * MAILBOX_RECORD_UNITS
  }

  #slotOf(timestamp: number): number {
    return Math.floor(timestamp / this.#slotMs)
  }

  #indexOf(box: MailboxRecord): SlotIndex {
    return box.uses >= 2 ? this.#usedMore : this.#usedOnce
  }

  /** Moves a record between size classes after its nonce count changed from `from` (-1: not filed yet). */
  #resized(box: MailboxRecord, from: number): void {
    if (from >= 0) {
      const old = this.#bySize.get(from)
      old?.delete(box)
      if (old?.size === 0) this.#bySize.delete(from)
    }
    const size = box.nonces.size
    let set = this.#bySize.get(size)
    if (set === undefined) this.#bySize.set(size, (set = new Set()))
    set.add(box)
    if (size > this.#largest) this.#largest = size
  }

  /** The record holding the most nonces, if it holds more than `SHARED_KEEPS`. */
  #biggest(): MailboxRecord | undefined {
    while (this.#largest > SHARED_KEEPS && this.#bySize.get(this.#largest) === undefined) this.#largest--
    if (this.#largest <= SHARED_KEEPS) return undefined
    return this.#bySize.get(this.#largest)!.values().next().value
  }

  /**
   * Forgets one of a record's nonces and raises its floor to cover it: the lowest-stamped among the earliest arrivals,
   * so the floor stays below what each of the mailbox's members sent lately even when their clocks disagree by a few
   * seconds (a member whose clock lags keeps passing). Bounded look-ahead: arrival order is nearly timestamp order.
   */
  #forgetOldest(box: MailboxRecord): void {
    let chosen: string | undefined
    let lowest = Infinity
    let looked = 0
    for (const [nonce, timestamp] of box.nonces) {
      if (timestamp < lowest) {
        chosen = nonce
        lowest = timestamp
      }
      if (++looked === FORGET_LOOKAHEAD) break
    }
    if (chosen === undefined) return
    box.nonces.delete(chosen)
    this.#nonces--
    if (lowest > box.floor) box.floor = lowest
    this.#resized(box, box.nonces.size + 1)
  }

  #remove(box: MailboxRecord): void {
    this.#mailboxes.delete(box.key)
    this.#indexOf(box).delete(box)
    this.#nonces -= box.nonces.size
    const set = this.#bySize.get(box.nonces.size)
    set?.delete(box)
    if (set?.size === 0) this.#bySize.delete(box.nonces.size)
  }

  /**
   * Drops records whose every timestamp has left the window: every request they could refuse is stale anyway. Runs
   * at most once per slot, so a busy relay pays for it a few times a second.
   */
  #expire(now: number): void {
    const limit = this.#slotOf(now - this.windowMs) - 1
    if (limit <= this.#expiredUpTo) return
    this.#expiredUpTo = limit
    for (const box of [...this.#usedOnce.upTo(limit), ...this.#usedMore.upTo(limit)]) this.#remove(box)
  }

  /**
   * Drops one record of a mailbox used once (not `keep`, the one being written to) from the oldest slot, if that whole
   * slot is at least `marginMs` in the past, and raises the floor of unknown mailboxes to its top. Whole slots only,
   * so the check costs nothing per record.
   */
  #dropUsedOnce(now: number, keep: MailboxRecord | undefined): boolean {
    const oldest = this.#usedOnce.oldest()
    if (oldest === undefined || (oldest + 1) * this.#slotMs - 1 > now - this.marginMs) return false
    const box = this.#usedOnce.pick(oldest, keep)
    if (box === undefined) return false
    if (box.top > this.#dropped) this.#dropped = box.top
    this.#remove(box)
    return true
  }
}
