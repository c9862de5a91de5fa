import { applyRemoteChanges, encodeHlc, readMessage, validateRemoteChange, type MessageRef, type Shard } from '../../../../crdt/src/index.js'
import { keyAt } from '../../../common/crypto/sender-chain.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, parseEnvelopeFrame } from '../../../common/wire/envelope.js'
import type { MessageView } from '../../api/types.js'
import { mayWrite } from '../../conversation/membership-log.js'
import { decodeContent } from '../../history/payloads.js'
import type { EpochId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import { parseStreamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import { createdMessages, withdrawRow, type Withdrawals } from '../equivocation.js'
import { loadShard } from '../history/shards.js'
import { preview, toView } from '../history/views.js'
import type { Kernel } from '../kernel.js'
import { UnitOfWork } from '../unit-of-work.js'
import type { FreshEnvelopes } from './ingest.js'

/** Stored envelopes read per range read when they did not arrive in the same batch. */
const PROCESS_READ_AHEAD = 256

/**
 * The receive path's last step: decrypts and applies content envelopes of one stream in order, as far as they are
 * contiguous and keyed, one Automerge apply per shard, then materialises the messages they touched into rows, all in
 * one synced write before anything is announced.
 */
export class StreamProcessor {
  constructor(
    private readonly kernel: Kernel,
    private readonly withdrawals: Withdrawals,
    private readonly emitConversation: (rt: ConversationRuntime) => void,
  ) {}

  /** Envelopes the calling ingest just stored come in `fresh` (already parsed, kind known); older ones are read in ranges. */
  async process(rt: ConversationRuntime, key: StreamKey, fresh?: FreshEnvelopes): Promise<void> {
    const { store, counters, events } = this.kernel
    const s = rt.streams.get(key)
    if (!s || s.done >= s.have || s.chain === null) return
    const { epoch, device } = parseStreamKey(key)
    const keys = rt.epochs.get(epoch)
    const cert = rt.log.knownDevices.get(device)
    if (!keys || !cert) return
    const actor = actorOf(device)
    const byShard = new Map<number, Array<{ change: Uint8Array; seq: number }>>()
    let chain = { chainKey: fromBase64Url(s.chain.key), index: s.chain.index }
    let done = s.done
    let readAhead: Uint8Array[] = []
    let readAheadFrom = 0
    const created: Array<{ seq: number; ids: MessageId[] }> = []
    while (done < s.have) {
      const seq = done + 1
      let envelope = fresh?.get(`${key}/${seq}`)
      if (envelope === undefined) {
        if (seq - readAheadFrom >= readAhead.length) {
          // Stored envelopes up to `have` are contiguous: a range read returns exactly seq, seq + 1, …
          readAhead = await store.envelopesAfter(rt.id, epoch, device, done, Math.min(PROCESS_READ_AHEAD, s.have - done))
          readAheadFrom = seq
        }
        const bytes = readAhead[seq - readAheadFrom]
        if (!bytes) break
        const frame = parseEnvelopeFrame(bytes)
        // Verified before it was stored; the store is ours. Decrypting the header is enough to read its kind.
        const header = openEnvelopeHeader(frame, keys.envelope.headerKey, { verifySignature: false })
        if (header.seq !== seq) break
        envelope = { frame, header }
      }
      if (envelope.header.kind === EnvelopeKind.content && mayWrite(rt.log, epoch, device, seq, cert.account)) {
        try {
          const step = keyAt(chain, seq)
          chain = step.next
          const payload = decodeContent(openEnvelopeBody(envelope.frame, envelope.header, step.key))
          const valid = validateRemoteChange(payload.change, actor)
          if (!valid.ok) throw new HearthError('MALFORMED', valid.reason)
          const list = byShard.get(payload.shard) ?? []
          list.push({ change: payload.change, seq })
          byShard.set(payload.shard, list)
          created.push({ seq, ids: createdMessages(valid.decoded) })
        } catch (err) {
          // A body that does not match its signed commitment is a forgery, not a mistake.
          counters.count(isHearthError(err, 'BAD_SIGNATURE') ? 'forged' : 'bad-content')
        }
      }
      done = seq
    }
    const work = new UnitOfWork(store).put(...(await this.withdrawals.recordSources(rt, epoch, device, cert.account, created)))
    const added: MessageView[] = []
    const updated: MessageView[] = []
    for (const [shard, entries] of byShard) {
      const loaded = await loadShard(this.kernel, rt, epoch, shard)
      const result = applyRemoteChanges(loaded.doc, entries.map((e) => e.change))
      entries.forEach((e, i) => work.put(store.putChange(rt.id, epoch, shard, loaded.stored + i, e.change)))
      rt.shards.set(`${epoch}/${shard}`, { doc: result.doc, stored: loaded.stored + entries.length })
      const refs = [...result.touched.messages, ...result.touched.reactionTargets]
      const existing = await store.getMessages(rt.id, [...new Set(refs.map((r) => r.id as unknown as MessageId))])
      const seen = new Set<string>()
      for (const ref of refs) {
        if (seen.has(ref.author + ref.id)) continue
        seen.add(ref.author + ref.id)
        const row = this.materialize(rt, result.doc, ref, { epoch, shard }, existing.get(ref.id as unknown as MessageId))
        if (!row) continue
        work.put(...store.putMessage(row.row))
        // A message withdrawn before anyone saw it is never announced: it is shown nowhere.
        if (row.isNew && row.row.withdrawn) continue
        ;(row.isNew ? added : updated).push(toView(row.row, rt.log.names))
      }
    }
    s.done = done
    s.chain = { key: toBase64Url(chain.chainKey), index: chain.index }
    const newestOthers = added.filter((m) => !m.mine)
    if (newestOthers.length > 0) {
      const last = newestOthers.reduce((a, b) => (a.orderKey > b.orderKey ? a : b))
      const unread = newestOthers.filter((m) => m.orderKey > rt.record.readUpTo).length
      rt.record = {
        ...rt.record,
        unread: rt.record.unread + unread,
        lastActivity: Math.max(rt.record.lastActivity, this.kernel.now()),
        lastMessage:
          rt.record.lastMessage === null || last.sentAt >= rt.record.lastMessage.at
            ? { body: preview(last.body), authorName: last.authorName, author: last.author, at: last.sentAt }
            : rt.record.lastMessage,
      }
      work.put(store.putConversation(rt.record))
    }
    work.put(store.putStream(rt.id, epoch, device, s))
    work.announce(() => {
      for (const m of added) {
        this.kernel.observe(m.hlc)
        events.emit('message.added', { conversation: rt.id, message: m })
      }
      for (const m of updated) events.emit('message.updated', { conversation: rt.id, message: m })
      if (newestOthers.length > 0) this.emitConversation(rt)
    })
    await work.commit(true)
  }

  /** The row for one touched message; `existing` is its stored row, if any. */
  private materialize(
    rt: ConversationRuntime,
    doc: Shard,
    ref: MessageRef,
    { epoch, shard }: { epoch: EpochId; shard: number },
    existing: MessageRow | undefined,
  ): { row: MessageRow; isNew: boolean } | undefined {
    const view = readMessage(doc, ref.author, ref.id)
    if (!view) return undefined
    let cert
    for (const c of rt.log.knownDevices.values()) if (actorOf(c.device) === ref.author) cert = c
    if (!cert) return undefined
    if (existing && existing.device !== cert.device) return undefined // an id collision by another device: keep the first
    const reactions: Record<string, string[]> = {}
    for (const [emoji, actors] of Object.entries(view.reactions)) {
      reactions[emoji] = actors.map((a) => [...rt.log.knownDevices.values()].find((c) => actorOf(c.device) === a)?.account ?? a)
    }
    const id = ref.id as unknown as MessageId
    const row: MessageRow = {
      id,
      conversation: rt.id,
      author: cert.account,
      authorName: rt.log.names.get(cert.account) ?? cert.displayName,
      device: cert.device,
      epoch,
      // The envelope it came from (view.seq is the device's message count, which only orders).
      seq: existing?.seq ?? this.withdrawals.sourceSeq(rt.id, id),
      shard,
      hlc: encodeHlc(view.hlc),
      orderKey: view.orderKey,
      body: view.body,
      edited: view.edited,
      deleted: view.deleted,
      reactions,
      mine: cert.device === this.kernel.identity.deviceId,
      state: existing?.state ?? 'delivered',
      failure: existing?.failure ?? null,
    }
    if (existing === undefined) this.withdrawals.forget(rt.id, id)
    const withdrawn = existing?.withdrawn ?? this.withdrawals.reasonFor(rt.id, id)
    return { row: withdrawn ? withdrawRow(row, withdrawn) : row, isNew: existing === undefined }
  }
}
