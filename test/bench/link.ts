/**
 * A newly linked device taking an account's history (docs/adr/0032): alice's phone holds `conversations` small
 * conversations (`perConversation` messages each, the most recently active) and one older conversation of
 * `bigMessages` messages; a laptop is linked to the phone over TCP loopback, the phone the only other device.
 *
 * Figures, from the link starting (the laptop making its link code) until the laptop has emitted `message.added` for:
 *   newestPages   the newest page (50) of every one of the small conversations
 *   bigNewestPage the newest page of the big one
 *   allBig        every message of the big one (paged through afterwards to check)
 * with the steps on the way: code shown, the phone admitting (one `add-device` per conversation, each a synced
 * append), the pairing done, the laptop's core opened (identity saved, LevelDB, libp2p), dialed, conversations taken.
 *
 * Baselines, in the same run, the closest paths the product had before linking:
 *   catch-up  bob, another account's device, a member of the same conversations (joined before anything was written)
 *             and away while the phone wrote; from his app opening again until he has the same figures
 *   join      carol, a device of a third account with its core open, joins the big conversation by invite and catches
 *             up its history (a plain join + catch-up); from `join()` until she has every message
 * Joining all the conversations at once is no baseline: the join protocol allows a peer 2 joins a second after a burst
 * of 20, so 51 joins measure that limit (core/sync/protocol-limits.ts).
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Core } from '../../node/src/core/core.js'
import { linkAsNewDevice } from '../../node/src/core/devices/new-device.js'
import { saveIdentity } from '../../node/src/identity/identity.js'
import type { ConversationId } from '../../node/src/ids.js'
import { BENCH_KEYS, body, makeDataDir, now, openBenchCore, profiled, progress, progressDone, removeDir, round, sleep, waitUntil, type BenchCore } from './harness.js'

export interface LinkSizes {
  /** Small conversations, the most recently active. */
  conversations: number
  perConversation: number
  /** Messages of the one big conversation (older than the small ones). */
  bigMessages: number
  timeoutMs: number
}

export const LINK_SIZES: LinkSizes = { conversations: 50, perConversation: 3, bigMessages: 10_000, timeoutMs: 180_000 }
export const LINK_QUICK_SIZES: LinkSizes = { conversations: 10, perConversation: 3, bigMessages: 1_000, timeoutMs: 60_000 }

/** The newest page, as the app asks for it. */
const PAGE = 50

/** When the receiving device had each part, in ms from its clock's start (null: not within the timeout). */
export interface Arrival {
  newestPagesMs: number | null
  bigNewestPageMs: number | null
  allBigMs: number | null
  /** Messages of the big conversation the device could page through at the end (check). */
  bigHas: number
  /** Small conversations whose newest page was complete when paged at the end (check). */
  pagesHeld: number
  /** CPU (user + system, every thread of the process: both devices) from the start until it had everything. */
  cpuMs: number
  /** Big-conversation messages held, once a second. */
  progress: Array<{ ms: number; got: number }>
}

export interface LinkedArrival extends Arrival {
  codeShownMs: number
  /** The phone was asked to admit the laptop: the pairing and both confirmations are done. */
  admittingMs: number | null
  /** The phone's admission done (an `add-device` appended in every conversation, the bundle sent). */
  admittedMs: number | null
  /** The laptop's pairing returned (its temporary node stopped). */
  pairedMs: number
  /** The laptop's core opened on a fresh data directory (identity saved under the passphrase first). */
  openedMs: number
  dialedMs: number
  /** `importLinked` returned: every conversation stored and its sync with the phone started. */
  importedMs: number
}

export interface CaughtUpArrival extends Arrival {
  /** Bob's core open again (LevelDB, libp2p, core started). */
  openedMs: number
}

export interface JoinedArrival extends Arrival {
  /** `join()` returned. */
  joinedMs: number
}

export interface LinkResult {
  sizes: LinkSizes
  /** The phone writing the history (not measured). */
  writeSeconds: number
  linked: LinkedArrival
  caughtUp: CaughtUpArrival
  /** Only the big conversation: its newest-pages figure is not measured. */
  joined: JoinedArrival
  /** Link figure / the catch-up's same figure, when both completed. */
  ratioNewestPages: number | null
  ratioAllBig: number | null
  /** Link / the plain join, all of the big conversation. */
  ratioAllBigJoin: number | null
}

interface History {
  small: ConversationId[]
  big: ConversationId
  /** The ids of each conversation's newest page on the phone. */
  newest: Map<ConversationId, string[]>
}

/**
 * Joins as a member, under the join protocol's rate limit (2 a second after a burst of 20): a join refused for going
 * too fast can end up waiting on a relay (there is none here), so the pace keeps under it and each join is checked.
 */
