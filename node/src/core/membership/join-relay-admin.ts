/**
 * The admitting side of a join through a relay (docs/adr/0027-joining-through-a-relay.md). On start, when a relay
 * connects and on a timer, an admin device, for each conversation it administers:
 *
 *  1. deposits in the epoch's invite directory, sealed, the mailbox secret of each live invite it made;
 *  2. reads the directories of every epoch it holds, learning the mailbox secrets of invites other admins made (each
 *     vouched for by its invite key);
 *  3. reads each live invite's mailbox and answers every join request in it exactly as the /hearth/join server does
 *     (join-server.ts): signature by the invite key, the joining device's own signature, revocation, expiry, single
 *     use, removed accounts refused. An admitted device, or a refused one, is answered with the whole membership log:
 *     the log itself proves to the joiner whether it was let in or why not.
 *
 * Everything read from a relay is hostile: at most MAX_ITEMS_PER_PASS items per mailbox and MAX_ADMITS_PER_PASS
 * admissions per invite each pass; the rest waits for the next pass. What is refused is counted.
 */
import { toHex } from '../../../common/util/bytes.js'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { decodeDeviceCert } from '../../identity/device-cert.js'
import type { ConversationId, OpHash } from '../../ids.js'
import { opsMissing } from '../../sync/op-sync.js'
import { decodeJoinRequest, verifyJoinRequest } from '../../sync/sync-frames.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { PassLoop, relayPeerOf, type MailboxPort } from '../relays/relay-mailboxes.js'
import {
  answerItems,
  deviceProofValid,
  directoryEntry,
  directoryKeys,
  entryProven,
  itemId,
  itemSealKey,
  openDirectoryEntry,
  openItem,
  relayResponder,
  sealDirectoryEntry,
  sealItem,
} from './join-relay-frames.js'
import { sealEpoch, type MembershipEngine } from './membership-engine.js'
import type { InviteState } from '../../conversation/membership-state.js'
import type { ShortInviteKeys } from '../../conversation/short-invite-keys.js'
import { sealedInviteForRelay, shortInviteMailbox } from './join-relay-resolver.js'

/** Items read from one mailbox in one pass (a flood waits for later passes instead of holding the core). */
const MAX_ITEMS_PER_PASS = 200
/** Join requests answered per invite per pass. */
const MAX_ADMITS_PER_PASS = 16
/** Directory entries remembered per conversation (one per invite: a member flooding the directory gains nothing). */
const MAX_ENTRIES_PER_CONVERSATION = 256

export interface JoinRelayAdminHooks {
  port: MailboxPort
  relaysFor(rt: ConversationRuntime): string[]
  /** The keys of an invite this device made (from its short secret), or null. */
  ownInvite(rt: ConversationRuntime, inviteId: string): ShortInviteKeys | null
  /** Our addresses, as a full invite lists them. */
  addresses(): string[]
  /** The log changed (someone was admitted): deposit and gossip it. */
  kickRelays(): void
}

export class JoinRelayAdmin {
  /** `${relay}/${mailbox}` → where the next fetch starts. In memory: a restart reads the mailboxes again from the start. */
  private readonly cursors = new Map<string, string | null>()
  /** `${conversation}/${invite}` → the invite mailbox's keys and item key, once proven. */
  private readonly known = new Map<string, InviteMailbox>()
  /** Items fetched but left for the next pass (over the per-pass admission limit), per mailbox. */
  private readonly backlog = new Map<string, Uint8Array[]>()
  /** `${relay}/${conversation}/${invite}`: the full invite deposited for its short link in this run. */
  private readonly shortPublished = new Set<string>()
  /** Requests (by item id) already answered in this run. */
  private readonly answered = new Set<string>()
  private readonly loop: PassLoop

  constructor(
    private readonly kernel: Kernel,
    private readonly engine: MembershipEngine,
    private readonly hooks: JoinRelayAdminHooks,
    intervalMs = 30_000,
  ) {
    this.loop = new PassLoop(
      () => this.pass(),
      (err) => this.kernel.log.warn({ err }, 'relay join pass failed'),
      intervalMs,
    )
  }

