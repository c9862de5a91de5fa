import { z } from 'zod'
import { signWithLabel, verifyWithLabel } from '../../../common/crypto/ed25519.js'
import { hkdf } from '../../../common/crypto/kdf.js'
import { Labels } from '../../../common/crypto/labels.js'
import { deriveMailboxKeys, type MailboxKeys } from '../../../common/crypto/mailbox-capability.js'
import { sha256 } from '../../../common/crypto/kdf.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import { bytes, parseWire, uint } from '../../../common/wire/schema.js'
import { decodeDeviceCert, type DeviceCert } from '../../identity/device-cert.js'
import { idBytes, type AccountId } from '../../ids.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { PassLoop, type MailboxPort } from '../relays/relay-mailboxes.js'

/**
 * Restoring from the recovery phrase when no member is on the same network (docs/adr/0032): a device with no
 * conversation leaves a signed note — its certificate and its relay addresses — in a mailbox on its relays that only
 * its account's public key names; every member's core looks in that mailbox, for each account it shares a
 * conversation with, on that conversation's relays, and dials a device it does not know yet. From the connection on,
 * it is the restore of restore.ts.
 *
 * The mailbox is found from the account key, which members hold: a relay never learns which account a mailbox is
 * for, and anyone else who learns the account key can at most read a PeerId and a relay address, or leave notes
 * that fail the signature check.
 */
const ANNOUNCE_MAX_AGE_MS = 60 * 60_000
/** A device leaves notes for its first day: long enough to meet each conversation's members once. */
export const RESTORING_FOR_MS = 24 * 60 * 60_000
/** How often a device in its first day leaves its note again (relays keep notes, members look every pass). */
const ANNOUNCE_EVERY_MS = 5 * 60_000
/** Notes looked at per mailbox and pass, and devices dialed per pass. */
const MAX_NOTES = 50
const MAX_DIALS = 8

const noteSchema = z.strictObject({ v: z.literal(1), c: bytes(), a: z.array(z.string().max(512)).min(1).max(4), t: uint, s: bytes(64) })

export const restoreMailbox = (account: AccountId): MailboxKeys => deriveMailboxKeys(hkdf(Labels.restoreMailbox, idBytes(account)))

const signedPart = (cert: Uint8Array, addresses: string[], at: number) => encodeCbor({ c: cert, a: addresses, t: at })

export interface RendezvousHooks {
  port: MailboxPort | undefined
  /** Relays this device uses (configured and from its conversations' invites). */
  ownRelays(): string[]
  /** The relays of one conversation. */
  relaysFor(rt: ConversationRuntime): string[]
}

export class RestoreRendezvous {
  private readonly loop: PassLoop
  /** `${relay}/${account}` → where the next fetch starts (in memory: a restart looks at a mailbox from its start). */
  private readonly cursors = new Map<string, string | null>()
  /** Devices dialed in this run, so one note is answered once. */
  private readonly dialed = new Set<string>()
  /** Our last note and when it was left: the same note is left again only every few minutes or when it changed. */
  private lastNote: { addresses: string; at: number } | undefined

  constructor(
    private readonly kernel: Kernel,
    private readonly hooks: RendezvousHooks,
    intervalMs = 60_000,
  ) {
    this.loop = new PassLoop(() => this.pass(), (err) => kernel.log.debug({ err }, 'restore rendezvous pass failed'), intervalMs)
  }

  start(): void {
    if (this.hooks.port !== undefined) this.loop.start()
  }

  stop(): Promise<void> {
    return this.loop.stop()
  }

  private async pass(): Promise<void> {
    if (isNewDevice(this.kernel)) await this.announce()
    if (this.kernel.conversations.size > 0) await this.watch()
  }

