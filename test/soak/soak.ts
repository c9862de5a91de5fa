/**
 * Soak: five cores (each its own process, test/helpers/crash-points-child.ts) and a relay (in this process) chatting in
 * one group for a long time under churn, sampling memory and file handles. Not part of CI.
 *
 *   npx tsx test/soak/soak.ts [--minutes 60] [--seed 1] [--out test/soak/results.json]
 *
 * Slots 0 and 1 are long lived (never restarted: their samples span the whole run and show leaks); slot 0 is the
 * admin. Slot 2 is restarted and killed but never removed, so slots 0-2 must end with identical histories. Slots 3 and
 * 4 are also replaced: the admin removes the member there and a fresh identity joins in its place. Partitions (a core
 * hangs up on everyone and refuses connections for a while) hit any slot. See README.md.
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { createLogger } from '../../relay/src/ops/logger.js'
import { startRelay } from '../../relay/src/relay.js'
import type { ChildReady, ConversationDump } from '../helpers/crash-points-child.js'
import { ChildCore, bundleChild, repoRoot } from './child-driver.js'
import { seededRandom } from '../helpers/seeded-random.js'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: join(repoRoot, 'test/soak/results.json') },
    // Seconds between churn events and between samples.
    churn: { type: 'string', default: '30' },
    sample: { type: 'string', default: '15' },
  },
})
const MINUTES = Number(args.minutes)
const SEED = Number(args.seed)
const CHURN_MS = Number(args.churn) * 1000
const SAMPLE_MS = Number(args.sample) * 1000
const random = seededRandom(SEED)
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const started = Date.now()
const log = (text: string) => process.stderr.write(`[soak ${((Date.now() - started) / 60_000).toFixed(1)} min] ${text}\n`)

interface Sample {
  t: number
  rss: number
  heapUsed: number
  fds: number
}

interface Slot {
  index: number
  dir: string
  name: string
  child: ChildCore | undefined
  ready: ChildReady | undefined
  /** Samples of the current process; a restart starts a new series (kept in `lives`). */
  samples: Sample[]
  lives: Array<{ pid: number; samples: Sample[] }>
  /** Every account this slot has held (a replacement is a new one). */
  accounts: string[]
  restarts: number
  kills: number
  partitions: number
  replaced: number
  acks: number
  sendFailures: number
}

/** The commit the run started on (others may commit while it runs). */
const commit = (() => {
  try {
    const head = readFileSync(join(repoRoot, '.git/HEAD'), 'utf8').trim()
    return head.startsWith('ref: ') ? readFileSync(join(repoRoot, '.git', head.slice(5)), 'utf8').trim() : head
  } catch {
    return 'unknown'
  }
})()

const root = await mkdtemp(join(tmpdir(), 'hearth-soak-'))
const script = await bundleChild()
const relayLines: string[] = []
const relay = await startRelay(
  {
    dataDir: join(root, 'relay'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    httpPort: 0,
    dht: false,
    announceRendezvous: false,
    logLevel: 'warn',
  },
  {
    logger: createLogger(
      'warn',
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          relayLines.push(chunk.toString('utf8'))
          if (relayLines.length > 200) relayLines.shift()
          callback()
        },
      }),
    ),
  },
)
const relayAddress = relay.multiaddrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && !a.includes('/ws'))!

/** Acknowledged message ids by the account that sent them; a replaced member's are set aside. */
const acked = new Map<string, Set<string>>()
const removedAccounts = new Set<string>()
let conversation = ''

const slots: Slot[] = []
for (let i = 0; i < 5; i++) {
  slots.push({
    index: i,
    dir: join(root, `core-${i}-0`),
    name: `core${i}`,
    child: undefined,
    ready: undefined,
    samples: [],
    lives: [],
    accounts: [],
    restarts: 0,
    kills: 0,
    partitions: 0,
    replaced: 0,
    acks: 0,
    sendFailures: 0,
  })
}

/**
 * Starts the slot's core, trying again when the start fails: libp2p refuses to start when a listen address fails, and
 * the relay reservation is one (a busy relay times it out). Each failure is counted and reported.
 */
let startFailures = 0
const startErrors: string[] = []
async function spawnSlot(slot: Slot): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await spawnOnce(slot)
      return
    } catch (err) {
      startFailures++
      const text = String(err)
      startErrors.push(`${slot.name}: ${(/(\w+Error: [^\n]*)/.exec(text)?.[1] ?? text).slice(0, 300)}`)
      log(`${slot.name} did not start (attempt ${attempt}): ${startErrors.at(-1)}`)
      if (attempt === 5) throw err
      await sleep(2_000)
    }
  }
}

