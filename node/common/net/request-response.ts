/**
 * Request/response over a libp2p stream for Hearth's direct protocols (`/hearth/<name>/<version>`): catch-up sync,
 * the relay mailbox, attachment chunks, device pairing. This file frames bytes; it knows nothing of what they mean.
 *
 * Wire format, one exchange per stream:
 *
 *   requester → responder   one length-prefixed (unsigned varint) frame: the request bytes; then half-close.
 *   responder → requester   length-prefixed frames, each starting with a kind byte:
 *                             0 = data   (rest of the frame is one response chunk; there may be many: paging)
 *                             1 = end    (nothing follows; the exchange succeeded)
 *                             2 = error  (rest is UTF-8 JSON {"code": ErrorCode, "message": string})
 *
 * The protocol id carries the version, so this framing has none of its own; a change to it is a new protocol id.
 *
 * Threats handled here: oversized frames (refused from the length prefix, before the body is buffered), slow-loris
 * peers (every read has a deadline and so does the whole exchange), garbage (answered with an error frame, never a
 * crash), floods (a token bucket per remote peer), and local detail leaking to peers (only a HearthError's
 * publicMessage crosses the wire; anything else becomes a generic INTERNAL).
 *
 * Frames are read by net/frame-reader.ts and a response's frames written by net/frame-writer.ts, several per stream
 * write: the wire is the same whether one send carries one frame or many.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { ErrorCodes, HearthError, isHearthError, type ErrorCode } from '../errors.js'
import { concatBytes, fromUtf8, utf8 } from '../util/bytes.js'
import { FrameReader } from './frame-reader.js'
import { FrameWriter } from './frame-writer.js'
import { RateLimiter } from './rate-limiter.js'
import type { HearthNode } from './create-node.js'
import type { Connection, Stream } from '@libp2p/interface'

export const FRAME_DATA = 0
export const FRAME_END = 1
export const FRAME_ERROR = 2

/** Error frames are small by construction; a requester accepts at least this much so errors always fit. */
const MAX_ERROR_FRAME_BYTES = 2048
const MAX_ERROR_MESSAGE_CHARS = 512

/**
 * Slack on top of a frame cap for the read buffer. The muxer hands over whole yamux data frames (up to its 256 KiB
 * window), possibly several of our small frames at once; a buffer sized to one frame would overflow and reset the
 * stream before the length prefix could even be checked. The yamux window already bounds this per stream.
 */
const READ_BUFFER_SLACK = 256 * 1024 + 64

/** How long a responder waits for its last frames to flush before giving up on a peer that stopped reading. */
const FLUSH_GRACE_MS = 1_000

const PROTOCOL_ID = /^\/hearth(\/[a-z0-9][a-z0-9-]*)+\/\d+(\.\d+)*$/

export interface ProtocolLimits {
  /** Largest request accepted (responder) or sent (requester). */
  maxRequestBytes: number
  /** Largest single response frame (one page); the whole response may be many frames. */
  maxResponseBytes: number
  /** Deadline for the whole exchange, from stream open to the end frame. */
  timeoutMs: number
  /** Deadline for any single frame to arrive once asked for. Default `timeoutMs`. */
  readTimeoutMs?: number
  /** Concurrent inbound streams for this protocol per connection (libp2p's default is 32). */
  maxInboundStreams?: number
  /** Run over relayed (limited) connections too; off by default in libp2p. */
  runOnLimitedConnection?: boolean
  /** Per-remote-peer request rate (responder only). Unlimited when absent. */
  ratePerSecond?: number
  /** Token bucket size for `ratePerSecond`. Default max(1, ratePerSecond). */
  burst?: number
}

export interface HandlerContext {
  /** Remote PeerId (authenticated by Noise). */
  peer: string
  /** Aborted when the exchange times out or the requester goes away; long handlers should stop then. */
  signal: AbortSignal
}

/**
 * One response frame given as its parts, which go on the wire one after another as a single frame: a handler that
 * prefixes a large payload (a blob chunk behind its index) hands both over instead of copying them into one buffer.
 */
