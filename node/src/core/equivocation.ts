import type { DecodedChange } from '@automerge/automerge'
import { SHARD_CAPACITY, isMessageId } from '../../../crdt/src/index.js'
import { toHex } from '../../common/util/bytes.js'
import { envelopeId } from '../../common/wire/envelope.js'
import type { ConflictView } from '../api/types.js'
import { mayWrite, type LogState } from '../conversation/membership-log.js'
import type { AccountId, ConversationId, DeviceId, EpochId, MessageId } from '../ids.js'
import type { Conflict, CoreStore, MessageRow, Put, WithdrawnReason } from '../store/core-store.js'
import { streamKey, type ConversationRuntime } from './conversation-runtime.js'
import type { CoreEventBus } from './events.js'
import type { SecurityCounters } from './security-counters.js'

/**
 * Equivocation and withdrawal (docs/adr/0017).
 *
 * A device that signs two different envelopes for one (epoch, device, seq) has shown different members different
 * histories. Whichever version a member saw first, every member ends the same way: both versions are kept as evidence
 * and passed on (gossip forwards the second version once; sync sends stored evidence), and every message either
 * version created is withdrawn. Withdrawal is also how a removed member's messages beyond its cutoff end: a replica
 * that showed them before the removal reached it withdraws them, so they are shown nowhere.
 *
 * Invariant: a message is withdrawn iff its envelope's position is in a stored conflict, or the membership log says
 * its device may not write there (`mayWrite`). Both are facts every member learns, so every member withdraws the same
 * messages, and views (which leave withdrawn rows out) are the same everywhere.
 */

/** `${epoch}/${device}/${seq}`: one position in one device's stream. */
export type PositionKey = string
export const positionKey = (epoch: EpochId, device: DeviceId, seq: number): PositionKey => `${epoch}/${device}/${seq}`

export const envelopeIdHex = (bytes: Uint8Array): string => toHex(envelopeId(bytes))

/**
 * Which envelope ids were seen at recent positions, so the gossip validator (which must answer at once, without a
 * database read) can ignore a plain duplicate yet let a differing second version through once. Bounded: a position
 * that fell out is 'unknown', and ingest compares with the store.
 */
export class SeenPositions {
  private readonly seen = new Map<string, string[]>()

  constructor(private readonly max = 20_000) {}

  note(conversation: ConversationId, position: PositionKey, id: string): void {
    const k = `${conversation}/${position}`
    const ids = this.seen.get(k) ?? []
    if (!ids.includes(id)) ids.push(id)
    this.seen.delete(k)
    this.seen.set(k, ids)
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!)
  }

  lookup(conversation: ConversationId, position: PositionKey, id: string): 'same' | 'other' | 'unknown' {
    const ids = this.seen.get(`${conversation}/${position}`)
    if (ids === undefined) return 'unknown'
    return ids.includes(id) ? 'same' : 'other'
  }
}

/** The message ids a (validated) change creates: new entries in its author's `m` map. */
export function createdMessages(decoded: DecodedChange): MessageId[] {
  const out: MessageId[] = []
  for (const op of decoded.ops) {
    const key: unknown = (op as { key?: unknown }).key
    if (op.action === 'makeMap' && op.obj !== '_root' && isMessageId(key)) out.push(key as unknown as MessageId)
  }
  return out
}

/** What a withdrawn row keeps: where it was and who wrote it, nothing of what it said. */
export function withdrawRow(row: MessageRow, reason: WithdrawnReason): MessageRow {
  return { ...row, body: '', edited: false, reactions: {}, mentions: undefined, files: undefined, withdrawn: reason }
}

/** The conversation's conflicts per device, for ConversationSummary. */
export function conflictViews(conflicts: Iterable<Conflict>, names: ReadonlyMap<string, string>): ConflictView[] {
  const byDevice = new Map<string, ConflictView>()
  for (const c of conflicts) {
    const view = byDevice.get(c.device)
    if (view === undefined) {
      byDevice.set(c.device, { account: c.account, displayName: names.get(c.account) ?? c.account.slice(0, 8), device: c.device, positions: 1, at: c.at })
    } else {
      view.positions++
      view.at = Math.min(view.at, c.at)
    }
  }
  return [...byDevice.values()].sort((a, b) => a.at - b.at || a.device.localeCompare(b.device))
}