async function spawnOnce(slot: Slot): Promise<void> {
  const child = new ChildCore(slot.dir, slot.name, {
    script,
    relays: [relayAddress],
    syncIntervalMs: 15_000,
    onAck: (_conversation, id) => {
      const account = slot.ready?.account
      if (account === undefined) return
      let set = acked.get(account)
      if (set === undefined) acked.set(account, (set = new Set()))
      set.add(id)
      slot.acks++
    },
  })
  slot.child = child
  slot.ready = await child.ready
  if (!slot.accounts.includes(slot.ready.account)) slot.accounts.push(slot.ready.account)
  slot.samples = []
  slot.lives.push({ pid: slot.ready.pid, samples: slot.samples })
}

function live(): Slot[] {
  return slots.filter((s) => s.child !== undefined && !s.child.dead && s.ready !== undefined)
}

async function dialOthers(slot: Slot): Promise<void> {
  const addresses = live()
    .filter((s) => s !== slot)
    .flatMap((s) => s.ready!.addresses)
  await slot.child?.call({ op: 'dial', addresses }).catch(() => undefined)
}

async function sampleProcess(pid: number): Promise<{ rss: number; fds: number }> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
  const fds = (await readdir(`/proc/${pid}/fd`)).length
  return { rss, fds }
}

const relaySamples: Sample[] = []
async function sampleAll(): Promise<void> {
  const t = Date.now() - started
  for (const slot of live()) {
    try {
      const { rss, fds } = await sampleProcess(slot.ready!.pid)
      const stats = await slot.child!.call<{ heapUsed: number }>({ op: 'stats' })
      slot.samples.push({ t, rss, heapUsed: stats.heapUsed, fds })
    } catch {
      // The process went away between the listing and the read: a churn event, not a sample.
    }
  }
  const own = process.memoryUsage()
  relaySamples.push({ t, rss: own.rss, heapUsed: own.heapUsed, fds: (await readdir('/proc/self/fd')).length })
}

// Ctrl-C or a kill of this script: no core process or temp dir outlives it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const s of slots) if (s.child !== undefined && !s.child.dead) s.child.process.kill('SIGKILL')
    void Promise.allSettled([rm(root, { recursive: true, force: true }), rm(script, { force: true })]).then(() => process.exit(130))
  })
}

// --- setup: the admin makes the group and invites the others
log(`root ${root}, relay ${relayAddress}, seed ${SEED}, ${MINUTES} min`)
await Promise.all(slots.map((s) => spawnSlot(s)))
const admin = slots[0]!
conversation = await admin.child!.call<string>({ op: 'create', name: 'soak' })
for (const slot of slots.slice(1)) {
  const code = await admin.child!.call<string>({ op: 'invite', conversation })
  await slot.child!.call({ op: 'join', code })
}
for (const slot of slots) await dialOthers(slot)
log('group of five made')

// --- steady chat: one message from a random live core every 500 ms (about 2 a second for the group)
let running = true
const chat = (async () => {
  let n = 0
  while (running) {
    const slot = pick(live())
    if (slot !== undefined) {
      slot.child!.call({ op: 'send', conversation, count: 1, tag: `chat ${n++}` }).catch(() => {
        slot.sendFailures++
      })
    }
    await sleep(300 + random() * 400)
  }
})()

// --- sampling
const sampler = (async () => {
  while (running) {
    await sampleAll()
    await sleep(SAMPLE_MS)
  }
})()

// --- churn
/** A new person joins with a fresh invite; the admin may be cut off for a while (a partition), so try again. */
async function joinWithRetries(slot: Slot): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const code = await admin.child!.call<string>({ op: 'invite', conversation })
      await slot.child!.call({ op: 'join', code })
      return
    } catch (err) {
      if (attempt >= 10) throw err
      log(`${slot.name} join attempt ${attempt} failed (${String(err).slice(0, 120)}); trying again`)
      await dialOthers(slot)
      await sleep(3_000)
    }
  }
}

