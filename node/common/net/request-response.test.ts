import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HearthError } from '../errors.js'
import { fromUtf8, utf8 } from '../util/bytes.js'
import { createHearthNode, type HearthNode } from './create-node.js'
import { PeerPenalties } from './peer-penalties.js'
import {
  FRAME_ERROR,
  decodeErrorFrame,
  encodeErrorFrame,
  handleProtocol,
  request,
  raceAbort,
  requestOne,
  type ProtocolLimits,
} from './request-response.js'
import { waitFor } from './testing.js'
import type { Stream } from '@libp2p/interface'

const PROTOCOL = '/hearth/test/1.0.0'
// Small deadlines keep the slow-loris tests quick; still loose enough for a loaded CI machine.
const LIMITS: ProtocolLimits = { maxRequestBytes: 1024, maxResponseBytes: 4096, timeoutMs: 5_000, readTimeoutMs: 500 }

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = []
  for await (const chunk of iterable) out.push(fromUtf8(chunk))
  return out
}

/** Reads the responder's next frame off a raw stream and decodes it when it is an error frame. */
async function readErrorFrame(stream: Stream): Promise<HearthError> {
  const lp = lpStream(stream)
  const frame = (await lp.read({ signal: AbortSignal.timeout(5_000) })).subarray()
  expect(frame[0]).toBe(FRAME_ERROR)
  return decodeErrorFrame(frame.subarray(1))
}