export type FrameParts = readonly Uint8Array[]

export type ProtocolHandler = (
  request: Uint8Array,
  ctx: HandlerContext,
) => AsyncIterable<Uint8Array | FrameParts> | Promise<Uint8Array>

export interface HandleOptions {
  /** Receives unexpected (non-HearthError) handler failures; the peer only sees INTERNAL. */
  onError?: (err: unknown, context: string) => void
  /** Injected clock for the rate limiter (tests). */
  now?: () => number
}

export interface RequestOptions {
  signal?: AbortSignal
  /** The connection to open the stream on (one the caller dialled for this exchange alone); else any open one. */
  connection?: Connection
}

/** Penalty weights given to PeerPenalties (when the node has one) for abuse seen by the framing layer. */
const PENALTY = { tooLarge: 20, malformed: 10, timeout: 5, rateLimited: 2 } as const

function assertProtocol(protocol: string): void {
  if (!PROTOCOL_ID.test(protocol)) {
    throw new HearthError('INVALID_INPUT', `protocol id must look like /hearth/<name>/<version>: ${protocol}`)
  }
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80)
    rest = Math.floor(rest / 128)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** One length-prefixed frame as it goes on the wire. */
export function lengthPrefixed(payload: Uint8Array): Uint8Array {
  return concatBytes(encodeVarint(payload.byteLength), payload)
}

export function encodeDataFrame(chunk: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(FRAME_DATA), chunk)
}

export function encodeEndFrame(): Uint8Array {
  return Uint8Array.of(FRAME_END)
}

export function encodeErrorFrame(code: ErrorCode, message: string): Uint8Array {
  const text = message.length > MAX_ERROR_MESSAGE_CHARS ? message.slice(0, MAX_ERROR_MESSAGE_CHARS) : message
  return concatBytes(Uint8Array.of(FRAME_ERROR), utf8(JSON.stringify({ code, message: text })))
}

/** Turns a received error frame body into the HearthError the remote handler threw (code and public message). */
export function decodeErrorFrame(body: Uint8Array): HearthError {
  let parsed: unknown
  try {
    parsed = JSON.parse(fromUtf8(body))
  } catch {
    return new HearthError('PROTOCOL_ERROR', 'peer sent an unreadable error frame')
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return new HearthError('PROTOCOL_ERROR', 'peer sent a malformed error frame')
  }
  const { code, message } = parsed as { code?: unknown; message?: unknown }
  const text = typeof message === 'string' ? message.slice(0, MAX_ERROR_MESSAGE_CHARS) : 'remote error'
  // Only codes this build knows: a newer peer's code must not flow into an exhaustive switch as an unknown value.
  if (typeof code !== 'string' || !(ErrorCodes as readonly string[]).includes(code)) {
    return new HearthError('PROTOCOL_ERROR', `peer answered with an unknown error code: ${text}`)
  }
  return new HearthError(code as ErrorCode, text, { publicMessage: text })
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : ''
}

async function sendFrame(stream: Stream, payload: Uint8Array, signal: AbortSignal): Promise<void> {
  if (!stream.send(lengthPrefixed(payload))) await stream.onDrain({ signal })
}

/** Awaits a promise but gives up (rejecting with the signal's reason) when the signal aborts. */
/** A handler's answer, or the exchange's end, whichever comes first (exported for its test). */
export async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // A handler that fails after the exchange was given up (the peer left, the deadline passed) must not become an
  // unhandled rejection: nobody is left to tell, and one peer's bytes must never take the process down.
  promise.catch(() => {})
  if (signal.aborted) throw signal.reason
  let onAbort: (() => void) | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason)
        signal.addEventListener('abort', onAbort, { once: true })
      }),
    ])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array | FrameParts> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}

/**
 * Serves `protocol` on `node`. Returns a function that stops serving it.
 *
 * A handler returns one response (a promise) or streams several (an async iterable, e.g. an `async function*` that
 * yields pages). A HearthError it throws reaches the requester with the same code and its publicMessage.
 */