  /** Ours, while this device is new: a note on each relay we hold a reservation on. */
  private async announce(): Promise<void> {
    const { identity, node } = this.kernel
    const circuits = node.addresses().filter((a) => a.includes('/p2p-circuit')).slice(0, 4)
    if (circuits.length === 0) return
    const at = this.kernel.now()
    const addresses = circuits.join(' ')
    if (this.lastNote !== undefined && this.lastNote.addresses === addresses && at - this.lastNote.at < ANNOUNCE_EVERY_MS) return
    this.lastNote = { addresses, at }
    const s = signWithLabel(identity.deviceKey.seed, Labels.restoreAnnounce, signedPart(identity.cert.bytes, circuits, at))
    const note = encodeCbor({ v: 1, c: identity.cert.bytes, a: circuits, t: at, s })
    const keys = restoreMailbox(identity.account)
    for (const relay of this.hooks.ownRelays()) {
      if (this.loop.stopped) return
      await this.hooks.port!.deposit(relay, keys, [{ id: sha256(note), bytes: note }]).catch((err: unknown) => this.kernel.log.debug({ err, relay }, 'restore note not left'))
    }
  }

  /** A member's: for each account we share a conversation with, its mailbox on that conversation's relays. */
  private async watch(): Promise<void> {
    const where = new Map<AccountId, Set<string>>()
    for (const rt of this.kernel.conversations.values()) {
      if (rt.record.removed) continue
      for (const account of rt.log.members.keys()) {
        const relays = where.get(account) ?? new Set<string>()
        for (const r of this.hooks.relaysFor(rt)) relays.add(r)
        where.set(account, relays)
      }
    }
    let dials = 0
    for (const [account, relays] of where) {
      for (const relay of relays) {
        if (this.loop.stopped || dials >= MAX_DIALS) return
        for (const note of await this.fetch(relay, account)) {
          const device = this.newDeviceIn(note, account)
          if (device === undefined || this.dialed.has(device.cert.device)) continue
          this.dialed.add(device.cert.device)
          dials++
          for (const address of device.addresses) {
            try {
              await this.kernel.node.dial(address)
              break
            } catch (err) {
              this.kernel.log.debug({ err, address }, 'a restoring device did not answer')
            }
          }
        }
      }
    }
  }

  private async fetch(relay: string, account: AccountId): Promise<Uint8Array[]> {
    const key = `${relay}/${account}`
    try {
      const page = await this.hooks.port!.fetch(relay, restoreMailbox(account), { after: this.cursors.get(key) ?? null, limit: MAX_NOTES })
      this.cursors.set(key, page.next)
      return page.items.map((i) => i.bytes)
    } catch (err) {
      this.kernel.log.debug({ err, relay }, 'restore mailbox not read')
      return []
    }
  }

  /** A fresh, signed note of a device of `account` that none of our logs knows as one of its devices (nor revoked). */
  private newDeviceIn(bytesIn: Uint8Array, account: AccountId): { cert: DeviceCert; addresses: string[] } | undefined {
    try {
      const note = parseWire(noteSchema, decodeCbor(bytesIn, 8 * 1024, 'restore note'), 'restore note')
      const cert = decodeDeviceCert(note.c)
      if (cert.account !== account || Math.abs(this.kernel.now() - note.t) > ANNOUNCE_MAX_AGE_MS) return undefined
      if (!verifyWithLabel(idBytes(cert.device), Labels.restoreAnnounce, signedPart(note.c, note.a, note.t), note.s)) return undefined
      // New to at least one conversation we share with the account, and revoked in none.
      let wanted = false
      for (const rt of this.kernel.conversations.values()) {
        if (rt.log.revokedDevices.has(cert.device)) return undefined
        const member = rt.log.members.get(account)
        if (!rt.record.removed && member !== undefined && !member.devices.has(cert.device)) wanted = true
      }
      return wanted ? { cert, addresses: note.a.filter((a) => a.includes(`/p2p/${cert.peerId}`)) } : undefined
    } catch {
      this.kernel.counters.count('restore-note-refused')
      return undefined
    }
  }
}

/** A device in its first day: restored or linked, it may still be missing conversations some member could give it. */
export function isNewDevice(kernel: Kernel): boolean {
  return kernel.now() - kernel.identity.cert.createdAt < RESTORING_FOR_MS
}