describe('request/response', () => {
  let server: HearthNode
  let client: HearthNode
  let penalties: PeerPenalties
  const handlerErrors: unknown[] = []

  beforeEach(async () => {
    penalties = new PeerPenalties({ threshold: 1_000_000 })
    server = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], penalties })
    client = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    await handleProtocol(
      server,
      PROTOCOL,
      LIMITS,
      async function* (req) {
        let text: string
        try {
          text = fromUtf8(req)
        } catch {
          throw new HearthError('MALFORMED', 'request is not UTF-8')
        }
        if (text === 'fail') {
          throw new HearthError('NOT_FOUND', 'local detail: row 42 missing in /secret/db', {
            publicMessage: 'no such item',
          })
        }
        if (text === 'crash') throw new Error('local stack detail')
        if (text === 'huge') {
          yield new Uint8Array(LIMITS.maxResponseBytes + 1)
          return
        }
        if (text === 'parts') {
          yield [utf8('pa'), utf8(''), utf8('rts')]
          yield utf8('one')
          return
        }
        if (text === 'huge-parts') {
          yield [new Uint8Array(LIMITS.maxResponseBytes - 1), new Uint8Array(2)]
          return
        }
        if (text === 'not-bytes') {
          yield [utf8('a'), 'b' as unknown as Uint8Array]
          return
        }
        for (let page = 1; page <= 3; page++) yield utf8(`${text}:${page}`)
      },
      { onError: (err) => handlerErrors.push(err) },
    )
    await client.dial(server.addresses()[0]!)
    handlerErrors.length = 0
  })

  afterEach(async () => {
    await Promise.all([server.stop(), client.stop()])
  })

  const raw = (): Promise<Stream> => client.libp2p.dialProtocol(peerIdFromString(server.peerId), PROTOCOL)

  it('streams a multi-frame response', async () => {
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('sync'), LIMITS))).resolves.toEqual([
      'sync:1',
      'sync:2',
      'sync:3',
    ])
  })

  it('sends a frame given as parts as one frame, and holds the parts together to the size cap', async () => {
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('parts'), LIMITS))).resolves.toEqual(['parts', 'one'])
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('huge-parts'), LIMITS))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('not-bytes'), LIMITS))).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(handlerErrors.some((e) => e instanceof TypeError)).toBe(true)
  })

  it('requestOne returns a single-frame response', async () => {
    await handleProtocol(server, '/hearth/echo/1.0.0', LIMITS, async (req, ctx) => {
      expect(ctx.peer).toBe(client.peerId)
      return req
    })
    const reply = await requestOne(client, server.peerId, '/hearth/echo/1.0.0', utf8('ping'), LIMITS)
    expect(fromUtf8(reply)).toBe('ping')
    await expect(requestOne(client, server.peerId, PROTOCOL, utf8('x'), LIMITS)).rejects.toMatchObject({
      code: 'PROTOCOL_ERROR',
    })
  })

  it('refuses an oversized request locally and on the responder, then serves the next good one', async () => {
    await expect(requestOne(client, server.peerId, PROTOCOL, new Uint8Array(2048), LIMITS)).rejects.toMatchObject({
      code: 'TOO_LARGE',
    })
    // A requester with a looser cap gets past its own check; the responder refuses from the length prefix.
    const loose = { ...LIMITS, maxRequestBytes: 1024 * 1024 }
    await expect(
      collect(request(client, server.peerId, PROTOCOL, new Uint8Array(200 * 1024), loose)),
    ).rejects.toMatchObject({ code: 'TOO_LARGE' })
    expect(penalties.counts()['rr-too-large']).toBe(1)
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('ok'), LIMITS))).resolves.toHaveLength(3)
  })

  it("passes a handler's HearthError code and public message, never its local message", async () => {
    const err = await collect(request(client, server.peerId, PROTOCOL, utf8('fail'), LIMITS)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HearthError)
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'no such item', publicMessage: 'no such item' })
    expect(String((err as Error).message)).not.toContain('secret')

    const crash = await collect(request(client, server.peerId, PROTOCOL, utf8('crash'), LIMITS)).catch(
      (e: unknown) => e,
    )
    expect(crash).toMatchObject({ code: 'INTERNAL', message: 'internal error' })
    expect(handlerErrors).toHaveLength(1)
  })

  it('refuses a response frame over the requester cap', async () => {
    const err = await collect(
      request(client, server.peerId, PROTOCOL, utf8('longer than eight'), { ...LIMITS, maxResponseBytes: 8 }),
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'TOO_LARGE' })
  })

  it('reports a handler that builds an oversized frame as TOO_LARGE', async () => {
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('huge'), LIMITS))).rejects.toMatchObject({
      code: 'TOO_LARGE',
    })
  })

  it('cuts off a peer that opens a stream and sends nothing', async () => {
    const started = Date.now()
    const stream = await raw()
    const err = await readErrorFrame(stream)
    expect(err.code).toBe('TIMEOUT')
    expect(Date.now() - started).toBeLessThan(LIMITS.timeoutMs)
    expect(penalties.counts()['rr-timeout']).toBe(1)
  })

  it('cuts off a peer that sends half a length prefix', async () => {
    const stream = await raw()
    stream.send(Uint8Array.of(0x80)) // varint continuation bit set, next byte never comes
    expect((await readErrorFrame(stream)).code).toBe('TIMEOUT')
  })

  it('cuts off a peer trickling the request body', async () => {
    const stream = await raw()
    stream.send(Uint8Array.of(100)) // announces 100 bytes
    const trickle = setInterval(() => {
      if (stream.status === 'open' && stream.writeStatus === 'writable') stream.send(Uint8Array.of(1))
    }, 20)
    try {
      expect((await readErrorFrame(stream)).code).toBe('TIMEOUT')
    } finally {
      clearInterval(trickle)
    }
  })

  it('survives random garbage written raw to the stream', async () => {
    for (let i = 0; i < 30; i++) {
      const stream = await raw()
      const garbage = randomBytes(1 + (i * 97) % 3000)
      try {
        stream.send(garbage)
        await stream.close()
      } catch {
        // the responder may already have refused and reset; fine
      }
      // Whatever the responder answers (an error frame or a reset), it must answer or hang up, not hang.
      await waitFor(() => stream.status !== 'open' || stream.readBufferLength > 0 || stream.readableEnded, {
        timeoutMs: 5_000,
      }).catch(() => {})
      stream.abort(new Error('done'))
    }
    await expect(collect(request(client, server.peerId, PROTOCOL, utf8('still'), LIMITS))).resolves.toEqual([
      'still:1',
      'still:2',
      'still:3',
    ])
    expect(handlerErrors).toEqual([])
  })

  it('answers a peer over its rate with RATE_LIMITED', async () => {
    await handleProtocol(
      server,
      '/hearth/limited/1.0.0',
      { ...LIMITS, ratePerSecond: 0.001, burst: 2 },
      async () => utf8('ok'),
    )
    const limited = (): Promise<Uint8Array> =>
      requestOne(client, server.peerId, '/hearth/limited/1.0.0', utf8('q'), LIMITS)
    await limited()
    await limited()
    await expect(limited()).rejects.toMatchObject({ code: 'RATE_LIMITED' })
    expect(penalties.counts()['rr-rate-limited']).toBe(1)
  })

  it('maps an unknown protocol to UNSUPPORTED_VERSION', async () => {
    await expect(requestOne(client, server.peerId, '/hearth/nope/9.0.0', utf8('q'), LIMITS)).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
    })
  })

  it('aborts the handler when the requester stops iterating early', async () => {
    let aborted = false
    await handleProtocol(server, '/hearth/pages/1.0.0', { ...LIMITS, timeoutMs: 10_000 }, async function* (_req, ctx) {
      ctx.signal.addEventListener('abort', () => {
        aborted = true
      })
      for (let i = 0; ; i++) {
        if (ctx.signal.aborted) return
        yield utf8(String(i))
      }
    })
    for await (const chunk of request(client, server.peerId, '/hearth/pages/1.0.0', utf8('q'), LIMITS)) {
      if (fromUtf8(chunk) === '5') break
    }
    await waitFor(() => aborted, { message: 'handler abort signal' })
  })

  it('treats a stream whose writable end is closing under a response as the peer leaving, not a handler failure', async () => {
    // A connection closing closes its streams' writable ends, and close() waits for buffered data to drain with
    // writeStatus "closing" while status is still "open": the next frame written then fails with libp2p's
    // StreamStateError. Nobody is left to answer, so nothing is reported as a handler failure. The test puts the stream
    // in that state as close() does when it has to wait, since when that wait happens depends on the muxer's window.
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let served: Stream | undefined
    const handle = server.libp2p.handle.bind(server.libp2p)
    server.libp2p.handle = ((protocol: string, handler: (stream: Stream, connection: unknown) => void, options?: unknown) =>
      handle(protocol, (stream, connection) => {
        served = stream
        handler(stream, connection)
      }, options as never)) as typeof server.libp2p.handle
    let wroteAfterClose = false
    await handleProtocol(
      server,
      '/hearth/slow/1.0.0',
      { ...LIMITS, timeoutMs: 10_000 },
      async function* () {
        yield utf8('first')
        await gate
        yield utf8('second')
        wroteAfterClose = true
      },
      { onError: (err) => handlerErrors.push(err) },
    )
    const pages = request(client, server.peerId, '/hearth/slow/1.0.0', utf8('q'), LIMITS)[Symbol.asyncIterator]()
    expect(fromUtf8((await pages.next()).value as Uint8Array)).toBe('first')
    expect(served?.status).toBe('open')
    served!.writeStatus = 'closing'
    release()
    await new Promise((resolve) => setTimeout(resolve, 100))
    await pages.return?.()
    served!.abort(new Error('test over'))
    expect(wroteAfterClose).toBe(true)
    expect(handlerErrors).toEqual([])
  })
})

