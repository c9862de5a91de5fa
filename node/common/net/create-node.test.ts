import { afterEach, describe, expect, it } from 'vitest'
import { fromUtf8, utf8 } from '../util/bytes.js'
import { createHearthNode, type HearthNode, type NodeOptions } from './create-node.js'
import { PeerPenalties } from './peer-penalties.js'
import { waitFor } from './testing.js'

const LOOPBACK_TCP = ['/ip4/127.0.0.1/tcp/0']

describe('createHearthNode', () => {
  const nodes: HearthNode[] = []

  async function start(options: NodeOptions = {}): Promise<HearthNode> {
    // Tests bind 127.0.0.1 only; memory nodes pick their own /memory address.
    const node = await createHearthNode({ ...(options.transports === 'memory' ? {} : { listen: LOOPBACK_TCP }), ...options })
    nodes.push(node)
    return node
  }

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  async function connect(a: HearthNode, b: HearthNode): Promise<void> {
    await a.dial(b.addresses()[0]!)
    await waitFor(() => a.connectedPeers().includes(b.peerId) && b.connectedPeers().includes(a.peerId), {
      message: 'connection',
    })
  }

  it('delivers gossip over TCP loopback and dedupes identical payloads by content hash', async () => {
    const alice = await start()
    const bob = await start()
    await connect(alice, bob)
    const topic = 'topic-a'
    const received: string[] = []
    alice.subscribe(topic, () => {})
    bob.subscribe(topic, (data, from) => {
      expect(from).toBe(alice.peerId)
      received.push(fromUtf8(data))
    })
    await waitFor(() => alice.topicPeers(topic).includes(bob.peerId), { message: 'subscription' })

    const first = await alice.publish(topic, utf8('hello'))
    expect(first.recipients).toBe(1)
    await waitFor(() => received.length === 1)

    // Same bytes again: same message id, so it is not published (0 recipients) and not delivered twice.
    const again = await alice.publish(topic, utf8('hello'))
    expect(again.recipients).toBe(0)
    await alice.publish(topic, utf8('second'))
    await waitFor(() => received.length === 2)
    expect(received).toEqual(['hello', 'second'])
  })

  it('publishing with nobody subscribed returns 0 recipients instead of throwing', async () => {
    const alice = await start()
    await expect(alice.publish('nobody-here', utf8('x'))).resolves.toEqual({ recipients: 0 })
  })

  it('refuses to publish an oversized message', async () => {
    const alice = await start({ gossip: { maxMessageBytes: 1024 } })
    await expect(alice.publish('t', new Uint8Array(1025))).rejects.toMatchObject({ code: 'TOO_LARGE' })
  })

  it('a rejecting validator stops delivery and forwarding in a line A-B-C and scores A down', async () => {
    const penalties = new PeerPenalties()
    const a = await start()
    const b = await start({ penalties })
    const c = await start()
    await connect(a, b)
    await connect(b, c)
    expect(a.connectedPeers()).not.toContain(c.peerId)

    const topic = 'line'
    const atB: string[] = []
    const atC: string[] = []
    b.setTopicValidator(topic, (data) => (fromUtf8(data).startsWith('bad') ? 'reject' : 'accept'))
    a.subscribe(topic, () => {})
    b.subscribe(topic, (data) => atB.push(fromUtf8(data)))
    c.subscribe(topic, (data) => atC.push(fromUtf8(data)))
    await waitFor(() => a.topicPeers(topic).includes(b.peerId) && c.topicPeers(topic).includes(b.peerId), {
      message: 'subscriptions',
    })
    // B must see C in the mesh before A publishes, or B would have nobody to forward the good message to.
    await waitFor(() => b.topicPeers(topic).includes(c.peerId) && b.topicPeers(topic).includes(a.peerId))

    await a.publish(topic, utf8('bad one'))
    await a.publish(topic, utf8('good one'))
    await waitFor(() => atC.includes('good one'), { message: 'good message at C' })
    expect(atB).toEqual(['good one'])
    expect(atC).toEqual(['good one'])
    await waitFor(() => b.peerScore(a.peerId) < 0, { message: 'negative score for A at B' })
    expect(penalties.counts()).toEqual({ 'gossip-invalid': 1 })
  })

  it('forms a mesh of 4 nodes over the memory transport and gossip reaches all', async () => {
    const all = await Promise.all([0, 1, 2, 3].map(() => start({ transports: 'memory' })))
    // A ring plus one chord: not a full mesh, so delivery to the far node needs forwarding.
    await connect(all[0]!, all[1]!)
    await connect(all[1]!, all[2]!)
    await connect(all[2]!, all[3]!)
    await connect(all[3]!, all[0]!)
    const topic = 'memory-mesh'
    const seen = all.map(() => [] as string[])
    all.forEach((n, i) => n.subscribe(topic, (data) => seen[i]!.push(fromUtf8(data))))
    await waitFor(() => all.every((n) => n.topicPeers(topic).length >= 2), { message: 'subscriptions' })
    for (let i = 0; i < all.length; i++) await all[i]!.publish(topic, utf8(`from ${i}`))
    await waitFor(() => seen.every((s) => s.length === 3), { message: 'all messages everywhere' })
    seen.forEach((s, i) => expect(s.sort()).toEqual([0, 1, 2, 3].filter((j) => j !== i).map((j) => `from ${j}`)))
  })

  it('a banned peer is disconnected and cannot reconnect', async () => {
    const penalties = new PeerPenalties({ threshold: 10 })
    const alice = await start({ penalties })
    const mallory = await start()
    await connect(mallory, alice)
    penalties.penalise(mallory.peerId, 'garbage', 10)
    await waitFor(() => !alice.connectedPeers().includes(mallory.peerId), { message: 'disconnect' })
    const reconnects: string[] = []
    alice.onPeerConnected((peer) => reconnects.push(peer))
    // The dialer may finish its half of the Noise handshake before alice's gater refuses it, so its dial can
    // resolve; what matters is that alice never admits the connection and it gets closed.
    await mallory.dial(alice.addresses()[0]!).catch(() => {})
    await waitFor(() => mallory.libp2p.getConnections().length === 0, { message: 'refused connection closed' })
    expect(reconnects).toEqual([])
    expect(alice.connectedPeers()).not.toContain(mallory.peerId)
  })

  it('dials bootstrap peers and reports them as discovered', async () => {
    const relay = await start()
    const discovered: string[] = []
    const alice = await createHearthNode({ listen: LOOPBACK_TCP, bootstrap: [relay.addresses()[0]!] })
    nodes.push(alice)
    alice.onPeerDiscovered((peer, source) => discovered.push(`${source}:${peer}`))
    await waitFor(() => alice.connectedPeers().includes(relay.peerId), { message: 'bootstrap connection' })
    await waitFor(() => discovered.includes(`bootstrap:${relay.peerId}`))
  })

  it('runs kad-dht under the /hearth prefix: relays serve, desktops are clients', async () => {
    const relay = await start({ transports: 'memory', dht: 'server' })
    const alice = await start({ transports: 'memory', dht: 'client' })
    expect(relay.libp2p.getProtocols()).toContain('/hearth/kad/1.0.0')
    expect(relay.libp2p.getProtocols()).not.toContain('/ipfs/kad/1.0.0')
    expect(relay.libp2p.services.dht?.getMode()).toBe('server')
    expect(alice.libp2p.services.dht?.getMode()).toBe('client')
    await connect(alice, relay)
    // Loopback-style (private) addresses are kept by the pass-through mapper, so the relay lands in the table.
    const table = (): number =>
      (alice.libp2p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
    await waitFor(() => table() > 0, { message: 'relay in the client routing table' })
  })

  it('finds and connects to a peer via mDNS', async () => {
    // A unique service tag keeps this run from seeing (and dialing) anything else announcing on this machine.
    const serviceTag = `_hearth-test-${Math.random().toString(36).slice(2, 10)}._udp.local`
    const discovered: string[] = []
    const alice = await start({ mdns: { serviceTag, interval: 500 } })
    alice.onPeerDiscovered((peer, source) => discovered.push(`${source}:${peer}`))
    const bob = await start({ mdns: { serviceTag, interval: 500 } })
    await waitFor(() => alice.connectedPeers().includes(bob.peerId), { timeoutMs: 15_000, message: 'mDNS connect' })
    expect(discovered).toContain(`mdns:${bob.peerId}`)
  })
})
