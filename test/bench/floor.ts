/**
 * The durable floor: the least any durable, end-to-end encrypted messenger does per message, on the same two-node
 * gossipsub as the raw baseline. The sender seals the message into a Hearth envelope (XChaCha20-Poly1305 header and
 * body boxes, SHA-256 of the body, Ed25519 signature), makes it durable in one synced LevelDB write and publishes it;
 * the receiver parses it, opens the header, checks the signer and the signature, opens the body, makes it durable in
 * one synced LevelDB write, and only then counts it received. Writes that arrive while one is syncing share the next
 * one (group commit), as Hearth's do: a floor that paid an fsync per message in a stream would not be the least.
 *
 * What Hearth's full path does on top of this is its own design: a CRDT change per message, a sender-chain key step,
 * message rows and conversation records sealed at rest, membership checks, receipts. The gap between this floor and
 * the full path is what those cost; the gap between raw gossipsub and this floor no messenger that keeps its promise
 * ("sent" means on disk, only members can read it) can close.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { openDatabase, type Database } from '../../node/common/storage/database.js'
import { equalBytes } from '../../node/common/util/bytes.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, parseEnvelopeFrame, sealEnvelope, type EnvelopeKeys } from '../../node/common/wire/envelope.js'
import type { LatencyResult, ThroughputResult } from './baseline.js'
import { BENCH_NETWORK, deferred, now, profiled, removeDir, sleep, summarize, waitUntil } from './harness.js'

export interface FloorResult {
  /** Bytes of each envelope on the wire (the plaintext is padded so it matches the full path's envelope). */
  envelopeBytes: number
  latency?: LatencyResult
  throughput?: ThroughputResult
}

/**
 * Synced writes with group commit, as Hearth's store does them: a write that arrives while another waits on its fsync
 * joins the next synced batch. Alone (the latency measurement) a message is one synced write of its own; in a stream
 * (throughput) many share one fsync. Either way nothing resolves before it is on disk.
 */
class GroupCommit {
  private pending: Array<{ key: string; value: Uint8Array; resolve: () => void; reject: (err: unknown) => void }> = []
  private writing = false

  constructor(private readonly db: Database) {}

  put(key: string, value: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ key, value, resolve, reject })
      if (!this.writing) void this.flush()
    })
  }

  private async flush(): Promise<void> {
    this.writing = true
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      try {
        await this.db.batch(
          batch.map(({ key, value }) => ({ type: 'put' as const, key, value })),
          { sync: true },
        )
        for (const w of batch) w.resolve()
      } catch (err) {
        for (const w of batch) w.reject(err)
      }
    }
    this.writing = false
  }
}

/** One side: a libp2p node and its own LevelDB on disk. */
interface Side {
  node: HearthNode
  db: Database
  store: GroupCommit
  dir: string
}

interface FloorPair {
  sender: Side
  receiver: Side
  topic: string
  /** Seals message `seq` (1-based: durable envelopes start at 1), writes it synced, then publishes it. */
  send(seq: number, plaintext: Uint8Array): Promise<void>
  /**
   * `stored` is called with the seq of each message once the receiver has verified, opened and durably written it;
   * `failed` once, at the first failure on either side, so a wait ends at once with the cause instead of a timeout.
   */
  listen(stored: (seq: number) => void, failed: () => void): void
  /** Records a failure (the first one wins) and tells the listener. */
  fail(err: unknown): void
  /** Throws the first failure, if any: a floor that skipped work must not pass for a fast one. */
  check(): void
  stop(): Promise<void>
}

const key = (seq: number): string => `m/${seq.toString().padStart(10, '0')}`

async function side(name: string): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), `hearth-bench-floor-${name}-`))
  const db = await openDatabase({ path: join(dir, 'db') })
  const node = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  return { node, db, store: new GroupCommit(db), dir }
}

/** Two nodes connected and meshed on one topic as in the raw baseline, plus the keys a conversation would hold. */
async function floorPair(): Promise<FloorPair> {
  const sender = await side('sender')
  const receiver = await side('receiver')
  const topic = randomBytes(16).toString('hex')
  const keys: EnvelopeKeys = { epochTag: new Uint8Array(randomBytes(8)), headerKey: new Uint8Array(randomBytes(32)) }
  const bodyKey = new Uint8Array(randomBytes(32))
  const device = generateSigningKeyPair()

  let onStored: (seq: number) => void = () => {}
  let onFailed: () => void = () => {}
  let failure: Error | undefined
  const fail = (err: unknown): void => {
    if (failure !== undefined) return
    failure = err instanceof Error ? err : new Error(String(err))
    onFailed()
  }
  receiver.node.subscribe(topic, (data) => {
    try {
      const frame = parseEnvelopeFrame(data)
      const header = openEnvelopeHeader(frame, keys.headerKey) // verifies the signature too
      if (!equalBytes(header.device, device.publicKey)) throw new Error('floor: envelope from an unknown device')
      const plain = openEnvelopeBody(frame, header, bodyKey)
      if (plain.byteLength === 0) throw new Error('floor: empty body')
      const seq = header.seq
      receiver.store.put(key(seq), data).then(() => onStored(seq), fail)
    } catch (err) {
      fail(err)
    }
  })
  sender.node.subscribe(topic, () => {})
  await sender.node.dial(receiver.node.addresses()[0]!)
  await waitUntil(
    () => sender.node.topicPeers(topic).includes(receiver.node.peerId) && receiver.node.topicPeers(topic).includes(sender.node.peerId),
    10_000,
    'floor subscriptions',
  )
  return {
    sender,
    receiver,
    topic,
    async send(seq, plaintext) {
      const envelope = sealEnvelope({
        keys,
        header: { device: device.publicKey, seq, kind: EnvelopeKind.content },
        bodyKey,
        body: plaintext,
        signingSeed: device.seed,
      })
      await sender.store.put(key(seq), envelope)
      await sender.node.publish(topic, envelope)
    },
    listen(stored, failed) {
      onStored = stored
      onFailed = failed
    },
    fail,
    check() {
      if (failure !== undefined) throw failure
    },
    async stop() {
      await Promise.allSettled([sender.node.stop(), receiver.node.stop()])
      await Promise.allSettled([sender.db.close(), receiver.db.close()])
      await Promise.allSettled([removeDir(sender.dir), removeDir(receiver.dir)])
    },
  }
}

