/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per source file, top entries.
 * Usage: npx tsx test/bench/profile-summary.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const file = process.argv[2]
if (file === undefined) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [top]')
  process.exit(2)
}
const top = Number(process.argv[3] ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = profile.endTime - profile.startTime
const shorten = (url: string): string => url.replace(/^file:\/\/.*?\/(node_modules|node|crdt|test)\//, '$1/')
const fnSelf = new Map<string, number>()
const fileSelf = new Map<string, number>()
for (const [id, us] of selfUs) {
  const n = byId.get(id)!
  const name = `${n.callFrame.functionName || '(anonymous)'} ${shorten(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
  fnSelf.set(name, (fnSelf.get(name) ?? 0) + us)
  const f = n.callFrame.url === '' ? `(${n.callFrame.functionName})` : shorten(n.callFrame.url).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, '$1')
  fileSelf.set(f, (fileSelf.get(f) ?? 0) + us)
}
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title} (of ${(total / 1e6).toFixed(2)} s sampled)`)
  for (const [k, us] of [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`)
  }
}
print('self time by package / file', fileSelf)
print('self time by function', fnSelf)

// Inclusive time: each sample counts once for every distinct function on its stack (recursion is not counted twice),
// which is what "how long did validateRemoteChange take, callees included" needs.
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const nameOf = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${shorten(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
const inclusive = new Map<string, number>()
for (const [id, us] of selfUs) {
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = nameOf(byId.get(at)!)
    if (seen.has(name)) continue
    seen.add(name)
    inclusive.set(name, (inclusive.get(name) ?? 0) + us)
  }
}
const ours = new Map([...inclusive].filter(([k]) => /\s(crdt|node)\//.test(k) || /\s(node_modules\/@automerge)/.test(k)))
print('inclusive time, functions of crdt/, node/ and Automerge', ours)
