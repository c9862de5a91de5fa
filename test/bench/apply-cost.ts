/**
 * The CRDT part of catching up, alone: one author's `count` text messages (sealed bodies of 228 bytes, as the core
 * sends them), their changes checked against the authorship rule and applied per shard in one call, the way
 * node/src/core/receive/stream-processor.ts does for a sync page. No network, no store: it measures what Automerge
 * and the check cost per message, to compare ways of doing each. `applyRemoteChanges` takes the bulk path for these
 * (a whole shard onto an empty one); `applyMaterialising` is the path it replaces (`Automerge.applyChanges`). The
 * second line compares the two on batches of several sizes onto shards already holding some messages.
 * Usage: npx tsx test/bench/apply-cost.ts [count=5000] [rounds=3]
 */
import { randomBytes } from 'node:crypto'
import * as Automerge from '@automerge/automerge'
import { readChangeOps } from '../../crdt/src/change-ops.js'
import { applyBulk, applyMaterialising } from '../../crdt/src/apply.js'
import { applyRemoteChanges, asActorId, asMessageId, createShard, readMessage, sendMessage, SHARD_CAPACITY, validateRemoteChange, type Shard } from '../../crdt/src/index.js'

const count = Number(process.argv[2] ?? 5_000)
const rounds = Number(process.argv[3] ?? 3)
const alice = asActorId('a1'.repeat(16))
const bob = asActorId('b2'.repeat(16))

function makeChanges(): Uint8Array[][] {
  const shards: Uint8Array[][] = []
  let own: Shard = createShard(alice)
  for (let i = 0; i < count; i++) {
    if (i % SHARD_CAPACITY === 0) {
      own = createShard(alice)
      shards.push([])
    }
    const id = asMessageId(randomBytes(16).toString('hex'))
    const r = sendMessage(own, alice, { id, body: '', box: randomBytes(228), hlc: { wall: 1_700_000_000_000 + i, counter: 0 }, seq: i })
    own = r.doc
    shards.at(-1)!.push(r.change)
  }
  return shards
}

const time = (fn: () => void): number => {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e3
}

const shards = makeChanges()
console.log(`${count} messages in ${shards.length} shards; change bytes ${shards[0]![0]!.length}`)
const perMsg = (us: number): string => `${(us / count).toFixed(1)} µs/msg`
for (let round = 0; round < rounds; round++) {
  const out: string[] = []
  out.push(`validate ${perMsg(time(() => { for (const s of shards) for (const c of s) if (!validateRemoteChange(c, alice).ok) throw new Error('refused') }))}`)
  out.push(`decodeChange ${perMsg(time(() => { for (const s of shards) for (const c of s) Automerge.decodeChange(c) }))}`)
  out.push(`readChangeOps ${perMsg(time(() => { for (const s of shards) for (const c of s) readChangeOps(c) }))}`)
  let docs: Shard[] = []
  out.push(`materialising+read ${perMsg(time(() => {
    docs = shards.map((s) => {
      const r = applyMaterialising(createShard(bob), s)
      for (const ref of r.touched.messages) readMessage(r.doc, ref.author, ref.id)
      return r.doc
    })
  }))}`)
  docs.forEach((d) => Automerge.free(d))
  out.push(`bulk+read ${perMsg(time(() => {
    docs = shards.map((s) => {
      const r = applyRemoteChanges(createShard(bob), s)
      for (const ref of r.touched.messages) readMessage(r.doc, ref.author, ref.id)
      return r.doc
    })
  }))}`)
  out.push(`readMessage all ${perMsg(time(() => { for (const d of docs) for (const a of Object.values(d)) for (const id of Object.keys(a.m)) readMessage(d, alice, asMessageId(id)) }))}`)
  docs.forEach((d) => Automerge.free(d))
  docs = []
  out.push(`Automerge.applyChanges ${perMsg(time(() => { for (const s of shards) docs.push(Automerge.applyChanges(createShard(bob), s)[0]) }))}`)
  docs.forEach((d) => Automerge.free(d))
  const handles: Array<ReturnType<typeof Automerge.getBackend>> = []
  out.push(`handle.applyChanges ${perMsg(time(() => { for (const s of shards) { const h = Automerge.getBackend(Automerge.init({ actor: bob })); h.applyChanges(s); handles.push(h) } }))}`)
  // Applying to the wasm document alone is cheap, but finding what changed afterwards (a diff) and reading it back
  // cost more than the materialising apply saved: measured in docs/PERFORMANCE.md, not taken (docs/adr/0028).
  out.push(`handle.diff ${perMsg(time(() => { for (const h of handles) h.diff([], h.getHeads()) }))}`)
  out.push(`handle.materialize('/') ${perMsg(time(() => { for (const h of handles) h.materialize('/') }))}`)
  handles.forEach((h) => h.free())
  console.log(`round ${round + 1}: ${out.join(', ')}`)
}

/**
 * Per change, the materialising apply against the bulk one (both with `touched`), for `batch` changes onto a shard
 * already holding `held` of the same author's messages: where the bulk threshold (apply.ts BULK_MIN_SHARE) comes from.
 */
function pathsAt(held: number, batch: number): string {
  const jobs = shards.filter((s) => s.length >= held + batch).map((s) => ({ base: s.slice(0, held), batch: s.slice(held, held + batch) }))
  const n = jobs.length * batch
  const cost = (apply: (doc: Shard, changes: Uint8Array[]) => Shard): number => {
    const bases = jobs.map((j) => applyMaterialising(createShard(bob), j.base).doc)
    const docs: Shard[] = []
    const us = time(() => jobs.forEach((j, i) => docs.push(apply(bases[i]!, j.batch))))
    docs.forEach((d) => Automerge.free(d))
    return us / n
  }
  const old = cost((d, c) => applyMaterialising(d, c).doc)
  const bulk = cost((d, c) => applyBulk(d, c).doc)
  return `${held}+${batch} ${old.toFixed(1)} → ${bulk.toFixed(1)}`
}

const grid: Array<[number, number]> = [[0, 1], [0, 16], [0, 64], [64, 8], [64, 16], [64, 64], [128, 16], [128, 32], [128, 64], [192, 32], [192, 64]]
for (let round = 0; round < rounds; round++) {
  console.log(`round ${round + 1}, µs/change materialising → bulk, held+batch: ${grid.map(([h, b]) => pathsAt(h, b)).join(', ')}`)
}
