import { describe, expect, it } from 'vitest'
import { FrameWriter, varintLength, writeVarint } from './frame-writer.js'
import { lengthPrefixed } from './request-response.js'
import type { Stream } from '@libp2p/interface'

/** The part of a Stream the writer uses, recording each send; `full` makes sends report back-pressure. */
function fakeStream(): { stream: Stream; sends: Uint8Array[]; full: boolean; drain: () => void; closed: boolean } {
  // Like a libp2p stream: every onDrain while full shares one promise, settled by the drain.
  let waiting: { promise: Promise<void>; resolve: () => void } | undefined
  const fake = {
    sends: [] as Uint8Array[],
    full: false,
    closed: false,
    drain: () => {
      fake.full = false
      waiting?.resolve()
      waiting = undefined
    },
    stream: undefined as unknown as Stream,
  }
  fake.stream = {
    send(data: Uint8Array): boolean {
      if (fake.closed) throw new Error('stream closed')
      fake.sends.push(data.slice())
      return !fake.full
    },
    onDrain(): Promise<void> {
      if (!fake.full) return Promise.resolve()
      if (waiting === undefined) {
        let resolve: () => void = () => {}
        const promise = new Promise<void>((r) => (resolve = r))
        waiting = { promise, resolve }
      }
      return waiting.promise
    },
  } as unknown as Stream
  return fake
}

const frame = (kind: number, body: Uint8Array): Uint8Array => lengthPrefixed(Uint8Array.of(kind, ...body))
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(parts.flatMap((p) => [...p]))

describe('FrameWriter', () => {
  it('writes unsigned varints, least significant group first', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 65_541, 2 ** 21, 2 ** 31 + 5]) {
      const out = new Uint8Array(8)
      const end = writeVarint(out, 0, n)
      expect(end).toBe(varintLength(n))
      expect(out.subarray(0, end)).toEqual(encode(n))
    }
    function encode(n: number): Uint8Array {
      const bytes: number[] = []
      let rest = n
      while (rest >= 0x80) {
        bytes.push((rest & 0x7f) | 0x80)
        rest = Math.floor(rest / 128)
      }
      bytes.push(rest)
      return Uint8Array.from(bytes)
    }
  })

  it('sends the frames written in one turn of the event loop together, in order, as the same bytes', async () => {
    const fake = fakeStream()
    const writer = new FrameWriter(fake.stream, new AbortController().signal)
    await writer.write(0, Uint8Array.of(1, 2))
    await writer.write(0, Uint8Array.of(3))
    await writer.write(1, new Uint8Array(0))
    expect(fake.sends).toHaveLength(0)
    await new Promise((resolve) => setImmediate(resolve))
    expect(fake.sends).toHaveLength(1)
    expect(fake.sends[0]).toEqual(concat([frame(0, Uint8Array.of(1, 2)), frame(0, Uint8Array.of(3)), frame(1, new Uint8Array(0))]))
  })

  it('sends each buffer as soon as it is full, a frame continuing in the next, and flush sends what waits', async () => {
    const fake = fakeStream()
    const writer = new FrameWriter(fake.stream, new AbortController().signal, 100)
    const a = new Uint8Array(60).fill(1)
    const b = new Uint8Array(60).fill(2)
    await writer.write(0, a)
    expect(fake.sends).toHaveLength(0)
    await writer.write(0, b)
    expect(fake.sends.map((s) => s.length)).toEqual([100])
    await writer.write(-1, Uint8Array.of(7))
    await writer.flush()
    expect(fake.sends.map((s) => s.length)).toEqual([100, 26])
    // Cut anywhere, the bytes are the frames in order.
    expect(concat(fake.sends)).toEqual(concat([frame(0, a), frame(0, b), lengthPrefixed(Uint8Array.of(7))]))
  })

  it('writes a frame given as parts as the same bytes as the parts joined, across buffer boundaries', async () => {
    const parts = [Uint8Array.of(0, 0, 0, 9), new Uint8Array(150).fill(5), new Uint8Array(0), Uint8Array.of(6)]
    const joined = concat(parts)
    const asParts = fakeStream()
    const writer = new FrameWriter(asParts.stream, new AbortController().signal, 64)
    await writer.write(2, parts)
    await writer.write(-1, Uint8Array.of(7))
    await writer.flush()
    const asOne = fakeStream()
    const one = new FrameWriter(asOne.stream, new AbortController().signal, 64)
    await one.write(2, joined)
    await one.write(-1, Uint8Array.of(7))
    await one.flush()
    expect(concat(asParts.sends)).toEqual(concat(asOne.sends))
    expect(concat(asParts.sends)).toEqual(concat([frame(2, joined), lengthPrefixed(Uint8Array.of(7))]))
  })

  it('waits for the stream to drain before taking more', async () => {
    const fake = fakeStream()
    fake.full = true
    const writer = new FrameWriter(fake.stream, new AbortController().signal, 10)
    let done = false
    const write = writer.write(0, new Uint8Array(20)).then(() => (done = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    // The frame went out (in three sends: it is larger than a buffer) and the write waits for the stream.
    expect(fake.sends.map((s) => s.length)).toEqual([10, 10, 2])
    expect(done).toBe(false)
    fake.drain()
    await write
    expect(done).toBe(true)
  })

  it('reports a stream that failed under a timed send at the next write, and an aborted signal', async () => {
    const fake = fakeStream()
    const writer = new FrameWriter(fake.stream, new AbortController().signal)
    await writer.write(0, Uint8Array.of(1))
    fake.closed = true
    await new Promise((resolve) => setImmediate(resolve))
    await expect(writer.write(0, Uint8Array.of(2))).rejects.toThrow('stream closed')

    const aborted = new AbortController()
    const other = new FrameWriter(fakeStream().stream, aborted.signal)
    aborted.abort(new Error('exchange over'))
    await expect(other.write(0, Uint8Array.of(1))).rejects.toThrow('exchange over')
  })

  it('sends nothing after dispose', async () => {
    const fake = fakeStream()
    const writer = new FrameWriter(fake.stream, new AbortController().signal)
    await writer.write(0, Uint8Array.of(1))
    writer.dispose()
    await new Promise((resolve) => setImmediate(resolve))
    expect(fake.sends).toHaveLength(0)
  })
})
