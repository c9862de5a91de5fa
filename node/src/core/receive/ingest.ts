import { openSealed } from '../../../common/crypto/sealed-box.js'
import { HearthError } from '../../../common/errors.js'
import { equalBytes, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, type EnvelopeFrame, type OpenedEnvelopeHeader } from '../../../common/wire/envelope.js'
import { sealContext } from '../../conversation/epoch-keys.js'
import { computeLog, type LogState } from '../../conversation/membership-log.js'
import { decodeOp } from '../../conversation/membership-op.js'
import { decodeChainGrant, decodeKeys, decodeMembership, type ForwardedChain } from '../../history/payloads.js'
import type { DeviceId, EpochId, OpHash } from '../../ids.js'
import type { MessageRow, Put, StreamState } from '../../store/core-store.js'
import { parseStreamKey, streamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import { envelopeIdHex, type Withdrawals } from '../equivocation.js'
import type { GapSync } from '../gap-sync.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import { forwardedChainContext, sealedDevice } from '../membership/hand-on-chains.js'
import type { Admission, Admitted } from './admission.js'
import { addOffer } from './offered-chain.js'

/** After a batch is stored: receipts wait this long, so one receipt covers what arrives together. */
const RECEIPT_DELAY_MS = 150

/** Envelopes one ingest stored, by `${epoch}/${device}/${seq}`, parsed, with their opened header. */
export type FreshEnvelopes = Map<string, { frame: EnvelopeFrame; header: OpenedEnvelopeHeader }>

export interface IngestHooks {
  /** A signal (a receipt): ephemeral, handled at once, never stored. */
  onSignal(rt: ConversationRuntime, admitted: Admitted): Promise<void>
  /** New membership operations were stored. */
  afterLogChange(rt: ConversationRuntime): Promise<void>
  /** Decrypt and apply what is now contiguous in a stream. */
  processStream(rt: ConversationRuntime, key: StreamKey, fresh?: FreshEnvelopes): Promise<void>
  /** Tell members what we now hold, soon. */
  scheduleReceipt(rt: ConversationRuntime, delayMs: number): void
}

/** Chains handed on to us in one ingest, by the device whose keys envelope carried them. */
type Forwards = Array<{ from: DeviceId; entries: ForwardedChain[] }>

/** One envelope from outside: its bytes and the peer that handed it over (null for a relay, which only passes on). */
export interface Arrival {
  bytes: Uint8Array
  from: string | null
}

/**
 * The receive path's second step: admitted envelopes are stored in their streams, duplicates dropped, equivocation
 * noticed, gaps reported, control envelopes (membership operations, keys) taken at once; then each stream is
 * processed in order.
 */
export class Ingest {
  constructor(
    private readonly kernel: Kernel,
    private readonly admission: Admission,
    private readonly withdrawals: Withdrawals,
    private readonly gaps: GapSync,
    private readonly readModel: ReadModel,
    private readonly hooks: IngestHooks,
  ) {}

  /** Envelopes that will be ingested soon (the next sync page): their signatures are verified meanwhile. */
  verifyAhead(rt: ConversationRuntime, envelopes: readonly Uint8Array[]): void {
    this.admission.verifyAhead(rt, envelopes)
  }

  async ingest(rt: ConversationRuntime, items: Arrival[]): Promise<void> {
    const { store, counters, events, node } = this.kernel
    // First pass: verify (signals are handled at once); drop what is known to be held already.
    const candidates: Array<{ bytes: Uint8Array; verdict: Admitted; envKey: string; from: string | null }> = []
    const inBatch = new Map<string, Uint8Array>()
    const conflicts: Array<{ verdict: Admitted; versions: Uint8Array[] }> = []
    const verdicts = await this.admission.checkAll(rt, items.map((item) => item.bytes))
    for (const [i, { bytes, from }] of items.entries()) {
      const verdict = verdicts[i]!
      if (!verdict.ok) {
        if (verdict.reason !== 'own') {
          counters.count(verdict.reason)
          events.emit('security.rejected', { reason: verdict.reason, peer: from })
          // Garbage over sync costs the sender as garbage over gossip does: enough of it and the peer is cut off.
          if (from !== null && verdict.reason !== 'unknown-device') node.penalties?.penalise(from, `core-${verdict.reason}`, 10)
        }
        continue
      }
      if (verdict.header.kind === EnvelopeKind.signal) {
        await this.hooks.onSignal(rt, verdict)
        continue
      }
      const key = streamKey(verdict.epoch, verdict.device)
      const envKey = `${key}/${verdict.header.seq}`
      const first = inBatch.get(envKey)
      if (first !== undefined) {
        if (equalBytes(first, bytes) || this.withdrawals.isConflict(rt.id, envKey)) counters.count('duplicate')
        else conflicts.push({ verdict, versions: [first, bytes] })
        continue
      }
      if (verdict.header.seq <= (rt.streams.get(key)?.have ?? 0) && this.withdrawals.seen.lookup(rt.id, envKey, envelopeIdHex(bytes)) === 'same') {
        counters.count('duplicate')
        continue
      }
      inBatch.set(envKey, bytes)
      candidates.push({ bytes, verdict, envKey, from })
    }
    // One batched read for the rest: what is stored at each position (at or below `have`, or beyond it out of order).
    // The same bytes are a duplicate; different bytes validly signed by the same device are equivocation.
    await this.withdrawals.load(rt.id)
    const storedBefore = await store.getEnvelopes(
      rt.id,
      candidates.map(({ verdict: v }) => ({ epoch: v.epoch, device: v.device, seq: v.header.seq })),
    )
    for (const [i, { bytes, verdict: v, envKey }] of candidates.entries()) {
      const stored = storedBefore[i]
      if (stored === undefined) continue
      this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(stored))
      // A known conflict keeps the evidence it has (two versions): more versions of it are dropped like duplicates.
      if (!equalBytes(stored, bytes) && !this.withdrawals.isConflict(rt.id, envKey)) {
        conflicts.push({ verdict: v, versions: [stored, bytes] })
      } else {
        counters.count('duplicate')
        this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(bytes))
      }
    }

    const touchedStreams = new Set<StreamKey>()
    const batch: Put[] = []
    let logChanged = false
    const fresh: FreshEnvelopes = new Map()
    /** Chains of other senders that keys envelopes here hand on to us (docs/adr/0033). */
    const forwards: Forwards = []
    /** Per stream, the furthest position this batch brought and who brought it: beyond `have`, that is a gap. */
    const furthest = new Map<StreamKey, { seq: number; from: string | null }>()
    candidates.forEach(({ bytes, verdict, envKey, from }, i) => {
      // Compared above: a duplicate, or a second version kept only as evidence.
      if (storedBefore[i]) return
      const { header, epoch, device, keys, frame } = verdict
      const key = streamKey(epoch, device)
      if (header.seq <= (rt.streams.get(key)?.have ?? 0)) {
        counters.count('duplicate') // held once and no longer stored: nothing to compare with
        return
      }
      this.withdrawals.seen.note(rt.id, envKey, envelopeIdHex(bytes))
      const stream = rt.streams.get(key) ?? { have: 0, done: 0, chain: null }
      fresh.set(envKey, { frame, header })
      if (header.seq > (furthest.get(key)?.seq ?? 0)) furthest.set(key, { seq: header.seq, from })
      batch.push(store.putEnvelope(rt.id, epoch, device, header.seq, bytes))
      rt.streams.set(key, stream)
      touchedStreams.add(key)
      if (header.kind === EnvelopeKind.membership) {
        try {
          const op = decodeOp(decodeMembership(openEnvelopeBody(frame, header, keys.controlKey)))
          if (op.conversation !== rt.id || op.author.device !== device) throw new HearthError('MALFORMED', 'operation does not match its envelope')
          if (!rt.ops.has(op.hash)) {
            rt.ops.set(op.hash, op)
            batch.push(store.putOp(rt.id, op.hash, op.bytes))
            logChanged = true
          }
        } catch {
          counters.count('bad-membership-op')
        }
      } else if (header.kind === EnvelopeKind.keys) {
        this.takeChainGrant(rt, verdict, stream, forwards)
      }
    })
    const withdrawnRows: MessageRow[] = []
    const announcements: Array<() => void> = []
    for (const { verdict: v, versions } of conflicts) {
      const out = await this.withdrawals.equivocation(rt, { epoch: v.epoch, device: v.device, seq: v.header.seq, account: v.account }, versions)
      batch.push(...out.puts)
      withdrawnRows.push(...out.rows)
      announcements.push(out.announce)
    }
    // Advance each stream's contiguous "have" over what is now stored.
    for (const key of touchedStreams) {
      const s = rt.streams.get(key)!
      const { epoch, device } = parseStreamKey(key)
      while (fresh.has(`${key}/${s.have + 1}`) || (await store.getEnvelope(rt.id, epoch, device, s.have + 1))) s.have++
      batch.push(store.putStream(rt.id, epoch, device, s))
      const far = furthest.get(key)
      if (far) this.gaps.notice(rt.id, key, s.have, far.seq, far.from)
    }
    const log = forwards.length > 0 && logChanged ? (computeLog(rt.ops.values(), rt.record.root as OpHash, this.kernel.now()) ?? rt.log) : rt.log
    const offered = forwards.length > 0 ? this.takeForwarded(rt, log, forwards) : new Set<StreamKey>()
    for (const key of offered) {
      if (touchedStreams.has(key)) continue
      const { epoch, device } = parseStreamKey(key)
      batch.push(store.putStream(rt.id, epoch, device, rt.streams.get(key)!))
    }
    // Not synced: a crash here loses only what sync fetches again (our vector is what is on disk). The synced write
    // comes when the envelopes are processed, before any receipt says we hold them.
    await store.commit(batch, false)
    for (const announce of announcements) announce()
    if (withdrawnRows.length > 0 || conflicts.length > 0) await this.readModel.afterWithdrawal(rt, withdrawnRows)
    if (logChanged) await this.hooks.afterLogChange(rt)
    else for (const key of touchedStreams) await this.hooks.processStream(rt, key, fresh)
    for (const key of offered) if (logChanged || !touchedStreams.has(key)) await this.hooks.processStream(rt, key)
    if (touchedStreams.size > 0) this.hooks.scheduleReceipt(rt, RECEIPT_DELAY_MS)
  }

  /**
   * A keys envelope: the sending device's chain for this epoch, if one of the grants is sealed to us; and chains of
   * other senders it hands on to us (docs/adr/0033), collected in `forwards` for `takeForwarded`.
   */
  private takeChainGrant(rt: ConversationRuntime, { frame, header, keys, epoch, device }: Admitted, stream: StreamState, forwards: Forwards): void {
    const { identity, counters } = this.kernel
    try {
      const payload = decodeKeys(openEnvelopeBody(frame, header, keys.controlKey))
      const mine = payload.recipients.find((r) => r.device === identity.deviceId)
      if (mine && stream.chain === null) {
        const plain = openSealed(identity.dhKey, mine.box, sealContext('chain', rt.id, `${epoch}/${device as DeviceId}`))
        const key = toBase64Url(decodeChainGrant(plain))
        stream.chain = { key, index: 0 }
        stream.granted = key
        delete stream.offered
      }
      const forwarded = (payload.forwarded ?? []).filter((f) => f.device === identity.deviceId)
      if (forwarded.length > 0) forwards.push({ from: device as DeviceId, entries: forwarded })
    } catch {
      counters.count('bad-keys')
    }
  }

  /**
   * Chains handed on to us, kept as offers on their streams (receive/offered-chain.ts checks them before use). Judged
   * against `log`, which includes the operations of the same batch: a linking device's `add-device` and the keys
   * envelope after it often arrive together. Returns the streams that got an offer.
   */
  private takeForwarded(rt: ConversationRuntime, log: LogState, forwards: Forwards): Set<StreamKey> {
    const { identity, counters } = this.kernel
    const offered = new Set<StreamKey>()
    for (const { from, entries } of forwards) {
      // Only a device that sealed us an epoch hands us its chains, and only for that epoch (hand-on-chains.ts).
      const sealedBy = this.epochsSealedToUsBy(rt, log, from)
      for (const f of entries) {
        if (!sealedBy.has(f.epoch) || f.sender === identity.deviceId || f.sender === from) {
          counters.count('forwarded-chain-refused')
          continue
        }
        let chain: string
        try {
          chain = toBase64Url(decodeChainGrant(openSealed(identity.dhKey, f.box, forwardedChainContext(rt.id, f.epoch, f.sender))))
        } catch {
          counters.count('bad-forwarded-chain')
          continue
        }
        const target = streamKey(f.epoch as EpochId, f.sender as DeviceId)
        const state = rt.streams.get(target) ?? { have: 0, done: 0, chain: null }
        if (!addOffer(state, chain)) continue
        rt.streams.set(target, state)
        offered.add(target)
      }
    }
    return offered
  }

  /** Epochs `device` sealed to this device by an `add-device` or `reseal` of its own that `log` accepted. */
  private epochsSealedToUsBy(rt: ConversationRuntime, log: LogState, device: DeviceId): Set<string> {
    const me = this.kernel.identity.deviceId
    const out = new Set<string>()
    for (const op of rt.ops.values()) {
      if (op.author.device !== device || log.unauthorized.has(op.hash)) continue
      const sealed = sealedDevice(op)
      if (sealed?.device === me) for (const e of sealed.epochs) if (log.epochs.get(e)?.devices.has(me) === true) out.add(e)
    }
    return out
  }
}
