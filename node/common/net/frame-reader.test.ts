import { streamPair } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { FrameReader, type FrameReaderOptions } from './frame-reader.js'
import { lengthPrefixed } from './request-response.js'
import type { Stream } from '@libp2p/interface'

const OPTS = { maxFrameBytes: 100_000, maxBufferBytes: 400_000, readTimeoutMs: 2_000, what: 'response' }

describe('FrameReader', () => {
  const controllers: AbortController[] = []
  afterEach(() => {
    for (const c of controllers) c.abort()
    controllers.length = 0
  })

  async function pair(opts: Partial<FrameReaderOptions> = {}): Promise<{ writer: Stream; reader: FrameReader; signal: AbortController }> {
    const [writer, readerStream] = await streamPair()
    const signal = new AbortController()
    controllers.push(signal)
    return { writer, reader: new FrameReader(readerStream, { ...OPTS, signal: signal.signal, ...opts }), signal }
  }

  function frames(...sizes: number[]): Uint8Array[] {
    return sizes.map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + k) & 0xff))
  }

  it('reads frames however the bytes are cut: several per send, one split over many sends, an empty one', async () => {
    const { writer, reader } = await pair()
    const [a, b, c, d] = frames(3, 70_000, 0, 5)
    const wire = new Uint8Array([...lengthPrefixed(a!), ...lengthPrefixed(b!), ...lengthPrefixed(c!), ...lengthPrefixed(d!)])
    // Pieces of awkward sizes: the first send holds frame a and the start of b's prefix.
    const cuts = [5, 6, 9, 40_000, 70_020, wire.length]
    let from = 0
    for (const to of cuts) {
      writer.send(wire.subarray(from, to))
      from = to
    }
    expect(await reader.read()).toEqual(a)
    expect(await reader.read()).toEqual(b)
    expect(await reader.read()).toEqual(c)
    expect(await reader.read()).toEqual(d)
  })

  it('hands over a frame already buffered without waiting for more bytes', async () => {
    const { writer, reader } = await pair()
    writer.send(new Uint8Array([...lengthPrefixed(Uint8Array.of(1)), ...lengthPrefixed(Uint8Array.of(2))]))
    expect(await reader.read()).toEqual(Uint8Array.of(1))
    // The second frame came in the same piece: this read must settle although nothing more ever arrives.
    expect(await reader.read()).toEqual(Uint8Array.of(2))
  })

  it('refuses a length over the cap from the prefix alone, and a prefix longer than the cap needs', async () => {
    const big = await pair({ maxFrameBytes: 1_000 })
    big.writer.send(lengthPrefixed(new Uint8Array(1_001)).subarray(0, 2)) // the prefix, no body
    await expect(big.reader.read()).rejects.toMatchObject({ code: 'TOO_LARGE' })

    const long = await pair({ maxFrameBytes: 1_000 })
    long.writer.send(Uint8Array.of(0x81, 0x80, 0x00)) // 1 with a padded three-byte varint: the cap needs two
    await expect(long.reader.read()).rejects.toMatchObject({ code: 'TOO_LARGE' })
  })

  it('gives a trickled frame readTimeoutMs in all, however often bytes arrive', async () => {
    const { writer, reader } = await pair({ readTimeoutMs: 300 })
    writer.send(Uint8Array.of(100))
    const trickle = setInterval(() => writer.send(Uint8Array.of(1)), 20)
    const started = Date.now()
    try {
      await expect(reader.read()).rejects.toMatchObject({ code: 'TIMEOUT' })
    } finally {
      clearInterval(trickle)
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('restarts the deadline for each read: frames arriving steadily never time out', async () => {
    const { writer, reader } = await pair({ readTimeoutMs: 150 })
    for (let i = 0; i < 6; i++) {
      setTimeout(() => writer.send(lengthPrefixed(Uint8Array.of(i))), 100)
      expect(await reader.read()).toEqual(Uint8Array.of(i))
    }
  })

  it('fails a waiting read with TIMEOUT when the exchange signal fires', async () => {
    const { reader, signal } = await pair()
    const read = reader.read()
    signal.abort()
    await expect(read).rejects.toMatchObject({ code: 'TIMEOUT' })
  })

  it('calls a stream that ends inside a frame MALFORMED, and a reset UNREACHABLE', async () => {
    const ended = await pair()
    ended.writer.send(lengthPrefixed(new Uint8Array(10)).subarray(0, 5))
    await ended.writer.close()
    await expect(ended.reader.read()).rejects.toMatchObject({ code: 'MALFORMED' })

    const reset = await pair()
    const read = reset.reader.read()
    reset.writer.abort(new Error('gone'))
    await expect(read).rejects.toMatchObject({ code: 'UNREACHABLE' })
  })

  it('reads the last frame that arrives together with the end of the stream', async () => {
    const { writer, reader } = await pair()
    const read = reader.read()
    writer.send(lengthPrefixed(Uint8Array.of(9, 9)))
    await writer.close()
    expect(await read).toEqual(Uint8Array.of(9, 9))
    await expect(reader.read()).rejects.toMatchObject({ code: 'MALFORMED' })
  })

  it('cuts off a peer that sends more than the buffer holds', async () => {
    const { writer, reader } = await pair({ maxFrameBytes: 100_000, maxBufferBytes: 1_000 })
    const read = reader.read()
    writer.send(lengthPrefixed(new Uint8Array(5_000)).subarray(0, 2_000))
    await expect(read).rejects.toMatchObject({ code: 'UNREACHABLE' })
  })
})
