/**
 * Baseline: raw gossipsub between two `createHearthNode` nodes over TCP loopback, same node configuration as Hearth
 * (BENCH_NETWORK), payload the size of a Hearth envelope. No validator, no storage, no crypto beyond Noise.
 */
import { randomBytes } from 'node:crypto'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { BENCH_NETWORK, deferred, now, sleep, summarize, waitUntil, type Summary } from './harness.js'

export interface LatencyResult {
  samples: number
  warmup: number
  summary: Summary
}

export interface ThroughputResult {
  messages: number
  seconds: number
  perSecond: number
  window?: number
}

interface Pair {
  a: HearthNode
  b: HearthNode
  topic: string
  /** Called by b's handler with the first 4 bytes of each payload as a big-endian counter. */
  onReceive: (cb: (n: number) => void) => void
  stop(): Promise<void>
}

async function pair(): Promise<Pair> {
  const a = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  const b = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  const topic = randomBytes(16).toString('hex')
  let listener: (n: number) => void = () => {}
  b.subscribe(topic, (data) => listener(Buffer.from(data.buffer, data.byteOffset, 4).readUInt32BE(0)))
  a.subscribe(topic, () => {})
  await a.dial(b.addresses()[0]!)
  await waitUntil(() => a.topicPeers(topic).includes(b.peerId) && b.topicPeers(topic).includes(a.peerId), 10_000, 'baseline subscriptions')
  return {
    a,
    b,
    topic,
    onReceive(cb) {
      listener = cb
    },
    async stop() {
      await Promise.allSettled([a.stop(), b.stop()])
    },
  }
}

/** Distinct random payloads (content-hash ids: identical payloads would be dropped as duplicates). */
function payload(n: number, size: number): Uint8Array {
  const p = new Uint8Array(randomBytes(Math.max(size, 8)))
  Buffer.from(p.buffer, p.byteOffset, 4).writeUInt32BE(n >>> 0, 0)
  return p
}

export async function baselineLatency(size: number, samples: number, warmup: number): Promise<LatencyResult> {
  const p = await pair()
  try {
    const out: number[] = []
    for (let i = 0; i < warmup + samples; i++) {
      const got = deferred<void>(10_000, `baseline message ${i}`)
      p.onReceive((n) => {
        if (n === i) got.resolve()
      })
      const data = payload(i, size)
      const t = now()
      await p.a.publish(p.topic, data)
      await got.promise
      if (i >= warmup) out.push(now() - t)
    }
    return { samples, warmup, summary: summarize(out) }
  } finally {
    await p.stop()
  }
}

/** One-way throughput, pipelined with at most `window` messages in flight so nothing is dropped. */
export async function baselineThroughput(size: number, messages: number, window: number, warmup = 500): Promise<ThroughputResult> {
  const p = await pair()
  try {
    const run = async (count: number, offset: number): Promise<number> => {
      let received = 0
      let wake: (() => void) | undefined
      const done = deferred<void>(120_000, 'baseline throughput')
      const check = (): void => {
        if (received >= count) done.resolve()
      }
      p.onReceive(() => {
        received++
        check()
        const w = wake
        wake = undefined
        w?.()
      })
      const payloads = Array.from({ length: count }, (_, i) => payload(offset + i, size))
      const t = now()
      for (let i = 0; i < count; i++) {
        while (i - received >= window) {
          await new Promise<void>((resolve) => {
            wake = resolve
            // Bounded: gossip loses nothing here, but a lost message must not hang the bench.
            setTimeout(resolve, 1_000).unref()
          })
        }
        await p.a.publish(p.topic, payloads[i]!)
      }
      await done.promise
      return now() - t
    }
    await run(warmup, 1_000_000)
    await sleep(200)
    const ms = await run(messages, 0)
    return { messages, seconds: ms / 1000, perSecond: messages / (ms / 1000), window }
  } finally {
    await p.stop()
  }
}
