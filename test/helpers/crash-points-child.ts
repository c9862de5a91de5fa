/**
 * A real core in its own OS process, driven over stdin so a parent can make it busy and then kill it with SIGKILL at a
 * moment of its choosing: the crash-points test and the soak script both use it.
 *
 *   argv: <dataDir> <name> [options JSON: { relays?: string[], syncIntervalMs?: number }]
 *   stdin: one JSON command per line, `{ "n": <number>, "op": ..., ... }`; commands run concurrently.
 *   stdout: `READY <json>` once the core is open, `ACK <conversation> <messageId>` after each `send` resolved (that is,
 *   after the user would have been told the message is saved), `R <n> <json>` for a result, `E <n> <message>` for a
 *   failure.
 *
 * stdout writes to a pipe are synchronous on Linux, so an ACK the parent reads was written before the core moved on.
 */
import { createInterface } from 'node:readline'
import { writeHeapSnapshot } from 'node:v8'
import { passphraseKeyProvider } from '../../node/common/crypto/keystore.js'
import { initDataDir, openCore } from '../../node/src/core/open-core.js'
import { Logger } from '../../node/src/core/logger.js'
import { identityExists } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { wholeHistory } from './history.js'

export type ChildCommand =
  | { op: 'create'; name: string }
  | { op: 'invite'; conversation: string }
  | { op: 'join'; code: string }
  | { op: 'dial'; addresses: string[] }
  | { op: 'send'; conversation: string; count: number; intervalMs?: number; tag: string }
  | { op: 'rename'; name: string }
  | { op: 'remove'; conversation: string; account: string }
  | { op: 'addBack'; conversation: string; account: string }
  | { op: 'toggle'; conversation: string; account: string }
  | { op: 'missing'; ids: Record<string, string[]> }
  | { op: 'dump' }
  | { op: 'diagnose'; conversation: string; ids: string[] }
  | { op: 'stats' }
  | { op: 'heap'; snapshot?: string }
  | { op: 'partition'; ms: number }
  | { op: 'exit' }

export interface ChildReady {
  peerId: string
  account: string
  addresses: string[]
  conversations: string[]
  pid: number
}

/** What a core holds of one conversation: message ids in its total order, and the members without presence. */
export interface ConversationDump {
  messages: string[]
  members: string[]
}

const dataDir = process.argv[2]!
const name = process.argv[3] ?? 'victim'
const options = JSON.parse(process.argv[4] ?? '{}') as { relays?: string[]; syncIntervalMs?: number }
// A cheap scrypt: the test is about the database, not the key wrapping.
const provider = passphraseKeyProvider('crash points passphrase', { cost: { N: 2 ** 10, r: 8, p: 1 } })
if (!identityExists(dataDir)) await initDataDir(dataDir, name, provider)
const relays = options.relays ?? []
const { core, close } = await openCore({
  dataDir,
  keyProvider: provider,
  logger: Logger.silent(),
  network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, ...(relays.length > 0 ? {} : { nat: {} }) },
  syncIntervalMs: options.syncIntervalMs ?? 1_000,
  useRelays: relays.length > 0,
  relays,
})

const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let partitionedUntil = 0
core.node.onPeerConnected((peer) => {
  if (Date.now() < partitionedUntil) void core.node.hangUp(peer).catch(() => undefined)
})

async function allMessageIds(id: ConversationId): Promise<string[]> {
  return (await wholeHistory((before) => core.page(id, { limit: 500, before }))).map((m) => m.id)
}

function membersOf(id: ConversationId): string[] {
  return core
    .members(id)
    .map((m) => `${m.account} ${m.role} ${m.displayName} ${m.devices.map((d) => d.device).sort().join(',')}`)
    .sort()
}

