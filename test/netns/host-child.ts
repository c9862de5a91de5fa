/**
 * One Hearth host of the network-namespace suite, run inside its namespace (`ip netns exec … node --import tsx
 * test/netns/host-child.ts <mode> <dataDir> [options JSON]`), driven by JSON lines on stdin and answering JSON lines
 * on stdout, so the test process (outside every namespace) can steer hosts it cannot reach by socket.
 *
 *   core <dataDir> <options>  opens a real core on the data dir (created on first use) with the options given
 *   api <dataDir>             drives a `hearth start` daemon already running on that data dir, through its API
 *
 * Requests are `{ "id": n, "op": "...", ... }`; each gets `{ "id": n, "ok": true, ... }` or `{ "id": n, "ok": false,
 * "error": "..." }`. Unprompted lines have an `event` field: `ready` once (peerId, addresses), `ack` for each message a
 * `burst` got back from `send` (so durable: the core acknowledges only after the write was synced).
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { connectApi, type ApiClient } from '../../node/src/api/ws-client.js'
import type { MessageView, Page } from '../../node/src/api/types.js'
import { decodeInvite, encodeInvite } from '../../node/src/conversation/invite-code.js'
import { Logger } from '../../node/src/core/logger.js'
import { initDataDir, openCore } from '../../node/src/core/open-core.js'
import type { ConversationId } from '../../node/src/ids.js'
import { identityExists } from '../../node/src/identity/identity.js'
import { wholeHistory } from '../helpers/history.js'

export interface CoreHostOptions {
  name: string
  listen: string[]
  /** mDNS service tag; absent: mDNS off. */
  mdnsTag?: string
  relays?: string[]
  syncIntervalMs?: number
}

interface Backend {
  peerId: string
  addresses(): string[]
  create(name: string): Promise<string>
  invite(conversation: string): Promise<string>
  join(code: string): Promise<string>
  send(conversation: string, body: string): Promise<MessageView>
  page(conversation: string, before: string | undefined): Promise<Page>
  members(conversation: string): Promise<number>
  peers(): Promise<string[]>
  /** Connections to `peer`, as the remote addresses they run over (core mode only). */
  connections(peer: string): string[]
  close(): Promise<void>
}

const [mode, dataDir, optionsJson] = process.argv.slice(2) as [string, string, string | undefined]

async function coreBackend(options: CoreHostOptions): Promise<Backend> {
  const provider = passphraseKeyProvider('netns test passphrase', { cost: { N: 2 ** 10, r: 8, p: 1 } })
  if (!identityExists(dataDir)) await initDataDir(dataDir, options.name, provider)
  const relays = options.relays ?? []
  const { core, close } = await openCore({
    dataDir,
    keyProvider: provider,
    logger: Logger.silent(),
    relays,
    useRelays: relays.length > 0,
    ...(options.syncIntervalMs === undefined ? {} : { syncIntervalMs: options.syncIntervalMs }),
    network: {
      listen: options.listen,
      mdns: options.mdnsTag === undefined ? false : { serviceTag: options.mdnsTag, interval: 1_000 },
      dht: false,
    },
  })
  const id = (conversation: string) => conversation as ConversationId
  return {
    peerId: core.whoami().peerId,
    addresses: () => core.node.addresses(),
    create: async (name) => (await core.createConversation({ kind: 'group', name })).id,
    invite: async (conversation) => (await core.createInvite(id(conversation), { singleUse: false })).code,
    join: async (code) => (await core.join(code)).id,
    send: (conversation, body) => core.send(id(conversation), body),
    page: (conversation, before) => core.page(id(conversation), { limit: 500, before }),
    members: async (conversation) => core.members(id(conversation)).length,
    peers: async () => core.node.connectedPeers(),
    connections: (peer) =>
      core.node.libp2p
        .getConnections()
        .filter((c) => c.remotePeer.toString() === peer)
        .map((c) => c.remoteAddr.toString()),
    close,
  }
}

async function apiBackend(): Promise<Backend> {
  const file = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { url: string; token: string }
  const api: ApiClient = await connectApi(file.url, file.token)
  const me = await api.call('identity.whoami')
  return {
    peerId: me.peerId,
    addresses: () => me.addresses,
    create: async (name) => (await api.call('conversations.create', { kind: 'group', name })).id,
    invite: async (conversation) => (await api.call('conversations.invite', { conversationId: conversation, singleUse: false })).code,
    join: async (code) => (await api.call('conversations.join', { code })).id,
    send: (conversation, body) => api.call('messages.send', { conversationId: conversation, body }),
    page: (conversation, before) =>
      api.call('messages.page', { conversationId: conversation, limit: 500, ...(before === undefined ? {} : { before }) }),
    members: async (conversation) => (await api.call('conversations.members', { conversationId: conversation })).length,
    peers: async () => (await api.call('network.peers')).map((p) => p.peerId),
    connections: () => [],
    close: async () => api.close(),
  }
}

/** The whole history, oldest first. */
function history(backend: Backend, conversation: string): Promise<MessageView[]> {
  return wholeHistory((before) => backend.page(conversation, before))
}

const out = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`)

const backend = mode === 'api' ? await apiBackend() : await coreBackend(JSON.parse(optionsJson ?? '{}') as CoreHostOptions)
out({ event: 'ready', peerId: backend.peerId, addresses: backend.addresses() })

type Request = { id: number; op: string } & Record<string, unknown>

async function handle(req: Request): Promise<object> {
  const conversation = req.conversation as string
  switch (req.op) {
    case 'addresses':
      return { addresses: backend.addresses() }
    case 'create':
      return { conversation: await backend.create(req.name as string) }
    case 'invite': {
      const code = await backend.invite(conversation)
      // Without addresses the guest can only find the inviter the way a family's devices do: mDNS on the LAN.
      return { code: req.withoutAddresses === true ? encodeInvite({ ...decodeInvite(code), addresses: [] }) : code }
    }
    case 'join': {
      const started = performance.now()
      const joined = await backend.join(req.code as string)
      return { conversation: joined, ms: Math.round(performance.now() - started) }
    }
    case 'send': {
      const m = await backend.send(conversation, req.body as string)
      return { message: m.id, state: m.state }
    }
    case 'burst': {
      // Sends one after another, reporting each as it is acknowledged; a test may kill the process at any point.
      for (let i = 0; i < (req.count as number); i++) {
        const m = await backend.send(conversation, `${req.prefix as string} ${i}`)
        out({ event: 'ack', message: m.id, body: m.body })
      }
      return {}
    }
    case 'digest': {
      const all = await history(backend, conversation)
      const hash = createHash('sha256')
      for (const m of all) hash.update(`${m.id}\n${m.body}\n`)
      return { count: all.length, hash: hash.digest('hex') }
    }
    case 'history':
      return { messages: (await history(backend, conversation)).map((m) => ({ id: m.id, body: m.body, author: m.authorName, state: m.state, mine: m.mine })) }
    case 'members':
      return { count: await backend.members(conversation) }
    case 'peers':
      return { peers: await backend.peers() }
    case 'connections':
      return { addresses: backend.connections(req.peer as string) }
    case 'quit':
      await backend.close()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`unknown op ${req.op}`)
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line) as Request
  handle(req).then(
    (result) => out({ id: req.id, ok: true, ...result }),
    (err: unknown) => out({ id: req.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  )
})
// The test runner gone (stdin closed) means nobody will tell this host to stop: stop on our own.
process.stdin.on('end', () => void backend.close().finally(() => process.exit(0)))
