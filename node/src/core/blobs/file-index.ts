import { z } from 'zod'
import type { Database } from '../../../common/storage/database.js'
import { decodeJson, encodeJson } from '../../../common/storage/json-codec.js'
import { key, prefixRange, splitKey } from '../../../common/storage/keyspace.js'
import type { ConversationId, MessageId } from '../../ids.js'

/**
 * Which message each file of a conversation belongs to, and whether the person removed it from this device:
 *
 *   file/<conv>/<blobId>   JSON { m: messageId, i: index in the message, gone?, own?, relayed?, paused?: true }
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
}

const valueSchema = z.object({
  m: z.string().regex(/^[0-9a-f]{32}$/),
  i: z.number().int().min(0).max(63),
  gone: z.literal(true).optional(),
  own: z.literal(true).optional(),
  relayed: z.literal(true).optional(),
  paused: z.literal(true).optional(),
})

export class FileIndex {
  constructor(private readonly db: Database) {}

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
  return { conversation, blob, message: v.m as MessageId, index: v.i, gone: v.gone === true, own: v.own === true, relayed: v.relayed === true, paused: v.paused === true }
}
