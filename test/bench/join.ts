/**
 * Join over a relay path: how long from `join()` until the new member is in the group and holds its history.
 *
 * One `hearth-relay` process (spawned as an operator runs it) on TCP loopback. The inviter is behind a NAT: it listens
 * on nothing of its own and is reachable only through its reservation on the relay (`<relay>/p2p-circuit/p2p/<id>`),
 * as a desktop at home with the relay configured; it writes `history` messages, then makes an invite per joiner.
 * Each invite also names addresses that lead nowhere useful, first in the list as a real invite's LAN addresses
 * would be: a port on this machine that accepts and never speaks, and private addresses of another network. Each
 * joiner is a fresh core behind a NAT of its own (it can only dial out) with the desktop's network defaults apart
 * from LAN discovery; it is opened before the clock starts.
 *
 * Figures per joiner: `join()` resolving (admitted, membership log checked) and every history message emitted. The
 * baseline, measured alongside: the same join from an invite that names only the circuit addresses.
 *
 * Short invites, the inviter online: from opening a short link (`join()` called with it) to the first message shown
 * in the chat (message.added), through the relay circuit as above (the link names the circuit, the rest is looked up)
 * and on the LAN (two cores on TCP loopback, the link naming the inviter's direct address).
 */
import { createServer, Socket, type Server } from 'node:net'
import type { ConversationId } from '../../node/src/ids.js'
import { decodeInvite, encodeInvite } from '../../node/src/conversation/invite-code.js'
import { Logger } from '../../node/src/core/logger.js'
import { openCore, type OpenedCore } from '../../node/src/core/open-core.js'
import { removeRelayDir, spawnRelay } from '../helpers/relay.js'
import { BENCH_KEYS, makeDataDir, now, progress, progressDone, removeDir, round, summarize, waitUntil, type Summary } from './harness.js'

export interface JoinSizes {
  samples: number
  history: number
  /** Private addresses of another network put in the invite (before the real ones); host:port. */
  unreachable: string[]
  timeoutMs: number
}

export const JOIN_SIZES: JoinSizes = { samples: 8, history: 50, unreachable: ['10.77.0.5:4001', '192.168.77.5:4001'], timeoutMs: 60_000 }
export const JOIN_QUICK_SIZES: JoinSizes = { ...JOIN_SIZES, samples: 3, history: 20 }
export const JOIN_TARGET_MS = 3_000

export interface JoinResult {
  sizes: JoinSizes
  /** From `join()` called until it resolved. */
  joined: Summary
  /** From `join()` called until the joiner had emitted message.added for the whole history: the target figure. */
  withHistory: Summary
  /** The same with an invite naming only the inviter's circuit addresses (the baseline). */
  circuitOnly: Summary
  /** A short link through the relay circuit: from `join()` called to the first message shown. */
  shortCircuit: Summary
  /** A short link naming a direct address (LAN, loopback here): from `join()` called to the first message shown. */
  shortLan: Summary
  /** The short links' lengths in characters: through the circuit, on the LAN. */
  shortLength: { circuit: number; lan: number }
  complete: boolean
  /** The addresses the invite named, in order. */
  inviteAddresses: string[]
  /** What a plain TCP connect to each private address did on this host within 2 s (they are not ours to control). */
  probes: Record<string, string>
}

/** A TCP port that accepts and never speaks: a dial to it waits for the dialer's own timeout. */
async function tarpit(): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const held: Socket[] = []
  const server = createServer((socket) => {
    held.push(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of held) s.destroy()
        server.close(() => resolve())
      }),
  }
}

function probe(hostPort: string): Promise<string> {
  const [host, port] = hostPort.split(':') as [string, string]
  const t = now()
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (what: string): void => {
      socket.destroy()
      resolve(what)
    }
    socket.setTimeout(2_000, () => done('no answer in 2 s'))
    socket.once('connect', () => {
      // Something accepted (a proxy or NAT on the way); does it speak or close?
      socket.once('data', () => done(`accepted and sent data after ${(now() - t).toFixed(0)} ms`))
      socket.once('close', () => done(`accepted, then closed after ${(now() - t).toFixed(0)} ms`))
      socket.setTimeout(2_000, () => done(`accepted after ${(now() - t).toFixed(0)} ms, then silent`))
    })
    socket.once('error', (err: NodeJS.ErrnoException) => done(`${err.code ?? err.message} after ${(now() - t).toFixed(0)} ms`))
    socket.connect(Number(port), host)
  })
}

