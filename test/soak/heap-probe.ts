/**
 * Tells history from a leak: one member writes, another receives, and both heaps are measured after a full GC as the
 * history grows (after `--first` messages, then after each of `--rounds` rounds of `--then` more), with a heap
 * snapshot of the receiver at the last two points. A core that holds only a bounded part of the history (a few shard
 * documents per conversation) stays flat between rounds; the difference between the two snapshots, summed by
 * constructor, says what any growth is made of. Not part of CI.
 *
 *   npx tsx test/soak/heap-probe.ts [--first 500] [--then 3000] [--rounds 3] [--keep]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { bundleChild, ChildCore } from './child-driver.js'

const { values } = parseArgs({
  options: { first: { type: 'string', default: '500' }, then: { type: 'string', default: '3000' }, rounds: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } },
})
const first = Number(values.first)
const then = Number(values.then)
const rounds = Math.max(2, Number(values.rounds))

interface HeapFigures {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`
const root = await mkdtemp(join(tmpdir(), 'hearth-heap-probe-'))
const script = await bundleChild()
const acked: string[] = []
const alice = new ChildCore(join(root, 'alice'), 'alice', { script, nodeArgs: ['--expose-gc'], onAck: (_c, id) => acked.push(id) })
const bob = new ChildCore(join(root, 'bob'), 'bob', { script, nodeArgs: ['--expose-gc'] })

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2_000))
  }
}

async function sendAndWait(conversation: string, count: number, tag: string): Promise<void> {
  await alice.call({ op: 'send', conversation, count, tag })
  await until(async () => (await bob.call<string[]>({ op: 'missing', ids: { [conversation]: acked } })).length === 0, `bob to hold ${acked.length}`)
}

/** Self sizes summed by node type and constructor name. */
async function byConstructor(file: string): Promise<Map<string, { size: number; count: number }>> {
  const snap = JSON.parse(await readFile(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
    nodes: number[]
    strings: string[]
  }
  const fields = snap.snapshot.meta.node_fields
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const types = snap.snapshot.meta.node_types[0]
  const out = new Map<string, { size: number; count: number }>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`
    const key = `${type}:${name}`
    const entry = out.get(key) ?? { size: 0, count: 0 }
    entry.size += snap.nodes[i + sizeAt]!
    entry.count++
    out.set(key, entry)
  }
  return out
}

try {
  await Promise.all([alice.ready, bob.ready])
  const conversation = await alice.call<string>({ op: 'create', name: 'heap probe' })
  const code = await alice.call<string>({ op: 'invite', conversation })
  await bob.call({ op: 'join', code })
  await sendAndWait(conversation, first, 'warm')
  const snapshots: string[] = []
  let held = first
  let previous: { bob: HeapFigures; alice: HeapFigures } | undefined
  for (let round = 0; round <= rounds; round++) {
    if (round > 0) {
      await sendAndWait(conversation, then, `more${round}`)
      held += then
    }
    const snapshot = round === rounds - 1 ? join(root, `bob-${round}.heapsnapshot`) : undefined
    if (snapshot !== undefined) snapshots.push(snapshot)
    const now = { bob: await bob.call<HeapFigures>({ op: 'heap', ...(snapshot ? { snapshot } : {}) }), alice: await alice.call<HeapFigures>({ op: 'heap' }) }
    const delta = (who: 'bob' | 'alice') => (previous === undefined ? '' : ` (${((now[who].heapUsed - previous[who].heapUsed) / then).toFixed(0)} B/message since the last point)`)
    console.log(`${held} messages: receiver heap ${mb(now.bob.heapUsed)}${delta('bob')}, rss ${mb(now.bob.rss)}, external ${mb(now.bob.external)}; writer heap ${mb(now.alice.heapUsed)}${delta('alice')}, rss ${mb(now.alice.rss)}`)
    previous = now
  }
  // Gossipsub remembers the ids of messages it saw for two minutes: measure once more after that has passed, so what
  // is left is what the core itself keeps.
  await new Promise((r) => setTimeout(r, 130_000))
  const idle = join(root, 'bob-idle.heapsnapshot')
  snapshots.push(idle)
  const rested = await bob.call<HeapFigures>({ op: 'heap', snapshot: idle })
  console.log(`${held} messages, 130 s idle: receiver heap ${mb(rested.heapUsed)}, rss ${mb(rested.rss)}, external ${mb(rested.external)}`)
  const [snapA, snapB] = [snapshots[0]!, snapshots[snapshots.length - 1]!]
  const [before, after] = await Promise.all([byConstructor(snapA), byConstructor(snapB)])
  const growth = [...after]
    .map(([key, v]) => ({ key, size: v.size - (before.get(key)?.size ?? 0), count: v.count - (before.get(key)?.count ?? 0) }))
    .sort((a, b) => b.size - a.size)
    .slice(0, 25)
  console.log('receiver heap growth by constructor (self size):')
  for (const g of growth) console.log(`  ${mb(g.size).padStart(9)}  ${String(g.count).padStart(8)}  ${g.key}`)
} finally {
  await Promise.allSettled([alice.close(), bob.close()])
  if (!values.keep) await rm(root, { recursive: true, force: true })
  else console.log(`kept ${root}`)
}