async function joinPaced(core: Core, code: string, index: number): Promise<void> {
  if (index >= 15) await sleep(600)
  const summary = await core.join(code)
  if (summary.joinState !== undefined) throw new Error(`bench: bob's join ${index} is ${summary.joinState}, not admitted`)
}

/** The conversations (bob a member of each), then the history written while bob is away. */
async function writeHistory(phone: Core, bob: BenchCore, sizes: LinkSizes): Promise<History> {
  const big = (await phone.createConversation({ kind: 'group', name: 'big' })).id as ConversationId
  const small: ConversationId[] = []
  for (let c = 0; c < sizes.conversations; c++) small.push((await phone.createConversation({ kind: 'group', name: `chat ${c}` })).id as ConversationId)
  for (const [i, id] of [big, ...small].entries()) {
    await joinPaced(bob.core, (await phone.createInvite(id, { singleUse: true })).code, i)
    progress(`  link: bob joined ${i + 1}/${small.length + 1}`)
  }
  const bobAccount = bob.core.identity.account
  await waitUntil(() => [big, ...small].every((id) => phone.members(id).some((m) => m.account === bobAccount)), 30_000, 'bob a member everywhere')
  // As the catch-up piece does: a first message read in every conversation proves bob holds the phone's keys there
  // before he goes away.
  const greeted = new Set<string>()
  const off = bob.core.events.on('message.added', (e) => {
    if (!e.message.mine) greeted.add(e.conversation)
  })
  for (const id of [big, ...small]) await phone.send(id, 'hello before bob goes away')
  await waitUntil(() => greeted.size === small.length + 1, 60_000, `bob reading the phone in every conversation (${greeted.size}/${small.length + 1})`)
  off()
  await bob.core.settle()
  await bob.close()
  for (let i = 1; i <= sizes.bigMessages; i++) {
    await phone.send(big, `lk ${body(i, 197)}`)
    if (i % 1000 === 0) progress(`  link: the phone wrote ${i}/${sizes.bigMessages}`)
  }
  // Written after the big one: the most recently active, so a linked device takes them first.
  for (const [c, id] of small.entries()) {
    for (let m = 1; m <= sizes.perConversation; m++) await phone.send(id, `lk ${c}.${m} ${body(m, 150)}`)
  }
  progressDone()
  await phone.settle()
  const newest = new Map<ConversationId, string[]>()
  // The history written while bob was away ('lk …'): the greeting before it is no part of any figure.
  for (const id of [big, ...small]) newest.set(id, (await phone.page(id, { limit: PAGE })).messages.filter((m) => m.body.startsWith('lk ')).map((m) => m.id))
  return { small, big, newest }
}

/** Follows one receiving device's `message.added` against the phone's history; `t0` is the clock's start. */
function follow(history: History, t0: number) {
  const missing = new Map(history.small.map((id) => [id, new Set(history.newest.get(id))]))
  const bigNewest = new Set(history.newest.get(history.big))
  const bigSeen = new Set<string>()
  let pagesLeft = history.small.filter((id) => missing.get(id)!.size > 0).length
  const at: { newestPagesMs: number | null; bigNewestPageMs: number | null } = {
    newestPagesMs: pagesLeft === 0 ? 0 : null,
    bigNewestPageMs: bigNewest.size === 0 ? 0 : null,
  }
  const onAdded = (conversation: ConversationId, id: string, text: string): void => {
    const waiting = missing.get(conversation)
    if (waiting !== undefined && waiting.delete(id) && waiting.size === 0 && --pagesLeft === 0) at.newestPagesMs = now() - t0
    if (conversation !== history.big || !text.startsWith('lk ')) return
    bigSeen.add(id)
    if (bigNewest.delete(id) && bigNewest.size === 0) at.bigNewestPageMs = now() - t0
  }
  return { at, bigSeen, onAdded, attach: (core: Core) => core.events.on('message.added', (e) => onAdded(e.conversation, e.message.id, e.message.body)) }
}

/** Waits (bounded) until the big conversation is all there and every newest page is; returns when the big one was. */
async function untilAll(followed: ReturnType<typeof follow>, total: number, t0: number, timeoutMs: number, label: string) {
  const seen = followed.bigSeen
  const marks: Array<{ ms: number; got: number }> = []
  let last = 0
  let allBigMs: number | null = null
  while ((allBigMs === null || followed.at.newestPagesMs === null) && now() - t0 < timeoutMs) {
    await sleep(5)
    if (allBigMs === null && seen.size >= total) allBigMs = now() - t0
    if (now() - t0 - last >= 1_000) {
      last = now() - t0
      marks.push({ ms: Math.round(last), got: seen.size })
      progress(`  link: ${label} holds ${seen.size}/${total} after ${(last / 1000).toFixed(0)} s`)
    }
  }
  progressDone()
  return { allBigMs, progress: marks }
}

