/**
 * Child process of the memory piece (run with --expose-gc so the figures are after a full collection):
 *   fill CONVERSATIONS MESSAGES   creates a data directory with that history, prints its path
 *   measure DIR                   opens it as a core, lets it settle, collects garbage, prints memory figures
 * Output: one line `RESULT {json}` on stdout.
 */
import type { ConversationId } from '../../node/src/ids.js'
import { body, makeDataDir, memoryMb, now, openBenchCore, progress, progressDone, sleep } from './harness.js'

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('memory-child needs node --expose-gc')
  for (let i = 0; i < 4; i++) gc()
}

async function fill(conversations: number, messages: number): Promise<void> {
  const dir = await makeDataDir('memory')
  const c = await openBenchCore('memory', dir)
  const t0 = now()
  try {
    const ids: ConversationId[] = []
    for (let i = 0; i < conversations; i++) ids.push((await c.core.createConversation({ kind: 'group', name: `conversation ${i}` })).id as ConversationId)
    // Round-robin, the way real activity spreads over chats.
    for (let m = 1; m <= messages; m++) {
      for (const id of ids) await c.core.send(id, body(m))
      if (m % 100 === 0) progress(`  memory: filled ${m * conversations}/${messages * conversations} messages, ${((now() - t0) / 1000).toFixed(0)} s`)
    }
    progressDone()
  } finally {
    await c.close()
  }
  console.log(`RESULT ${JSON.stringify({ dir, fillSeconds: (now() - t0) / 1000 })}`)
}

async function measure(dir: string): Promise<void> {
  collect()
  const before = memoryMb()
  const t0 = now()
  const c = await openBenchCore('memory', dir)
  const openMs = now() - t0
  try {
    await sleep(2_000)
    collect()
    const atRest = memoryMb()
    const conversations = c.core.listConversations()
    for (const conv of conversations) await c.core.page(conv.id as ConversationId, { limit: 50 })
    collect()
    const afterPages = memoryMb()
    console.log(`RESULT ${JSON.stringify({ conversations: conversations.length, openMs, before, atRest, afterPages })}`)
  } finally {
    await c.close()
  }
}

const [mode, a, b] = process.argv.slice(2)
if (mode === 'fill') await fill(Number(a), Number(b))
else if (mode === 'measure' && a !== undefined) await measure(a)
else {
  console.error('usage: memory-child.ts fill CONVERSATIONS MESSAGES | measure DIR')
  process.exitCode = 2
}