type Churn = 'restart' | 'kill' | 'partition' | 'replace'
const churnCounts: Record<Churn, number> = { restart: 0, kill: 0, partition: 0, replace: 0 }
const deadline = started + MINUTES * 60_000
let generation = 0
while (Date.now() < deadline - CHURN_MS) {
  await sleep(CHURN_MS * (0.5 + random()))
  const kind = pick<Churn>(['restart', 'kill', 'partition', 'partition', 'replace'])
  churnCounts[kind]++
  try {
    if (kind === 'restart' || kind === 'kill') {
      const slot = slots[2 + Math.floor(random() * 3)]!
      log(`${kind} ${slot.name}`)
      if (kind === 'kill') {
        await slot.child!.kill()
        slot.kills++
      } else {
        await slot.child!.close()
        slot.restarts++
      }
      await sleep(1_000 + random() * 4_000)
      await spawnSlot(slot)
      await dialOthers(slot)
    } else if (kind === 'partition') {
      const slot = pick(slots)
      const ms = 5_000 + Math.floor(random() * 15_000)
      log(`partition ${slot.name} for ${ms} ms`)
      slot.partitions++
      await slot.child!.call({ op: 'partition', ms })
      void sleep(ms + 200).then(() => dialOthers(slot))
    } else {
      // The admin removes the member in slot 3 or 4; a new person joins in their place.
      const slot = slots[3 + Math.floor(random() * 2)]!
      const account = slot.ready!.account
      log(`replace ${slot.name} (${account.slice(0, 8)})`)
      await admin.child!.call({ op: 'remove', conversation, account })
      removedAccounts.add(account)
      await slot.child!.close()
      await rm(slot.dir, { recursive: true, force: true })
      slot.replaced++
      slot.dir = join(root, `core-${slot.index}-${++generation}`)
      await spawnSlot(slot)
      await joinWithRetries(slot)
      await dialOthers(slot)
    }
  } catch (err) {
    log(`churn ${kind} failed: ${String(err)}`)
  }
}
running = false
await chat
await sampler
log('churn over: waiting for convergence')

// --- the end: everyone up, connected, and in agreement
for (const slot of slots) if (slot.child === undefined || slot.child.dead) await spawnSlot(slot)
for (const slot of slots) await dialOthers(slot)
// A replacement whose join failed every time during the churn (the admin cut off throughout) joins now.
for (const slot of slots) {
  const held = await slot.child!.call<Record<string, ConversationDump>>({ op: 'dump' })
  if (held[conversation] === undefined) {
    log(`${slot.name} is not in the group: joining now`)
    await joinWithRetries(slot).catch((err: unknown) => log(`${slot.name} could not join: ${String(err)}`))
  }
}
const convergeStarted = Date.now()
let dumps: ConversationDump[] = []
let converged = false
let lost: string[] = []
let notAtAdmin: string[] = []
let ackedTotal = 0
let ackedChecked = 0
/** What still differed at the last look, for the report. */
let disagreement: Record<string, unknown> = {}
/** Which slot an account was in, for the report. */
const owners = new Map<string, string>()
for (const slot of slots) for (const life of slot.accounts) owners.set(life, slot.name)
while (Date.now() - convergeStarted < 180_000) {
  dumps = await Promise.all(
    slots.map(async (s) => (await s.child!.call<Record<string, ConversationDump>>({ op: 'dump' }))[conversation] ?? { messages: [], members: [] }),
  )
  const [a, b, c] = dumps
  const histories = JSON.stringify(a!.messages) === JSON.stringify(b!.messages) && JSON.stringify(a!.messages) === JSON.stringify(c!.messages)
  const members = dumps.every((d) => JSON.stringify(d.members) === JSON.stringify(a!.members))
  const held = new Set(a!.messages)
  ackedTotal = 0
  ackedChecked = 0
  lost = []
  for (const [account, ids] of acked) {
    ackedTotal += ids.size
    if (removedAccounts.has(account)) continue
    for (const id of ids) {
      ackedChecked++
      if (!held.has(id)) lost.push(`${owners.get(account) ?? '?'} ${account.slice(0, 8)}/${id}`)
    }
  }
  // Every live core's history is in the admin's (a member who joined late holds only part of it).
  notAtAdmin = dumps.slice(3).flatMap((d) => d.messages.filter((m) => !held.has(m)))
  const diff = (x: string[], y: string[]) => {
    const ys = new Set(y)
    return x.filter((m) => !ys.has(m))
  }
  disagreement = {
    historiesIdentical: histories,
    membersIdentical: members,
    messageCounts: dumps.map((d) => d.messages.length),
    onlyAt0vs1: diff(a!.messages, b!.messages).slice(0, 20),
    onlyAt1vs0: diff(b!.messages, a!.messages).slice(0, 20),
    onlyAt0vs2: diff(a!.messages, c!.messages).slice(0, 20),
    onlyAt2vs0: diff(c!.messages, a!.messages).slice(0, 20),
    sameSetsDifferentOrder: histories ? false : diff(a!.messages, b!.messages).length === 0 && diff(b!.messages, a!.messages).length === 0,
    members: dumps.map((d) => d.members),
  }
  if (histories && members && lost.length === 0 && notAtAdmin.length === 0) {
    converged = true
    break
  }
  await sleep(2_000)
}
const convergeMs = Date.now() - convergeStarted
await sampleAll()
// When it did not converge: where the messages that differ came from, and how far every core holds that stream.
let diagnosis: unknown = null
if (!converged) {
  const differing = [...new Set([...lost.map((l) => l.split('/')[1]!), ...((disagreement['onlyAt1vs0'] as string[]) ?? []), ...((disagreement['onlyAt0vs1'] as string[]) ?? [])])].slice(0, 20)
  diagnosis = Object.fromEntries(
    await Promise.all(slots.map(async (s) => [s.name, await s.child!.call({ op: 'diagnose', conversation, ids: differing }).catch((err: unknown) => String(err))] as const)),
  )
}

