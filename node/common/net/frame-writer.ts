/**
 * Writes length-prefixed frames to a libp2p stream for net/request-response.ts, several frames per stream write.
 *
 * Every `stream.send` becomes at least one yamux frame, one Noise message per 65,519 bytes (and one more for the
 * rest), one socket write per message and, on the other side, one decryption and dispatch per message and a window
 * update per yamux frame: per-message work that costs as much as the bytes on a fast link. A 64 KiB chunk frame sent
 * alone is one yamux frame but two Noise messages (64 KiB and a 41-byte tail). So frames are written into send
 * buffers of `batchBytes` (default: exactly four full Noise messages with the yamux header, the most one yamux frame
 * takes with its initial 256 KiB window), a frame continuing in the next buffer when it does not fit: the wire is a
 * byte stream and the reader does not care where one send ends. A full buffer is sent at once; a partial one on the
 * next turn of the event loop (a handler yielding from memory fills buffers; one waiting on the disk sends what it
 * has) or on `flush`. The frame header is written straight into the buffer, so a payload is copied once.
 *
 * Back-pressure is the stream's: after a send the stream could not take whole, the next `write` waits for it to
 * drain, so at most one frame's worth of buffers waits beyond what the stream holds.
 */
import type { Stream } from '@libp2p/interface'

/** Noise's largest plaintext per message (65,535 minus the 16-byte tag) and yamux's frame header. */
const NOISE_PLAINTEXT_BYTES = 65_519
const YAMUX_HEADER_BYTES = 12
/** Four full Noise messages per yamux frame; with the default 256 KiB stream window a yamux frame carries this whole. */
export const DEFAULT_BATCH_BYTES = 4 * NOISE_PLAINTEXT_BYTES - YAMUX_HEADER_BYTES

export function varintLength(value: number): number {
  let n = 1
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) n++
  return n
}

/** Writes `value` as an unsigned varint at `at`; returns the position after it. */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  let rest = value
  let i = at
  while (rest >= 0x80) {
    out[i++] = (rest & 0x7f) | 0x80
    rest = Math.floor(rest / 128)
  }
  out[i++] = rest
  return i
}

export class FrameWriter {
  /** The send buffer being filled, and how much of it is. */
  #buf: Uint8Array | undefined
  #used = 0
  #header = new Uint8Array(11)
  #immediate: ReturnType<typeof setImmediate> | undefined
  #drained: Promise<void> | undefined
  #failure: unknown
  #closed = false

  constructor(
    private readonly stream: Stream,
    private readonly signal: AbortSignal,
    private readonly batchBytes = DEFAULT_BATCH_BYTES,
  ) {}

  /**
   * Queues one frame: `kind` (a byte, or -1 for none) then `payload` (one buffer, or parts that follow one another),
   * under one length prefix. Resolves when the stream can take more; rejects when it failed or the signal fired.
   */
  async write(kind: number, payload: Uint8Array | readonly Uint8Array[]): Promise<void> {
    await this.#ready()
    const parts = payload instanceof Uint8Array ? [payload] : payload
    let length = kind < 0 ? 0 : 1
    for (const part of parts) length += part.byteLength
    let at = writeVarint(this.#header, 0, length)
    if (kind >= 0) this.#header[at++] = kind
    this.#put(this.#header.subarray(0, at))
    for (const part of parts) this.#put(part)
    if (this.#used > 0) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined
        this.#send()
      })
    }
    await this.#ready()
  }

  /** Sends what is queued now and resolves once the stream has taken it (or rejects as `write` does). */
  async flush(): Promise<void> {
    this.#send()
    await this.#ready()
  }

  /** Drops what is queued and stops the pending send (the exchange is over). */
  dispose(): void {
    this.#closed = true
    this.#buf = undefined
    this.#used = 0
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
  }

  async #ready(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure
    if (this.signal.aborted) throw this.signal.reason
    const drained = this.#drained
    if (drained === undefined) return
    await drained
    if (this.#drained === drained) this.#drained = undefined
  }

  /** Copies `bytes` into send buffers, sending each as it fills. */
  #put(bytes: Uint8Array): void {
    let from = 0
    while (from < bytes.byteLength) {
      this.#buf ??= new Uint8Array(this.batchBytes)
      const n = Math.min(this.batchBytes - this.#used, bytes.byteLength - from)
      this.#buf.set(bytes.subarray(from, from + n), this.#used)
      this.#used += n
      from += n
      if (this.#used === this.batchBytes) this.#send()
    }
  }

  #send(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
    const buf = this.#buf
    const used = this.#used
    this.#buf = undefined
    this.#used = 0
    if (this.#closed || buf === undefined || used === 0 || this.#failure !== undefined) return
    try {
      if (!this.stream.send(used === buf.byteLength ? buf : buf.subarray(0, used))) {
        const drained = this.stream.onDrain({ signal: this.signal })
        // A send from the timer has nobody awaiting it yet: the next write or flush takes the outcome.
        drained.catch(() => {})
        this.#drained = drained
      }
    } catch (err) {
      // The stream closed under us (the peer reset it): the next write or flush reports it.
      this.#failure = err
    }
  }
}
