/**
 * Catch-up: bob is stopped while alice writes `count` messages; bob starts again and gets them all from alice by sync
 * (gossip cannot help: it only carries what is sent while both are connected).
 */
import type { ConversationId } from '../../node/src/ids.js'
import { body, conversationPair, now, openBenchCore, profiled, progress, progressDone, removeDir, sleep } from './harness.js'

export interface CatchupResult {
  messages: number
  /** Alice writing them while bob was away (not part of the target). */
  writeSeconds: number
  /** Bob's data directory opened: identity, LevelDB, libp2p node, core started. */
  openMs: number
  /** Bob dialing alice (TCP + Noise + yamux). */
  dialMs: number
  /** From the connection until bob has emitted message.added for every missed message. */
  syncMs: number
  /** From bob's start (openCore called) until bob has all messages: the target figure. */
  totalMs: number
  /** Messages bob can page through afterwards (check). */
  bobHas: number
  /** False when bob did not have them all within timeoutMs; totalMs is then the time given up at. */
  complete: boolean
  /** message.added events bob emitted for the missed messages. */
  received: number
  timeoutMs: number
  /**
   * CPU time (user + system, every thread of the process: both cores and the thread pool) spent from bob's start until
   * he had them all. Unlike the wall time it hardly moves when other processes share the machine, so it is the figure
   * that compares runs made at different loads.
   */
  cpuMs: number
  /** Bob's count once a second, to show the shape of a slow catch-up. */
  progress: Array<{ ms: number; got: number }>
}

const TIMEOUT_MS = 120_000

export async function catchup(count: number): Promise<CatchupResult> {
  const { alice, bob, id } = await conversationPair('direct')
  const dirs = [alice.dir, bob.dir]
  let bob2: Awaited<ReturnType<typeof openBenchCore>> | undefined
  try {
    await bob.close()
    const tw = now()
    for (let i = 1; i <= count; i++) {
      await alice.core.send(id, `cu ${body(i, 197)}`)
      if (i % 1000 === 0) progress(`  catchup: alice wrote ${i}/${count} while bob is away`)
    }
    progressDone()
    const writeSeconds = (now() - tw) / 1000
    await alice.core.settle()

    const measured = await profiled('catchup', async () => {
      const cpu0 = process.cpuUsage()
      const t0 = now()
      const b = await openBenchCore('bob', bob.dir)
      bob2 = b
      const openMs = now() - t0
      let got = 0
      const progressAt: Array<{ ms: number; got: number }> = []
      b.core.events.on('message.added', (e) => {
        if (e.conversation === id && !e.message.mine && e.message.body.startsWith('cu ')) got++
      })
      const t1 = now()
      await b.core.node.dial(alice.core.node.addresses()[0]!)
      const dialMs = now() - t1
      // Bounded: report how far bob got rather than hang (or throw away the figure) if catch-up stalls.
      let lastMark = 0
      while (got < count && now() - t1 < TIMEOUT_MS) {
        await sleep(5)
        if (now() - t1 - lastMark >= 1_000) {
          lastMark = now() - t1
          progressAt.push({ ms: Math.round(lastMark), got })
          progress(`  catchup: bob has ${got}/${count} after ${(lastMark / 1000).toFixed(0)} s`)
        }
      }
      progressDone()
      const cpu = process.cpuUsage(cpu0)
      return { b, openMs, dialMs, totalMs: now() - t0, syncMs: now() - t1 - dialMs, received: got, progressAt, cpuMs: (cpu.user + cpu.system) / 1000 }
    })
    const { openMs, dialMs, totalMs, syncMs, received, progressAt, cpuMs } = measured
    const b = measured.b
    let bobHas = 0
    let before: string | null | undefined
    for (let guard = 0; guard < 1_000; guard++) {
      const page = await b.core.page(id as ConversationId, { limit: 500, ...(before ? { before } : {}) })
      bobHas += page.messages.filter((m) => m.body.startsWith('cu ')).length
      before = page.nextBefore
      if (before === null) break
    }
    return { messages: count, complete: received >= count, received, timeoutMs: TIMEOUT_MS, progress: progressAt, writeSeconds, openMs, dialMs, syncMs, totalMs, cpuMs, bobHas }
  } finally {
    await Promise.allSettled([alice.close(), bob2?.close()])
    await Promise.allSettled(dirs.map(removeDir))
  }
}
