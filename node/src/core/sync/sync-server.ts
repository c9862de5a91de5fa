import { HearthError } from '../../../common/errors.js'
import { Limits } from '../../../common/wire/limits.js'
import { mayWrite } from '../../conversation/membership-log.js'
import type { DeviceId, EpochId } from '../../ids.js'
import { opPages, opsMissing } from '../../sync/op-sync.js'
import { decodeSyncRequest, encodeSyncFrame } from '../../sync/sync-frames.js'
import { streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import { lastWritable, type Withdrawals } from '../equivocation.js'
import type { GapSync } from '../gap-sync.js'
import type { Kernel } from '../kernel.js'
import { OP_PAGES } from './protocol-limits.js'
import { vector } from './vector.js'

/** Envelopes one sync response carries at most; the requester asks again while the responder has more. */
const MAX_ENVELOPES_PER_SYNC = 20_000
/** Envelope bytes in one sync frame, leaving room for CBOR framing under the frame cap. */
const SYNC_PAGE_BYTES = Limits.maxFrameBytes - 256 * 1024
/**
 * Envelope bytes in one whole sync response. The requester ingests each frame before reading the next and libp2p does
 * not slow the sender down, so the response must fit the requester's read buffer (one frame cap plus slack); the
 * requester asks again while it is behind.
 */
const SYNC_RESPONSE_BYTES = 3 * 1024 * 1024

/**
 * The answering side of sync: to a member's device, the membership operations it lacks, then the envelopes beyond its
 * vector in the epochs it reads, then evidence of equivocation, then our vector. A removed member gets the log alone.
 */
export class SyncServer {
  constructor(
    private readonly kernel: Kernel,
    private readonly withdrawals: Withdrawals,
    private readonly gaps: GapSync,
  ) {}

  async *serve(requestBytes: Uint8Array, peer: string): AsyncIterable<Uint8Array> {
    const { identity, store, counters } = this.kernel
    const req = decodeSyncRequest(requestBytes, { requester: peer, responder: identity.peerId }, this.kernel.now())
    const rt = this.kernel.conversations.get(req.conversation)
    // One answer for "no such conversation" and "not a member", so non-members learn nothing.
    const refuse = new HearthError('UNAUTHORIZED', 'not a member of that conversation')
    if (!rt || rt.record.removed) throw refuse
    const cert = rt.log.knownDevices.get(req.device)
    const removed = cert !== undefined && rt.log.removed.has(cert.account)
    if (!cert || cert.peerId !== peer || (!rt.log.members.has(cert.account) && !removed)) {
      counters.count('sync-unauthorized')
      throw refuse
    }
    for (const page of opPages(opsMissing(rt.ops, req.heads, rt.log.order), OP_PAGES)) yield encodeSyncFrame({ kind: 'ops', ops: page })
    if (removed) {
      // A removed member gets the membership log, so it learns of its removal, and nothing else.
      yield encodeSyncFrame({ kind: 'done', vector: [] })
      return
    }
    const theirs = new Map(req.vector.map((p) => [streamKey(p.epoch, p.device) as string, p.seq]))
    // The requester may hold what we lack (it wrote while we were apart): ask it back at once.
    for (const p of req.vector) {
      if (p.device === identity.deviceId || !rt.epochs.has(p.epoch) || !rt.log.knownDevices.has(p.device)) continue
      const key = streamKey(p.epoch, p.device)
      this.gaps.notice(rt.id, key, rt.streams.get(key)?.have ?? 0, p.seq, peer)
    }
    const paced = new Map((req.paced ?? []).map((p) => [streamKey(p.epoch, p.device) as string, p.max]))
    let budget = MAX_ENVELOPES_PER_SYNC
    let bytesLeft = SYNC_RESPONSE_BYTES
    for (const pos of vector(this.kernel, rt)) {
      // A member reads only the epochs it was given; sending it others would be wasted bytes.
      const epoch = rt.log.epochs.get(pos.epoch)
      if (!epoch || !epoch.devices.has(req.device)) continue
      let after = theirs.get(streamKey(pos.epoch, pos.device)) ?? 0
      // Nothing past a removed device's cutoff: every member refuses it (and would blame us for passing it on).
      const account = rt.log.knownDevices.get(pos.device)?.account
      const writable = account === undefined ? pos.seq : lastWritable(rt.log, pos.epoch, pos.device, account, pos.seq)
      // The requester paces this stream (its device flooded): no more than it asked for.
      const end = Math.min(writable, after + (paced.get(streamKey(pos.epoch, pos.device)) ?? Number.POSITIVE_INFINITY))
      while (after < end && budget > 0 && bytesLeft >= Limits.maxEnvelopeBytes) {
        const fetched = await store.envelopesAfter(rt.id, pos.epoch, pos.device, after, Math.min(Limits.maxEnvelopesPerPage, budget, end - after))
        if (fetched.length === 0) break
        // A page is bounded in bytes too: 256 envelopes of up to 64 KiB would not fit one frame.
        const page: Uint8Array[] = []
        let bytes = 0
        for (const e of fetched) {
          if (page.length > 0 && bytes + e.length > Math.min(SYNC_PAGE_BYTES, bytesLeft)) break
          page.push(e)
          bytes += e.length
        }
        budget -= page.length
        bytesLeft -= bytes
        after += page.length
        yield encodeSyncFrame({ kind: 'envelopes', envelopes: page })
      }
    }
    const evidence = await this.evidenceFor(rt, req.device, theirs, Math.min(SYNC_PAGE_BYTES, bytesLeft))
    if (evidence.length > 0) yield encodeSyncFrame({ kind: 'evidence', envelopes: evidence })
    yield encodeSyncFrame({ kind: 'done', vector: vector(this.kernel, rt) })
  }

  /**
   * Envelopes the requester should compare with what it holds (equivocation.ts): stored evidence, so every member
   * learns of every conflict whichever version reached it, then our envelope at the requester's position of each
   * stream, so two versions meet even when both members hold equally many (a vector alone never compares bytes).
   * One frame per sync at most; only epochs the requester reads and positions the log still lets the device write.
   */
  private async evidenceFor(rt: ConversationRuntime, requester: DeviceId, theirs: ReadonlyMap<string, number>, maxBytes: number): Promise<Uint8Array[]> {
    const { store } = this.kernel
    await this.withdrawals.load(rt.id)
    const positions: Array<{ epoch: EpochId; device: DeviceId; seq: number; evidence: boolean }> = []
    for (const c of this.withdrawals.conflicts(rt.id)) positions.push({ ...c, evidence: true })
    for (const p of vector(this.kernel, rt)) {
      const seq = Math.min(theirs.get(streamKey(p.epoch, p.device)) ?? 0, p.seq)
      if (seq > 0 && p.device !== requester) positions.push({ epoch: p.epoch, device: p.device, seq, evidence: false })
    }
    const out: Uint8Array[] = []
    let bytes = 0
    for (const pos of positions) {
      const account = rt.log.knownDevices.get(pos.device)?.account
      if (account === undefined || !rt.log.epochs.get(pos.epoch)?.devices.has(requester) || !mayWrite(rt.log, pos.epoch, pos.device, pos.seq, account)) continue
      const envelopes = pos.evidence ? await store.evidenceAt(rt.id, pos.epoch, pos.device, pos.seq) : [await store.getEnvelope(rt.id, pos.epoch, pos.device, pos.seq)]
      for (const e of envelopes) {
        if (e === undefined) continue
        if (out.length >= Limits.maxEnvelopesPerPage || bytes + e.length > maxBytes) return out
        out.push(e)
        bytes += e.length
      }
    }
    return out
  }
}
