import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from '../../../common/crypto/random.js'
import { createHearthNode, type HearthNode } from '../../../common/net/create-node.js'
import { handleProtocol } from '../../../common/net/request-response.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import type { DeviceCert } from '../../identity/device-cert.js'
import type { ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { SecurityCounters } from '../security-counters.js'
import { fetchLinkedLogs, logFrames, servedLogs } from './linked-logs.js'
import type { LinkedConversation } from './pair-frames.js'
import { RESTORE_LIMITS, RESTORE_PROTOCOL } from './restore-protocol.js'

const nodes: HearthNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

const hex = (n: number) => Buffer.from(randomBytes(n)).toString('hex')
const ACCOUNT = hex(32)
const DEVICE = hex(32)

function conversation(opCount: number, opBytes: number): LinkedConversation {
  return { id: hex(16), root: hex(32), kind: 'group', name: 'Club', createdAt: 1, relays: [], ops: Array.from({ length: opCount }, () => randomBytes(opBytes)) }
}

/** What servedLogs and logFrames read of a conversation: its record, its ops, who its log admits. */
function runtime(c: LinkedConversation, o: { devices?: string[]; revoked?: string[]; removed?: boolean; members?: string[] } = {}): ConversationRuntime {
  const members = new Map((o.members ?? [ACCOUNT]).map((a) => [a, { devices: new Map((o.devices ?? [DEVICE]).map((d) => [d, {}])) }]))
  return {
    id: c.id,
    record: { root: c.root, kind: c.kind, name: c.name, createdAt: c.createdAt, relays: c.relays, removed: o.removed ?? false },
    ops: new Map(c.ops.map((bytes, i) => [`op${i}`, { hash: `op${i}`, bytes }])),
    log: { members, revokedDevices: new Map((o.revoked ?? []).map((d) => [d, {}])), unauthorized: new Set() },
  } as unknown as ConversationRuntime
}

const cert = (account = ACCOUNT, device = DEVICE) => ({ account, device, bytes: randomBytes(100) }) as unknown as DeviceCert

function kernelOn(node: HearthNode, conversations: ConversationRuntime[] = []): Kernel & { counters: SecurityCounters } {
  return {
    identity: { account: ACCOUNT, cert: cert() },
    node,
    conversations: new Map(conversations.map((rt) => [rt.id, rt])),
    counters: new SecurityCounters(),
    log: { warn: () => {}, debug: () => {} },
    stopped: false,
  } as unknown as Kernel & { counters: SecurityCounters }
}

interface Asked {
  i: string[]
  s: number
  b: number
}

/** A linking device answering `logs` with `answer` (honest by default: logFrames over `list`), and a new device connected to it. */
async function pair(list: LinkedConversation[], answer?: (req: Asked, honest: Iterable<Uint8Array>, n: number) => AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
  const [e, n] = await Promise.all([createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] }), createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })])
  nodes.push(e, n)
  const rts = list.map((c) => runtime(c))
  const asked: Asked[] = []
  // The real limits but the rate (a test asks faster than a person's device would).
  const { ratePerSecond: _rate, ...limits } = RESTORE_LIMITS
  await handleProtocol(e, RESTORE_PROTOCOL, limits, async function* (bytes) {
    const req = decodeCbor(bytes, 1 << 20, 'test') as Asked
    asked.push({ i: req.i, s: req.s, b: req.b })
    const honest = logFrames(rts.filter((rt) => req.i.includes(rt.id)), req.i[0]!, req.s, req.b)
    yield* answer === undefined ? honest : answer(req, honest, asked.length)
  })
  await n.libp2p.dial(e.libp2p.getMultiaddrs()[0]!)
  const got: LinkedConversation[] = []
  const kernel = kernelOn(n)
  const fetch = (ids = list.map((c) => c.id)) => fetchLinkedLogs(kernel, e.peerId, ids, async (c) => void got.push(c), { backoffMs: 10, patienceMs: 2_000 })
  return { e, n, asked, got, kernel, fetch }
}

const same = (a: unknown, b: unknown) => Buffer.from(encodeCbor(a)).equals(Buffer.from(encodeCbor(b)))

