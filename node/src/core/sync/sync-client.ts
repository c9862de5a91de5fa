import { peerIdFromString } from '@libp2p/peer-id'
import { HearthError, drop } from '../../../common/errors.js'
import { RequestPacer } from '../../../common/net/request-pacer.js'
import { request } from '../../../common/net/request-response.js'
import { Limits } from '../../../common/wire/limits.js'
import { decodeOp, type MembershipOp } from '../../conversation/membership-op.js'
import type { ConversationId, DeviceId, EpochId } from '../../ids.js'
import { SYNC_PROTOCOL, decodeSyncFrame, encodeSyncRequest, type StreamPosition, type SyncFrame } from '../../sync/sync-frames.js'
import { parseStreamKey, streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { GossipRateLimit } from '../gossip-rate-limit.js'
import { historyProgressOf } from '../history/history-progress.js'
import type { Kernel } from '../kernel.js'
import type { Arrival } from '../receive/ingest.js'
import { SYNC_CLIENT_PACE, SYNC_LIMITS } from './protocol-limits.js'
import { vector } from './vector.js'

/** Envelopes from a sync page ingested per turn on the core's queue, so live gossip is not stuck behind a backlog. */
const SYNC_INGEST_SLICE = 256
/** Streams one sync request may pace (sync-frames.ts bounds the list). */
const MAX_PACED_STREAMS = 256
/** Heads a sync request names (more are merged before any operation of ours; see MembershipEngine.append). */
const MAX_SYNC_HEADS = 256
/** Rounds of one sync: a long backlog or membership log comes over several bounded responses. */
const MAX_ROUNDS = 50
/**
 * Syncs open with one peer at a time. A member sharing many conversations would otherwise open a stream for each at
 * once, beyond what the peer accepts per protocol and connection (libp2p's 32), and the ones refused would wait for
 * the next anti-entropy round, and be refused again.
 */
const MAX_SYNCS_PER_PEER = 8

export interface SyncClientHooks {
  ingest(rt: ConversationRuntime, items: Arrival[]): Promise<void>
  /** Envelopes of a page read ahead: their signatures can be verified while the page before is ingested. */
  verifyAhead(rt: ConversationRuntime, envelopes: readonly Uint8Array[]): void
  addOps(rt: ConversationRuntime, ops: MembershipOp[]): Promise<number>
}

/** The asking side of sync: pulls what a member's device holds and we lack. */
export class SyncClient {
  private readonly running = new Map<string, Promise<void>>()
  /** Per peer: syncs in progress and the ones waiting for a turn (MAX_SYNCS_PER_PEER). */
  private readonly turns = new Map<string, { active: number; waiting: Array<() => void> }>()
  /** Every request to a peer waits its turn under the peer's rate limit (anti-entropy over many conversations). */
  private readonly pacer = new RequestPacer(SYNC_CLIENT_PACE)

  constructor(
    private readonly kernel: Kernel,
    private readonly gossipRate: GossipRateLimit,
    private readonly hooks: SyncClientHooks,
  ) {}

  /** Pulls what `peer` has and we lack for one conversation (or all we share). Concurrent calls coalesce. */
  syncWith(peer: string, conversation?: ConversationId): Promise<void> {
    const ids = conversation
      ? [conversation]
      : [...this.kernel.conversations.values()].filter((rt) => this.kernel.memberPeers(rt).includes(peer)).map((rt) => rt.id)
    return Promise.all(
      ids.map((id) => {
        const key = `${peer}/${id}`
        const running = this.running.get(key)
        if (running) return running
        const task = this.inTurn(peer, () => this.pull(peer, id)).finally(() => this.running.delete(key))
        this.running.set(key, task)
        return task
      }),
    ).then(() => {})
  }

  private async inTurn(peer: string, work: () => Promise<void>): Promise<void> {
    let turn = this.turns.get(peer)
    if (turn === undefined) this.turns.set(peer, (turn = { active: 0, waiting: [] }))
    if (turn.active >= MAX_SYNCS_PER_PEER) await new Promise<void>((resolve) => turn.waiting.push(resolve))
    turn.active++
    try {
      await work()
    } finally {
      turn.active--
      const next = turn.waiting.shift()
      if (next !== undefined) next()
      else if (turn.active === 0) this.turns.delete(peer)
    }
  }

  /** Syncs a conversation with every member device we are connected to. */
  syncMembers(rt: ConversationRuntime, why: string): void {
    for (const peer of this.kernel.memberPeers(rt)) drop(this.syncWith(peer, rt.id), (err) => this.kernel.log.debug({ err, peer }, `${why} sync failed`))
  }

  /** Anti-entropy: every conversation with every member device we are connected to. */
  everyone(): void {
    if (this.kernel.stopped) return
    for (const rt of this.kernel.conversations.values()) this.syncMembers(rt, 'periodic')
  }

  /** Syncs in flight. */
  get inFlight(): number {
    return this.running.size
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()])
  }

  private async pull(peer: string, id: ConversationId): Promise<void> {
    const { identity, node, queue, counters } = this.kernel
    const rt = this.kernel.conversations.get(id)
    if (!(await this.speaksSync(peer))) return
    // A removed member still asks (members answer it with the membership log alone), so it learns of being added back.
    if (!rt || this.kernel.stopped) return
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (!(await this.pacer.turn(peer, () => this.kernel.stopped))) return
      const paced = this.pacedStreams(rt)
      const req = encodeSyncRequest(
        { conversation: id, device: identity.deviceId, at: this.kernel.now(), heads: rt.log.heads.slice(0, MAX_SYNC_HEADS), vector: vector(this.kernel, rt), paced },
        identity.deviceKey.seed,
        { requester: identity.peerId, responder: peer },
      )
      let received = 0
      let opsReceived = 0
      let theirs: StreamPosition[] = []
      for await (const frame of this.readAhead(rt, (signal) => request(node, peer, SYNC_PROTOCOL, req, SYNC_LIMITS, { signal }))) {
        if (frame.kind === 'ops') {
          const ops: MembershipOp[] = []
          for (const bytes of frame.ops) {
            try {
              ops.push(decodeOp(bytes))
            } catch {
              counters.count('bad-membership-op')
            }
          }
          opsReceived += await queue.run(() => this.hooks.addOps(rt, ops))
        } else if (frame.kind === 'envelopes') {
          received += frame.envelopes.length
          // In slices, each its own turn on the queue: live gossip (an honest member's next message) then waits for one
          // slice, not for a whole page of backlog (a flooding member's skipped messages arrive this way).
          for (let i = 0; i < frame.envelopes.length; i += SYNC_INGEST_SLICE) {
            const slice = frame.envelopes.slice(i, i + SYNC_INGEST_SLICE)
            await queue.run(() => this.hooks.ingest(rt, slice.map((bytes) => ({ bytes, from: peer }))))
          }
        } else if (frame.kind === 'evidence') {
          // Every version of an equivocated position: ingest compares them with what we hold.
          await queue.run(() => this.hooks.ingest(rt, frame.envelopes.map((bytes) => ({ bytes, from: peer }))))
        } else {
          theirs = frame.vector
        }
      }
      // What the member holds is history that exists: the progress a catching-up device shows counts it.
      historyProgressOf(this.kernel).claimAll(rt.id, theirs)
      const mine = new Map(vector(this.kernel, rt).map((p) => [streamKey(p.epoch, p.device), p.seq]))
      for (const p of paced) this.gossipRate.spent(rt.id, p.device, (mine.get(streamKey(p.epoch, p.device)) ?? 0) - p.had)
      // A paced stream (a flooder's) is not a reason to ask again: the next anti-entropy round fetches its next share.
      const pacedKeys = new Set(paced.map((p) => streamKey(p.epoch, p.device)))
      const behind = theirs.some((p) => rt.epochs.has(p.epoch) && !pacedKeys.has(streamKey(p.epoch, p.device)) && p.seq > (mine.get(streamKey(p.epoch, p.device)) ?? 0))
      // A long membership log comes over several rounds (each response is bounded): ask again while it grows.
      if (opsReceived > 0) continue
      if (!behind || received === 0) return
    }
  }

  /**
   * The frames of a sync response, each read (and its envelopes' signatures set verifying) while the one before is
   * handled: the thread pool checks page n + 1 while the main thread ingests page n. The response is bounded
   * (sync-server.ts), so one page read ahead adds at most one page of memory.
   */
  private async *readAhead(rt: ConversationRuntime, open: (signal: AbortSignal) => AsyncIterable<Uint8Array>): AsyncGenerator<SyncFrame> {
    // Stopped early (an ingest failed), the read already asked for is cut short rather than left to its timeout.
    const stop = new AbortController()
    const source = open(stop.signal)[Symbol.asyncIterator]()
    const read = async (): Promise<SyncFrame | null> => {
      const next = await source.next()
      if (next.done === true) return null
      const frame = decodeSyncFrame(next.value)
      if (frame.kind === 'envelopes') this.hooks.verifyAhead(rt, frame.envelopes)
      return frame
    }
    let pending = read()
    let ended = false
    try {
      for (;;) {
        const frame = await pending
        if (frame === null) {
          ended = true
          return
        }
        pending = read()
        // Awaited on the next turn; if the caller stops first, a failed read must not surface as unhandled.
        pending.catch(() => {})
        yield frame
      }
    } finally {
      if (!ended) {
        stop.abort(new HearthError('TIMEOUT', 'sync ended'))
        await pending.catch(() => null)
      }
      await source.return?.()
    }
  }

  /**
   * False for a peer whose protocols identify reported without sync: a device being linked is a member device while its
   * pairing node (which speaks only the pairing protocol) is still the one connected, often over a relay circuit whose
   * few bytes the pairing needs. Unknown protocols (identify not done yet) are tried.
   */
  private async speaksSync(peer: string): Promise<boolean> {
    try {
      const { protocols } = await this.kernel.node.libp2p.peerStore.get(peerIdFromString(peer))
      return protocols.length === 0 || protocols.includes(SYNC_PROTOCOL)
    } catch {
      return true
    }
  }

  /**
   * Streams of devices that went past their gossip allowance lately, with how many envelopes of each this catch-up
   * may bring (what arrives is spent from the same allowance): a flooder's excess is delayed, not processed at the
   * flood's pace.
   */
  private pacedStreams(rt: ConversationRuntime): Array<{ epoch: EpochId; device: DeviceId; max: number; had: number }> {
    const paced: Array<{ epoch: EpochId; device: DeviceId; max: number; had: number }> = []
    for (const [key, stream] of rt.streams) {
      const { epoch, device } = parseStreamKey(key)
      const max = this.gossipRate.catchUpAllowance(rt.id, device)
      if (max !== undefined && paced.length < MAX_PACED_STREAMS) paced.push({ epoch, device, max: Math.min(max, Limits.maxEnvelopesPerPage), had: stream.have })
    }
    return paced
  }
}
