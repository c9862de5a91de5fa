/**
 * Small files the CLI keeps next to the database in the data dir:
 *  - api.json: where the running daemon serves the core API and its token (0600: the token is the API's only
 *    credential, so only this user may read it);
 *  - peers.json: the last known addresses of peers we share conversations with, so a one-shot command (or a restarted
 *    daemon) can reach them without mDNS; libp2p's peer store lives in memory only;
 *  - listen.json: the TCP ports this data dir listened on last, reused so that invites and remembered addresses stay
 *    valid across restarts.
 * All are rewritten atomically (temp file + rename) and read defensively: a damaged file is ignored, not fatal.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { writeAtomic } from './api-file.js'

export { apiFilePath, processAlive, readApiFile, removeApiFile, writeApiFile, writeAtomic, type ApiFile } from './api-file.js'

export async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

// -------------------------------------------------------------------------------------------------- peers.json

const MAX_REMEMBERED_PEERS = 64
const MAX_ADDRESSES_PER_PEER = 8

const peersSchema = z.object({
  v: z.literal(1),
  peers: z.record(
    z.string().min(1).max(128),
    z.object({ addresses: z.array(z.string().max(300)).max(MAX_ADDRESSES_PER_PEER), seen: z.number() }),
  ),
})

export type AddressBook = Map<string, { addresses: string[]; seen: number }>

const peersPath = (dataDir: string) => join(dataDir, 'peers.json')

export async function readAddressBook(dataDir: string): Promise<AddressBook> {
  const file = await readJson(peersPath(dataDir), peersSchema)
  return new Map(Object.entries(file?.peers ?? {}))
}

export async function writeAddressBook(dataDir: string, book: AddressBook): Promise<void> {
  const newest = [...book].sort(([, a], [, b]) => b.seen - a.seen).slice(0, MAX_REMEMBERED_PEERS)
  await writeAtomic(peersPath(dataDir), {
    v: 1,
    peers: Object.fromEntries(newest.map(([peer, e]) => [peer, { addresses: e.addresses.slice(0, MAX_ADDRESSES_PER_PEER), seen: e.seen }])),
  })
}

// ------------------------------------------------------------------------------------------------- listen.json

const listenSchema = z.object({ tcp: z.number().int().min(1).max(65535), ws: z.number().int().min(1).max(65535).optional() })
export type ListenPorts = z.infer<typeof listenSchema>

const listenPath = (dataDir: string) => join(dataDir, 'listen.json')

export function readListenPorts(dataDir: string): Promise<ListenPorts | undefined> {
  return readJson(listenPath(dataDir), listenSchema)
}

export function writeListenPorts(dataDir: string, ports: ListenPorts): Promise<void> {
  return writeAtomic(listenPath(dataDir), ports)
}