describe('the linked device fetching the logs the pairing named', () => {
  it('gets every log whole, in the order named, page after page (a log over several pages too)', async () => {
    // 60 KB, 3 KB and 30 × 1 KB: the first page (8 KiB) stops inside the first log; the pages then double.
    const list = [conversation(60, 1_000), conversation(3, 1_000), ...Array.from({ length: 30 }, () => conversation(1, 1_000))]
    const t = await pair(list)
    expect(await t.fetch()).toEqual({ fetched: 32, refused: 0, missing: 0 })
    expect(same(t.got, list)).toBe(true)
    expect(t.asked.length).toBeGreaterThan(2)
    expect(t.asked[1]!.s).toBeGreaterThan(0)
    expect(t.asked[1]!.b).toBe(2 * t.asked[0]!.b)
  })

  it('resumes a cut answer where it stopped: nothing that arrived is asked for again', async () => {
    const list = [conversation(40, 1_000), conversation(2, 1_000)]
    const t = await pair(list, async function* (req, honest, n) {
      let sent = 0
      for (const frame of honest) {
        yield frame
        // The second answer is cut after its first frame, as a relay cuts a connection at its data limit.
        if (n === 2 && ++sent === 1) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          for (const c of t.e.libp2p.getConnections()) c.abort(new Error('circuit data limit'))
          return
        }
      }
    })
    expect(await t.fetch()).toEqual({ fetched: 2, refused: 0, missing: 0 })
    expect(same(t.got, list)).toBe(true)
    // The first page brought 16 ops (two frames of 8), the cut one 8 more: the next request starts at op 24, with
    // half the page.
    expect(t.asked.slice(0, 3)).toMatchObject([{ s: 0 }, { s: 16 }, { i: list.map((c) => c.id), s: 24, b: t.asked[1]!.b / 2 }])
  })

  it('counts as refused a conversation the device skips (it does not serve it), and takes the others', async () => {
    const list = [conversation(1, 100), conversation(1, 100), conversation(1, 100)]
    const t = await pair(list.filter((_, i) => i !== 1))
    expect(await t.fetch(list.map((c) => c.id))).toEqual({ fetched: 2, refused: 1, missing: 0 })
    expect(t.got.map((c) => c.id)).toEqual([list[0]!.id, list[2]!.id])
    expect(t.kernel.counters.get('linked-conversation-refused')).toBe(1)
  })

  const frame = (c: LinkedConversation, over: Record<string, unknown> = {}) =>
    encodeCbor({ i: c.id, r: c.root, k: c.kind, n: c.name, t: c.createdAt, l: c.relays, s: 0, c: c.ops.length, o: c.ops, ...over })
  const extra = conversation(1, 100)

  it.each([
    ['a conversation not asked for', (_c: LinkedConversation) => [frame(extra)]],
    ['ops out of place', (c: LinkedConversation) => [frame(c, { s: 1 })]],
    ['more ops than the log has', (c: LinkedConversation) => [frame(c, { c: 0 })]],
    ['a log left unfinished before the next', (c: LinkedConversation, d: LinkedConversation) => [frame(c, { c: 5 }), frame(d)]],
    ['a log left unfinished at the end', (c: LinkedConversation) => [frame(c, { c: 5 })]],
    ['a frame that does not parse', () => [encodeCbor({ i: 'nope' })]],
    ['more ops than a log may hold', (c: LinkedConversation) => [frame(c, { c: 10_001 })]],
  ])('stops asking a device that sends %s, and counts it', async (_, frames) => {
    const list = [conversation(1, 100), conversation(1, 100)]
    const t = await pair(list, () => frames(list[0]!, list[1]!))
    const result = await t.fetch()
    expect(result.fetched).toBe(0)
    expect(result.missing).toBe(2)
    expect(t.asked).toHaveLength(1)
    expect(t.kernel.counters.get('linked-logs-refused')).toBe(1)
  })

  it('gives up on a device that is gone, after its patience', async () => {
    const t = await pair([conversation(1, 100)])
    await t.e.stop()
    const started = Date.now()
    expect(await t.fetch()).toMatchObject({ fetched: 0, missing: 1 })
    expect(Date.now() - started).toBeLessThan(20_000)
  }, 30_000)
})

describe('the linking device serving logs', () => {
  it('serves only a device of its own account, admitted and not revoked, in conversations it is still in', () => {
    const [ok, notAdmitted, revoked, removed] = [conversation(1, 10), conversation(1, 10), conversation(1, 10), conversation(1, 10)]
    const kernel = kernelOn(undefined as unknown as HearthNode, [
      runtime(ok),
      runtime(notAdmitted, { devices: [hex(32)] }),
      runtime(revoked, { revoked: [DEVICE] }),
      runtime(removed, { removed: true }),
    ])
    const ids = [ok, notAdmitted, revoked, removed].map((c) => c.id)
    expect(servedLogs(kernel, cert(), [...ids, hex(16), ok.id]).map((rt) => rt.id)).toEqual([ok.id])
    expect(servedLogs(kernel, cert(hex(32)), ids)).toEqual([])
  })

  it('pages: stops at the first frame boundary past the budget, resumes the first log at the position asked', () => {
    const c = conversation(20, 1_000)
    const rt = runtime(c)
    const frames = [...logFrames([rt], c.id, 0, 10_000)].map((f) => decodeCbor(f, 1 << 20, 'test') as { s: number; o: Uint8Array[] })
    expect(frames.map((f) => [f.s, f.o.length])).toEqual([
      [0, 8],
      [8, 8],
    ])
    const rest = [...logFrames([rt], c.id, 16, 10_000)].map((f) => decodeCbor(f, 1 << 20, 'test') as { s: number; o: Uint8Array[] })
    expect(rest.map((f) => [f.s, f.o.length])).toEqual([[16, 4]])
    // The position is for the first conversation asked only: another one starts at its beginning.
    expect((decodeCbor([...logFrames([rt], hex(16), 16, 10_000)][0]!, 1 << 20, 'test') as { s: number }).s).toBe(0)
  })
})