/**
 * The last position up to `upTo` the log lets `device` write in `epoch` (0 if none). `mayWrite` holds up to a removed
 * device's cutoff and not after it, so a bisection finds it.
 */
export function lastWritable(log: LogState, epoch: EpochId, device: DeviceId, account: AccountId, upTo: number): number {
  if (upTo <= 0 || mayWrite(log, epoch, device, upTo, account)) return Math.max(upTo, 0)
  let lo = 0
  let hi = upTo
  while (lo + 1 < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if (mayWrite(log, epoch, device, mid, account)) lo = mid
    else hi = mid
  }
  return lo
}

interface ConversationState {
  conflicts: Map<PositionKey, Conflict>
  withdrawn: Map<MessageId, WithdrawnReason>
  /** Where messages materialised later than their envelope was processed came from (a change waiting on deps). */
  sources: Map<MessageId, { epoch: EpochId; device: DeviceId; seq: number }>
}

export interface EquivocationHost {
  store: CoreStore
  counters: SecurityCounters
  events: CoreEventBus
  now: () => number
}

/** Per-conversation conflicts and withdrawn messages, loaded once from the store and kept in step with it. */
export class Withdrawals {
  private readonly state = new Map<ConversationId, ConversationState>()
  readonly seen = new SeenPositions()

  constructor(private readonly host: EquivocationHost) {}

  /** Loads what the store holds for a conversation (once); everything below needs it loaded. */
  async load(id: ConversationId): Promise<ConversationState> {
    let s = this.state.get(id)
    if (s !== undefined) return s
    const conflicts = new Map<PositionKey, Conflict>()
    for (const c of await this.host.store.listConflicts(id)) conflicts.set(positionKey(c.epoch, c.device, c.seq), c)
    const withdrawn = await this.host.store.listWithdrawn(id)
    s = this.state.get(id) ?? { conflicts, withdrawn, sources: new Map() }
    this.state.set(id, s)
    return s
  }

  conflicts(id: ConversationId): Conflict[] {
    return [...(this.state.get(id)?.conflicts.values() ?? [])]
  }

  isConflict(id: ConversationId, position: PositionKey): boolean {
    return this.state.get(id)?.conflicts.has(position) ?? false
  }

  /**
   * Two or more differing envelopes, all validly signed by `device` for one position: keep every version as
   * evidence, record the conflict, withdraw what the position created and move our own writing to a fresh shard
   * (a forked Automerge change never merges, so changes that depend on one version would wait forever on members
   * holding the other). Returns puts for the caller's batch, rows to write, and what to announce after the write.
   */
  async equivocation(
    rt: ConversationRuntime,
    at: { epoch: EpochId; device: DeviceId; seq: number; account: AccountId },
    versions: readonly Uint8Array[],
  ): Promise<{ puts: Put[]; rows: MessageRow[]; announce: () => void }> {
    const s = await this.load(rt.id)
    const { store } = this.host
    const position = positionKey(at.epoch, at.device, at.seq)
    // Two versions of one batch for a position another pair already settled: nothing more to keep or say.
    if (s.conflicts.has(position)) return { puts: [], rows: [], announce: () => this.host.counters.count('duplicate') }
    const puts: Put[] = []
    for (const bytes of versions) {
      const id = envelopeIdHex(bytes)
      this.seen.note(rt.id, position, id)
      puts.push(store.putEvidence(rt.id, at.epoch, at.device, at.seq, id, bytes))
    }
    const conflict: Conflict = { ...at, at: this.host.now() }
    s.conflicts.set(position, conflict)
    puts.push(store.putConflict(rt.id, conflict))
    const own = rt.own.get(at.epoch)
    if (own !== undefined) {
      const moved = { ...own, messages: (Math.floor(own.messages / SHARD_CAPACITY) + 1) * SHARD_CAPACITY }
      rt.own.set(at.epoch, moved)
      puts.push(store.putOwnChain(rt.id, at.epoch, moved))
    }
    const withdrawn = await this.withdrawIds(rt.id, s, await store.sourceAt(rt.id, at.epoch, at.device, at.seq), 'conflict')
    puts.push(...withdrawn.puts)
    const rows = withdrawn.rows
    const announce = () => {
      this.host.counters.count('equivocation')
      this.host.events.emit('security.equivocation', { conversation: rt.id, device: at.device, account: at.account, epoch: at.epoch, seq: at.seq })
    }
    return { puts, rows, announce }
  }