/** What the device can page through at the end: the check behind the events. */
async function held(core: Core, history: History): Promise<{ bigHas: number; pagesHeld: number }> {
  let bigHas = 0
  let before: string | null | undefined
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await core.page(history.big, { limit: 500, ...(before ? { before } : {}) })
    bigHas += page.messages.filter((m) => m.body.startsWith('lk ')).length
    before = page.nextBefore
    if (before === null) break
  }
  let pagesHeld = 0
  for (const id of history.small) {
    const ids = new Set((await core.page(id, { limit: PAGE })).messages.map((m) => m.id))
    if (history.newest.get(id)!.every((m) => ids.has(m))) pagesHeld++
  }
  return { bigHas, pagesHeld }
}

async function linkLaptop(phone: BenchCore, history: History, sizes: LinkSizes, dirs: string[], opened: BenchCore[]): Promise<LinkedArrival> {
  const steps: { admittingMs: number | null; admittedMs: number | null; codeShownMs: number } = { admittingMs: null, admittedMs: null, codeShownMs: 0 }
  const cpu0 = process.cpuUsage()
  const t0 = now()
  const off = phone.core.events.on('devices.linking', (p) => {
    if (p.stage === 'confirm') phone.core.devices.confirmLink(true)
    if (p.stage === 'admitting') steps.admittingMs = now() - t0
    if (p.stage === 'done') steps.admittedMs = now() - t0
  })
  try {
    let shown!: (code: string) => void
    const codeShown = new Promise<string>((resolve) => (shown = resolve))
    const laptopSide = linkAsNewDevice({
      network: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false },
      onLink: (code) => shown(code),
      onConfirmationCode: () => {},
      confirm: async () => true,
    })
    const code = await codeShown
    steps.codeShownMs = now() - t0
    const [linked] = await Promise.all([laptopSide, phone.core.devices.link(code)])
    const pairedMs = now() - t0
    // As the app does once paired (app-host.ts finishLink): save the identity, open the core, reach the phone.
    const dir = await mkdtemp(join(tmpdir(), 'hearth-bench-laptop-'))
    dirs.push(dir)
    await saveIdentity(dir, linked.identity, BENCH_KEYS)
    const laptop = await openBenchCore('laptop', dir)
    opened.push(laptop)
    const openedMs = now() - t0
    const followed = follow(history, t0)
    followed.attach(laptop.core)
    await laptop.core.node.dial(phone.core.node.addresses()[0]!)
    const dialedMs = now() - t0
    await laptop.core.devices.importLinked(linked.conversations, linked.from?.peerId ?? phone.core.identity.peerId)
    const importedMs = now() - t0
    const all = await untilAll(followed, sizes.bigMessages, t0, sizes.timeoutMs, 'the laptop')
    const cpu = process.cpuUsage(cpu0)
    const check = await held(laptop.core, history)
    return { ...steps, pairedMs, openedMs, dialedMs, importedMs, ...followed.at, ...all, ...check, cpuMs: (cpu.user + cpu.system) / 1000 }
  } finally {
    off()
  }
}

/** Bob, a member of every conversation, opens his app again after the phone wrote. */
async function catchUpBob(phone: BenchCore, bobDir: string, history: History, sizes: LinkSizes, opened: BenchCore[]): Promise<CaughtUpArrival> {
  const cpu0 = process.cpuUsage()
  const t0 = now()
  const bob = await openBenchCore('bob', bobDir)
  opened.push(bob)
  const openedMs = now() - t0
  const followed = follow(history, t0)
  followed.attach(bob.core)
  // As the catch-up piece does (and the laptop): loopback has no discovery, so bob dials the phone himself.
  await bob.core.node.dial(phone.core.node.addresses()[0]!)
  const all = await untilAll(followed, sizes.bigMessages, t0, sizes.timeoutMs, 'bob')
  const cpu = process.cpuUsage(cpu0)
  const check = await held(bob.core, history)
  return { openedMs, ...followed.at, ...all, ...check, cpuMs: (cpu.user + cpu.system) / 1000 }
}

/** Carol, a device of another account with its core open, joins the big conversation and takes its history. */
async function joinCarol(phone: BenchCore, history: History, sizes: LinkSizes, dirs: string[], opened: BenchCore[]): Promise<JoinedArrival> {
  const dir = await makeDataDir('carol')
  dirs.push(dir)
  const carol = await openBenchCore('carol', dir)
  opened.push(carol)
  const code = (await phone.core.createInvite(history.big, { singleUse: true })).code
  await phone.core.settle()
  const bigOnly: History = { ...history, small: [] }
  const cpu0 = process.cpuUsage()
  const t0 = now()
  const followed = follow(bigOnly, t0)
  followed.attach(carol.core)
  await carol.core.join(code)
  const joinedMs = now() - t0
  const all = await untilAll(followed, sizes.bigMessages, t0, sizes.timeoutMs, 'carol')
  const cpu = process.cpuUsage(cpu0)
  const check = await held(carol.core, bigOnly)
  return { joinedMs, ...followed.at, newestPagesMs: null, ...all, ...check, cpuMs: (cpu.user + cpu.system) / 1000 }
}

