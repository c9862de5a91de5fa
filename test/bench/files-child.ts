/**
 * Child process of the files piece's memory measure: bob's core in its own process, started with --expose-gc, so the
 * memory sampled is the receiver's own and not alice's upload or the bench's. Usage: files-child.ts INVITE_CODE.
 *
 * Prints `READY` once joined, `HELLO` when a text message from alice arrives, then for the first message with a file
 * samples its memory every 500 ms until that file is complete and prints `RESULT {json}`. On stdin, `exit` (or the end
 * of stdin) closes the core and removes its data directory.
 */
import { createInterface } from 'node:readline'
import type { ConversationId } from '../../node/src/ids.js'
import { makeDataDir, now, openBenchCore, removeDir } from './harness.js'

const MiB = 1024 * 1024
const SAMPLE_EVERY_MS = 500

export interface MemorySample {
  /** ms since the file's message arrived */
  ms: number
  rssMiB: number
  heapMiB: number
  /** ArrayBuffers outside the V8 heap: chunk bytes a receiver kept would show here, not in heapUsed. */
  buffersMiB: number
  /** Bytes of the file held so far (from file.progress). */
  receivedMiB: number
}

export interface ChildResult {
  /** After a full collection, when the file's message arrived. */
  start: MemorySample
  samples: MemorySample[]
  /** When the file was complete, before and after a full collection. */
  end: MemorySample
  endAfterGc: MemorySample
  /** message.added → file complete */
  downloadMs: number
  size: number
}

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('files-child needs node --expose-gc')
const collect = (): void => {
  for (let i = 0; i < 4; i++) gc()
}

const code = process.argv[2]
if (code === undefined) throw new Error('usage: files-child.ts INVITE_CODE')
const dir = await makeDataDir('bob-files')
const bob = await openBenchCore('bob', dir)
await bob.core.updateSettings({ autoDownloadPeerBytes: 2 ** 30, maxFileBytes: 2 ** 30 })
const id = (await bob.core.join(code)).id as ConversationId
process.stdout.write('READY\n')

let fileMessage: string | undefined
let received = 0
let t0 = 0
let timer: NodeJS.Timeout | undefined
const samples: MemorySample[] = []
let start: MemorySample | undefined

const sample = (): MemorySample => {
  const m = process.memoryUsage()
  return { ms: Math.round(now() - t0), rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, buffersMiB: m.arrayBuffers / MiB, receivedMiB: received / MiB }
}

function begin(message: string): void {
  if (fileMessage !== undefined) return
  fileMessage = message
  t0 = now()
  collect()
  start = sample()
  timer = setInterval(() => samples.push(sample()), SAMPLE_EVERY_MS)
}

bob.core.events.on('message.added', (e) => {
  if (e.conversation !== id || e.message.mine) return
  if ((e.message.attachments?.length ?? 0) > 0) begin(e.message.id)
  else process.stdout.write('HELLO\n')
})

bob.core.events.on('file.progress', (e) => {
  if (e.conversation !== id) return
  begin(e.message)
  if (e.message !== fileMessage) return
  received = e.received
  if (e.state !== 'complete' || timer === undefined) return
  clearInterval(timer)
  timer = undefined
  const downloadMs = now() - t0
  const end = sample()
  collect()
  const endAfterGc = sample()
  const result: ChildResult = { start: start!, samples, end, endAfterGc, downloadMs, size: e.size }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
})

for await (const line of createInterface({ input: process.stdin })) if (line === 'exit') break
if (timer !== undefined) clearInterval(timer)
await bob.close()
await removeDir(dir)
process.exit(0)
