/**
 * Writes length-prefixed frames to a libp2p stream for net/request-response.ts, several frames per stream write.
 *
 * Every `stream.send` becomes at least one yamux frame, one Noise message (two for 64 KiB: Noise carries at most
 * 65,519 bytes per message), one socket write and, on the other side, one decryption, one dispatch and one window
 * update; that per-message work, not the bytes, is most of what a file transfer costs on a fast link. So frames are
 * gathered into one buffer and sent together: at once when `batchBytes` are waiting, otherwise on the next turn of
 * the event loop (a handler yielding from memory fills a batch; one waiting on the disk sends what it has). The frame
 * header (length prefix and kind byte) is written straight into that buffer, so a frame's payload is copied once.
 *
 * Back-pressure is the stream's: after a send the stream could not take whole, the next `write` waits for it to
 * drain, so at most one batch plus one frame waits here.
 */
import type { Stream } from '@libp2p/interface'

/** Frames gathered before a send: four 64 KiB chunks, one yamux frame (its window starts at 256 KiB). */
export const DEFAULT_BATCH_BYTES = 256 * 1024 - 64

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

interface Queued {
  /** Kind byte written after the length prefix, or -1 for a frame without one (a request). */
  kind: number
  payload: Uint8Array
}

export class FrameWriter {
  #queued: Queued[] = []
  #bytes = 0
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
   * Queues one frame: `kind` (a byte, or -1 for none) then `payload`, under one length prefix. Resolves when the
   * stream can take more; rejects when it failed or the signal fired.
   */
  async write(kind: number, payload: Uint8Array): Promise<void> {
    await this.#ready()
    this.#queued.push({ kind, payload })
    const body = payload.byteLength + (kind < 0 ? 0 : 1)
    this.#bytes += varintLength(body) + body
    if (this.#bytes >= this.batchBytes) this.#send()
    else this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined
      this.#send()
    })
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
    this.#queued = []
    this.#bytes = 0
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

  #send(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
    if (this.#closed || this.#queued.length === 0 || this.#failure !== undefined) return
    const out = new Uint8Array(this.#bytes)
    let at = 0
    for (const { kind, payload } of this.#queued) {
      at = writeVarint(out, at, payload.byteLength + (kind < 0 ? 0 : 1))
      if (kind >= 0) out[at++] = kind
      out.set(payload, at)
      at += payload.byteLength
    }
    this.#queued = []
    this.#bytes = 0
    try {
      if (!this.stream.send(out)) {
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
