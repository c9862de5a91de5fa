/**
 * Member flood: honest send-to-receive latency in a three-member group, first with everyone quiet, then while the
 * third member (Mallory, in her own process: flood-child.ts) sends as fast as her core can. Alice writes to Bob at a
 * lively person's pace, a message every 250 ms (4 a second, within the 10 a second every device is allowed, receipts
 * included), and each message's send-to-`message.added` time is taken; the figure is the flooded/quiet ratio. A
 * ping-style sender (next message as soon as the last arrived) would itself exceed the allowance and measure the limit.
 *
 * This machine has two cores and Mallory's process takes about one of them, which slows the honest cores whatever
 * she sends. A control phase separates that from the flood itself: Mallory sends just as fast into a conversation
 * only she is in ("busy"), and the flood is also reported against it.
 *
 * Also reported: what Mallory sent, what the validators counted 'rate-limited', and how fast the rest of her messages
 * reached Bob after the flood stopped (the catch-up sync fetches them paced to her allowance).
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { GOSSIP_BURST } from '../../node/src/core/gossip-rate-limit.js'
import type { LatencyResult } from './baseline.js'
import { body, conversationPair, disposeAll, now, sleep, summarize, waitUntil } from './harness.js'

export interface FloodResult {
  unloaded: LatencyResult
  /** Mallory sending as fast into a conversation of her own: the CPU cost of her process, without the flood. */
  busy: LatencyResult
  flooded: LatencyResult
  ratioP50: number
  ratioP99: number
  /** Flooded vs busy: what the flood costs honest members beyond sharing the machine with the flooder. */
  netRatioP50: number
  netRatioP99: number
  /** Messages Mallory's core sent during the flooded phase, and her rate. */
  floodSent: number
  floodPerSecond: number
  /**
   * Envelopes Alice's and Bob's validators ignored as over Mallory's allowance (she may be connected to one of them
   * only, which then passes on what her allowance admits).
   */
  rateLimited: number
  /** Mallory's messages Bob held when the flood stopped, and after watching for CATCH_UP_WATCH_MS more. */
  heldAtEnd: number
  heldAfterWatch: number
  /** How fast the rest arrived after the flood (catch-up sync, paced to her allowance). */
  catchUpPerSecond: number
}

const CHILD = fileURLToPath(new URL('./flood-child.ts', import.meta.url))
const HONEST_INTERVAL_MS = 250
const CATCH_UP_WATCH_MS = 30_000

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
      const sentAt = new Map<string, number>()
      const arrivedAt = new Map<string, number>()
      listener = (b) => {
        if (sentAt.has(b) && !arrivedAt.has(b)) arrivedAt.set(b, now())
      }
      const start = now()
      const measured: string[] = []
      for (let i = 0; i < warmup + samples; i++) {
        const text = `${phase} ${body(i)}`
        sentAt.set(text, now())
        await alice.core.send(id, text)
        if (i >= warmup) measured.push(text)
        const next = start + (i + 1) * HONEST_INTERVAL_MS
        if (next > now()) await sleep(next - now())
      }
      await waitUntil(() => measured.every((t) => arrivedAt.has(t)), 60_000, `bob receiving alice's ${phase} messages (${arrivedAt.size}/${sentAt.size} so far)`, 10)
      return { samples, warmup, summary: summarize(measured.map((t) => arrivedAt.get(t)! - sentAt.get(t)!)) }
    }

    const limitedAnywhere = (): number => alice.core.counters.get('rate-limited') + bob.core.counters.get('rate-limited')
    const limitedAnywhereBefore = limitedAnywhere()
    const unloaded = await measure('quiet')
    child.stdin.write('alone\n')
    await sleep(2_000)
    const busy = await measure('busy')
    child.stdin.write('stop\n')
    await expectLine('SENT', 60_000)
    lines.length = 0
    child.stdin.write('flood\n')
    const floodBegin = now()
    // Past Mallory's burst before measuring: the figure is for a flood in progress, not its first second. (The second
    // condition is for measuring a build without the limit.)
    await waitUntil(() => limitedAnywhere() > limitedAnywhereBefore || malloryAtBob > 2 * GOSSIP_BURST, 30_000, 'the flood to pass the burst', 10)
    const flooded = await measure('flooded')
    child.stdin.write('stop\n')
    await expectLine('SENT', 60_000)
    const floodEnd = now()
    const floodSent = Number(lines.find((l) => l.startsWith('SENT'))!.split(' ')[1])
    const rateLimited = limitedAnywhere() - limitedAnywhereBefore
    // The excess is delayed, not lost: it arrives at the paced rate (the sender's allowance). Measured over a while
    // rather than to the end, which at that rate takes floodSent / 10 seconds.
    const heldAtEnd = malloryAtBob
    await sleep(CATCH_UP_WATCH_MS)
    const catchUpPerSecond = (malloryAtBob - heldAtEnd) / (CATCH_UP_WATCH_MS / 1000)
    const heldAfterWatch = malloryAtBob
    off()
    return {
      unloaded,
      busy,
      flooded,
      ratioP50: flooded.summary.p50 / unloaded.summary.p50,
      ratioP99: flooded.summary.p99 / unloaded.summary.p99,
      netRatioP50: flooded.summary.p50 / busy.summary.p50,
      netRatioP99: flooded.summary.p99 / busy.summary.p99,
      floodSent,
      floodPerSecond: floodSent / ((floodEnd - floodBegin) / 1000),
      rateLimited,
      heldAtEnd,
      heldAfterWatch,
      catchUpPerSecond,
    }
  } finally {
    child.stdin.write('exit\n')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
    await disposeAll([alice, bob])
  }
}