export async function linkBench(sizes: LinkSizes): Promise<LinkResult> {
  const dirs: string[] = []
  const opened: BenchCore[] = []
  try {
    const phoneDir = await makeDataDir('phone')
    const bobDir = await makeDataDir('bob')
    dirs.push(phoneDir, bobDir)
    const phone = await openBenchCore('phone', phoneDir)
    opened.push(phone)
    const bob = await openBenchCore('bob', bobDir)
    const tw = now()
    const history = await writeHistory(phone.core, bob, sizes)
    const writeSeconds = (now() - tw) / 1000
    const linked = await profiled('link', () => linkLaptop(phone, history, sizes, dirs, opened))
    // Each receiver has the phone to itself: the laptop goes before bob comes back, bob before carol joins.
    await opened.pop()!.close()
    await phone.core.settle()
    const caughtUp = await profiled('link-catchup', () => catchUpBob(phone, bobDir, history, sizes, opened))
    await opened.pop()!.close()
    await phone.core.settle()
    const joined = await profiled('link-join', () => joinCarol(phone, history, sizes, dirs, opened))
    const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : round(a / b, 2))
    return {
      sizes,
      writeSeconds,
      linked,
      caughtUp,
      joined,
      ratioNewestPages: ratio(linked.newestPagesMs, caughtUp.newestPagesMs),
      ratioAllBig: ratio(linked.allBigMs, caughtUp.allBigMs),
      ratioAllBigJoin: ratio(linked.allBigMs, joined.allBigMs),
    }
  } finally {
    await Promise.allSettled(opened.map((c) => c.close()))
    await Promise.allSettled(dirs.map(removeDir))
  }
}

const s = (ms: number | null): string => (ms === null ? 'not within the timeout' : `${(ms / 1000).toFixed(2)} s`)

/** Table rows: measure, baseline, Hearth (link), ratio, target, result. */
export function linkRows(r: LinkResult): Array<[string, string, string, string, string, string]> {
  const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : String(n))
  const x = (v: number | null): string => (v === null ? '' : `${v.toFixed(2)}×`)
  return [
    [`link a device: newest page of ${r.sizes.conversations} convs (baseline: another account's member catching up)`, s(r.caughtUp.newestPagesMs), s(r.linked.newestPagesMs), x(r.ratioNewestPages), '(info)', ''],
    [`  same, all ${k(r.sizes.bigMessages)} msgs of the big conv`, s(r.caughtUp.allBigMs), s(r.linked.allBigMs), x(r.ratioAllBig), '(info)', ''],
    [`  same, all ${k(r.sizes.bigMessages)}, vs another account joining the big conv by invite`, s(r.joined.allBigMs), s(r.linked.allBigMs), x(r.ratioAllBigJoin), '(info)', ''],
  ]
}

export function linkDetail(r: LinkResult): string {
  const l = r.linked
  const c = r.caughtUp
  const j = r.joined
  const n = r.sizes.conversations
  return (
    `link detail: code shown ${s(l.codeShownMs)}, phone admitting ${s(l.admittingMs)} → admitted ${s(l.admittedMs)}, paired ${s(l.pairedMs)}, ` +
    `laptop core open ${s(l.openedMs)}, dialed ${s(l.dialedMs)}, conversations taken ${s(l.importedMs)}, big conv's newest page ${s(l.bigNewestPageMs)}; ` +
    `CPU ${(l.cpuMs / 1000).toFixed(2)} s; laptop pages ${l.bigHas}/${r.sizes.bigMessages}, newest pages ${l.pagesHeld}/${n}. ` +
    `catch-up: open ${s(c.openedMs)}, big conv's newest page ${s(c.bigNewestPageMs)}, CPU ${(c.cpuMs / 1000).toFixed(2)} s; bob pages ${c.bigHas}/${r.sizes.bigMessages}, newest pages ${c.pagesHeld}/${n}. ` +
    `join: joined ${s(j.joinedMs)}, newest page ${s(j.bigNewestPageMs)}, CPU ${(j.cpuMs / 1000).toFixed(2)} s; carol pages ${j.bigHas}/${r.sizes.bigMessages}. ` +
    `The phone wrote the history in ${r.writeSeconds.toFixed(1)} s`
  )
}
