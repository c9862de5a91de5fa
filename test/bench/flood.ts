/**
 * Member flood: honest send-to-receive latency in a three-member group, first with everyone quiet, then while the
 * third member (Mallory, in her own process: flood-child.ts) sends as fast as her core can. Alice sends to Bob one
 * message at a time, ping-style, as the full-path latency piece does; the figure is the loaded/unloaded ratio.
 *
 * Also reported: what Mallory sent, what Bob's gossip validator counted 'rate-limited', and how long after the flood
 * stopped Bob held all of Mallory's messages (the skipped ones come by the catch-up sync).
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { LatencyResult } from './baseline.js'
import { body, conversationPair, deferred, disposeAll, now, summarize, waitUntil } from './harness.js'

export interface FloodResult {
  unloaded: LatencyResult
  flooded: LatencyResult
  ratioP50: number
  ratioP99: number
  /** Messages Mallory's core sent during the flooded phase, and her rate. */
  floodSent: number
  floodPerSecond: number
  /** Envelopes Bob's validator ignored as over Mallory's allowance. */
  rateLimited: number
  /** From the end of the flood until Bob held every message Mallory sent (sync fills in what gossip skipped). */
  catchUpSeconds: number
}

const CHILD = fileURLToPath(new URL('./flood-child.ts', import.meta.url))

export async function memberFlood(samples: number, warmup: number): Promise<FloodResult> {
  // The cores' anti-entropy runs at the product's default period (15 s): that is what fetches the skipped flood.
  const { alice, bob, id } = await conversationPair('group')
  const invite = await alice.core.createInvite(id, { singleUse: true })
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, invite.code], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const expectLine = (prefix: string, timeoutMs: number): Promise<void> =>
    waitUntil(() => lines.some((l) => l.startsWith(prefix)), timeoutMs, `mallory's ${prefix}`, 10)
  try {
    await expectLine('READY', 60_000)
    await waitUntil(() => alice.core.members(id).length === 3 && bob.core.members(id).length === 3, 20_000, 'three members')

    let listener: (text: string) => void = () => {}
    let malloryAtBob = 0
    const off = bob.core.events.on('message.added', (e) => {
      if (e.conversation !== id || e.message.mine) return
      if (e.message.authorName === 'mallory') malloryAtBob++
      else listener(e.message.body)
    })
    const measure = async (phase: string): Promise<LatencyResult> => {
      const out: number[] = []
      for (let i = 0; i < warmup + samples; i++) {
        const text = `${phase} ${body(i)}`
        const got = deferred<void>(30_000, `${phase} message ${i}`)
        listener = (b) => {
          if (b === text) got.resolve()
        }
        const t = now()
        await alice.core.send(id, text)
        await got.promise
        if (i >= warmup) out.push(now() - t)
      }
      return { samples, warmup, summary: summarize(out) }
    }

    const unloaded = await measure('quiet')
    const limitedBefore = bob.core.counters.get('rate-limited')
    child.stdin.write('flood\n')
    const floodBegin = now()
    // Past Mallory's burst before measuring: the figure is for a flood in progress, not its first second.
    await waitUntil(() => bob.core.counters.get('rate-limited') > limitedBefore, 30_000, 'the flood to reach the rate limit', 10)
    const flooded = await measure('flooded')
    child.stdin.write('stop\n')
    await expectLine('SENT', 60_000)
    const floodEnd = now()
    const floodSent = Number(lines.find((l) => l.startsWith('SENT'))!.split(' ')[1])
    const rateLimited = bob.core.counters.get('rate-limited') - limitedBefore
    await waitUntil(() => malloryAtBob >= floodSent, 5 * 60_000, `bob holding all ${floodSent} of mallory's messages`, 50)
    const catchUpSeconds = (now() - floodEnd) / 1000
    off()
    return {
      unloaded,
      flooded,
      ratioP50: flooded.summary.p50 / unloaded.summary.p50,
      ratioP99: flooded.summary.p99 / unloaded.summary.p99,
      floodSent,
      floodPerSecond: floodSent / ((floodEnd - floodBegin) / 1000),
      rateLimited,
      catchUpSeconds,
    }
  } finally {
    child.stdin.write('exit\n')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
    await disposeAll([alice, bob])
  }
}