async function run(cmd: ChildCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'create':
      return (await core.createConversation({ kind: 'group', name: cmd.name })).id
    case 'invite':
      return (await core.createInvite(cmd.conversation as ConversationId, { singleUse: true })).code
    case 'join':
      return (await core.join(cmd.code)).id
    case 'dial':
      await Promise.allSettled(cmd.addresses.map((a) => core.node.dial(a)))
      return core.node.connectedPeers().length
    case 'send': {
      let sent = 0
      for (let i = 0; i < cmd.count; i++) {
        const m = await core.send(cmd.conversation as ConversationId, `${cmd.tag} ${i} ${'x'.repeat((i * 37) % 400)}`)
        out(`ACK ${cmd.conversation} ${m.id}`)
        sent++
        if (cmd.intervalMs !== undefined && cmd.intervalMs > 0) await sleep(cmd.intervalMs)
      }
      return sent
    }
    case 'rename':
      return (await core.updateSettings({ displayName: cmd.name })).displayName
    case 'remove':
      await core.removeMember(cmd.conversation as ConversationId, cmd.account)
      return null
    case 'addBack':
      await core.addBack(cmd.conversation as ConversationId, cmd.account)
      return null
    case 'toggle': {
      // Removes the member if present, adds them back if not: a removal round always has something to do.
      const id = cmd.conversation as ConversationId
      if (core.members(id).some((m) => m.account === cmd.account)) {
        await core.removeMember(id, cmd.account)
        return 'removed'
      }
      await core.addBack(id, cmd.account)
      return 'added'
    }
    case 'missing': {
      const missing: string[] = []
      for (const [conversation, ids] of Object.entries(cmd.ids)) {
        const held = core.listConversations().some((c) => c.id === conversation)
          ? new Set(await allMessageIds(conversation as ConversationId))
          : new Set<string>()
        for (const id of ids) if (!held.has(id)) missing.push(`${conversation}/${id}`)
      }
      return missing
    }
    case 'dump': {
      const dump: Record<string, ConversationDump> = {}
      for (const c of core.listConversations()) {
        const id = c.id as ConversationId
        dump[id] = { messages: await allMessageIds(id), members: membersOf(id) }
      }
      return dump
    }
    case 'diagnose': {
      // For a failed soak: where the given messages came from (if held here), every stream's positions, the counters.
      const id = cmd.conversation as ConversationId
      const rows = await core.store.getMessages(id, cmd.ids as never)
      const rt = (core as unknown as { conversations: Map<string, { streams: Map<string, { have: number; done: number; chain: unknown }>; own: Map<string, { next: number; delivered: number }>; log: { currentEpoch: string } }> }).conversations.get(id)
      return {
        held: Object.fromEntries([...rows].map(([m, r]) => [m, { epoch: r.epoch, device: r.device, seq: r.seq, withdrawn: r.withdrawn ?? null }])),
        streams: rt === undefined ? {} : Object.fromEntries([...rt.streams].map(([k, v]) => [k, { have: v.have, done: v.done, keyed: v.chain !== null }])),
        own: rt === undefined ? {} : Object.fromEntries([...rt.own].map(([e, o]) => [e, { next: o.next, delivered: o.delivered }])),
        currentEpoch: rt?.log.currentEpoch ?? null,
        counters: core.counters.snapshot(),
      }
    }
    case 'stats': {
      const m = process.memoryUsage()
      return { rss: m.rss, heapUsed: m.heapUsed, peers: core.node.connectedPeers().length }
    }
    case 'heap': {
      // After a full GC (the child must run with --expose-gc), so what is left is what the core holds on to.
      const gc = (globalThis as { gc?: () => void }).gc
      if (gc === undefined) throw new Error('start the child with --expose-gc')
      gc()
      gc()
      const m = process.memoryUsage()
      if (cmd.snapshot !== undefined) writeHeapSnapshot(cmd.snapshot)
      return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
    }
    case 'partition': {
      partitionedUntil = Date.now() + cmd.ms
      await Promise.allSettled(core.node.connectedPeers().map((p) => core.node.hangUp(p)))
      return null
    }
    case 'exit':
      await close()
      out('R -1 null')
      process.exit(0)
  }
}

out(
  `READY ${JSON.stringify({
    peerId: core.node.peerId,
    account: core.whoami().account,
    addresses: core.node.addresses(),
    conversations: core.listConversations().map((c) => c.id),
    pid: process.pid,
  } satisfies ChildReady)}`,
)

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue
  const cmd = JSON.parse(line) as ChildCommand & { n: number }
  run(cmd).then(
    (result) => out(`R ${cmd.n} ${JSON.stringify(result ?? null)}`),
    (err: unknown) => out(`E ${cmd.n} ${(err instanceof Error ? err.message : String(err)).replace(/\n/g, ' ')}`),
  )
}
// The parent closed stdin: shut down in order.
await close()
process.exit(0)