async function openBehindNat(name: string, relays: string[]): Promise<{ opened: OpenedCore; dir: string }> {
  const dir = await makeDataDir(name)
  try {
    const opened = await openCore({
      dataDir: dir,
      keyProvider: BENCH_KEYS,
      // No listen address of its own: reachable only through a relay reservation, if it holds one.
      network: { listen: [], mdns: false, dht: false, onError: () => {} },
      relays,
      logger: Logger.silent(),
    })
    return { opened, dir }
  } catch (err) {
    await removeDir(dir)
    throw err
  }
}

export async function joinOverRelay(sizes: JoinSizes): Promise<JoinResult> {
  const relay = await spawnRelay({ flags: { 'log-level': 'warn', dht: 'false' } })
  const pit = await tarpit()
  const dirs: string[] = []
  const open: OpenedCore[] = []
  try {
    const probes: Record<string, string> = {}
    for (const a of sizes.unreachable) probes[a] = await probe(a)

    const inviter = await openBehindNat('inviter', [relay.address])
    dirs.push(inviter.dir)
    open.push(inviter.opened)
    const core = inviter.opened.core
    await waitUntil(() => core.node.addresses().some((a) => a.includes('/p2p-circuit')), 20_000, "the inviter's reservation on the relay")
    const id = (await core.createConversation({ kind: 'group', name: 'join bench' })).id as ConversationId
    for (let i = 0; i < sizes.history; i++) await core.send(id, `history ${i}`)

    const joined: number[] = []
    const withHistory: number[] = []
    const clean: number[] = []
    const shortFirst: number[] = []
    let shortLength = 0
    let inviteAddresses: string[] = []
    /** One fresh joiner redeeming `code`; returns [join() ms, with history ms]. */
    let first = 0
    const joinOnce = async (name: string, code: string, inviter: string): Promise<[number, number, number]> => {
      // The joiner has no relay of its own: it learns the relay from the invite, as a first-time user would.
      const joiner = await openBehindNat(name, [])
      dirs.push(joiner.dir)
      open.push(joiner.opened)
      let got = 0
      joiner.opened.core.events.on('message.added', (e) => {
        if (e.conversation === id && e.message.body.startsWith('history ') && got++ === 0) first = now()
      })
      const t0 = now()
      first = 0
      await joiner.opened.core.join(code)
      const joinMs = now() - t0
      await waitUntil(() => got >= sizes.history, sizes.timeoutMs, `${name} to hold the history (${got}/${sizes.history})`, 2)
      const historyMs = now() - t0
      const conns = joiner.opened.core.node.libp2p.getConnections().filter((c) => c.remotePeer.toString() === inviter)
      if (conns.some((c) => !c.remoteAddr.toString().includes('/p2p-circuit'))) throw new Error('the joiner reached the inviter other than through the relay')
      // Joiners leave once measured: the inviter serves one at a time, as in a family being set up.
      await joiner.opened.close()
      return [joinMs, historyMs, first - t0]
    }
    for (let s = 0; s < sizes.samples; s++) {
      const invite = decodeInvite((await core.createInvite(id, { singleUse: true })).code)
      if (!invite.addresses.every((a) => a.includes('/p2p-circuit'))) throw new Error(`the inviter has a direct address: ${invite.addresses.join(' ')}`)
      const decoys = [`/ip4/127.0.0.1/tcp/${pit.port}`, ...sizes.unreachable.map((a) => `/ip4/${a.split(':')[0]}/tcp/${a.split(':')[1]}`)].map((a) => `${a}/p2p/${invite.peerId}`)
      inviteAddresses = [...decoys, ...invite.addresses]
      const [joinMs, historyMs] = await joinOnce(`joiner${s}`, encodeInvite({ ...invite, addresses: inviteAddresses }), invite.peerId)
      joined.push(joinMs)
      withHistory.push(historyMs)
      // The baseline: the same join from an invite naming only the circuit addresses.
      const plain = decodeInvite((await core.createInvite(id, { singleUse: true })).code)
      const [, cleanMs] = await joinOnce(`plain${s}`, encodeInvite(plain), plain.peerId)
      clean.push(cleanMs)
      // A short link: it names the circuit only; the rest comes from the inviter over the connection it opens.
      const short = (await core.createInvite(id, { singleUse: true })).shortLink
      if (short === null) throw new Error('the inviter made no short link')
      shortLength = short.length
      const [, , firstMs] = await joinOnce(`short${s}`, short, plain.peerId)
      shortFirst.push(firstMs)
      progress(`  join ${s + 1}/${sizes.samples}: joined in ${joinMs.toFixed(0)} ms, with the history in ${historyMs.toFixed(0)} ms (circuit-only invite: ${cleanMs.toFixed(0)} ms)`)
    }
    progressDone()
    const lan = await shortOnLan(sizes.samples)
    return {
      sizes,
      joined: summarize(joined),
      withHistory: summarize(withHistory),
      circuitOnly: summarize(clean),
      shortCircuit: summarize(shortFirst),
      shortLan: summarize(lan.firstMs),
      shortLength: { circuit: shortLength, lan: lan.length },
      complete: withHistory.length === sizes.samples,
      inviteAddresses: inviteAddresses.map((a) => a.replace(/\/p2p\/[^/]+$/, '/p2p/…')),
      probes,
    }
  } finally {
    await Promise.allSettled(open.map((o) => o.close()))
    await Promise.allSettled(dirs.map((d) => removeDir(d)))
    await pit.close()
    await relay.stop()
    await removeRelayDir(relay)
  }
}

