/**
 * Core memory at rest with many conversations: the history is written by one child process, then a fresh child opens
 * it (a restarted core) and reports its memory after a forced full GC. Separate processes keep the fill's garbage and
 * the parent's own state out of the figure.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { removeDir } from './harness.js'

export interface MemoryFigures {
  rssMb: number
  heapUsedMb: number
}

export interface MemoryResult {
  conversations: number
  messagesPerConversation: number
  fillSeconds: number
  openMs: number
  /** The child after loading the code, before opening the core. */
  before: MemoryFigures
  /** Core started and idle for 2 s, after GC: the target figure is rssMb. */
  atRest: MemoryFigures
  /** After reading the newest page of every conversation, after GC. */
  afterPages: MemoryFigures
}

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url))

function runChild(args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => (out += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`memory child ${args[0]} timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const line = out.split('\n').find((l) => l.startsWith('RESULT '))
      if (code !== 0 || line === undefined) reject(new Error(`memory child ${args[0]} exited with ${code}: ${out.slice(-500)}`))
      else resolve(JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>)
    })
  })
}

export async function memory(conversations: number, messagesPerConversation: number): Promise<MemoryResult> {
  const filled = await runChild(['fill', String(conversations), String(messagesPerConversation)], 30 * 60_000)
  const dir = filled.dir as string
  try {
    const m = await runChild(['measure', dir], 5 * 60_000)
    return {
      conversations,
      messagesPerConversation,
      fillSeconds: filled.fillSeconds as number,
      openMs: m.openMs as number,
      before: m.before as MemoryFigures,
      atRest: m.atRest as MemoryFigures,
      afterPages: m.afterPages as MemoryFigures,
    }
  } finally {
    await removeDir(dir)
  }
}
