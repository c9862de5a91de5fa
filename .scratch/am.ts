import * as Automerge from '@automerge/automerge'
import { applyRemoteChanges, asActorId, createShard, sendMessage, validateRemoteChange, HLC_ZERO } from '../crdt/src/index.js'
const a = asActorId('aa'.repeat(16)), b = asActorId('bb'.repeat(16))
let doc = createShard(a)
const changes: Uint8Array[] = []
for (let i = 0; i < 1200; i++) {
  const id = i.toString(16).padStart(32, '0')
  const r = sendMessage(doc, a, { id: id as never, body: 'x'.repeat(197), hlc: { wall: 1_700_000_000_000 + i, counter: 0 }, seq: i })
  doc = r.doc; changes.push(r.change)
}
const time = (name: string, fn: () => void) => { const t = performance.now(); fn(); console.log(name, (performance.now() - t).toFixed(0), 'ms') }
for (let round = 0; round < 2; round++) {
  time('applyRemoteChanges 1200', () => applyRemoteChanges(createShard(b), changes))
  time('Automerge.applyChanges 1200', () => Automerge.applyChanges(createShard(b), changes))
  time('loadIncremental 1200', () => Automerge.loadIncremental(createShard(b), Buffer.concat(changes)))
  time('validateRemoteChange 1200', () => { for (const c of changes) validateRemoteChange(c, a) })
  time('decodeChange 1200', () => { for (const c of changes) Automerge.decodeChange(c) })
  // applying onto a doc that already has 6000 messages
}
let big = createShard(b)
big = applyRemoteChanges(big, changes).doc
const more: Uint8Array[] = []
for (let i = 1200; i < 2400; i++) {
  const id = i.toString(16).padStart(32, '0')
  const r = sendMessage(doc, a, { id: id as never, body: 'x'.repeat(197), hlc: { wall: 1_700_000_000_000 + i, counter: 0 }, seq: i })
  doc = r.doc; more.push(r.change)
}
time('applyRemoteChanges next 1200 onto 1200', () => applyRemoteChanges(Automerge.clone(big), more))
time('applyChanges next 1200 onto 1200', () => Automerge.applyChanges(Automerge.clone(big), more))
time('loadIncremental next 1200 onto 1200', () => Automerge.loadIncremental(Automerge.clone(big), Buffer.concat(more)))
