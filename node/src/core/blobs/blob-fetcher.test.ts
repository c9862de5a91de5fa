import { describe, expect, it } from 'vitest'
import { HearthError } from '../../../common/errors.js'
import { concatByteList, equalBytes } from '../../../common/util/bytes.js'
import { SecurityCounters } from '../security-counters.js'
import { BlobFetcher, MAX_WINDOWS_IN_FLIGHT, MAX_WRITE_BACKLOG, type FetchProgress, type FetchTiming } from './blob-fetcher.js'
import { MAX_WINDOW_CHUNKS } from './blob-frames.js'
import { MemoryBlobStore, never, randomBlob, ScriptedSource, type TestBlob } from './blob-test-kit.js'
import type { BlobSource } from './blob-sources.js'

const CONV = 'c0'.repeat(16)
// Short deadlines: the sources here answer from memory, so only a source scripted to hang ever reaches them.
const FAST: Partial<FetchTiming> = { stallMs: 200, requestTimeoutMs: 2_000, retryAfterMs: 60_000, pollMs: 20 }

function setup(blob: TestBlob, timing: Partial<FetchTiming> = FAST) {
  const store = new MemoryBlobStore()
  const counters = new SecurityCounters()
  const bad: Array<{ key: string; reason: string }> = []
  /** Chunk requests a scripted source had received when it was excluded. */
  const requestsWhenExcluded = new Map<string, number>()
  const onBadSource = (s: BlobSource, reason: string): void => {
    bad.push({ key: s.key, reason })
    if (s instanceof ScriptedSource) requestsWhenExcluded.set(s.key, s.chunkRequests)
  }
  const fetcher = new BlobFetcher({ store, counters, timing, onBadSource })
  return { store, counters, bad, requestsWhenExcluded, fetcher, run: (sources: () => BlobSource[], opts = {}) => fetcher.fetch(CONV, blob.id, blob.padded, sources, opts) }
}

function complete(store: MemoryBlobStore, blob: TestBlob): boolean {
  return equalBytes(store.bytesOf(blob.id), concatByteList(blob.chunks))
}

