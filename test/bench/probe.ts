import { conversationPair, body, now, summarize } from './harness.js'
import type { MessageId } from '../../node/src/ids.js'
const t0 = now()
const { alice, bob, id } = await conversationPair('direct')
console.log('pair ms', now() - t0, process.version)
const v = await alice.core.send(id, body(1))
const row = await alice.core.store.getMessage(id, v.id as MessageId)
const env = await alice.core.store.getEnvelope(id, row!.epoch, row!.device, row!.seq)
console.log('envelope bytes', env?.byteLength)
const s: number[] = []
for (let i = 0; i < 300; i++) { const t = now(); await alice.core.send(id, body(i)); s.push(now() - t) }
console.log(summarize(s))
await alice.close(); await bob.close()
