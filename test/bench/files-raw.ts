/**
 * The baseline of the files piece: one raw libp2p stream between two `createHearthNode` nodes (the same TCP loopback,
 * Noise and yamux configuration as the cores' nodes, BENCH_NETWORK), carrying a number of bytes in 64 KiB writes with
 * the writer honouring back-pressure. The time runs from the first write until the reader has counted every byte: no
 * framing, no storage, no hashing, no encryption beyond Noise's. What a file transfer could reach on this machine.
 */
import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { BENCH_NETWORK, deferred, now } from './harness.js'

/** A protocol id only the bench nodes speak. */
const RAW_PROTOCOL = '/hearth/bench-raw/1.0.0'
const WRITE_BYTES = 64 * 1024

export interface RawStreamResult {
  bytes: number
  ms: number
  mbPerSecond: number
}

export interface RawPair {
  /** Sends `bytes` over a fresh stream and resolves when the reader has them all. */
  send(bytes: number, timeoutMs: number): Promise<RawStreamResult>
  stop(): Promise<void>
}

export async function rawPair(): Promise<RawPair> {
  const a = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  const b: HearthNode = await createHearthNode({ ...BENCH_NETWORK, onError: () => {} })
  let onBytes: (n: number) => void = () => {}
  await b.libp2p.handle(
    RAW_PROTOCOL,
    (stream) => {
      stream.addEventListener('message', (evt) => onBytes(evt.data.byteLength))
      stream.addEventListener('remoteCloseWrite', () => void stream.close().catch(() => {}))
    },
    { maxInboundStreams: 4 },
  )
  await a.dial(b.addresses()[0]!)
  // One buffer, written again and again: the payload's content does not matter to a raw stream (Noise encrypts it).
  const block = new Uint8Array(randomBytes(WRITE_BYTES))
  return {
    async send(bytes, timeoutMs) {
      let received = 0
      const done = deferred<void>(timeoutMs, `the raw stream's ${bytes} bytes`)
      onBytes = (n) => {
        received += n
        if (received >= bytes) done.resolve()
      }
      const stream = await a.libp2p.dialProtocol(peerIdFromString(b.peerId), RAW_PROTOCOL)
      const t = now()
      for (let sent = 0; sent < bytes; sent += WRITE_BYTES) {
        const piece = bytes - sent >= WRITE_BYTES ? block : block.subarray(0, bytes - sent)
        if (!stream.send(piece)) await stream.onDrain()
      }
      await done.promise
      const ms = now() - t
      await stream.close().catch(() => stream.abort(new Error('bench stream over')))
      return { bytes, ms, mbPerSecond: bytes / 1e6 / (ms / 1e3) }
    },
    async stop() {
      await Promise.allSettled([a.stop(), b.stop()])
    },
  }
}