export async function handleProtocol(
  node: HearthNode,
  protocol: string,
  limits: ProtocolLimits,
  handler: ProtocolHandler,
  options: HandleOptions = {},
): Promise<() => Promise<void>> {
  assertProtocol(protocol)
  const limiter =
    limits.ratePerSecond === undefined
      ? undefined
      : new RateLimiter({
          ratePerSecond: limits.ratePerSecond,
          burst: limits.burst ?? Math.max(1, limits.ratePerSecond),
          ...(options.now === undefined ? {} : { now: options.now }),
        })
  const onError =
    options.onError ??
    ((err: unknown, context: string) => console.warn(`hearth net: ${context}: ${errorName(err)} ${String(err)}`))
  const readTimeoutMs = limits.readTimeoutMs ?? limits.timeoutMs

  async function serve(stream: Stream, peer: string): Promise<void> {
    const exchange = new AbortController()
    const timer = setTimeout(
      () => exchange.abort(new HearthError('TIMEOUT', `${protocol} exchange took too long`)),
      limits.timeoutMs,
    )
    const onClose = (): void => exchange.abort(new HearthError('UNREACHABLE', 'stream closed by peer'))
    stream.addEventListener('close', onClose)
    const reader = new FrameReader(stream, {
      maxFrameBytes: limits.maxRequestBytes,
      maxBufferBytes: limits.maxRequestBytes + READ_BUFFER_SLACK,
      readTimeoutMs,
      signal: exchange.signal,
      what: 'request',
    })
    const writer = new FrameWriter(stream, exchange.signal)

    // After an error the requester may still be sending (an oversized body, garbage): the reader drops it as it
    // arrives instead of letting it pile up until libp2p resets the stream, which could beat our error frame there.
    const stopReading = (): void => reader.stop()

    const fail = async (err: HearthError): Promise<void> => {
      stopReading()
      try {
        const signal = AbortSignal.timeout(FLUSH_GRACE_MS)
        await sendFrame(stream, encodeErrorFrame(err.code, err.publicMessage), signal)
        await stream.close({ signal })
      } catch (sendErr) {
        stream.abort(sendErr instanceof Error ? sendErr : new Error('error frame not sent'))
      }
    }

    try {
      if (limiter !== undefined && !limiter.tryTake(peer)) {
        node.penalties?.penalise(peer, 'rr-rate-limited', PENALTY.rateLimited)
        await fail(new HearthError('RATE_LIMITED', `too many ${protocol} requests; slow down`))
        return
      }

      let request: Uint8Array
      try {
        request = await reader.read()
      } catch (err) {
        // The requester reset or closed the stream: nobody is left to answer.
        if (stream.status !== 'open') return
        const error = isHearthError(err) ? err : new HearthError('UNREACHABLE', 'stream failed', { cause: err })
        if (error.code === 'UNREACHABLE') {
          stream.abort(new Error('stream failed'))
          return
        }
        const reason = { TOO_LARGE: 'rr-too-large', TIMEOUT: 'rr-timeout' }[error.code as string] ?? 'rr-malformed'
        const weight =
          error.code === 'TOO_LARGE' ? PENALTY.tooLarge : error.code === 'TIMEOUT' ? PENALTY.timeout : PENALTY.malformed
        node.penalties?.penalise(peer, reason, weight)
        await fail(error)
        return
      }
      stopReading()

      const signal = exchange.signal
      let sentSinceYield = 0
      const sendChunk = async (chunk: Uint8Array | FrameParts): Promise<void> => {
        let bytes = 0
        if (chunk instanceof Uint8Array) bytes = chunk.byteLength
        else if (Array.isArray(chunk) && chunk.every((part) => part instanceof Uint8Array)) for (const part of chunk) bytes += part.byteLength
        else throw new TypeError(`${protocol} handler produced a non-byte response`)
        if (bytes > limits.maxResponseBytes) {
          // Our own bug (a page built too large), but the requester would refuse it anyway: say so clearly.
          throw new HearthError('TOO_LARGE', `response frame of ${bytes} bytes over the cap`, {
            publicMessage: 'response too large',
          })
        }
        await writer.write(FRAME_DATA, chunk)
        // Writes keep resolving at once until the muxer window is full, so a handler yielding small pages from memory
        // would run as one long chain of microtasks, starving every other peer (and timers) in the process.
        if (++sentSinceYield >= 32) {
          sentSinceYield = 0
          await new Promise((resolve) => setImmediate(resolve))
        }
      }

      const result = handler(request, { peer, signal })
      if (isAsyncIterable(result)) {
        for await (const chunk of result) {
          if (signal.aborted) throw signal.reason
          await sendChunk(chunk)
        }
      } else {
        await sendChunk(await raceAbort(result, signal))
      }
      if (signal.aborted) throw signal.reason
      await writer.write(FRAME_END, new Uint8Array(0))
      await writer.flush()
      await stream.close({ signal })
    } catch (err) {
      // Frames queued before the failure are dropped: the error frame says what happened.
      writer.dispose()
      if (stream.status !== 'open') return
      // Closing under us (a connection closing closes its streams' writable ends first, and any write then fails with
      // StreamStateError while the stream still reads as open): nobody is left to answer, and it is no fault of the
      // handler's. The response cannot end properly any more, so the stream goes rather than waiting to drain.
      if (stream.writeStatus !== 'writable') {
        stream.abort(new Error('stream closed under the exchange'))
        return
      }
      if (isHearthError(err)) {
        await fail(err)
      } else {
        onError(err, `${protocol} handler`)
        await fail(new HearthError('INTERNAL', 'internal error'))
      }
    } finally {
      clearTimeout(timer)
      writer.dispose()
      reader.stop()
      stream.removeEventListener('close', onClose)
      // A requester that never closes its side would keep the stream half-open until libp2p's inactivity timeout
      // (minutes); end it now that we are done.
      if (stream.status === 'open' && stream.writeStatus === 'closed') {
        const closer = setTimeout(() => stream.abort(new Error('exchange over')), FLUSH_GRACE_MS)
        closer.unref()
        stream.addEventListener('close', () => clearTimeout(closer), { once: true })
      }
    }
  }

  await node.libp2p.handle(
    protocol,
    (stream, connection) => {
      // libp2p does not await a handler's promise for error reporting; catch here so nothing a peer sends can
      // become an unhandled rejection.
      serve(stream, connection.remotePeer.toString()).catch((err: unknown) => {
        onError(err, `${protocol} stream`)
        stream.abort(err instanceof Error ? err : new Error('handler failed'))
      })
    },
    {
      ...(limits.maxInboundStreams === undefined ? {} : { maxInboundStreams: limits.maxInboundStreams }),
      ...(limits.runOnLimitedConnection === undefined ? {} : { runOnLimitedConnection: limits.runOnLimitedConnection }),
    },
  )
  return async () => {
    await node.libp2p.unhandle(protocol)
  }
}

