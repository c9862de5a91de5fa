/**
 * /hearth/blob/1.0.0 under hostile input: its decoders fed mutated and random bytes (a value or a typed refusal,
 * never a crash), then a real BlobServer on a libp2p node attacked over raw streams with oversized, truncated and
 * garbage requests, after which it still serves an honest member.
 */
import fc from 'fast-check'
import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_CHUNKS } from '../../node/common/blob/format.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { decodeErrorFrame, FRAME_ERROR, lengthPrefixed } from '../../node/common/net/request-response.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import {
  BLOB_PROTOCOL,
  decodeBlobRequest,
  decodeChunkFrame,
  decodeHaveFrame,
  encodeBlobRequest,
  encodeChunkFrame,
  encodeHaveFrame,
  MAX_WINDOW_CHUNKS,
  readChunkReply,
  type BlobRequest,
} from '../../node/src/core/blobs/blob-frames.js'
import { BlobFetcher } from '../../node/src/core/blobs/blob-fetcher.js'
import { BlobServer } from '../../node/src/core/blobs/blob-server.js'
import { peerSource } from '../../node/src/core/blobs/blob-sources.js'
import { MemoryBlobStore, randomBlob } from '../../node/src/core/blobs/blob-test-kit.js'
import { SecurityCounters } from '../../node/src/core/security-counters.js'
import { fuzz, fuzzAsync, hostileBytes, outcome, runs, SHORT_RUNS, talliesReportedAfterEach } from './fuzz-kit.js'

const CONV = 'ab'.repeat(16)
const tally = talliesReportedAfterEach()

const requests: BlobRequest[] = [
  { conversation: CONV, id: 'cd'.repeat(32), q: 'h' },
  { conversation: CONV, id: 'cd'.repeat(32), q: 'c', first: 0, count: 16 },
  { conversation: CONV, id: '00'.repeat(32), q: 'c', first: MAX_CHUNKS - 1, count: 1 },
]

