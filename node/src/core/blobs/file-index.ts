import { z } from 'zod'
import type { Database } from '../../../common/storage/database.js'
import { decodeJson, encodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'
import type { ConversationId, DeviceId, MessageId } from '../../ids.js'

/**
 * Which message each file of a conversation belongs to, and whether the person removed it from this device:
 *
 *   file/<conv>/<blobId>   JSON { m: messageId, i: index in the message, gone?, own?, relayed?, paused?: true,
 *                                 r?: [device ids that fetched the whole file from this device (ours only)],
 *                                 u?: when the person last opened it (ms, at most hourly; file-budget.ts) }
 *
 * It lets a restart resume interrupted downloads and "Clear media" find a conversation's files without reading every
 * message, and it remembers a cleared file as removed (not "available") until the person downloads it again. It holds
 * no key and no name: a file's key and description live only in its message.
 */
export interface FileEntry {
  conversation: ConversationId
  blob: string
  message: MessageId
  index: number
  gone: boolean
  /** Sent from this device: it is handed to the conversation's relays until `relayed`. */
  own?: boolean
  relayed?: boolean
  /** The person stopped its download: it waits for a click again (a restart does not resume it). */
  paused?: boolean
  /** Ours only: member devices that fetched every chunk of it from this device (file-receipts.ts). */
  receivedBy?: DeviceId[]
  /** When the person last opened it (ms; written at most hourly): the budget removes the least recently used first. */
  openedAt?: number
}

/** At most this many devices are remembered per file: every device of the largest group (200 members × 8). */
export const MAX_RECEIVED_BY = 1600

const valueSchema = z.object({
  m: z.string().regex(/^[0-9a-f]{32}$/),
  i: z.number().int().min(0).max(63),
  gone: z.literal(true).optional(),
  own: z.literal(true).optional(),
  relayed: z.literal(true).optional(),
  paused: z.literal(true).optional(),
  r: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(MAX_RECEIVED_BY).optional(),
  u: z.number().int().min(0).optional(),
})

export class FileIndex {
  /** Read-modify-writes of one entry in flight, so two (a relay done, a device's receipt) do not undo each other. */
  private readonly updating = new Map<string, Promise<unknown>>()

  constructor(private readonly db: Database) {}

  /** Changes one entry as it is now (nothing when it is missing or `change` returns undefined); serialised per entry. */
  async update(conversation: ConversationId, blob: string, change: (entry: FileEntry) => FileEntry | undefined): Promise<void> {
    const at = `${conversation}/${blob}`
    const before = this.updating.get(at) ?? Promise.resolve()
    const run = before.then(async () => {
      const entry = await this.get(conversation, blob)
      const next = entry === undefined ? undefined : change(entry)
      if (next !== undefined) await this.put(next)
    })
    const settled = run.catch(() => undefined)
    this.updating.set(at, settled)
    try {
      await run
    } finally {
      if (this.updating.get(at) === settled) this.updating.delete(at)
    }
  }

  async get(conversation: ConversationId, blob: string): Promise<FileEntry | undefined> {
    const raw = await this.db.get(key('file', conversation, blob))
    return raw === undefined ? undefined : entryOf(conversation, blob, raw)
  }

  async put(entry: FileEntry): Promise<void> {
    const value = {
      m: entry.message,
      i: entry.index,
      ...(entry.gone ? { gone: true } : {}),
      ...(entry.own === true ? { own: true } : {}),
      ...(entry.relayed === true ? { relayed: true } : {}),
      ...(entry.paused === true ? { paused: true } : {}),
      ...(entry.receivedBy !== undefined && entry.receivedBy.length > 0 ? { r: entry.receivedBy.slice(0, MAX_RECEIVED_BY) } : {}),
      ...(entry.openedAt === undefined ? {} : { u: entry.openedAt }),
    }
    await this.db.put(key('file', entry.conversation, entry.blob), encodeJson(value), { sync: true })
  }

  async delete(conversation: ConversationId, blob: string): Promise<void> {
    await this.db.del(key('file', conversation, blob), { sync: true })
  }

  /** Every file of one conversation, or of all. */
  async *list(conversation?: ConversationId): AsyncGenerator<FileEntry> {
    const range = conversation === undefined ? prefixRange('file') : prefixRange('file', conversation)
    for await (const [k, raw] of this.db.iterate(range)) {
      const [, c, blob] = splitKey(k)
      if (c === undefined || blob === undefined) continue
      yield entryOf(c as ConversationId, blob, raw)
    }
  }
}

function entryOf(conversation: ConversationId, blob: string, raw: Uint8Array): FileEntry {
  const v = decodeJson(raw, (x) => valueSchema.parse(x), 'file index entry')
  return {
    conversation,
    blob,
    message: v.m as MessageId,
    index: v.i,
    gone: v.gone === true,
    own: v.own === true,
    relayed: v.relayed === true,
    paused: v.paused === true,
    ...(v.r === undefined ? {} : { receivedBy: v.r as DeviceId[] }),
    ...(v.u === undefined ? {} : { openedAt: v.u }),
  }
}