/**
 * Sends `request` to `peer` on `protocol` and yields each response chunk as it arrives. Throws HearthError:
 * TOO_LARGE, TIMEOUT, UNREACHABLE, UNSUPPORTED_VERSION (peer does not speak the protocol), PROTOCOL_ERROR, or
 * whatever code the remote handler threw. Breaking out of the loop early abandons the exchange (the stream is reset).
 */
export async function* request(
  node: HearthNode,
  peer: string,
  protocol: string,
  body: Uint8Array,
  limits: ProtocolLimits,
  options: RequestOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  assertProtocol(protocol)
  if (body.byteLength > limits.maxRequestBytes) {
    throw new HearthError('TOO_LARGE', `request of ${body.byteLength} bytes over the ${limits.maxRequestBytes} cap`)
  }
  let peerId
  try {
    peerId = peerIdFromString(peer)
  } catch (err) {
    throw new HearthError('INVALID_INPUT', `not a PeerId: ${peer}`, { cause: err })
  }
  const deadline = AbortSignal.timeout(limits.timeoutMs)
  const exchange = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
  const readTimeoutMs = limits.readTimeoutMs ?? limits.timeoutMs

  let stream: Stream
  try {
    const streamOptions = {
      signal: exchange,
      ...(limits.runOnLimitedConnection === undefined ? {} : { runOnLimitedConnection: limits.runOnLimitedConnection }),
    }
    // A peer that reached us through a relay circuit is connected, but we may know no address of it: open the stream
    // on the connection we have (dialProtocol would try to dial and find nothing to dial).
    const connections = node.libp2p.getConnections(peerId).filter((c) => c.status === 'open')
    const open = options.connection ?? connections.find((c) => c.limits === undefined) ?? (limits.runOnLimitedConnection === true ? connections[0] : undefined)
    stream = open !== undefined ? await open.newStream(protocol, streamOptions) : await node.libp2p.dialProtocol(peerId, protocol, streamOptions)
  } catch (err) {
    if (errorName(err) === 'UnsupportedProtocolError') {
      throw new HearthError('UNSUPPORTED_VERSION', `peer does not speak ${protocol}`, { cause: err })
    }
    if (deadline.aborted) throw new HearthError('TIMEOUT', `opening ${protocol} timed out`, { cause: err })
    if (options.signal?.aborted === true) throw options.signal.reason
    throw new HearthError('UNREACHABLE', `cannot open ${protocol} to ${peer}`, {
      cause: err,
      publicMessage: 'peer unreachable',
    })
  }

  const reader = new FrameReader(stream, {
    // One frame = kind byte + chunk; error frames must fit even when chunks are tiny.
    maxFrameBytes: Math.max(limits.maxResponseBytes, MAX_ERROR_FRAME_BYTES) + 1,
    maxBufferBytes: Math.max(limits.maxResponseBytes, MAX_ERROR_FRAME_BYTES) + READ_BUFFER_SLACK,
    readTimeoutMs,
    signal: exchange,
    what: 'response',
  })
  let finished = false
  try {
    try {
      await sendFrame(stream, body, exchange)
      // Half-close: the responder learns the request is complete and may close its side when done.
      await stream.close({ signal: exchange })
    } catch (err) {
      // The responder may have refused us early (rate limit, size) and closed; its error frame is still readable.
      if (deadline.aborted) throw new HearthError('TIMEOUT', `sending the ${protocol} request timed out`)
      if (stream.status === 'reset' || stream.status === 'aborted') {
        throw new HearthError('UNREACHABLE', 'stream reset while sending the request', { cause: err })
      }
    }
    for (;;) {
      let frame: Uint8Array
      try {
        frame = await reader.read()
      } catch (err) {
        if (options.signal?.aborted === true) throw options.signal.reason
        throw err
      }
      switch (frame[0]) {
        case FRAME_DATA:
          if (frame.byteLength - 1 > limits.maxResponseBytes) {
            throw new HearthError('TOO_LARGE', `response frame over the ${limits.maxResponseBytes} byte cap`)
          }
          yield frame.subarray(1)
          break
        case FRAME_END:
          finished = true
          return
        case FRAME_ERROR:
          throw decodeErrorFrame(frame.subarray(1))
        default:
          throw new HearthError('PROTOCOL_ERROR', `unknown response frame kind ${String(frame[0])}`)
      }
    }
  } finally {
    reader.stop()
    // Whatever ended the exchange early (error, timeout, a consumer that stopped iterating), reset the stream so
    // neither side keeps buffers for it.
    if (!finished) stream.abort(new Error('exchange abandoned'))
  }
}

/** Like `request` for protocols with exactly one response frame. */
export async function requestOne(
  node: HearthNode,
  peer: string,
  protocol: string,
  body: Uint8Array,
  limits: ProtocolLimits,
  options: RequestOptions = {},
): Promise<Uint8Array> {
  let response: Uint8Array | undefined
  for await (const chunk of request(node, peer, protocol, body, limits, options)) {
    if (response !== undefined) throw new HearthError('PROTOCOL_ERROR', `${protocol} answered with several frames`)
    response = chunk
  }
  if (response === undefined) throw new HearthError('PROTOCOL_ERROR', `${protocol} answered with no data`)
  return response
}