  start(): void {
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** Asks for a pass soon (start, a relay connected, a new invite). Coalesces. */
  kick(): void {
    this.loop.kick()
  }

  /** Resolves when no pass is running (tests and the benchmark). */
  async idle(): Promise<void> {
    await this.loop.idle()
  }

  private get stopped(): boolean {
    return this.loop.stopped
  }

  private async pass(): Promise<void> {
    for (const rt of [...this.kernel.conversations.values()]) {
      if (this.stopped) return
      if (rt.record.removed || rt.log.members.get(this.kernel.identity.account)?.role !== 'admin') continue
      for (const address of this.hooks.relaysFor(rt)) {
        if (this.stopped) return
        try {
          await this.serveRelay(rt, address)
        } catch (err) {
          this.kernel.log.debug({ err, relay: relayPeerOf(address) }, 'relay join: relay exchange failed')
        }
      }
    }
  }

  private async serveRelay(rt: ConversationRuntime, address: string): Promise<void> {
    const live = liveInvites(rt, this.kernel.now())
    if (live.length === 0) return
    await this.publishOwn(rt, address, live)
    await this.readDirectories(rt, address)
    for (const invite of live) {
      const box = this.known.get(`${rt.id}/${invite.grant.id}`)
      if (box !== undefined) await this.serveInvite(rt, address, invite, box)
    }
  }

  /** Our own live invites' mailbox secrets, sealed into the current epoch's directory (idempotent: same bytes). */
  private async publishOwn(rt: ConversationRuntime, address: string, live: InviteState[]): Promise<void> {
    const epoch = rt.epochs.get(rt.log.currentEpoch)
    if (epoch === undefined) return
    const dir = directoryKeys(epoch)
    const boxes: Uint8Array[] = []
    for (const invite of live) {
      const own = this.hooks.ownInvite(rt, invite.grant.id)
      if (own === null) continue
      await this.publishShort(rt, address, invite, own)
      const entry = directoryEntry(rt.id, invite.grant.id, own.inviteSeed)
      this.known.set(`${rt.id}/${invite.grant.id}`, inviteMailbox(entry.mailboxSecret))
      boxes.push(sealDirectoryEntry(dir.sealKey, rt.id, entry))
    }
    if (boxes.length === 0) return
    await this.hooks.port.deposit(address, deriveMailboxKeys(dir.mailboxSecret), boxes.map((bytes) => ({ id: itemId(bytes), bytes })))
  }

  /**
   * The full invite, for a short link whose locator is this relay (join-relay-resolver.ts). Sealed with a fresh
   * nonce, so deposited once per relay and run, not on every pass.
   */
  private async publishShort(rt: ConversationRuntime, address: string, invite: InviteState, keys: ShortInviteKeys): Promise<void> {
    const key = `${relayPeerOf(address)}/${rt.id}/${invite.grant.id}`
    if (this.shortPublished.has(key)) return
    const box = sealedInviteForRelay(keys, {
      conversation: rt.id,
      root: rt.record.root as OpHash,
      name: rt.record.name,
      inviteId: invite.grant.id,
      expiresAt: invite.grant.expiresAt,
      addresses: this.hooks.addresses().slice(0, 6),
      peerId: this.kernel.identity.peerId,
      relays: this.hooks.relaysFor(rt).slice(0, 3),
    })
    await this.hooks.port.deposit(address, shortInviteMailbox(keys), [{ id: itemId(box), bytes: box }])
    this.shortPublished.add(key)
  }

  private async readDirectories(rt: ConversationRuntime, address: string): Promise<void> {
    for (const epoch of rt.epochs.values()) {
      const dir = directoryKeys(epoch)
      for (const bytes of await this.fetchNew(address, deriveMailboxKeys(dir.mailboxSecret))) {
        const entry = openDirectoryEntry(dir.sealKey, rt.id, bytes)
        const invite = entry && rt.log.invites.get(entry.inviteId)
        if (entry === undefined || invite === undefined || !entryProven(rt.id, entry, invite.grant.key)) {
          this.kernel.counters.count('relay-join-bad-directory')
          continue
        }
        const key = `${rt.id}/${entry.inviteId}`
        if (!this.known.has(key) && this.entriesOf(rt.id) < MAX_ENTRIES_PER_CONVERSATION) {
          this.known.set(key, inviteMailbox(entry.mailboxSecret))
        }
      }
    }
  }

  private entriesOf(id: ConversationId): number {
    let n = 0
    for (const k of this.known.keys()) if (k.startsWith(`${id}/`)) n++
    return n
  }

  private async serveInvite(rt: ConversationRuntime, address: string, invite: InviteState, box: InviteMailbox): Promise<void> {
    const { keys } = box
    let answers = 0
    const items = await this.fetchNew(address, keys)
    for (let i = 0; i < items.length; i++) {
      if (this.stopped) return
      if (answers >= MAX_ADMITS_PER_PASS) {
        // The cursor is past these already: keep them for the next pass, which comes at once.
        this.backlog.set(this.cursorKey(address, keys), items.slice(i))
        this.loop.runAgain()
        return
      }
      const bytes = items[i]!
      const id = toHex(itemId(bytes))
      if (this.answered.has(id)) continue
      const answer = await this.handle(rt, invite.grant.id, box, bytes)
      if (answer === undefined) continue
      this.answered.add(id)
      answers++
      const sealed = answer.map((b) => sealItem(box.itemKey, keys.mailboxId, b))
      await this.hooks.port.deposit(address, keys, sealed.map((b) => ({ id: itemId(b), bytes: b })))
    }
  }

  /**
   * One item from an invite mailbox: answers (ours or another admin's) are skipped; a request is checked as the join
   * server checks one and answered with the log. Undefined: nothing to answer (counted when hostile).
   */
  private async handle(rt: ConversationRuntime, inviteId: string, box: InviteMailbox, bytes: Uint8Array): Promise<Uint8Array[] | undefined> {
    const { counters, queue, identity } = this.kernel
    const { keys } = box
    let item
    try {
      item = openItem(box.itemKey, keys.mailboxId, bytes)
    } catch {
      counters.count('relay-join-garbage')
      return undefined
    }
    if (item.type !== 'request') return undefined
    let request, signature, cert
    try {
      ;({ request, signature } = decodeJoinRequest(item.request))
      cert = decodeDeviceCert(request.cert)
    } catch {
      counters.count('relay-join-garbage')
      return undefined
    }
    const grant = rt.log.invites.get(inviteId)?.grant
    if (
      grant === undefined ||
      request.conversation !== rt.id ||
      request.inviteId !== inviteId ||
      !verifyJoinRequest(request, signature, grant.key, relayResponder(keys.mailboxId)) ||
      !deviceProofValid(cert.device, item.request, keys.mailboxId, item.deviceProof)
    ) {
      counters.count('relay-join-refused')
      return undefined
    }
    const admitted = await queue.run(async () => {
      if (rt.record.removed) return false
      const current = rt.log.invites.get(inviteId)!
      const account = cert.account
      if (rt.log.members.has(account)) return true // admitted already (a retry, or another admin was first)
      if (rt.log.removed.has(account)) {
        counters.count('join-refused')
        return true // the log we answer with shows the removal
      }
      const expired = current.grant.expiresAt !== 0 && current.grant.expiresAt < this.kernel.now()
      if (current.revoked || expired || (current.grant.singleUse && current.usedBy !== null)) return true // the log shows why
      if (rt.log.members.get(identity.account)?.role !== 'admin') return false
      const epochId = rt.log.currentEpoch
      const secret = await this.engine.epochSecret(rt.id, epochId)
      await this.engine.append(rt, {
        type: 'add',
        certs: [cert],
        role: 'member',
        via: inviteId,
        epoch: epochId,
        seals: [{ device: cert.device, box: sealEpoch(rt.id, epochId, secret, cert.dhPublic) }],
      })
      counters.count('relay-join-admitted')
      return true
    })
    if (!admitted) return undefined
    this.hooks.kickRelays()
    const ops = opsMissing(rt.ops, [], rt.log.order).map((op) => op.bytes)
    return answerItems(cert.device, ops)
  }

  private cursorKey(address: string, keys: MailboxKeys): string {
    return `${relayPeerOf(address)}/${toHex(keys.mailboxId)}`
  }

  /** What a mailbox holds past our cursor, up to MAX_ITEMS_PER_PASS items. */
  private async fetchNew(address: string, keys: MailboxKeys): Promise<Uint8Array[]> {
    const key = this.cursorKey(address, keys)
    const out: Uint8Array[] = this.backlog.get(key) ?? []
    this.backlog.delete(key)
    let after = this.cursors.get(key) ?? null
    while (out.length < MAX_ITEMS_PER_PASS) {
      const page = await this.hooks.port.fetch(address, keys, { after, limit: Math.min(100, MAX_ITEMS_PER_PASS - out.length) })
      out.push(...page.items.map((i) => i.bytes))
      after = page.next
      this.cursors.set(key, after)
      if (!page.more) break
    }
    return out
  }
}

/** An invite mailbox as an admin uses it: the relay capability and the key its items are sealed with. */
interface InviteMailbox {
  keys: MailboxKeys
  itemKey: Uint8Array
}

const inviteMailbox = (secret: Uint8Array): InviteMailbox => ({ keys: deriveMailboxKeys(secret), itemKey: itemSealKey(secret) })

/** Invites that can still admit someone: not revoked, not expired, not a used single-use one. */
function liveInvites(rt: ConversationRuntime, now: number): InviteState[] {
  return [...rt.log.invites.values()].filter(
    (i) => !i.revoked && (i.grant.expiresAt === 0 || i.grant.expiresAt >= now) && !(i.grant.singleUse && i.usedBy !== null),
  )
}
