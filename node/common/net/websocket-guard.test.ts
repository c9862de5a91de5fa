import { connect, type Socket } from 'node:net'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from './testing.js'
import { guardWebSocketListener, guardedWebSockets } from './websocket-guard.js'

const UPGRADE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
/** A masked binary frame with RSV2 and RSV3 set: `ws` refuses it with an 'error' event. */
const RSV_FRAME = Buffer.from([0xf2, 0x81, 1, 2, 3, 4, 0xff])

async function listeningNode(errors: Error[], handshakeTimeoutMs = 10_000): Promise<{ node: Libp2p; port: number }> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [guardedWebSockets({}, { onSocketError: (err) => errors.push(err), handshakeTimeoutMs })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  const port = Number(/\/tcp\/(\d+)/.exec(node.getMultiaddrs()[0]!.toString())![1])
  return { node, port }
}

function openSocket(port: number): Promise<{ socket: Socket; closed: () => boolean; received: () => string }> {
  return new Promise((resolve, reject) => {
    let closed = false
    let text = ''
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, closed: () => closed, received: () => text }))
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    socket.on('close', () => (closed = true))
    socket.on('error', reject)
  })
}

describe('the guarded WebSocket transport', () => {
  const nodes: Libp2p[] = []
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop()
  })

  it('survives a malformed frame, reports it and cuts the socket at once', async () => {
    const errors: Error[] = []
    const { node, port } = await listeningNode(errors)
    nodes.push(node)
    const client = await openSocket(port)
    client.socket.write(UPGRADE)
    await waitFor(() => client.received().startsWith('HTTP/1.1 101'), { message: 'the 101' })
    client.socket.write(RSV_FRAME)
    // Without the guard this is an uncaught 'error' event; without terminate() `ws` waits 30 s for a close frame.
    await waitFor(() => client.closed(), { timeoutMs: 2_000, message: 'the socket to be cut' })
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('RSV2 and RSV3 must be clear')])
  })

  it('drops a connection that never finishes its handshake', async () => {
    const { node, port } = await listeningNode([], 200)
    nodes.push(node)
    const silent = await openSocket(port)
    const partial = await openSocket(port)
    partial.socket.write('GET / HTTP/1.1\r\n')
    await waitFor(() => silent.closed() && partial.closed(), { timeoutMs: 3_000, message: 'both sockets to be dropped' })
  })

  it('does not time out an established connection', async () => {
    const { node, port } = await listeningNode([], 200)
    nodes.push(node)
    const client = await openSocket(port)
    client.socket.write(UPGRADE)
    await waitFor(() => client.received().startsWith('HTTP/1.1 101'), { message: 'the 101' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    // libp2p's own upgrade timeout (10 s) is what ends this silent WebSocket, not the handshake deadline.
    expect(client.closed()).toBe(false)
    client.socket.destroy()
  })

  it('refuses to run unguarded when the listener does not look as expected', () => {
    expect(() => guardWebSocketListener({})).toThrow(/cannot install the WebSocket error guard/)
  })
})
