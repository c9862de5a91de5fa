/**
 * The cost of `send` alone, as CPU and wall time per message: one core, no peer (publishing to nobody costs nothing),
 * `count` sends of a 200-byte text after 50 warm-up. CPU time is the process's (user + system), which moves far less
 * than wall time on a loaded host, so runs made one after the other compare.
 *
 * Usage: npx tsx test/bench/send-cost.ts [count]     (default 600; prints one JSON line)
 */
import type { ConversationId } from '../../node/src/ids.js'
import { body, makeDataDir, now, openBenchCore, removeDir } from './harness.js'

const count = Number(process.argv[2] ?? 600)
const dir = await makeDataDir('send-cost')
const c = await openBenchCore('send-cost', dir)
try {
  const id = (await c.core.createConversation({ kind: 'group', name: 'send cost' })).id as ConversationId
  for (let i = 0; i < 50; i++) await c.core.send(id, body(i, 200))
  const cpu0 = process.cpuUsage()
  const t0 = now()
  for (let i = 0; i < count; i++) await c.core.send(id, body(i, 200))
  const wallMs = now() - t0
  const cpu = process.cpuUsage(cpu0)
  const round = (x: number) => Math.round(x * 1000) / 1000
  console.log(JSON.stringify({ sends: count, cpuMsPerSend: round((cpu.user + cpu.system) / 1000 / count), wallMsPerSend: round(wallMs / count) }))
} finally {
  await c.close()
  await removeDir(dir)
}
process.exit(0)
