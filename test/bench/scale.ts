/**
 * One conversation grown to 100k messages by one core with no peer (the cost of `send` is local: CRDT change,
 * encryption, signature, synced LevelDB batch; publishing to nobody costs nothing). Then the same data directory is
 * closed and reopened to time the newest page.
 */
import type { ConversationId } from '../../node/src/ids.js'
import { body, makeDataDir, now, openBenchCore, progress, progressDone, removeDir, summarize, type BenchCore, type Summary } from './harness.js'

export interface ScaleResult {
  total: number
  window: number
  first: Summary
  last: Summary
  fillSeconds: number
  /** Wall time of all sends, 1..total. */
  totalSeconds: number
  ratioMean: number
  ratioP50: number
  /** Mean cost per send in slices of the fill, to show the trend (messages, mean ms). */
  trend: Array<{ upTo: number; meanMs: number }>
}

export interface PageResult {
  messages: number
  reopenMs: number
  coldMs: number
  warm: Summary
  olderPageMs: number
  newestCount: number
}

export interface BigConversation {
  dir: string
  id: ConversationId
  total: number
  scale: ScaleResult
}

/**
 * Fills a conversation to `total` messages, timing sends 1..window and (total-window+1)..total. Keeps the data
 * directory for the page measurement; the caller removes it.
 */
export async function scale(total: number, window: number): Promise<BigConversation> {
  const dir = await makeDataDir('scale')
  const c = await openBenchCore('scale', dir)
  try {
    const conv = await c.core.createConversation({ kind: 'group', name: 'big' })
    const id = conv.id as ConversationId
    const first: number[] = []
    const last: number[] = []
    const trend: Array<{ upTo: number; meanMs: number }> = []
    const slice = Math.max(window, Math.round(total / 20))
    let sliceStart = now()
    const t0 = now()
    let fillStart = 0
    let fillEnd = 0
    for (let i = 1; i <= total; i++) {
      if (i === window + 1) fillStart = now()
      if (i === total - window + 1) fillEnd = now()
      const t = now()
      await c.core.send(id, body(i))
      const ms = now() - t
      if (i <= window) first.push(ms)
      else if (i > total - window) last.push(ms)
      if (i % slice === 0 || i === total) {
        const n = i % slice === 0 ? slice : i % slice
        trend.push({ upTo: i, meanMs: (now() - sliceStart) / n })
        sliceStart = now()
        const elapsed = (now() - t0) / 1000
        progress(`  scale: ${i}/${total} messages, ${elapsed.toFixed(0)} s, ${((now() - t0) / i).toFixed(2)} ms/msg avg`)
      }
    }
    const totalSeconds = (now() - t0) / 1000
    progressDone()
    const a = summarize(first)
    const b = summarize(last)
    return {
      dir,
      id,
      total,
      scale: {
        total,
        window,
        first: a,
        last: b,
        fillSeconds: (fillEnd - fillStart) / 1000,
        totalSeconds,
        ratioMean: b.mean / a.mean,
        ratioP50: b.p50 / a.p50,
        trend,
      },
    }
  } finally {
    await c.close()
  }
}

/** Reopens the data directory (fresh LevelDB handle, fresh core) and times the newest page, cold then warm. */
export async function newestPage(big: BigConversation, limit = 50, warmRuns = 30): Promise<PageResult> {
  const t0 = now()
  const c: BenchCore = await openBenchCore('scale', big.dir)
  const reopenMs = now() - t0
  try {
    const t1 = now()
    const page = await c.core.page(big.id, { limit })
    const coldMs = now() - t1
    const warm: number[] = []
    for (let i = 0; i < warmRuns; i++) {
      const t = now()
      await c.core.page(big.id, { limit })
      warm.push(now() - t)
    }
    const t2 = now()
    if (page.nextBefore !== null) await c.core.page(big.id, { limit, before: page.nextBefore })
    const olderPageMs = now() - t2
    return { messages: big.total, reopenMs, coldMs, warm: summarize(warm), olderPageMs, newestCount: page.messages.length }
  } finally {
    await c.close()
  }
}

export async function dropBig(big: BigConversation): Promise<void> {
  await removeDir(big.dir)
}