describe('BlobFetcher', () => {
  it('fetches the hash list, then every chunk in windows of at most 16, writing at most the windows it may hold at once', async () => {
    const blob = randomBlob(100)
    const { store, run } = setup(blob)
    const source = new ScriptedSource('peer:a', blob)
    const progress: FetchProgress[] = []
    const result = await run(() => [source], { onProgress: (p: FetchProgress) => progress.push(p) })
    expect(result).toEqual({ complete: true, id: blob.id, total: 100 })
    expect(complete(store, blob)).toBe(true)
    expect(source.requests[0]).toEqual({ q: 'h' })
    for (const r of source.requests) if (r.q === 'c') expect(r.count).toBeLessThanOrEqual(MAX_WINDOW_CHUNKS)
    // Windows that finish while a write is under way share the next one (one sync): never more than it may hold.
    expect(store.writes.every((w) => w.length <= (MAX_WINDOWS_IN_FLIGHT + MAX_WRITE_BACKLOG) * MAX_WINDOW_CHUNKS)).toBe(true)
    expect(progress.at(-1)).toMatchObject({ have: 100, total: 100 })
    // Every chunk asked for once.
    expect(source.sent.length).toBe(100)
  })

  it('asks for the next windows while a slow disk syncs, holding at most the bounded backlog, never a chunk twice', async () => {
    const blob = randomBlob(400)
    const { store, run } = setup(blob)
    // A disk whose every write takes 30 ms, and how many received chunks wait unwritten at most.
    let requested = 0
    let written = 0
    let most = 0
    const write = store.writeChunks.bind(store)
    store.writeChunks = async (id, chunks) => {
      await new Promise((r) => setTimeout(r, 30))
      const out = await write(id, chunks)
      written += chunks.length
      return out
    }
    const source = new ScriptedSource('peer:a', blob)
    const counted: BlobSource = {
      key: source.key,
      kind: source.kind,
      hashList: (t, signal) => source.hashList(t, signal),
      chunks: (t, first, count, signal) => {
        requested += count
        most = Math.max(most, requested - written)
        return source.chunks(t, first, count, signal)
      },
    }
    const started = Date.now()
    const result = await run(() => [counted])
    expect(result.complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(source.sent.length).toBe(400)
    // More than the windows in flight were asked for before the first of them was written…
    expect(most).toBeGreaterThan(MAX_WINDOWS_IN_FLIGHT * MAX_WINDOW_CHUNKS)
    // …but never more than the bound, and the writes were shared: 25 windows in far fewer than 25 syncs.
    expect(most).toBeLessThanOrEqual((MAX_WINDOWS_IN_FLIGHT + MAX_WRITE_BACKLOG) * MAX_WINDOW_CHUNKS)
    expect(store.writes.length).toBeLessThan(15)
    expect(Date.now() - started).toBeLessThan(25 * 30)
  })

  it('spreads distinct windows over three sources, never more than three in flight, never a chunk twice', async () => {
    const blob = randomBlob(200)
    const { store, run } = setup(blob)
    let inFlight = 0
    let most = 0
    const sources = ['a', 'b', 'c', 'd'].map((k) => new ScriptedSource(`peer:${k}`, blob, { beforeChunk: () => new Promise<void>((r) => setImmediate(r)) }))
    // Counts requests open at once, from the request to the end of its chunks.
    const counted: BlobSource[] = sources.map((s) => ({
      key: s.key,
      kind: s.kind,
      hashList: (t, signal) => s.hashList(t, signal),
      chunks: async (t, first, count, signal) => {
        most = Math.max(most, ++inFlight)
        const reply = await s.chunks(t, first, count, signal)
        return {
          held: reply.held,
          chunks: (async function* () {
            try {
              yield* reply.chunks
            } finally {
              inFlight--
            }
          })(),
        }
      },
    }))
    const result = await run(() => counted)
    expect(result.complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(MAX_WINDOWS_IN_FLIGHT)
    const sent = sources.flatMap((s) => s.sent)
    expect(sent.length).toBe(200)
    expect(new Set(sent).size).toBe(200)
    // Three sources took part (the fourth may or may not, depending on who was free).
    expect(sources.filter((s) => s.sent.length > 0).length).toBeGreaterThanOrEqual(3)
  })

  it('resumes from what the store holds: no held chunk is asked for again', async () => {
    const blob = randomBlob(64)
    const { store, run } = setup(blob)
    store.hold(CONV, blob, (i) => i % 3 !== 0)
    const source = new ScriptedSource('peer:a', blob)
    expect((await run(() => [source])).complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    // The store had the hash list: no 'h' request; only the 22 chunks with i % 3 === 0 were sent.
    expect(source.requests.some((r) => r.q === 'h')).toBe(false)
    expect(source.sent.every((i) => i % 3 === 0)).toBe(true)
    expect(source.sent.length).toBe(22)
  })

  it('a source sending a corrupt chunk is counted, reported and excluded; the chunk comes from another', async () => {
    const blob = randomBlob(80)
    const { store, counters, bad, requestsWhenExcluded, run } = setup(blob)
    const evil = new ScriptedSource('peer:evil', blob, { tamper: (i, c) => (i === 3 ? Uint8Array.from(c, (b, k) => (k === 0 ? b ^ 1 : b)) : c) })
    const honest = new ScriptedSource('peer:honest', blob, { holds: (i) => i >= 0 })
    const result = await run(() => [evil, honest])
    expect(result.complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(counters.get('blob-corrupt')).toBe(1)
    expect(bad).toEqual([{ key: 'peer:evil', reason: 'corrupt' }])
    // Never asked again once excluded.
    expect(evil.chunkRequests).toBe(requestsWhenExcluded.get('peer:evil'))
    expect(honest.sent).toContain(3)
  })

  it('a hash list that does not match the id is refused and the source excluded', async () => {
    const blob = randomBlob(20)
    const { store, counters, bad, run } = setup(blob)
    const forged = randomBlob(20).hashList
    const evil = new ScriptedSource('peer:evil', blob, { hashList: forged })
    const honest = new ScriptedSource('peer:honest', blob)
    expect((await run(() => [evil, honest])).complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(counters.get('blob-corrupt')).toBe(1)
    expect(bad).toEqual([{ key: 'peer:evil', reason: 'corrupt' }])
    expect(evil.chunkRequests).toBe(0)
  })

  it('a source that stalls is dropped; what it sent first is kept and the rest comes from another', async () => {
    const blob = randomBlob(48)
    const { store, run } = setup(blob)
    const staller = new ScriptedSource('relay:slow', blob, { beforeChunk: (i) => (i === 5 ? never() : undefined) })
    const backup = new ScriptedSource('peer:b', blob)
    // The backup only appears once the first source stalled on chunk 5, so the first windows are all the staller's.
    const result = await run(() => (staller.sent.includes(4) ? [staller, backup] : [staller]))
    expect(result.complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(staller.sent).toContain(4)
    expect(staller.sent).not.toContain(5)
    // Nothing the staller delivered was fetched again.
    expect(backup.sent.filter((i) => staller.sent.includes(i))).toEqual([])
    expect(backup.sent).toContain(5)
    expect(staller.sent.length + backup.sent.length).toBe(48)
  })

  it('a source that keeps sending but too slowly for the request deadline is dropped the same way', async () => {
    const blob = randomBlob(32)
    // Each chunk within the silence deadline, the window far over the request deadline.
    const { store, run } = setup(blob, { ...FAST, stallMs: 5_000, requestTimeoutMs: 300 })
    const trickle = new ScriptedSource('peer:trickle', blob, { beforeChunk: () => new Promise((r) => setTimeout(r, 100)) })
    const backup = new ScriptedSource('peer:b', blob)
    const result = await run(() => (trickle.sent.length > 0 ? [trickle, backup] : [trickle]))
    expect(result.complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(trickle.sent.length).toBeLessThan(32)
    expect(backup.sent.filter((i) => trickle.sent.includes(i))).toEqual([])
  })

  it('a response breaking the rules (a chunk outside its window) excludes the source as a protocol offender', async () => {
    const blob = randomBlob(20)
    const { store, counters, bad, run } = setup(blob)
    const liar: BlobSource = {
      key: 'peer:liar',
      kind: 'peer',
      hashList: () => Promise.resolve(blob.hashList),
      chunks: (_t, first, count) =>
        Promise.resolve({
          held: new Array<boolean>(count).fill(true),
          chunks: (async function* () {
            yield { index: first + count + 1, cipher: blob.chunks[first + count + 1]! }
          })(),
        }),
    }
    const honest = new ScriptedSource('peer:honest', blob)
    expect((await run(() => [liar, honest])).complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
    expect(counters.get('blob-protocol')).toBe(1)
    expect(bad).toEqual([{ key: 'peer:liar', reason: 'protocol' }])
  })

  it('gives up with a reason: nobody has it, everyone sent corrupt data, everyone stalled', async () => {
    const blob = randomBlob(10)
    const missing = new ScriptedSource('peer:none', blob, { fail: () => new HearthError('NOT_FOUND', 'blob not found') })
    expect(await setup(blob).run(() => [missing])).toMatchObject({ complete: false, reason: 'no-source', message: 'no source has it', have: 0, total: 10 })
    expect(await setup(blob).run(() => [])).toMatchObject({ complete: false, reason: 'no-source' })

    const corrupt = new ScriptedSource('peer:evil', blob, { tamper: (_i, c) => c.subarray(1) })
    const s2 = setup(blob)
    expect(await s2.run(() => [corrupt])).toMatchObject({ complete: false, reason: 'corrupt-everywhere', have: 0 })

    const partialThenStall = new ScriptedSource('peer:slow', blob, { beforeChunk: (i) => (i === 4 ? never() : undefined) })
    expect(await setup(blob).run(() => [partialThenStall])).toMatchObject({ complete: false, reason: 'stalled', have: 4, total: 10 })
  })

  it('a source that has only part of the blob gives that part; the job gives up when nobody has the rest', async () => {
    const blob = randomBlob(40)
    const { store, run } = setup(blob)
    const half = new ScriptedSource('peer:half', blob, { holds: (i) => i < 20 })
    expect(await run(() => [half])).toMatchObject({ complete: false, reason: 'no-source', have: 20, total: 40 })
    expect((await store.missing(blob.id)).length).toBe(20)
  })

  it('before its deadline a job waits for sources; wake() makes it look at once', async () => {
    const blob = randomBlob(30)
    const { store, fetcher, run } = setup(blob, { ...FAST, pollMs: 60_000 })
    const sources: BlobSource[] = []
    const job = run(() => sources, { deadline: Date.now() + 60_000 })
    await new Promise((r) => setTimeout(r, 10))
    expect(fetcher.isFetching(blob.id)).toBe(true)
    sources.push(new ScriptedSource('peer:late', blob))
    fetcher.wake(blob.id)
    expect((await job).complete).toBe(true)
    expect(complete(store, blob)).toBe(true)
  })

  it('an abort stops the job, keeps what was written, and a new job resumes from there', async () => {
    const blob = randomBlob(64)
    const { store, fetcher, run } = setup(blob)
    const controller = new AbortController()
    const first = new ScriptedSource('peer:a', blob, {
      beforeChunk: (i) => {
        if (i === 20) controller.abort()
      },
    })
    const paused = await run(() => [first], { signal: controller.signal })
    expect(paused).toMatchObject({ complete: false, reason: 'aborted' })
    expect(fetcher.isFetching(blob.id)).toBe(false)
    const held = 64 - (await store.missing(blob.id)).length
    expect(held).toBeGreaterThan(0)
    const second = new ScriptedSource('peer:b', blob)
    expect((await run(() => [second])).complete).toBe(true)
    expect(second.sent.length).toBe(64 - held)
    expect(complete(store, blob)).toBe(true)
  })

  it('a job started with an aborted signal ends at once, even while it would wait for a source', async () => {
    const blob = randomBlob(5)
    const { run } = setup(blob, { ...FAST, pollMs: 60_000 })
    expect(await run(() => [], { signal: AbortSignal.abort(), deadline: Date.now() + 60_000 })).toMatchObject({ complete: false, reason: 'aborted' })
  })

  it('a second fetch of the same blob joins the running job', async () => {
    const blob = randomBlob(20)
    const { run } = setup(blob)
    const source = new ScriptedSource('peer:a', blob)
    const [a, b] = await Promise.all([run(() => [source]), run(() => [source])])
    expect(a).toEqual(b)
    expect(source.sent.length).toBe(20)
  })

  it('a store failure ends the job with that error', async () => {
    const blob = randomBlob(20)
    const { store, run } = setup(blob)
    store.writeChunks = () => Promise.reject(new HearthError('STORAGE_LOCKED', 'disk gone'))
    await expect(run(() => [new ScriptedSource('peer:a', blob)])).rejects.toThrow('disk gone')
  })
})
