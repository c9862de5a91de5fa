/**
 * Blob transfer between real libp2p nodes with real BlobStores (LevelDB + chunk files), over /hearth/blob/1.0.0:
 * several sources, a source that goes away halfway, a malicious source, a stranger, and a receiver killed with
 * SIGKILL mid-transfer that resumes without fetching any verified chunk again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { isHearthError } from '../../node/common/errors.js'
import { toHex } from '../../node/common/util/bytes.js'
import { peerSource } from '../../node/src/core/blobs/blob-sources.js'
import { MAX_WINDOWS_IN_FLIGHT, MAX_WRITE_BACKLOG, type FetchProgress } from '../../node/src/core/blobs/blob-fetcher.js'
import { MAX_WINDOW_CHUNKS } from '../../node/src/core/blobs/blob-frames.js'
import {
  CONV,
  meshBlobPeers,
  patternBytes,
  piecesOf,
  plainDigest,
  removeBlobPeers,
  sha256Hex,
  startBlobPeer,
  type BlobPeer,
} from '../helpers/blob-peers.js'

const MiB = 1024 * 1024

let peers: BlobPeer[] = []
const dirs: string[] = []
afterEach(async () => {
  await removeBlobPeers(peers)
  peers = []
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function start(name: string, options: Parameters<typeof startBlobPeer>[1] = {}): Promise<BlobPeer> {
  const p = await startBlobPeer(name, options)
  peers.push(p)
  return p
}

describe('blob transfer between nodes', () => {
  it('50 MiB: the first source goes away halfway, the rest comes from the third; byte for byte', async () => {
    const [alice, bob, charlie] = [await start('alice'), await start('bob'), await start('charlie')]
    await meshBlobPeers([alice, bob, charlie])
    const data = patternBytes(50 * MiB, 50)
    const ref = await alice.store.importFile(CONV, piecesOf(data), data.length)

    // Charlie got it from Alice earlier.
    const first = await charlie.fetcher.fetch(CONV, ref.id, ref.padded, () => [peerSource(charlie.node, alice.node.peerId)])
    expect(first).toEqual({ complete: true, id: ref.id, total: ref.chunks })
    alice.served.length = 0

    // Bob asks both; Alice stops once he holds half.
    let aliceGone: Promise<void> | undefined
    const sources = () => [peerSource(bob.node, alice.node.peerId), peerSource(bob.node, charlie.node.peerId)]
    const result = await bob.fetcher.fetch(CONV, ref.id, ref.padded, sources, {
      onProgress: (p: FetchProgress) => {
        if (aliceGone === undefined && p.have >= p.total / 2) aliceGone = alice.stop()
      },
    })
    await aliceGone
    expect(result).toEqual({ complete: true, id: ref.id, total: ref.chunks })
    expect(await plainDigest(bob.store, ref.id, ref.key, ref.size)).toBe(sha256Hex(data))
    expect(await plainDigest(charlie.store, ref.id, ref.key, ref.size)).toBe(sha256Hex(data))
    // Alice served part of it before she went; Charlie the rest; nothing was corrupt.
    expect(alice.served.length).toBeGreaterThan(0)
    expect(alice.served.length).toBeLessThan(ref.chunks)
    expect(charlie.served.length).toBeGreaterThan(ref.chunks / 2 - 48)
    expect(bob.counters.get('blob-corrupt')).toBe(0)
    // Each chunk stored once (a chunk delivered twice would be skipped by the store, not refetched on purpose).
    const record = await bob.store.get(ref.id)
    expect(record).toMatchObject({ complete: true, haveCount: ref.chunks })
  })

  it('a malicious member serving corrupt chunks is refused, counted and excluded; the file completes from an honest one', async () => {
    const [alice, bob] = [await start('alice'), await start('bob')]
    const mallory = await start('mallory', {
      serving: (store) => ({
        get: (id) => store.get(id),
        hashList: (id) => store.hashList(id),
        readChunk: async (id, i) => {
          const c = await store.readChunk(id, i)
          if (c === undefined) return c
          const bad = new Uint8Array(c)
          bad[100] = bad[100]! ^ 0xff
          return bad
        },
      }),
    })
    await meshBlobPeers([alice, bob, mallory])
    const data = patternBytes(3 * MiB + 123, 3)
    const ref = await alice.store.importFile(CONV, piecesOf(data), data.length)
    // Mallory holds the real blob (a member), but serves it tampered.
    expect((await mallory.fetcher.fetch(CONV, ref.id, ref.padded, () => [peerSource(mallory.node, alice.node.peerId)])).complete).toBe(true)
    alice.served.length = 0
    mallory.served.length = 0

    const result = await bob.fetcher.fetch(CONV, ref.id, ref.padded, () => [
      peerSource(bob.node, mallory.node.peerId),
      peerSource(bob.node, alice.node.peerId),
    ])
    expect(result.complete).toBe(true)
    expect(await plainDigest(bob.store, ref.id, ref.key, ref.size)).toBe(sha256Hex(data))
    expect(bob.counters.get('blob-corrupt')).toBeGreaterThan(0)
    expect(bob.badSources).toEqual([{ key: `peer:${mallory.node.peerId}`, reason: 'corrupt' }])
    // Mallory was asked for at most the windows already under way when her first was checked.
    expect(mallory.served.length).toBeLessThanOrEqual(3 * 16)
    expect(alice.served.length).toBe(ref.chunks)

    // Corrupt everywhere: with only Mallory, the job gives up and says why.
    const eve = await start('eve')
    await meshBlobPeers([eve, mallory])
    const alone = await eve.fetcher.fetch(CONV, ref.id, ref.padded, () => [peerSource(eve.node, mallory.node.peerId)])
    expect(alone).toMatchObject({ complete: false, reason: 'corrupt-everywhere', have: 0 })
  })

  it('strangers, other conversations and unknown blobs all get the same NOT_FOUND', async () => {
    const [alice, bob, stranger] = [await start('alice'), await start('bob'), await start('stranger')]
    await meshBlobPeers([alice, bob])
    await stranger.node.dial(alice.node.addresses()[0]!)
    const data = patternBytes(200_000, 9)
    const ref = await alice.store.importFile(CONV, piecesOf(data), data.length)
    const ask = (from: BlobPeer, conversation: string, id: string) =>
      peerSource(from.node, alice.node.peerId).hashList({ conversation, id }, AbortSignal.timeout(10_000)).then(
        () => 'ok',
        (err: unknown) => (isHearthError(err) ? `${err.code}: ${err.message}` : String(err)),
      )
    expect(await ask(bob, CONV, ref.id)).toBe('ok')
    const refusal = await ask(stranger, CONV, ref.id)
    expect(refusal).toBe('NOT_FOUND: blob not found')
    expect(await ask(bob, 'd2'.repeat(16), ref.id)).toBe(refusal)
    expect(await ask(bob, CONV, toHex(new Uint8Array(32).fill(1)))).toBe(refusal)
    expect(alice.counters.get('blob-unauthorized')).toBe(1)
    const result = await stranger.fetcher.fetch(CONV, ref.id, ref.padded, () => [peerSource(stranger.node, alice.node.peerId)])
    expect(result).toMatchObject({ complete: false, reason: 'no-source' })
  })

  it('a receiver killed with SIGKILL mid-transfer resumes without fetching any verified chunk again', async () => {
    // The sender answers chunk reads until a gate closes, then holds them: the child is killed while windows hang.
    let gateAt = Number.POSITIVE_INFINITY
    let reads = 0
    let phase = 1
    const servedIn: Record<number, number[]> = { 1: [], 2: [] }
    let openGate: () => void = () => {}
    const gate = new Promise<void>((r) => (openGate = r))
    const alice = await start('alice', {
      // The child's PeerId is made in the child: let any peer in (membership is tested above).
      everyoneIsMember: true,
      serving: (store) => ({
        get: (id) => store.get(id),
        hashList: (id) => store.hashList(id),
        readChunk: async (id, i) => {
          const at = phase
          if (++reads > gateAt) await gate
          servedIn[at]!.push(i)
          return store.readChunk(id, i)
        },
      }),
    })
    const data = patternBytes(12 * MiB + 5, 12)
    const ref = await alice.store.importFile(CONV, piecesOf(data), data.length)
    const receiverDir = await mkdtemp(join(tmpdir(), 'hearth-blob-child-'))
    dirs.push(receiverDir)
    gateAt = Math.floor(ref.chunks / 2)

    const first = runChild(receiverDir, alice, ref)
    // Wait until the gate holds reads: half the chunks were served and at least one window is durable in the child.
    await first.progressAtLeast(16)
    await waitUntil(() => reads > gateAt)
    first.child.kill('SIGKILL')
    await first.exited
    phase = 2
    openGate()

    const second = runChild(receiverDir, alice, ref)
    const missingAtRestart = await second.missing
    const done = await second.done
    expect(done).toBe(sha256Hex(data))
    // Something survived the kill, and exactly the chunks missing at restart were fetched, each once.
    expect(missingAtRestart.length).toBeLessThan(ref.chunks)
    expect(missingAtRestart.length).toBeGreaterThan(0)
    const again = servedIn[2]!
    expect(again.filter((i) => !missingAtRestart.includes(i))).toEqual([])
    expect(new Set(again).size).toBe(again.length)
    expect(again.length).toBe(missingAtRestart.length)
    // Before the kill the child held at least the first window; chunks served then but not durable are the only repeats:
    // at most the windows in flight and those received but still waiting for the disk.
    expect(servedIn[1]!.length + again.length - ref.chunks).toBeLessThanOrEqual((MAX_WINDOWS_IN_FLIGHT + MAX_WRITE_BACKLOG) * MAX_WINDOW_CHUNKS)
  })
})

async function waitUntil(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

interface ChildRun {
  child: ChildProcess
  missing: Promise<number[]>
  done: Promise<string>
  exited: Promise<void>
  progressAtLeast(n: number): Promise<void>
}

function runChild(dir: string, from: BlobPeer, ref: { id: string; padded: number; size: number; key: Uint8Array }): ChildRun {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/blob-fetch-child.ts', dir, from.node.addresses()[0]!, CONV, ref.id, String(ref.padded), String(ref.size), toHex(ref.key)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines = createInterface({ input: child.stdout! })
  let have = 0
  const waiters: Array<{ n: number; resolve: () => void }> = []
  let resolveMissing!: (m: number[]) => void
  let resolveDone!: (d: string) => void
  let rejectAll!: (e: Error) => void
  const failed = new Promise<never>((_, reject) => (rejectAll = reject))
  failed.catch(() => {})
  const missing = Promise.race([new Promise<number[]>((r) => (resolveMissing = r)), failed])
  const done = Promise.race([new Promise<string>((r) => (resolveDone = r)), failed])
  // A run that is killed never reaches these: its rejections are expected, not unhandled.
  missing.catch(() => {})
  done.catch(() => {})
  lines.on('line', (line) => {
    const [word, rest] = [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]
    if (word === 'MISSING') resolveMissing(rest === '' || rest === 'MISSING' ? [] : rest.split(',').map(Number))
    else if (word === 'HAVE') {
      have = Number(rest)
      for (const w of waiters.splice(0)) if (have >= w.n) w.resolve()
      else waiters.push(w)
    } else if (word === 'DONE') resolveDone(rest)
    else if (word === 'FAILED') rejectAll(new Error(`child: ${rest}`))
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => {
    rejectAll(new Error('child exited'))
    resolve()
  }))
  return {
    child,
    missing,
    done,
    exited,
    progressAtLeast: (n) => (have >= n ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waiters.push({ n, resolve })), failed])),
  }
}