  /**
   * Where the messages an envelope created came from (processStream, in its batch). Messages from a position that is
   * a conflict, or beyond a removed device's cutoff, are withdrawn before anyone sees them.
   */
  async recordSources(
    rt: ConversationRuntime,
    epoch: EpochId,
    device: DeviceId,
    account: AccountId,
    created: ReadonlyArray<{ seq: number; ids: MessageId[] }>,
  ): Promise<Put[]> {
    const s = await this.load(rt.id)
    const puts: Put[] = []
    for (const { seq, ids } of created) {
      if (ids.length === 0) continue
      puts.push(this.host.store.putSource(rt.id, epoch, device, seq, ids))
      for (const id of ids) s.sources.set(id, { epoch, device, seq })
      const reason = this.reasonAt(rt, epoch, device, seq, account)
      if (reason !== null) puts.push(...(await this.withdrawIds(rt.id, s, ids, reason)).puts)
    }
    return puts
  }

  /** The envelope position a newly materialised message came from, if this core processed it (else 0). */
  sourceSeq(id: ConversationId, message: MessageId): number {
    return this.state.get(id)?.sources.get(message)?.seq ?? 0
  }

  /** Why a message must be shown withdrawn, or null. */
  reasonFor(id: ConversationId, message: MessageId): WithdrawnReason | null {
    return this.state.get(id)?.withdrawn.get(message) ?? null
  }

  forget(id: ConversationId, message: MessageId): void {
    this.state.get(id)?.sources.delete(message)
  }

  /**
   * After the membership log changed: messages a removed device wrote beyond its cutoff that this replica already
   * showed (they arrived before the removal did) are withdrawn, as on replicas that learnt the removal first and never
   * showed them. Cheap: only removed accounts' devices, and only positions past the cutoff (found by bisection).
   */
  async withdrawBeyondCutoffs(rt: ConversationRuntime): Promise<{ puts: Put[]; rows: MessageRow[] }> {
    const s = await this.load(rt.id)
    const puts: Put[] = []
    const rows: MessageRow[] = []
    for (const cert of rt.log.knownDevices.values()) {
      if (!rt.log.removed.has(cert.account) || rt.log.members.has(cert.account)) continue
      for (const epoch of rt.epochs.keys()) {
        // Rows exist only for what was processed, so the search stops at `done`.
        const done = rt.streams.get(streamKey(epoch, cert.device))?.done ?? 0
        const last = lastWritable(rt.log, epoch, cert.device, cert.account, done)
        if (last === done) continue
        for (const { ids } of await this.host.store.sourcesAfter(rt.id, epoch, cert.device, last)) {
          const fresh = ids.filter((id) => !s.withdrawn.has(id))
          const out = await this.withdrawIds(rt.id, s, fresh, 'removed')
          puts.push(...out.puts)
          rows.push(...out.rows)
        }
      }
    }
    return { puts, rows }
  }

  private reasonAt(rt: ConversationRuntime, epoch: EpochId, device: DeviceId, seq: number, account: AccountId): WithdrawnReason | null {
    if (this.state.get(rt.id)?.conflicts.has(positionKey(epoch, device, seq))) return 'conflict'
    if (!mayWrite(rt.log, epoch, device, seq, account)) return 'removed'
    return null
  }

  private async withdrawIds(id: ConversationId, s: ConversationState, ids: readonly MessageId[], reason: WithdrawnReason) {
    const puts: Put[] = []
    for (const m of ids) {
      s.withdrawn.set(m, reason)
      puts.push(this.host.store.putWithdrawn(id, m, reason))
    }
    const rows = [...(await this.host.store.getMessages(id, ids)).values()].filter((r) => !r.withdrawn).map((r) => withdrawRow(r, reason))
    for (const r of rows) puts.push(...this.host.store.putMessage(r))
    return { puts, rows }
  }
}
