/**
 * Reads length-prefixed (unsigned varint) frames off a libp2p stream for net/request-response.ts.
 *
 * It replaces `lpStream` from @libp2p/utils on Hearth's hot path (a file moves as thousands of 64 KiB frames): that
 * one reads the length prefix a byte at a time through an async read each, and each caller wrapped every read in a
 * fresh `AbortSignal.timeout` plus `AbortSignal.any`, i.e. a timer and two signals per frame. Here bytes are kept as
 * the pieces the muxer delivered, a frame that lies inside one piece is returned as a view of it (only a frame
 * spanning pieces is copied, once), a frame already buffered is returned without waiting, and one timer per stream
 * enforces the per-frame deadline.
 *
 * The checks are lpStream's and the caller's, with the same outcomes: a length over the cap is refused from the
 * prefix before the body is buffered (and so is a prefix longer than the cap needs); more unread bytes than
 * `maxBufferBytes` cut the stream off; a frame not complete `readTimeoutMs` after it was asked for, or an exchange
 * whose signal fired, is a TIMEOUT; a stream that ends inside a frame is MALFORMED; a reset is UNREACHABLE.
 */
import { HearthError } from '../errors.js'
import type { Stream } from '@libp2p/interface'

export interface FrameReaderOptions {
  /** Largest frame accepted, from its length prefix. */
  maxFrameBytes: number
  /** Most unread bytes held; a peer that sends more (beyond what the muxer window allows) is cut off. */
  maxBufferBytes: number
  /** How long one frame may take once asked for (however many bytes of it trickle in meanwhile). */
  readTimeoutMs: number
  /** The exchange: once aborted, reads fail with TIMEOUT. */
  signal: AbortSignal
  /** What the frames are, for error messages: 'request' or 'response'. */
  what: string
}

/** Bytes of the longest unsigned varint that can encode `max`. */
function varintBytes(max: number): number {
  let n = 1
  for (let rest = max; rest >= 0x80; rest = Math.floor(rest / 128)) n++
  return n
}

interface Waiter {
  resolve: (frame: Uint8Array) => void
  reject: (err: HearthError) => void
  since: number
}

export class FrameReader {
  readonly #stream: Stream
  readonly #opts: FrameReaderOptions
  readonly #maxPrefixBytes: number
  /** Unread bytes: `#pieces[#head]` from `#offset` onwards, then the following pieces. */
  #pieces: Uint8Array[] = []
  #head = 0
  #offset = 0
  #buffered = 0
  /** Body length of the next frame once its prefix is read; -1 before. */
  #frameLength = -1
  #failure: HearthError | undefined
  #waiter: Waiter | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false

