import { makeDataDir, openBenchCore, body, now, summarize } from './harness.js'
import type { ConversationId } from '../../node/src/ids.js'
const a = await openBenchCore('solo', await makeDataDir('solo'))
const c = await a.core.createConversation({ kind: 'group', name: 'x' })
const id = c.id as ConversationId
const N = Number(process.argv[2] ?? 3000)
const s: number[] = []
const t0 = now()
for (let i = 0; i < N; i++) { const t = now(); await a.core.send(id, body(i)); s.push(now() - t) }
console.log('total s', (now() - t0) / 1000)
console.log('first 1000', summarize(s.slice(0, 1000)))
console.log('last 1000', summarize(s.slice(-1000)))
await a.close()