/** The envelope bytes around a plaintext: fixed (version, epoch tag, lengths, two AEAD boxes' nonces and tags, header, signature). */
function envelopeOverhead(): number {
  const sealed = sealEnvelope({
    keys: { epochTag: new Uint8Array(8), headerKey: new Uint8Array(32) },
    // A typical seq: its CBOR length (1 to 5 bytes) is the only part that varies.
    header: { device: generateSigningKeyPair().publicKey, seq: 1_000, kind: EnvelopeKind.content },
    bodyKey: new Uint8Array(32),
    body: new Uint8Array(0),
    signingSeed: generateSigningKeyPair().seed,
  })
  return sealed.byteLength
}

/**
 * Plaintexts that seal to envelopes of `envelopeBytes`, so the floor carries the same bytes on the wire as the raw
 * baseline and the full path. Random, so no two envelopes share a gossip id even before the random nonces.
 */
function plaintexts(count: number, envelopeBytes: number): Uint8Array[] {
  const size = Math.max(1, envelopeBytes - envelopeOverhead())
  return Array.from({ length: count }, () => new Uint8Array(randomBytes(size)))
}

async function floorLatency(pair: FloorPair, envelopeBytes: number, samples: number, warmup: number): Promise<LatencyResult> {
  const texts = plaintexts(warmup + samples, envelopeBytes)
  const out: number[] = []
  await profiled('floor-latency', async () => {
    for (let i = 0; i < warmup + samples; i++) {
      const seq = i + 1
      const got = deferred<void>(10_000, `floor message ${seq}`)
      pair.listen(
        (n) => {
          if (n === seq) got.resolve()
        },
        () => got.resolve(),
      )
      const t = now()
      await pair.send(seq, texts[i]!)
      await got.promise
      pair.check()
      if (i >= warmup) out.push(now() - t)
    }
  })
  return { samples, warmup, summary: summarize(out) }
}

/**
 * One-way throughput with at most `window` messages sent but not yet stored by the receiver, as the baseline does.
 * Sends are not awaited one by one (the full path's are not either), so their synced writes group-commit.
 */
async function floorThroughput(pair: FloorPair, envelopeBytes: number, messages: number, window: number, warmup: number, firstSeq: number): Promise<ThroughputResult> {
  const run = async (count: number, offset: number, profile: boolean): Promise<number> => {
    const texts = plaintexts(count, envelopeBytes)
    let received = 0
    let wake: (() => void) | undefined
    const done = deferred<void>(120_000, 'floor throughput')
    const wakeSender = (): void => {
      const w = wake
      wake = undefined
      w?.()
    }
    pair.listen(
      () => {
        received++
        if (received >= count) done.resolve()
        wakeSender()
      },
      () => {
        done.resolve()
        wakeSender()
      },
    )
    const measure = async (): Promise<number> => {
      const sends: Array<Promise<void>> = []
      const t = now()
      for (let i = 0; i < count; i++) {
        while (i - received >= window) {
          await new Promise<void>((resolve) => {
            wake = resolve
            // Bounded: nothing is lost here, but a lost message must not hang the bench.
            setTimeout(resolve, 1_000).unref()
          })
          pair.check()
        }
        // Caught at once: a failed send must end the run with its cause, not as an unhandled rejection.
        sends.push(pair.send(offset + i, texts[i]!).catch(pair.fail))
      }
      await Promise.all(sends)
      await done.promise
      pair.check()
      return now() - t
    }
    return profile ? profiled('floor-throughput', measure) : measure()
  }
  await run(warmup, firstSeq, false)
  await sleep(200)
  const ms = await run(messages, firstSeq + warmup, true)
  return { messages, seconds: ms / 1000, perSecond: messages / (ms / 1000), window }
}

/** The durable floor's latency and throughput, each on a fresh pair of nodes and databases. */
export async function durableFloor(options: {
  envelopeBytes: number
  latency?: { samples: number; warmup: number }
  throughput?: { messages: number; window: number; warmup?: number }
}): Promise<FloorResult> {
  const result: FloorResult = { envelopeBytes: options.envelopeBytes }
  if (options.latency) {
    const pair = await floorPair()
    try {
      result.latency = await floorLatency(pair, options.envelopeBytes, options.latency.samples, options.latency.warmup)
    } finally {
      await pair.stop()
    }
  }
  if (options.throughput) {
    const { messages, window, warmup = 500 } = options.throughput
    const pair = await floorPair()
    try {
      result.throughput = await floorThroughput(pair, options.envelopeBytes, messages, window, warmup, 1)
    } finally {
      await pair.stop()
    }
  }
  return result
}
