import { z } from 'zod'
import { HearthError, drop } from '../../../common/errors.js'
import { Limits } from '../../../common/wire/limits.js'
import type { DeviceView } from '../../api/types.js'
import { computeLog } from '../../conversation/membership-log.js'
import { MAX_EPOCH_SEALS, decodeOp, type MembershipOp } from '../../conversation/membership-op.js'
import type { DeviceCert } from '../../identity/device-cert.js'
import { parseLinkCode } from '../../identity/link-code.js'
import { asDeviceId, type ConversationId, type DeviceId, type OpHash } from '../../ids.js'
import { loadRuntime, newRecord } from '../conversation-loader.js'
import { streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { ReadModel } from '../history/read-model.js'
import type { Kernel } from '../kernel.js'
import type { MembershipEngine } from '../membership/membership-engine.js'
import { pairWith, type LinkedConversation } from './pair-protocol.js'
import { linkedConversation, sealEpochsTo } from './handover.js'
import { DeviceLabels } from './device-labels.js'
import { RestoreRendezvous, isNewDevice, type RendezvousHooks } from './restore-rendezvous.js'
import { RESTORE_LIMITS, RESTORE_PROTOCOL, RestoreServer, restoreThrough } from './restore.js'
import { fetchLinkedLogs, type FetchResult } from './linked-logs.js'
import { handleProtocol } from '../../../common/net/request-response.js'
import { decodeJson, encodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'

/** How long a newly linked device that got no log with the pairing waits for the first before showing the app. */
const FIRST_CONVERSATION_WAIT_MS = 20_000
/** The conversations a pairing named but did not carry, and the device to fetch them from, until all are in. */
const LINK_PENDING_KEY = key('lpend')
const linkPendingSchema = z.strictObject({ from: z.string().max(128), ids: z.array(z.string().max(64)).max(5_000) })

export interface DevicesHooks extends RendezvousHooks {
  /** Pulls a conversation from a peer (sync/sync-client.ts). */
  syncWith(peer: string, conversation: ConversationId): Promise<void>
  /** This device was revoked by another of the account: wipe its keys and stop (open-core.ts). */
  wipe(): void
}

/**
 * This account's devices (docs/adr/0032): linking a new one (the pairing, then an `add-device` in every conversation
 * with the secrets of every epoch this device reads), revoking one (`revoke-device` and a new epoch everywhere), the
 * conversations a newly linked device starts from, and this device's own revocation.
 */
export class Devices {
  /** When each of our other devices was last seen connected, by PeerId (`seen/<peer>` records, docs/STORAGE.md). */
  private readonly lastSeen = new Map<string, number>()
  private linking = false
  private confirmation: ((accept: boolean) => void) | undefined
  private revoked = false
  /** Peers a device with no conversations yet asked for its account's conversations (once each). */
  private readonly askedToRestore = new Set<string>()
  private readonly rendezvous: RestoreRendezvous
  /** What the person calls each of their devices (kept in step by own-sync). */
  readonly labels = new DeviceLabels()

  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly readModel: ReadModel,
    private readonly hooks: DevicesHooks,
    rendezvousIntervalMs?: number,
  ) {
    this.rendezvous = new RestoreRendezvous(kernel, hooks, rendezvousIntervalMs)
    this.labels.onUpdate = () => kernel.events.emit('devices.changed', { devices: this.list() })
  }

  /** Serves `/hearth/restore/1.0.0` (devices/restore.ts) and follows peers coming and going; returns the unsubscriber. */
  async start(): Promise<() => void> {
    const { node, store } = this.kernel
    for await (const [k, v] of store.db.iterate(prefixRange('seen'))) {
      const at = decodeJson(store.openSealed(k, v), (x) => (typeof x === 'number' ? x : 0), 'device last seen')
      this.lastSeen.set(splitKey(k)[1]!, at)
    }
    const server = new RestoreServer(this.kernel, this.engine)
    await handleProtocol(node, RESTORE_PROTOCOL, RESTORE_LIMITS, (req, ctx) => server.serve(req, ctx))
    const offs = [node.onPeerConnected((peer) => this.peerChanged(peer)), node.onPeerDisconnected((peer) => this.peerChanged(peer))]
    this.rendezvous.start()
    await this.resumeLinkedFetch().catch((err: unknown) => this.kernel.log.warn({ err }, 'the linked conversations to fetch could not be read'))
    return () => {
      offs.forEach((off) => off())
      drop(this.rendezvous.stop())
    }
  }

  /**
   * A device restored from the recovery phrase (any device with no conversation yet, or in its first day) asks each
   * peer it meets once for its account's conversations: a member there admits it and hands back what its account read.
   */
  async restoreFrom(peer: string): Promise<number> {
    const list = await restoreThrough(this.kernel, peer)
    await this.importLinked(list, peer)
    return list.length
  }

  /** Our devices as the logs of our conversations know them (a revoked one in any log is gone), this one first. */
  list(): DeviceView[] {
    const { identity, node } = this.kernel
    const certs = new Map<DeviceId, DeviceCert>()
    const revoked = new Set<DeviceId>()
    for (const rt of this.kernel.conversations.values()) {
      for (const d of rt.log.revokedDevices.keys()) revoked.add(d)
      for (const [id, cert] of rt.log.members.get(identity.account)?.devices ?? []) certs.set(id, cert)
    }
    certs.delete(identity.deviceId)
    const online = new Set(node.connectedPeers())
    const now = this.kernel.now()
    const others = [...certs.values()]
      .filter((c) => !revoked.has(c.device))
      .sort((a, b) => a.createdAt - b.createdAt || a.device.localeCompare(b.device))
      .map((c): DeviceView => ({
        device: c.device,
        peerId: c.peerId,
        ...this.nameOf(c.device),
        current: false,
        linkedAt: c.createdAt,
        online: online.has(c.peerId),
        lastSeen: online.has(c.peerId) ? now : (this.lastSeen.get(c.peerId) ?? null),
      }))
    const me: DeviceView = { device: identity.deviceId, peerId: identity.peerId, ...this.nameOf(identity.deviceId), current: true, linkedAt: identity.cert.createdAt, online: true, lastSeen: now }
    return [me, ...others]
  }

  /** Renames one of our devices (this one or another): every device of ours shows the new name. */
  rename(device: string, name: string): DeviceView {
    const target = asDeviceId(device)
    const view = this.list().find((d) => d.device === target)
    if (view === undefined) throw new HearthError('NOT_FOUND', 'no such device of yours')
    this.labels.rename(target, name, view.kind)
    return this.list().find((d) => d.device === target)!
  }

  private nameOf(device: DeviceId): { name: string; kind: string } {
    const label = this.labels.get(device)
    return { name: label?.n ?? `Device ${device.slice(0, 6)}`, kind: label?.k ?? '' }
  }

  /** A peer came or went: if it is one of our devices, the list changes; with no conversation yet, ask it for ours. */
  peerChanged(peer: string): void {
    const { conversations, node, stopped, log } = this.kernel
    if ((conversations.size === 0 || isNewDevice(this.kernel)) && !stopped && !this.askedToRestore.has(peer) && node.connectedPeers().includes(peer)) {
      this.askedToRestore.add(peer)
      drop(this.restoreFrom(peer), (err) => log.debug({ err, peer }, 'asking a peer for our conversations failed'))
    }
    if (!this.isOwnDevicePeer(peer)) return
    const at = this.kernel.now()
    this.lastSeen.set(peer, at)
    // Not synced: a "last seen" lost in a crash is only a little older.
    drop(this.kernel.store.commit([this.kernel.store.sealPut(key('seen', peer), encodeJson(at))], false))
    this.kernel.events.emit('devices.changed', { devices: this.list() })
  }

  isOwnDevicePeer(peer: string): boolean {
    const { identity } = this.kernel
    for (const rt of this.kernel.conversations.values()) {
      for (const cert of rt.log.members.get(identity.account)?.devices.values() ?? []) if (cert.peerId === peer && cert.device !== identity.deviceId) return true
    }
    return false
  }

  /**
   * Links the new device showing `code`. The account key goes over only after both people compared the confirmation
   * code (`confirmLink`) and the new device proved it holds the code's secret (devices/pair-protocol.ts).
   */
  async link(code: string): Promise<DeviceView> {
    const parsed = parseLinkCode(code)
    if (this.linking) throw new HearthError('INVALID_INPUT', 'another device is being linked: finish or cancel that first')
    const { identity, node, events, counters } = this.kernel
    this.linking = true
    let answered: Promise<boolean> = Promise.resolve(false)
    events.emit('devices.linking', { stage: 'connecting' })
    try {
      const cert = await pairWith(node, parsed, {
        account: { accountSeed: identity.accountKey.seed, displayName: identity.displayName, ...(identity.entropy === undefined ? {} : { entropy: identity.entropy }) },
        onConfirmationCode: (c) => {
          // Ready before the event goes out: whoever shows the code may answer at once.
          answered = new Promise<boolean>((resolve) => (this.confirmation = resolve))
          events.emit('devices.linking', { stage: 'confirm', code: c })
        },
        confirm: () => answered,
        admit: async (c) => {
          this.confirmation = undefined
          events.emit('devices.linking', { stage: 'admitting' })
          return this.admit(c)
        },
        count: (reason) => counters.count(reason),
      })
      events.emit('devices.linking', { stage: 'done' })
      const devices = this.list()
      events.emit('devices.changed', { devices })
      return devices.find((d) => d.device === cert.device) ?? { device: cert.device, peerId: cert.peerId, ...this.nameOf(cert.device), current: false, linkedAt: cert.createdAt, online: true, lastSeen: this.kernel.now() }
    } catch (err) {
      events.emit('devices.linking', { stage: 'failed', error: err instanceof HearthError ? err.message : 'Linking failed' })
      throw err
    } finally {
      this.linking = false
      this.confirmation?.(false)
      this.confirmation = undefined
    }
  }

  /** The person compared the confirmation code on both screens. */
  confirmLink(accept: boolean): void {
    const answer = this.confirmation
    if (answer === undefined) throw new HearthError('NOT_FOUND', 'no device is waiting to be confirmed')
    this.confirmation = undefined
    answer(accept)
  }

  /**
   * Admits `cert` (a device of our account) to every conversation we are a member of, handing it every epoch secret
   * we hold there, and returns those conversations, most recently active first, with their logs.
   */
  async admit(cert: DeviceCert): Promise<LinkedConversation[]> {
    const { identity, queue, log } = this.kernel
    if (cert.account !== identity.account) throw new HearthError('UNAUTHORIZED', 'that device belongs to another account')
    return queue.run(async () => {
      const out: LinkedConversation[] = []
      const ordered = [...this.kernel.conversations.values()].sort((a, b) => b.record.lastActivity - a.record.lastActivity)
      for (const rt of ordered) {
        const mine = rt.log.members.get(identity.account)
        if (rt.record.removed || mine === undefined) continue
        if (!mine.devices.has(cert.device)) {
          if (mine.devices.size >= Limits.maxDevicesPerMember) {
            log.warn({ conversation: rt.id }, 'not linking a device: the account has the most devices a conversation allows')
            continue
          }
          const seals = await sealEpochsTo(this.kernel, rt, cert, () => true)
          // The newest epochs matter most if a very long-lived conversation had more than one operation may carry.
          const current = seals.filter((s) => s.epoch === rt.log.currentEpoch)
          const rest = seals.filter((s) => s.epoch !== rt.log.currentEpoch).slice(-(MAX_EPOCH_SEALS - current.length))
          await this.engine.append(rt, { type: 'add-device', cert, seals: [...current, ...rest] })
        }
        out.push(linkedConversation(rt))
      }
      return out
    })
  }

  /**
   * Revokes another device of ours everywhere: how far it had written in each epoch becomes its cutoff, and a new
   * epoch it never learns starts in every conversation it was in.
   */
  async revoke(device: string): Promise<void> {
    const { identity, queue } = this.kernel
    const target = asDeviceId(device)
    if (target === identity.deviceId) throw new HearthError('INVALID_INPUT', 'a device cannot revoke itself: revoke it from another of your devices')
    await queue.run(async () => {
      let found = false
      for (const rt of this.kernel.conversations.values()) {
        if (rt.record.removed || rt.log.members.get(identity.account)?.devices.has(target) !== true) continue
        found = true
        const cutoffs: Record<string, number> = {}
        for (const epoch of rt.epochs.keys()) cutoffs[`${epoch}/${target}`] = rt.streams.get(streamKey(epoch, target))?.have ?? 0
        await this.engine.append(rt, { type: 'revoke-device', device: target, cutoffs, epoch: this.engine.newEpochFor(rt, target) })
      }
      if (!found) throw new HearthError('NOT_FOUND', 'no such device of yours')
    })
    this.kernel.events.emit('devices.changed', { devices: this.list() })
  }

  /**
   * On a newly linked device: the conversations its other device admitted it to. Each log must hold this device as
   * one of our account's (else it is refused and counted); then the usual sync brings the history from `from` and from
   * members. Resolves once those of the pairing are in (when it carried none, once the first fetched one is, or after
   * 20 s); the logs of `pending` (named by the pairing, not carried: a relayed connection carries little) are fetched
   * from `from` afterwards, newest first, each shown as it comes (`linkedFetch` settles when they are all in or the
   * fetch gave up).
   */
  async importLinked(list: readonly LinkedConversation[], from: string, pending: readonly string[] = []): Promise<void> {
    // What the linking device had to give is here: asking it again as a restore would only compete with this.
    this.askedToRestore.add(from)
    for (const linked of list) await this.importOne(linked, from)
    if (pending.length > 0 && this.linkedFetch === undefined) {
      // Durable before fetching: a restart before they are all in resumes here (start), not with a whole-account
      // restore a relayed connection cannot carry.
      await this.kernel.store.commit([this.kernel.store.sealPut(LINK_PENDING_KEY, encodeJson({ from, ids: pending }))], true)
      const { first, all } = this.fetchNamed(from, pending)
      // None came with the pairing (over a relay none do): the link is done once the first conversation is in.
      if (list.length === 0) {
        let timer: NodeJS.Timeout | undefined
        await Promise.race([first, all, new Promise((resolve) => (timer = setTimeout(resolve, FIRST_CONVERSATION_WAIT_MS)))])
        clearTimeout(timer)
      }
    }
  }

  /**
   * Fetches the logs the pairing named (linked-logs.ts) into `linkedFetch`; returns a promise of the first one in. The
   * durable list of them goes once none is missing (refused ones are refused for good); while some are, it stays and
   * the next start resumes. Returns promises of the first one in and of the whole fetch.
   */
  private fetchNamed(from: string, ids: readonly string[]): { first: Promise<void>; all: Promise<FetchResult> } {
    let firstIn: () => void = () => {}
    const first = new Promise<void>((resolve) => (firstIn = resolve))
    const fetching = fetchLinkedLogs(this.kernel, from, ids, async (c) => {
      await this.importOne(c, from)
      firstIn()
    })
    this.linkedFetch = fetching.then(
      async (r) => {
        if (r.missing === 0 && !this.kernel.stopped) await this.kernel.store.commit([{ type: 'del', key: LINK_PENDING_KEY }], true)
        return r
      },
      (err: unknown) => {
        this.kernel.log.warn({ err }, 'fetching the linked conversations failed')
        return { fetched: 0, refused: 0, missing: ids.length }
      },
    )
    return { first, all: this.linkedFetch }
  }

  /** A fetch of linked conversations that a stop cut short: resumed from where it stood. */
  private async resumeLinkedFetch(): Promise<void> {
    const { store } = this.kernel
    const stored = await store.getSealed(LINK_PENDING_KEY)
    if (stored === undefined) return
    const pending = decodeJson(stored, (x) => linkPendingSchema.parse(x), 'linked conversations to fetch')
    const ids = pending.ids.filter((id) => !this.kernel.conversations.has(id as ConversationId))
    if (ids.length === 0) return void (await store.commit([{ type: 'del', key: LINK_PENDING_KEY }], true))
    this.askedToRestore.add(pending.from)
    void this.fetchNamed(pending.from, ids)
  }

  /** The fetch of the linked conversations the pairing named but did not carry, while or after it runs. */
  linkedFetch: Promise<FetchResult> | undefined

  /** One linked conversation: stored and opened if its log admits this device, else refused and counted. */
  private async importOne(linked: LinkedConversation, from: string): Promise<void> {
    const { identity, store, queue, counters, events, log } = this.kernel
    let ops: MembershipOp[]
    try {
      ops = linked.ops.map(decodeOp)
    } catch (err) {
      counters.count('linked-conversation-refused')
      log.warn({ err, conversation: linked.id }, 'a linked conversation had a malformed operation')
      return
    }
    const rt = await queue.run(async (): Promise<ConversationRuntime | undefined> => {
      const id = linked.id as ConversationId
      if (this.kernel.conversations.has(id)) return undefined
      const state = computeLog(ops, linked.root as OpHash, this.kernel.now())
      if (state === undefined || state.conversation !== id || state.members.get(identity.account)?.devices.has(identity.deviceId) !== true) {
        counters.count('linked-conversation-refused')
        return undefined
      }
      const record = { ...newRecord(this.kernel.now(), { id, root: linked.root, kind: state.kind, name: state.kind === 'group' ? state.name : linked.name, relays: linked.relays }), createdAt: linked.createdAt }
      await store.commit([store.putConversation(record), ...ops.map((op) => store.putOp(id, op.hash, op.bytes))], true)
      const loaded = await loadRuntime(store, identity.deviceId, record)
      this.kernel.conversations.set(id, loaded)
      await this.engine.afterLogChange(loaded)
      return loaded
    })
    if (rt === undefined) return
    events.emit('conversation.updated', { conversation: this.readModel.summary(rt) })
    drop(this.hooks.syncWith(from, rt.id))
  }

  /** Another device of ours revoked this one (membership-engine.ts noticed): once, wipe and stop. */
  onRevoked(): void {
    if (this.revoked) return
    this.revoked = true
    this.kernel.log.warn('this device was revoked by another device of the account: wiping its keys')
    this.kernel.events.emit('device.revoked', {})
    this.hooks.wipe()
  }
}
