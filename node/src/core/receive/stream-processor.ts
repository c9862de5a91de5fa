import { applyRemoteChanges, validateRemoteChange } from '../../../../crdt/src/index.js'
import { keyAt } from '../../../common/crypto/sender-chain.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { fromBase64Url, toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, openEnvelopeSecrets, parseEnvelopeFrame } from '../../../common/wire/envelope.js'
import type { MessageView } from '../../api/types.js'
import { mayWrite } from '../../conversation/membership-log.js'
import { decodeContent, decodeContentSecrets } from '../../history/payloads.js'
import type { EpochId, MessageId } from '../../ids.js'
import type { MessageRow } from '../../store/core-store.js'
import { actorOf } from '../actor.js'
import { parseStreamKey, type ConversationRuntime, type StreamKey } from '../conversation-runtime.js'
import type { Withdrawals } from '../equivocation.js'
import { forgetMessage, purgeForgotten, withoutPreviewOf } from '../history/forget.js'
import { materializeRow } from '../history/rows.js'
import { loadShard } from '../history/shards.js'
import { preview } from '../history/views.js'
import type { Kernel } from '../kernel.js'
import { UnitOfWork } from '../unit-of-work.js'
import type { FreshEnvelopes } from './ingest.js'
import { checkOffers } from './offered-chain.js'

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
    private readonly hooks: {
      emitConversation(rt: ConversationRuntime): void
      /** Rows as the UI shows them (reply quotes read from `pending` first, then the store). */
      views(rt: ConversationRuntime, rows: MessageRow[], pending: ReadonlyMap<string, MessageRow>): Promise<MessageView[]>
    },
  ) {}

  /** Envelopes the calling ingest just stored come in `fresh` (already parsed, kind known); older ones are read in ranges. */
  async process(rt: ConversationRuntime, key: StreamKey, fresh?: FreshEnvelopes): Promise<void> {
    const { store, counters, events } = this.kernel
    const s = rt.streams.get(key)
    if (!s || s.done >= s.have) return
    // No chain from its sender yet: one another device handed on is taken once it opens the sender's envelopes.
    if (s.chain === null && (await checkOffers(this.kernel, rt, key, s)) !== 'taken') return
    if (s.chain === null) return
    const { epoch, device } = parseStreamKey(key)
    const keys = rt.epochs.get(epoch)
    const cert = rt.log.knownDevices.get(device)
    if (!keys || !cert) return
    const actor = actorOf(device)
    /** Changes per shard document, by `${epoch}/${shard}`: most go to the envelope's epoch, a few to an earlier one. */
    const byShard = new Map<string, { epoch: EpochId; shard: number; entries: Array<{ change: Uint8Array; seq: number }> }>()
    let chain = { chainKey: fromBase64Url(s.chain.key), index: s.chain.index }
    let done = s.done
    let readAhead: Uint8Array[] = []
    let readAheadFrom = 0
    const created: Array<{ seq: number; ids: MessageId[] }> = []
    /** Content keys the envelopes carried, for messages their changes create (docs/adr/0020). */
    const newKeys = new Map<MessageId, Uint8Array>()
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
          const ids = valid.created as readonly string[] as MessageId[]
          // A reaction, edit or delete may reach back to a document of an earlier epoch we hold; a new message may not
          // (its row names the envelope it came from, in this epoch).
          const target = (payload.epoch ?? epoch) as EpochId
          if (target !== epoch && (ids.length > 0 || !rt.epochs.has(target))) throw new HearthError('MALFORMED', 'change for another epoch')
          // Keys only for messages this change creates: nobody can replace the key of another's message.
          const secrets = openEnvelopeSecrets(envelope.frame, envelope.header, step.key)
          if (secrets !== null) {
            for (const { message, key: contentKey } of decodeContentSecrets(secrets).keys) {
              if (ids.includes(message as MessageId)) newKeys.set(message as MessageId, contentKey)
            }
          }
          const shardKey = `${target}/${payload.shard}`
          const group = byShard.get(shardKey) ?? { epoch: target, shard: payload.shard, entries: [] }
          group.entries.push({ change: payload.change, seq })
          byShard.set(shardKey, group)
          created.push({ seq, ids })
        } catch (err) {
          // A body that does not match its signed commitment is a forgery, not a mistake.
          counters.count(isHearthError(err, 'BAD_SIGNATURE') ? 'forged' : 'bad-content')
        }
      }
      done = seq
    }
    const work = new UnitOfWork(store).put(...(await this.withdrawals.recordSources(rt, epoch, device, cert.account, created)))
    const addedRows: MessageRow[] = []
    const updatedRows: MessageRow[] = []
    /** Messages this batch deleted for everyone: their keys and the secrets of their envelopes go (docs/adr/0020). */
    const deletions: MessageRow[] = []
    for (const [shardKey, { epoch: docEpoch, shard, entries }] of byShard) {
      const loaded = await loadShard(this.kernel, rt, docEpoch, shard)
      const result = applyRemoteChanges(loaded.doc, entries.map((e) => e.change))
      entries.forEach((e, i) => work.put(store.putChange(rt.id, docEpoch, shard, loaded.stored + i, e.change)))
      rt.shards.set(shardKey, { doc: result.doc, stored: loaded.stored + entries.length, own: loaded.own })
      const refs = [...result.touched.messages, ...result.touched.reactionTargets]
      const touchedIds = [...new Set(refs.map((r) => r.id as unknown as MessageId))]
      const existing = await store.getMessages(rt.id, touchedIds)
      const heldKeys = await store.getContentKeys(rt.id, touchedIds.filter((m) => !newKeys.has(m)))
      const seen = new Set<string>()
      for (const ref of refs) {
        if (seen.has(ref.author + ref.id)) continue
        seen.add(ref.author + ref.id)
        const before = existing.get(ref.id as unknown as MessageId)
        const row = materializeRow(rt, this.withdrawals, this.kernel.identity.deviceId, result.doc, ref, { epoch: docEpoch, shard }, before, (m) => newKeys.get(m) ?? heldKeys.get(m))
        if (!row) continue
        // A delete of someone else's message by a device whose account may not moderate (docs/adr/0026): no effect.
        for (const r of row.refused ?? []) counters.count(`moderation-refused-${r.reason}`)
        work.put(...store.putMessage(row.row))
        if (row.row.deleted && before?.deleted !== true) deletions.push(row.row.seq > 0 ? row.row : { ...row.row, seq: before?.seq ?? 0 })
        // A message withdrawn before anyone saw it is never announced: it is shown nowhere.
        if (row.isNew && row.row.withdrawn) continue
        ;(row.isNew ? addedRows : updatedRows).push(row.row)
      }
    }
    for (const [message, contentKey] of newKeys) work.put(store.putContentKey(rt.id, message, contentKey))
    for (const row of deletions) {
      // After the key is written above, so a message created and deleted in one batch ends without it.
      work.put(...(await forgetMessage(store, rt, row)))
      rt.record = withoutPreviewOf(rt.record, row)
    }
    if (deletions.length > 0) {
      work.put(store.putConversation(rt.record))
      work.announce(() => purgeForgotten(this.kernel, rt.id, deletions))
    }
    s.done = done
    s.chain = { key: toBase64Url(chain.chainKey), index: chain.index }
    const pending = new Map([...addedRows, ...updatedRows].map((r) => [r.id as string, r]))
    const added = await this.hooks.views(rt, addedRows, pending)
    const updated = await this.hooks.views(rt, updatedRows, pending)
    // Every new message is the conversation's latest activity, ours from another of our devices too ("mine" is the
    // account's); only others' count as unread.
    if (added.length > 0) {
      const last = added.reduce((a, b) => (a.orderKey > b.orderKey ? a : b))
      const unreadOnes = added.filter((m) => !m.mine && m.orderKey > rt.record.readUpTo)
      rt.record = {
        ...rt.record,
        unread: rt.record.unread + unreadOnes.length,
        unreadMentions: (rt.record.unreadMentions ?? 0) + unreadOnes.filter((m) => m.mentionsMe === true).length,
        lastActivity: Math.max(rt.record.lastActivity, this.kernel.now()),
        lastMessage:
          rt.record.lastMessage === null || last.sentAt >= rt.record.lastMessage.at
            ? { body: preview(last.body, last.attachments), authorName: last.authorName, author: last.author, at: last.sentAt }
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
      if (added.length > 0 || deletions.length > 0) this.hooks.emitConversation(rt)
    })
    await work.commit(true)
  }
}
