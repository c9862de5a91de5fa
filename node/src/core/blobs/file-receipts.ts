/**
 * Who has our files: which member devices fetched each file this device sent, as its blob server saw it.
 *
 * The blob server reports every chunk it handed to an authorised member's device (blob-server.ts `onServed`). For our
 * own files only, a bitmap per (file, device) records which chunks went out; once every chunk did, that device has
 * the file: it is remembered (in memory and in the file's index entry, file-index.ts) and the UI is told. Partial
 * counts live in memory only (a restart forgets them; the next fetch starts them again).
 *
 * What it cannot know: a device that fetched part of the file from another member or from a relay is never "complete"
 * here, and a device that fetched everything but could not store it is. Nothing a peer sends is counted: only chunks
 * this device served after the membership check, so a stranger or a removed member marks nothing, and a member can
 * only ever mark its own device (the connection's peer id is authenticated).
 */
import type { FileReceiptView } from '../../api/types.js'
import type { AccountId, ConversationId, DeviceId, MessageId } from '../../ids.js'
import { MAX_RECEIVED_BY } from './file-index.js'

/** Our own file as the receipts know it. */
export interface OwnFile {
  conversation: ConversationId
  message: MessageId
  index: number
  /** Devices that fetched all of it from us. */
  complete: Set<DeviceId>
}

/** A member device, as the conversation's membership log names it now. */
export interface KnownDevice {
  device: DeviceId
  account: AccountId
  peerId: string
  displayName: string
}

interface Partial {
  conversation: string
  blob: string
  peer: string
  chunks: number
  have: Uint8Array
  count: number
}

/** Partial fetches tracked at once (a few hundred bytes each at most); the least recently touched are dropped first. */
const MAX_PARTIAL = 4096

export interface FileReceiptsDeps {
  /** The current member device that listens as `peer` in `conversation`, if any. */
  deviceOf(conversation: ConversationId, peer: string): DeviceId | undefined
  /** A device completed a file: remember it on disk (file-index.ts). */
  persist(file: OwnFile, blob: string, device: DeviceId): Promise<void>
  /** What a file's receivers are changed (a chunk or a completion): the UI is told, throttled by the caller. */
  changed(file: OwnFile, blob: string, completed: boolean): void
}

export class FileReceipts {
  private readonly own = new Map<string, OwnFile>()
  private readonly partial = new Map<string, Partial>()

  constructor(private readonly deps: FileReceiptsDeps) {}

  /** A file this device sent (at send, and for every own file at start-up, with the devices remembered then). */
  track(blob: string, file: Omit<OwnFile, 'complete'>, complete: readonly DeviceId[] = []): OwnFile {
    const existing = this.own.get(blob)
    if (existing !== undefined) {
      for (const d of complete) existing.complete.add(d)
      return existing
    }
    const own: OwnFile = { conversation: file.conversation, message: file.message, index: file.index, complete: new Set(complete) }
    this.own.set(blob, own)
    return own
  }

  /** The file left this device (its message deleted, its conversation's files cleared). */
  untrack(blob: string): void {
    this.own.delete(blob)
    for (const [key, p] of this.partial) if (p.blob === blob) this.partial.delete(key)
  }

  isOwn(blob: string): boolean {
    return this.own.has(blob)
  }

  /** The blob server handed chunk `index` of `blob` (of `chunks` chunks) to `peer`, a member's device it checked. */
  served(conversation: string, blob: string, peer: string, index: number, chunks: number): void {
    const file = this.own.get(blob)
    // Only our own files, and only through the conversation they were sent in.
    if (file === undefined || file.conversation !== conversation) return
    if (!Number.isSafeInteger(index) || index < 0 || index >= chunks) return
    const key = `${blob}/${peer}`
    let p = this.partial.get(key)
    if (p === undefined || p.chunks !== chunks) {
      const device = this.deps.deviceOf(file.conversation, peer)
      if (device === undefined || file.complete.has(device)) return
      p = { conversation, blob, peer, chunks, have: new Uint8Array(Math.ceil(chunks / 8)), count: 0 }
    } else {
      // Least recently touched last out: delete and re-insert keeps the Map in touch order.
      this.partial.delete(key)
    }
    this.partial.set(key, p)
    if (this.partial.size > MAX_PARTIAL) this.partial.delete(this.partial.keys().next().value!)
    const bit = 1 << (index & 7)
    if ((p.have[index >> 3]! & bit) !== 0) return
    p.have[index >> 3]! |= bit
    p.count++
    if (p.count < p.chunks) {
      this.deps.changed(file, blob, false)
      return
    }
    this.partial.delete(key)
    // Still a member's device now? (A removal between the request and its last chunk counts for nothing.)
    const device = this.deps.deviceOf(file.conversation, peer)
    if (device === undefined || file.complete.has(device) || file.complete.size >= MAX_RECEIVED_BY) return
    file.complete.add(device)
    this.deps.changed(file, blob, true)
    void this.deps.persist(file, blob, device).catch(() => undefined)
  }

  /**
   * Each current member device (other than ours) that fetched some or all of `blob` from us, with how much, and how
   * many such devices there are in all. Undefined for a file that is not ours.
   */
  view(blob: string, size: number, devices: readonly KnownDevice[], me: DeviceId): { receivedBy: FileReceiptView[]; recipients: number } | undefined {
    const file = this.own.get(blob)
    if (file === undefined) return undefined
    const others = devices.filter((d) => d.device !== me)
    const fetched = new Map<string, number>()
    for (const p of this.partial.values()) if (p.blob === blob) fetched.set(p.peer, p.count / p.chunks)
    const receivedBy: FileReceiptView[] = []
    for (const d of others) {
      const complete = file.complete.has(d.device)
      const share = complete ? 1 : fetched.get(d.peerId)
      if (share === undefined) continue
      receivedBy.push({ account: d.account, displayName: d.displayName, device: d.device, received: complete ? size : Math.floor(share * size), complete })
    }
    return { receivedBy, recipients: others.length }
  }
}