  readonly #onMessage = (evt: { data: Uint8Array | Iterable<Uint8Array> }): void => {
    if (this.#failure !== undefined) return
    const data = evt.data
    if (data instanceof Uint8Array) this.#push(data)
    else for (const piece of data) this.#push(piece)
    if (this.#buffered > this.#opts.maxBufferBytes) {
      // The muxer window normally keeps a peer far below this; one that gets past it is cut off, as lpStream did.
      this.#fail(new HearthError('UNREACHABLE', `${this.#opts.what} stream sent more than its buffer allows`, { publicMessage: 'stream failed' }))
      const err = new Error('read buffer overflow')
      queueMicrotask(() => this.#stream.abort(err))
      return
    }
    this.#settle()
  }

  readonly #onClose = (evt: { error?: Error }): void => {
    if (evt.error !== undefined) {
      this.#fail(
        new HearthError('UNREACHABLE', `stream failed while reading the ${this.#opts.what}`, { cause: evt.error, publicMessage: 'stream failed' }),
      )
      return
    }
    this.#settleSoon()
  }

  // The muxer reports the remote's close before it hands over the data that came with it: look once that is in.
  readonly #onRemoteCloseWrite = (): void => this.#settleSoon()

  readonly #onAbort = (): void => {
    this.#fail(new HearthError('TIMEOUT', `${this.#opts.what} not received in time`))
  }

  constructor(stream: Stream, opts: FrameReaderOptions) {
    this.#stream = stream
    this.#opts = opts
    this.#maxPrefixBytes = varintBytes(opts.maxFrameBytes)
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('close', this.#onClose)
    stream.addEventListener('remoteCloseWrite', this.#onRemoteCloseWrite)
    if (opts.signal.aborted) this.#onAbort()
    else opts.signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  /** The next frame's body. One read at a time. Rejects with HearthError (see the file comment). */
  read(): Promise<Uint8Array> {
    if (this.#waiter !== undefined) return Promise.reject(new HearthError('INTERNAL', 'frame reads overlap'))
    try {
      const frame = this.#take()
      if (frame !== undefined) return Promise.resolve(frame)
    } catch (err) {
      return Promise.reject(err as HearthError)
    }
    const stop = this.#stopReason()
    if (stop !== undefined) return Promise.reject(stop)
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#waiter = { resolve, reject, since: performance.now() }
      this.#timer ??= setTimeout(this.#onTimer, this.#opts.readTimeoutMs)
    })
  }

  /**
   * Stops reading for good: listeners and the timer go, buffered bytes are dropped, and whatever the peer still sends
   * is discarded as it arrives (a stream without a reader would buffer it until libp2p resets the stream).
   */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#fail(new HearthError('INTERNAL', 'frame reader stopped'))
    this.#stream.removeEventListener('message', this.#onMessage)
    this.#stream.removeEventListener('close', this.#onClose)
    this.#stream.removeEventListener('remoteCloseWrite', this.#onRemoteCloseWrite)
    this.#opts.signal.removeEventListener('abort', this.#onAbort)
    this.#stream.addEventListener('message', () => {})
  }

  /**
   * The one deadline timer: armed when a read starts waiting and none is armed. When it fires it fails a read that
   * has waited `readTimeoutMs`, or waits out the rest for a read that started later; with no read waiting it stops.
   */
  readonly #onTimer = (): void => {
    this.#timer = undefined
    const waiter = this.#waiter
    if (waiter === undefined || this.#stopped) return
    const waited = performance.now() - waiter.since
    if (waited >= this.#opts.readTimeoutMs) {
      this.#waiter = undefined
      waiter.reject(new HearthError('TIMEOUT', `${this.#opts.what} not received in time`))
      return
    }
    this.#timer = setTimeout(this.#onTimer, this.#opts.readTimeoutMs - waited)
  }

  #push(piece: Uint8Array): void {
    if (piece.byteLength === 0) return
    this.#pieces.push(piece)
    this.#buffered += piece.byteLength
  }

  /** Hands a waiting read its frame, or its failure, once either is known. */
  #settle(): void {
    const waiter = this.#waiter
    if (waiter === undefined) return
    let frame: Uint8Array | undefined
    try {
      frame = this.#take()
    } catch (err) {
      this.#waiter = undefined
      waiter.reject(err as HearthError)
      return
    }
    if (frame !== undefined) {
      this.#waiter = undefined
      waiter.resolve(frame)
      return
    }
    const stop = this.#stopReason()
    if (stop !== undefined) {
      this.#waiter = undefined
      waiter.reject(stop)
    }
  }

  #settleSoon(): void {
    queueMicrotask(() => this.#settle())
  }

  #fail(err: HearthError): void {
    this.#failure ??= err
    this.#pieces = []
    this.#head = 0
    this.#offset = 0
    this.#buffered = 0
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(this.#failure)
  }

  /** Why no frame will come, if that is known: a failure, or the end of the stream. */
  #stopReason(): HearthError | undefined {
    if (this.#failure !== undefined) return this.#failure
    // Ended: the remote closed its side and the stream holds nothing undelivered (what it buffered before we listened
    // is handed to us as soon as we do).
    const stream = this.#stream
    if (stream.remoteWriteStatus !== 'writable' && stream.readBufferLength === 0) {
      return new HearthError('MALFORMED', `stream ended in the middle of the ${this.#opts.what}`)
    }
    return undefined
  }

  /** The next complete frame, consumed; undefined when it has not all arrived. Throws TOO_LARGE from the prefix. */
  #take(): Uint8Array | undefined {
    if (this.#failure !== undefined) return undefined
    if (this.#frameLength < 0 && !this.#readPrefix()) return undefined
    const length = this.#frameLength
    if (this.#buffered < length) return undefined
    this.#frameLength = -1
    this.#buffered -= length
    if (length === 0) return new Uint8Array(0)
    const first = this.#pieces[this.#head]!
    if (first.byteLength - this.#offset >= length) {
      const frame = first.subarray(this.#offset, this.#offset + length)
      this.#advance(length)
      return frame
    }
    // The frame spans pieces: the one copy, so the caller gets contiguous bytes.
    const frame = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const piece = this.#pieces[this.#head]!
      const n = Math.min(piece.byteLength - this.#offset, length - filled)
      frame.set(piece.subarray(this.#offset, this.#offset + n), filled)
      filled += n
      this.#advance(n)
    }
    return frame
  }

  /** Reads the length prefix if it has all arrived (consuming it); throws TOO_LARGE as soon as it cannot fit the cap. */
  #readPrefix(): boolean {
    let value = 0
    let scale = 1
    let bytes = 0
    let index = this.#head
    let offset = this.#offset
    for (;;) {
      const piece = this.#pieces[index]
      if (piece === undefined) return false
      if (offset >= piece.byteLength) {
        index++
        offset = 0
        continue
      }
      const byte = piece[offset++]!
      bytes++
      value += (byte & 0x7f) * scale
      if (byte < 0x80) break
      if (bytes >= this.#maxPrefixBytes) throw this.#tooLarge()
      scale *= 128
    }
    if (value > this.#opts.maxFrameBytes) throw this.#tooLarge()
    this.#advance(bytes)
    this.#buffered -= bytes
    this.#frameLength = value
    return true
  }

  #tooLarge(): HearthError {
    const err = new HearthError('TOO_LARGE', `${this.#opts.what} frame over the size cap`)
    this.#fail(err)
    return err
  }

  /** Moves the read position `n` bytes on (the byte count is the caller's to keep). */
  #advance(n: number): void {
    let rest = n
    while (rest > 0) {
      const piece = this.#pieces[this.#head]!
      const left = piece.byteLength - this.#offset
      if (rest < left) {
        this.#offset += rest
        return
      }
      rest -= left
      this.#head++
      this.#offset = 0
    }
    const piece = this.#pieces[this.#head]
    if (piece !== undefined && this.#offset === piece.byteLength) {
      this.#head++
      this.#offset = 0
    }
    if (this.#head >= 64 || this.#head === this.#pieces.length) {
      this.#pieces = this.#pieces.slice(this.#head)
      this.#head = 0
    }
  }
}
