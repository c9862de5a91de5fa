/**
 * Heal: how long after a partition ends until every member of a group holds every message.
 *
 * A group of `members` cores in this process on TCP loopback, finding each other the way they do on a LAN (mDNS, with
 * a service tag of this run's own and the product's query interval) and with the product's anti-entropy period. Each
 * round one member (a seeded choice) is cut off from the others by their connection gaters: each of the others bans
 * it in its PeerPenalties, which closes their connections to it at once, refuses its new ones after the handshake, and
 * keeps them from dialing it. Both sides write while cut (the member alone, the rest spread over the others), each
 * side converges on its own, and after `cutMs` the gaters lift. The figure runs from that moment until every core has
 * emitted `message.added` for every message of the group.
 *
 * Nothing dials across the healed cut but what the product does by itself (its redials of lost members, discovery,
 * sync), so the figure includes finding the member again: `reconnectMs` says how much of it that was.
 */
import { randomBytes } from 'node:crypto'
import { PeerPenalties } from '../../node/common/net/peer-penalties.js'
import type { ConversationId } from '../../node/src/ids.js'
import { Logger } from '../../node/src/core/logger.js'
import { openCore, type OpenedCore } from '../../node/src/core/open-core.js'
import { BENCH_KEYS, makeDataDir, now, progress, progressDone, removeDir, round, sleep, summarize, waitUntil, type Summary } from './harness.js'
import { seededRandom } from '../helpers/seeded-random.js'

export interface HealSizes {
  members: number
  rounds: number
  /** Messages written on each side of the cut per round. */
  messagesPerSide: number
  /** How long the cut lasts at least (from the moment it is in place). */
  cutMs: number
  /** A round that has not converged by then is reported as such and ends the piece. */
  timeoutMs: number
  seed: number
}

export const HEAL_SIZES: HealSizes = { members: 4, rounds: 10, messagesPerSide: 40, cutMs: 3_000, timeoutMs: 60_000, seed: 0x4ea1 }
export const HEAL_QUICK_SIZES: HealSizes = { ...HEAL_SIZES, rounds: 3, messagesPerSide: 10 }
export const HEAL_TARGET_MS = 2_000

/** @libp2p/mdns's default query interval, which the cores keep (the product does not set one). */
const MDNS_INTERVAL_MS = 10_000
/** Core's default anti-entropy period (the cores keep it too). */
const SYNC_INTERVAL_MS = 15_000

export interface HealRound {
  /** Which member was cut off. */
  member: string
  /** From the heal until every member holds every message; null when the round did not converge in time. */
  healMs: number | null
  /** From the heal until the cut-off member was connected to every other member again. */
  reconnectMs: number | null
}

export interface HealResult {
  sizes: HealSizes
  /** Over the rounds that converged. */
  heal: Summary
  reconnect: Summary
  rounds: HealRound[]
  complete: boolean
  mdnsIntervalMs: number
  syncIntervalMs: number
  /** Messages in the group at the end, held by every member. */
  messages: number
}

interface HealCore {
  name: string
  dir: string
  opened: OpenedCore
  penalties: PeerPenalties
  peerId: string
  /** Ids of the group's messages this core has emitted message.added for (its own included). */
  seen: Set<string>
}

async function openHealCore(name: string, serviceTag: string, id: () => ConversationId | undefined): Promise<HealCore> {
  const dir = await makeDataDir(name)
  try {
    const penalties = new PeerPenalties()
    const opened = await openCore({
      dataDir: dir,
      keyProvider: BENCH_KEYS,
      network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: { serviceTag }, dht: false, penalties, onError: () => {} },
      logger: Logger.silent(),
      useRelays: false,
    })
    const seen = new Set<string>()
    opened.core.events.on('message.added', (e) => {
      if (e.conversation === id()) seen.add(e.message.id)
    })
    return { name, dir, opened, penalties, peerId: opened.identity.peerId, seen }
  } catch (err) {
    await removeDir(dir)
    throw err
  }
}

const connected = (a: HealCore, b: HealCore): boolean => a.opened.core.node.connectedPeers().includes(b.peerId)

