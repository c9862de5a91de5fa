/**
 * Hearth's full path between two real cores over TCP loopback: alice's `send` (compose → CRDT change → encrypt → sign
 * → synced LevelDB batch → gossip) to bob's `message.added` (validate → verify → store → decrypt → apply → synced
 * batch → event). Both cores run in this process, as the baseline's two nodes do.
 */
import type { MessageId } from '../../node/src/ids.js'
import type { LatencyResult, ThroughputResult } from './baseline.js'
import { UNLIMITED_GOSSIP, body, conversationPair, deferred, disposeAll, now, profiled, sleep, summarize } from './harness.js'

export interface FullPathResult {
  latency?: LatencyResult
  throughput?: ThroughputResult & { sendSeconds: number; sendPerSecond: number }
}

/** Size in bytes of the envelope Hearth gossips for one message with a body of `bodyBytes`. */
export async function envelopeSize(bodyBytes: number): Promise<number> {
  const { alice, bob, id } = await conversationPair('direct', UNLIMITED_GOSSIP)
  try {
    const sizes: number[] = []
    for (let i = 0; i < 20; i++) {
      const v = await alice.core.send(id, body(i, bodyBytes))
      const row = await alice.core.store.getMessage(id, v.id as MessageId)
      const env = row && (await alice.core.store.getEnvelope(id, row.epoch, row.device, row.seq))
      if (env) sizes.push(env.byteLength)
    }
    // The change grows a little with history (Automerge deps); take the typical one.
    return summarize(sizes).p50
  } finally {
    await disposeAll([alice, bob])
  }
}

export async function fullPath(options: { latency?: { samples: number; warmup: number }; throughput?: { messages: number; window: number } }): Promise<FullPathResult> {
  const result: FullPathResult = {}
  const { alice, bob, id } = await conversationPair('direct', UNLIMITED_GOSSIP)
  try {
    let listener: (text: string) => void = () => {}
    const off = bob.core.events.on('message.added', (e) => {
      if (e.conversation === id && !e.message.mine) listener(e.message.body)
    })
    if (options.latency) {
      const { samples, warmup } = options.latency
      const out: number[] = []
      await profiled('fullpath-latency', async () => {
        for (let i = 0; i < warmup + samples; i++) {
          const text = body(i)
          const got = deferred<void>(30_000, `full-path message ${i}`)
          listener = (b) => {
            if (b === text) got.resolve()
          }
          const t = now()
          await alice.core.send(id, text)
          await got.promise
          if (i >= warmup) out.push(now() - t)
        }
      })
      result.latency = { samples, warmup, summary: summarize(out) }
      await sleep(500) // let receipts of the last messages settle
    }
    if (options.throughput) {
      const { messages, window } = options.throughput
      let received = 0
      const all = deferred<void>(300_000, `bob receiving ${messages} messages`)
      listener = (b) => {
        if (b.startsWith('tp ')) {
          received++
          if (received === messages) all.resolve()
        }
      }
      const texts = Array.from({ length: messages }, (_, i) => `tp ${body(i, 197)}`)
      // Pipelined like the baseline: at most `window` messages sent but not yet received by bob.
      let wake: (() => void) | undefined
      const inner = listener
      listener = (b) => {
        inner(b)
        const w = wake
        wake = undefined
        w?.()
      }
      const t = now()
      const sends: Array<Promise<unknown>> = []
      await profiled('fullpath-throughput', async () => {
      for (let i = 0; i < texts.length; i++) {
        while (i - received >= window) {
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, 1_000).unref()
          })
        }
        sends.push(alice.core.send(id, texts[i]!))
      }
      await Promise.all(sends)
      await all.promise
      })
      const sendMs = now() - t
      const ms = now() - t
      result.throughput = {
        messages,
        seconds: ms / 1000,
        perSecond: messages / (ms / 1000),
        sendSeconds: sendMs / 1000,
        sendPerSecond: messages / (sendMs / 1000),
      }
    }
    off()
    return result
  } finally {
    await disposeAll([alice, bob])
  }
}