/** Short links on the LAN: the inviter listens on TCP loopback; each joiner is fresh, opened before the clock starts. */
async function shortOnLan(samples: number): Promise<{ firstMs: number[]; length: number }> {
  const dirs: string[] = []
  const open: OpenedCore[] = []
  const start = async (name: string, listen: string[]) => {
    const dir = await makeDataDir(name)
    dirs.push(dir)
    const opened = await openCore({ dataDir: dir, keyProvider: BENCH_KEYS, network: { listen, mdns: false, dht: false, onError: () => {} }, logger: Logger.silent() })
    open.push(opened)
    return opened
  }
  try {
    const inviter = (await start('lan-inviter', ['/ip4/127.0.0.1/tcp/0'])).core
    const id = (await inviter.createConversation({ kind: 'group', name: 'short bench' })).id as ConversationId
    await inviter.send(id, 'hello from the inviter')
    const firstMs: number[] = []
    let length = 0
    for (let s = 0; s < samples; s++) {
      const link = (await inviter.createInvite(id, { singleUse: true })).shortLink
      if (link === null) throw new Error('the inviter made no short link')
      length = link.length
      const joiner = await start(`lan-joiner${s}`, [])
      let shown = 0
      joiner.core.events.on('message.added', (e) => {
        if (e.conversation === id && shown === 0) shown = now()
      })
      const t0 = now()
      await joiner.core.join(link)
      await waitUntil(() => shown > 0, 30_000, `lan-joiner${s} to show the first message`, 2)
      firstMs.push(shown - t0)
      progress(`  short link on the LAN ${s + 1}/${samples}: first message after ${(shown - t0).toFixed(0)} ms`)
      await joiner.close()
    }
    progressDone()
    return { firstMs, length }
  } finally {
    await Promise.allSettled(open.map((o) => o.close()))
    await Promise.allSettled(dirs.map((d) => removeDir(d)))
  }
}

export function joinRows(r: JoinResult): Array<[string, string, string, string, string, string]> {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  return [
    [`join over a relay, with ${r.sizes.history} msgs of history (p50)`, s(r.circuitOnly.p50), s(r.withHistory.p50), `${(r.withHistory.p50 / r.circuitOnly.p50).toFixed(2)}×`, `< ${s(JOIN_TARGET_MS)}`, r.complete && r.withHistory.p50 < JOIN_TARGET_MS ? 'met' : 'NOT met'],
    [`  same, max of ${r.withHistory.n}; join() alone p50 / max`, '', `${s(r.withHistory.max)}; ${s(r.joined.p50)} / ${s(r.joined.max)}`, '', '(info)', ''],
    [`short link → first message, LAN (${r.shortLength.lan} chars; p50 / max)`, '', `${s(r.shortLan.p50)} / ${s(r.shortLan.max)}`, '', `< ${s(JOIN_TARGET_MS)}`, r.shortLan.p50 < JOIN_TARGET_MS ? 'met' : 'NOT met'],
    [`short link → first message, relay circuit (${r.shortLength.circuit} chars; p50 / max)`, '', `${s(r.shortCircuit.p50)} / ${s(r.shortCircuit.max)}`, '', `< ${s(JOIN_TARGET_MS)}`, r.shortCircuit.p50 < JOIN_TARGET_MS ? 'met' : 'NOT met'],
  ]
}

export function joinDetail(r: JoinResult): string {
  return (
    `join detail: the baseline column is the same join from an invite naming only the circuit addresses (p50 ${round(r.circuitOnly.p50, 0)} ms, max ${round(r.circuitOnly.max, 0)} ms); invite addresses in order ${r.inviteAddresses.join(' ')}; ` +
    `a TCP connect to the private ones from this host: ${Object.entries(r.probes).map(([a, p]) => `${a} ${p}`).join(', ')}; ` +
    `with history per joiner (ms): ${r.withHistory.n > 0 ? `min ${round(r.withHistory.min, 0)}, p50 ${round(r.withHistory.p50, 0)}, max ${round(r.withHistory.max, 0)}` : 'none'}`
  )
}