export async function heal(sizes: HealSizes, log: (text: string) => void = (t) => console.error(t)): Promise<HealResult> {
  const serviceTag = `hearth-bench-${randomBytes(4).toString('hex')}`
  const random = seededRandom(sizes.seed)
  const cores: HealCore[] = []
  let id: ConversationId | undefined
  try {
    for (let i = 0; i < sizes.members; i++) cores.push(await openHealCore(`m${i}`, serviceTag, () => id))
    const [admin, ...others] = cores as [HealCore, ...HealCore[]]
    id = (await admin.opened.core.createConversation({ kind: 'group', name: 'heal' })).id as ConversationId
    const group = id
    for (const other of others) {
      const invite = await admin.opened.core.createInvite(group, { singleUse: true })
      await other.opened.core.join(invite.code)
    }
    await waitUntil(() => cores.every((c) => c.opened.core.members(group).length === sizes.members), 30_000, 'every member to see the whole group')
    // Setup only: every pair connected before the first round (mDNS would get there within its interval).
    for (const a of cores) for (const b of cores) if (a !== b && !connected(a, b)) await a.opened.core.node.dial(b.opened.core.node.addresses()[0]!)
    let expected = 0
    for (const c of cores) {
      await c.opened.core.send(group, `hello from ${c.name}`)
      expected++
    }
    await waitUntil(() => cores.every((c) => c.seen.size === expected), 30_000, 'the greetings everywhere', 5)

    const rounds: HealRound[] = []
    for (let r = 0; r < sizes.rounds; r++) {
      const cut = cores[Math.floor(random() * cores.length)]!
      const rest = cores.filter((c) => c !== cut)
      // Only the side that stays bans: a core does not try to get back to a peer it banned, so a cut member that banned
      // the others too would find them only by discovery. Its own redials are refused by their gaters meanwhile.
      for (const o of rest) o.penalties.penalise(cut.peerId, 'bench-partition', o.penalties.threshold)
      await waitUntil(() => rest.every((o) => !connected(o, cut) && !connected(cut, o)), 10_000, `${cut.name}'s connections to close`, 5)
      const cutAt = now()
      const before = expected
      for (let i = 0; i < sizes.messagesPerSide; i++) await cut.opened.core.send(group, `round ${r}: ${cut.name} cut off, ${i}`)
      for (let i = 0; i < sizes.messagesPerSide; i++) await rest[i % rest.length]!.opened.core.send(group, `round ${r}: ${rest[i % rest.length]!.name}, ${i}`)
      expected += 2 * sizes.messagesPerSide
      // Each side converges on its own first, so what the heal has to carry is exactly the other side's messages.
      const side = before + sizes.messagesPerSide
      await waitUntil(() => rest.every((o) => o.seen.size >= side) && cut.seen.size >= side, 30_000, 'each side to converge on its own', 5)
      await sleep(Math.max(0, sizes.cutMs - (now() - cutAt)))
      if (cut.seen.size !== side || rest.some((o) => o.seen.size !== side)) {
        throw new Error(`the cut leaked: ${cut.name} holds ${cut.seen.size}, the others ${rest.map((o) => o.seen.size).join('/')}, expected ${side} each`)
      }

      const healedAt = now()
      for (const o of rest) o.penalties.unban(cut.peerId)
      let reconnectMs: number | null = null
      let healMs: number | null = null
      const deadline = healedAt + sizes.timeoutMs
      while (now() < deadline && (healMs === null || reconnectMs === null)) {
        if (reconnectMs === null && rest.every((o) => connected(cut, o))) reconnectMs = now() - healedAt
        if (healMs === null && cores.every((c) => c.seen.size >= expected)) healMs = now() - healedAt
        await sleep(2)
      }
      rounds.push({ member: cut.name, healMs: healMs === null ? null : round(healMs, 1), reconnectMs: reconnectMs === null ? null : round(reconnectMs, 1) })
      progress(`  heal round ${r + 1}/${sizes.rounds}: ${cut.name} cut off; converged ${healMs === null ? 'NOT within the timeout' : `${healMs.toFixed(0)} ms`} after the heal (reconnected ${reconnectMs === null ? 'never' : `${reconnectMs.toFixed(0)} ms`})`)
      if (healMs === null) {
        log(`\n  heal: round ${r + 1} did not converge in ${sizes.timeoutMs} ms (holding ${cores.map((c) => `${c.name} ${c.seen.size}`).join(', ')} of ${expected}); stopping`)
        break
      }
    }
    progressDone()
    const done = rounds.filter((x) => x.healMs !== null)
    return {
      sizes,
      heal: summarize(done.map((x) => x.healMs!)),
      reconnect: summarize(rounds.filter((x) => x.reconnectMs !== null).map((x) => x.reconnectMs!)),
      rounds,
      complete: done.length === sizes.rounds,
      mdnsIntervalMs: MDNS_INTERVAL_MS,
      syncIntervalMs: SYNC_INTERVAL_MS,
      messages: expected,
    }
  } finally {
    await Promise.allSettled(cores.map((c) => c.opened.close()))
    await Promise.allSettled(cores.map((c) => removeDir(c.dir)))
  }
}

/** Table rows for run.ts: [measure, baseline, Hearth, ratio, target, result]. */
export function healRows(r: HealResult): Array<[string, string, string, string, string, string]> {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  const ok = r.complete && r.heal.p50 <= HEAL_TARGET_MS
  const rounds = `${r.rounds.filter((x) => x.healMs !== null).length}/${r.sizes.rounds} rounds`
  // Converging can come before the last connection is back (one is enough to fetch everything): 0 then.
  const afterReconnect = summarize(r.rounds.filter((x) => x.healMs !== null && x.reconnectMs !== null).map((x) => Math.max(0, x.healMs! - x.reconnectMs!)))
  return [
    [`heal → converged, ${r.sizes.members} members, ${r.sizes.messagesPerSide} msgs a side (p50)`, '', r.heal.n > 0 ? s(r.heal.p50) : 'none converged', '', `≤ ${s(HEAL_TARGET_MS)}`, ok ? 'met' : 'NOT met'],
    [`  same, p99 / max (${rounds})`, '', r.heal.n > 0 ? `${s(r.heal.p99)} / ${s(r.heal.max)}` : '', '', `≤ ${s(HEAL_TARGET_MS)}`, r.complete && r.heal.p99 <= HEAL_TARGET_MS ? 'met' : 'NOT met'],
    ['  of which reconnect, p50 / p99', '', r.reconnect.n > 0 ? `${s(r.reconnect.p50)} / ${s(r.reconnect.p99)}` : '', '', '(info)', ''],
    ['  and after the reconnect, p50 / p99', '', afterReconnect.n > 0 ? `${s(afterReconnect.p50)} / ${s(afterReconnect.p99)}` : '', '', '(info)', ''],
  ]
}

export function healDetail(r: HealResult): string {
  return (
    `heal detail: the others' gaters refuse the cut-off member; mDNS query interval ${r.mdnsIntervalMs / 1000} s, anti-entropy ${r.syncIntervalMs / 1000} s, cut ≥ ${r.sizes.cutMs / 1000} s, seed ${r.sizes.seed}; ` +
    `per round (member: heal / reconnect ms): ${r.rounds.map((x) => `${x.member}: ${x.healMs ?? '—'} / ${x.reconnectMs ?? '—'}`).join(', ')}; ${r.messages} messages in the group at the end`
  )
}
