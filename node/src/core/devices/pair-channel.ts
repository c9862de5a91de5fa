import { Uint8ArrayList } from 'uint8arraylist'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { lengthPrefixed } from '../../../common/net/request-response.js'
import { equalBytes } from '../../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../../common/wire/cbor.js'
import type { Stream, StreamMessageEvent } from '@libp2p/interface'

/**
 * Both directions of one pairing stream as frames: the framing of Hearth's other stream protocols (an unsigned
 * varint length, then the frame: here one canonical CBOR map), but a conversation in turns rather than one request
 * and its answers, so request-response.ts does not fit.
 *
 * Every frame is read against the cap of the step that expects it: the length prefix is checked before the body is
 * buffered, and whatever a peer pushes ahead of what we read is bounded by that cap plus one muxer chunk, so a peer
 * that has not proved the secret cannot make us hold more than 64 KiB. Each read has an idle deadline and the whole
 * exchange has one (`signal`). Bytes that are not canonical CBOR are refused: a frame has exactly one encoding.
 */
export class PairChannel {
  private readonly buffer = new Uint8ArrayList()
  private wake: (() => void) | undefined
  private ended = false
  private failure: HearthError | undefined
  /** The cap of the frame being waited for; what is buffered may exceed it by one muxer chunk at most. */
  private cap = 0

  constructor(
    private readonly stream: Stream,
    private readonly signal: AbortSignal,
  ) {
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('remoteCloseWrite', this.onEnd)
    stream.addEventListener('close', this.onEnd)
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    if (this.failure !== undefined) return
    this.buffer.append(evt.data)
    if (this.buffer.byteLength > Math.max(this.cap, SMALL_FRAME_BYTES) + BUFFER_SLACK) {
      this.failure = new HearthError('TOO_LARGE', 'the other device sent more than the step allows')
      this.buffer.consume(this.buffer.byteLength)
      queueMicrotask(() => this.stream.abort(new Error('pairing frame over the cap')))
    }
    this.wake?.()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    this.wake?.()
  }