describe('blob frame decoders', () => {
  it('decodeBlobRequest: a request within the protocol bounds that re-encodes to itself, or MALFORMED/TOO_LARGE', () => {
    const t = tally('blob request')
    fuzz(
      fc.property(hostileBytes(requests.map(encodeBlobRequest)), (input) => {
        outcome(
          t,
          () => decodeBlobRequest(input),
          (r) => {
            expect(/^[0-9a-f]{32}$/.test(r.conversation) && /^[0-9a-f]{64}$/.test(r.id)).toBe(true)
            if (r.q === 'c') {
              expect(r.first).toBeLessThan(MAX_CHUNKS)
              expect(r.count >= 1 && r.count <= MAX_WINDOW_CHUNKS).toBe(true)
            }
            expect(decodeBlobRequest(encodeBlobRequest(r))).toEqual(r)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    expect([...t.refusals.keys()].every((c) => c === 'MALFORMED' || c === 'TOO_LARGE' || c === 'UNSUPPORTED_VERSION')).toBe(true)
  })

  it('decodeHaveFrame and decodeChunkFrame: bounded values or MALFORMED', () => {
    const have = tally('blob have frame')
    const chunk = tally('blob chunk frame')
    const haveSeeds = [encodeHaveFrame([true]), encodeHaveFrame(new Array<boolean>(16).fill(true)), encodeHaveFrame([false, true, false])]
    fuzz(
      fc.property(hostileBytes(haveSeeds), fc.integer({ min: 1, max: 16 }), (input, count) => {
        outcome(have, () => decodeHaveFrame(input, count), (held) => expect(held.length).toBe(count))
      }),
      runs(SHORT_RUNS),
    )
    const chunkSeeds = [encodeChunkFrame(0, new Uint8Array(17)), encodeChunkFrame(5, new Uint8Array(300).fill(1))]
    fuzz(
      fc.property(hostileBytes(chunkSeeds), (input) => {
        outcome(chunk, () => decodeChunkFrame(input))
      }),
      runs(SHORT_RUNS),
    )
  })

  it('readChunkReply: any sequence of frames ends in chunks inside the window, ascending, or PROTOCOL_ERROR', async () => {
    const t = tally('blob window reply')
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 0, max: 40 }).map((i) => encodeChunkFrame(i, new Uint8Array(20).fill(i))),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }).map(encodeHaveFrame),
    )
    // Mostly a have frame of the right size first (else nearly every input stops at the first frame).
    const input = fc.integer({ min: 1, max: 16 }).chain((count) =>
      fc.record({
        count: fc.constant(count),
        first: fc.integer({ min: 0, max: 30 }),
        head: fc.oneof({ weight: 4, arbitrary: fc.array(fc.boolean(), { minLength: count, maxLength: count }).map(encodeHaveFrame) }, { weight: 1, arbitrary: frame }),
        rest: fc.array(frame, { maxLength: 20 }),
      }),
    )
    await fuzzAsync(
      fc.asyncProperty(input, async ({ count, first, head, rest }) => {
        const frames = [head, ...rest]
        t.inputs++
        try {
          const reply = await readChunkReply((async function* () { yield* frames })(), first, count)
          let last = first - 1
          for await (const c of reply.chunks) {
            expect(c.index).toBeGreaterThan(last)
            expect(c.index).toBeLessThan(first + count)
            expect(reply.held[c.index - first]).toBe(true)
            last = c.index
          }
          t.values++
        } catch (err) {
          expect(err).toMatchObject({ code: 'PROTOCOL_ERROR' })
          t.refused('PROTOCOL_ERROR')
        }
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('a BlobServer under hostile streams', () => {
  let server: HearthNode
  let attacker: HearthNode
  let store: MemoryBlobStore
  const counters = new SecurityCounters()
  const handlerErrors: unknown[] = []
  const blob = randomBlob(40)

  beforeAll(async () => {
    server = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    attacker = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = new MemoryBlobStore()
    store.hold(CONV, blob)
    // The attacker is a member: the worst case, since a stranger is refused before anything is read.
    await new BlobServer({ node: server, store, counters, isMemberDevice: () => true, onError: (err) => handlerErrors.push(err) }).start()
    await attacker.dial(server.addresses()[0]!)
  })
  afterAll(async () => {
    await Promise.all([server.stop(), attacker.stop()])
  })

  async function open(): Promise<Stream> {
    return attacker.libp2p.dialProtocol(peerIdFromString(server.peerId), BLOB_PROTOCOL)
  }

  /** Sends raw bytes, half-closes (or not), and returns the error code the server answered with. */
  async function send(raw: Uint8Array, close = true): Promise<string> {
    const stream = await open()
    const lp = lpStream(stream)
    stream.send(raw)
    if (close) await stream.close().catch(() => {})
    try {
      const frame = (await lp.read({ signal: AbortSignal.timeout(20_000) })).subarray()
      return frame[0] === FRAME_ERROR ? decodeErrorFrame(frame.subarray(1)).code : `frame ${String(frame[0])}`
    } catch (err) {
      return `read failed: ${(err as Error).name}`
    } finally {
      stream.abort(new Error('done'))
    }
  }

  it('refuses oversized, truncated and garbage requests with a typed error, and keeps serving', async () => {
    // Oversized: a length prefix claiming more than the 256-byte cap is refused before the body is read.
    expect(await send(lengthPrefixed(new Uint8Array(257)))).toBe('TOO_LARGE')
    expect(await send(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))).toBe('TOO_LARGE')
    // Truncated: the prefix promises 100 bytes, 10 arrive, then the stream closes.
    expect(await send(Uint8Array.of(100, ...new Uint8Array(10)))).toBe('MALFORMED')
    // Garbage inside a well-formed frame, and requests just outside the schema.
    expect(await send(lengthPrefixed(Uint8Array.of(0xde, 0xad, 0xbe, 0xef)))).toBe('MALFORMED')
    const id = new Uint8Array(32).fill(0xcd)
    expect(await send(lengthPrefixed(encodeCbor({ c: CONV, b: id, q: 'c', f: 0, n: 17 })))).toBe('MALFORMED')
    expect(await send(lengthPrefixed(encodeCbor({ c: CONV, b: id, q: 'c', f: MAX_CHUNKS, n: 1 })))).toBe('MALFORMED')
    expect(await send(lengthPrefixed(encodeCbor({ c: CONV, b: id, q: 'z' })))).toBe('MALFORMED')
    expect(handlerErrors).toEqual([])

    const fetched = new MemoryBlobStore()
    const result = await new BlobFetcher({ store: fetched }).fetch(CONV, blob.id, blob.padded, () => [peerSource(attacker, server.peerId)])
    expect(result.complete).toBe(true)
  })

  it('random framed requests: every one ends in a data or an error frame, never a crash', async () => {
    const t = tally('blob server (framed)')
    await fuzzAsync(
      fc.asyncProperty(hostileBytes(requests.map(encodeBlobRequest).concat(encodeBlobRequest({ conversation: CONV, id: blob.id, q: 'c', first: 3, count: 5 }))), async (body) => {
        t.inputs++
        const answer = await send(lengthPrefixed(body))
        if (answer === 'frame 0') t.values++
        else t.refused(answer)
        expect(answer === 'frame 0' || /^[A-Z_]+$/.test(answer)).toBe(true)
      }),
      // Each input is a stream round trip: fewer than the pure decoders.
      Math.min(runs(SHORT_RUNS), runs(60)),
    )
    expect(handlerErrors).toEqual([])
  })
})