// --- figures
interface Trend {
  samples: number
  spanMin: number
  first: number
  last: number
  /** Least-squares slope, per hour. */
  perHour: number
}
function trend(samples: Sample[], key: keyof Omit<Sample, 't'>): Trend | null {
  if (samples.length < 10) return null
  const tenth = Math.max(1, Math.floor(samples.length / 10))
  const mean = (xs: Sample[]) => xs.reduce((s, x) => s + x[key], 0) / xs.length
  const n = samples.length
  const mt = samples.reduce((s, x) => s + x.t, 0) / n
  const mv = mean(samples)
  const cov = samples.reduce((s, x) => s + (x.t - mt) * (x[key] - mv), 0)
  const varT = samples.reduce((s, x) => s + (x.t - mt) ** 2, 0)
  return {
    samples: n,
    spanMin: (samples[n - 1]!.t - samples[0]!.t) / 60_000,
    first: mean(samples.slice(0, tenth)),
    last: mean(samples.slice(-tenth)),
    perHour: varT === 0 ? 0 : (cov / varT) * 3_600_000,
  }
}
const longest = (slot: Slot) => slot.lives.reduce((a, b) => (b.samples.length > a.samples.length ? b : a))
const rows = [
  ...slots.map((s) => ({ name: s.name, samples: longest(s).samples, slot: s })),
  { name: 'relay+driver', samples: relaySamples, slot: undefined },
]
const MB = 1024 * 1024
const table = rows.map(({ name, samples, slot }) => {
  const rss = trend(samples, 'rss')
  const heap = trend(samples, 'heapUsed')
  const fds = trend(samples, 'fds')
  return {
    process: name,
    'life (min)': rss?.spanMin.toFixed(0) ?? '-',
    'RSS first→last 10% (MB)': rss ? `${(rss.first / MB).toFixed(0)} → ${(rss.last / MB).toFixed(0)}` : '-',
    'RSS MB/h': rss ? (rss.perHour / MB).toFixed(1) : '-',
    'heap first→last (MB)': heap ? `${(heap.first / MB).toFixed(0)} → ${(heap.last / MB).toFixed(0)}` : '-',
    'heap MB/h': heap ? (heap.perHour / MB).toFixed(1) : '-',
    'fds first→last': fds ? `${fds.first.toFixed(0)} → ${fds.last.toFixed(0)}` : '-',
    'fds/h': fds ? fds.perHour.toFixed(1) : '-',
    'restarts/kills/partitions/replaced': slot ? `${slot.restarts}/${slot.kills}/${slot.partitions}/${slot.replaced}` : '-',
    acks: slot?.acks ?? '-',
  }
})
console.table(table)
const result = {
  date: new Date().toISOString(),
  commit,
  seed: SEED,
  minutes: MINUTES,
  churn: churnCounts,
  startFailures,
  startErrors,
  messages: dumps[0]!.messages.length,
  acknowledged: ackedTotal,
  acknowledgedChecked: ackedChecked,
  lost,
  notAtAdmin,
  converged,
  convergeMs,
  disagreement: converged ? null : disagreement,
  diagnosis,
  members: dumps[0]!.members.length,
  processes: rows.map(({ name, samples, slot }) => ({
    name,
    rss: trend(samples, 'rss'),
    heapUsed: trend(samples, 'heapUsed'),
    fds: trend(samples, 'fds'),
    restarts: slot?.restarts,
    kills: slot?.kills,
    partitions: slot?.partitions,
    replaced: slot?.replaced,
    acks: slot?.acks,
    sendFailures: slot?.sendFailures,
    lives: slot?.lives.length,
  })),
  samples: Object.fromEntries(rows.map(({ name, samples }) => [name, samples])),
}
await writeFile(args.out, `${JSON.stringify(result, null, 2)}\n`)
const ok = converged && lost.length === 0 && notAtAdmin.length === 0
console.log(
  `${ok ? 'OK' : 'FAILED'}: ${result.messages} messages, ${ackedTotal} acknowledged (${ackedChecked} checked, ${lost.length} lost), ` +
    `converged ${converged} in ${(convergeMs / 1000).toFixed(1)} s; churn ${JSON.stringify(churnCounts)}; written to ${args.out}`,
)

// --- shutdown: every process this script started, and its files
await Promise.allSettled(slots.map(async (s) => s.child?.close()))
await relay.stop()
// A failed run keeps its data directories for a look with the store's tools.
if (ok) await rm(root, { recursive: true, force: true })
else console.log(`data directories kept in ${root}`)
await rm(script, { force: true })
// The relay's libp2p leaves a timer or two behind; the work is done.
process.exit(ok ? 0 : 1)