describe('a handler that fails after the exchange was given up', () => {
  it('does not become an unhandled rejection (nobody is left to tell)', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown) => unhandled.push(err)
    process.on('unhandledRejection', onUnhandled)
    try {
      // The peer already went away when the handler's answer is awaited; the handler fails afterwards.
      const gone = AbortSignal.abort(new HearthError('TIMEOUT', 'the peer left'))
      const late = new Promise<Uint8Array>((_, reject) => setTimeout(() => reject(new HearthError('UNAUTHORIZED', 'too late to tell anyone')), 20))
      await expect(raceAbort(late, gone)).rejects.toThrow('the peer left')
      await new Promise((resolve) => setTimeout(resolve, 60))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})

describe('error frames', () => {
  it('round-trip a code and message', () => {
    const err = decodeErrorFrame(encodeErrorFrame('RATE_LIMITED', 'slow down').subarray(1))
    expect(err).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', publicMessage: 'slow down' })
  })

  it('turn unknown codes and garbage into PROTOCOL_ERROR without throwing', () => {
    expect(decodeErrorFrame(utf8('{"code":"FROM_THE_FUTURE","message":"x"}')).code).toBe('PROTOCOL_ERROR')
    expect(decodeErrorFrame(utf8('null')).code).toBe('PROTOCOL_ERROR')
    for (let i = 0; i < 500; i++) {
      const err = decodeErrorFrame(randomBytes(i % 64))
      expect(err).toBeInstanceOf(HearthError)
    }
  })

  it('truncate long messages', () => {
    const err = decodeErrorFrame(encodeErrorFrame('INTERNAL', 'x'.repeat(10_000)).subarray(1))
    expect(err.message.length).toBeLessThanOrEqual(512)
  })
})