  /** The next frame, at most `maxBytes`, decoded; waits at most `idleMs` for it. */
  async read(maxBytes: number, idleMs: number): Promise<unknown> {
    this.cap = maxBytes
    const idle = AbortSignal.any([this.signal, AbortSignal.timeout(idleMs)])
    for (;;) {
      if (this.failure !== undefined) throw this.failure
      const frame = this.take(maxBytes)
      if (frame !== undefined) return decodeCanonical(frame)
      if (this.ended) throw new HearthError('UNREACHABLE', 'the other device closed the link')
      if (idle.aborted) throw new HearthError('TIMEOUT', 'the other device did not answer in time')
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.wake = undefined
          idle.removeEventListener('abort', done)
          resolve()
        }
        this.wake = done
        idle.addEventListener('abort', done, { once: true })
      })
    }
  }

  /** A whole frame from the buffer, or undefined while it is incomplete; refuses a claimed length over the cap. */
  private take(maxBytes: number): Uint8Array | undefined {
    let length = 0
    let scale = 1
    const prefixCap = varintBytes(maxBytes)
    for (let i = 0; ; i++) {
      if (i >= this.buffer.byteLength) return undefined
      if (i >= prefixCap) throw this.fail(new HearthError('TOO_LARGE', 'pairing frame over the size cap'))
      const b = this.buffer.get(i)
      length += (b & 0x7f) * scale
      scale *= 128
      if ((b & 0x80) === 0) {
        if (length > maxBytes) throw this.fail(new HearthError('TOO_LARGE', 'pairing frame over the size cap'))
        if (this.buffer.byteLength < i + 1 + length) return undefined
        const frame = this.buffer.subarray(i + 1, i + 1 + length)
        this.buffer.consume(i + 1 + length)
        return frame
      }
    }
  }

  private fail(err: HearthError): HearthError {
    this.failure = err
    return err
  }

  async send(frame: Record<string, unknown>): Promise<void> {
    await this.sendBytes(frameBytes(frame))
  }

  /** Sends a frame encoded with `frameBytes` (the bundle's flow control needs its size first). */
  async sendBytes(bytes: Uint8Array): Promise<void> {
    if (this.stream.status !== 'open' || this.stream.writeStatus !== 'writable') {
      throw new HearthError('UNREACHABLE', 'the other device closed the link')
    }
    if (!this.stream.send(bytes)) await this.stream.onDrain({ signal: this.signal })
  }

  /** Sends a last frame and closes our side, never throwing: used on the way out of a failed exchange. */
  async sendLast(frame: Record<string, unknown>): Promise<void> {
    this.detach()
    try {
      const signal = AbortSignal.timeout(FLUSH_GRACE_MS)
      if (!this.stream.send(frameBytes(frame))) await this.stream.onDrain({ signal })
      await this.stream.close({ signal })
      this.endSoon()
    } catch {
      this.stream.abort(new Error('pairing ended'))
    }
  }

  /** A peer that never closes its side would keep the stream half-open for minutes: end it after a grace. */
  private endSoon(): void {
    if (this.stream.status !== 'open') return
    const closer = setTimeout(() => this.stream.abort(new Error('pairing ended')), FLUSH_GRACE_MS)
    closer.unref()
    this.stream.addEventListener('close', () => clearTimeout(closer), { once: true })
  }

  /** Ends the stream: closes gracefully, or aborts when the other side stopped reading. */
  async close(): Promise<void> {
    this.detach()
    try {
      await this.stream.close({ signal: AbortSignal.timeout(FLUSH_GRACE_MS) })
      this.endSoon()
    } catch {
      this.stream.abort(new Error('pairing ended'))
    }
  }

  abort(): void {
    this.detach()
    this.stream.abort(new Error('pairing ended'))
  }

  private detach(): void {
    this.stream.removeEventListener('message', this.onMessage)
    this.stream.removeEventListener('remoteCloseWrite', this.onEnd)
    this.stream.removeEventListener('close', this.onEnd)
    // Keep a listener so late bytes are dropped instead of piling up in the stream's own buffer.
    this.stream.addEventListener('message', () => {})
  }
}

/** Every frame but a conversation bundle's. */
export const SMALL_FRAME_BYTES = 64 * 1024
/** A frame of a conversation bundle (a conversation's ops are split over as many as it takes). */
export const BUNDLE_FRAME_BYTES = 8 * 1024 * 1024
/**
 * Bundle bytes E may have sent that N has not acknowledged. libp2p hands a stream's data over as it arrives (the
 * muxer's window is no brake), so without this a fast sender would overrun the reader's cap.
 */
export const BUNDLE_WINDOW_BYTES = BUNDLE_FRAME_BYTES
/** One muxer data frame (yamux's window) that may arrive past the frame being read. */
const BUFFER_SLACK = 256 * 1024 + 64
/** How long a last frame may take to flush before the stream is reset instead. */
const FLUSH_GRACE_MS = 1_000

/** A frame as it goes on the wire: length prefix and canonical CBOR. */
export const frameBytes = (frame: Record<string, unknown>): Uint8Array => lengthPrefixed(encodeCbor(frame))

function varintBytes(value: number): number {
  let n = 1
  for (let v = value; v >= 128; v = Math.floor(v / 128)) n++
  return n
}

/** Strict CBOR that is also canonical: re-encoding gives the same bytes, so a frame cannot be written two ways. */
export function decodeCanonical(frame: Uint8Array): unknown {
  try {
    const value = decodeCbor(frame, BUNDLE_FRAME_BYTES, 'pairing frame')
    if (!equalBytes(encodeCbor(value), frame)) throw new HearthError('MALFORMED', 'pairing frame is not canonical CBOR')
    return value
  } catch (err) {
    if (isHearthError(err)) throw err
    throw new HearthError('MALFORMED', 'unreadable pairing frame', { cause: err })
  }
}
