/**
 * Catch-up: bob is stopped while alice writes `count` messages; bob starts again and gets them all from alice by sync
 * (gossip cannot help: it only carries what is sent while both are connected).
 */
import type { ConversationId } from '../../node/src/ids.js'
import { body, conversationPair, deferred, now, openBenchCore, profiled, progress, progressDone, removeDir } from './harness.js'

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
}

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
      const t0 = now()
      const b = await openBenchCore('bob', bob.dir)
      bob2 = b
      const openMs = now() - t0
      let got = 0
      const all = deferred<void>(120_000, `bob catching up ${count} messages`)
      b.core.events.on('message.added', (e) => {
        if (e.conversation === id && !e.message.mine && e.message.body.startsWith('cu ')) {
          got++
          if (got === count) all.resolve()
        }
      })
      const t1 = now()
      await b.core.node.dial(alice.core.node.addresses()[0]!)
      const dialMs = now() - t1
      await all.promise
      return { b, openMs, dialMs, totalMs: now() - t0, syncMs: now() - t1 - dialMs }
    })
    const { openMs, dialMs, totalMs, syncMs } = measured
    const b = measured.b
    let bobHas = 0
    let before: string | null | undefined
    for (let guard = 0; guard < 1_000; guard++) {
      const page = await b.core.page(id as ConversationId, { limit: 500, ...(before ? { before } : {}) })
      bobHas += page.messages.filter((m) => m.body.startsWith('cu ')).length
      before = page.nextBefore
      if (before === null) break
    }
    return { messages: count, writeSeconds, openMs, dialMs, syncMs, totalMs, bobHas }
  } finally {
    await Promise.allSettled([alice.close(), bob2?.close()])
    await Promise.allSettled(dirs.map(removeDir))
  }
}
