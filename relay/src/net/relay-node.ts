/**
 * The relay's libp2p node. Composed here rather than with node/common's createHearthNode because a relay is a
 * different kind of peer: no gossipsub (it is in no conversation's mesh), and services a desktop does not run — a
 * circuit relay v2 server, the DHT in server mode, the AutoNAT service. The wire policy it shares with the core is
 * kept identical: TCP and WebSockets, Noise, yamux, Hearth's private DHT prefix, bans enforced by the connection gater.
 *
 * Limits, and why (docs/LIMITS.md, "Relay"):
 * - Circuit relay reservations and circuits are for setting up connections (DCUtR hole punching, signalling), not for
 *   carrying chat traffic for strangers: few minutes and ~128 KiB per circuit by default, a bounded number of
 *   reservations. Mailbox traffic goes over direct connections to the relay, never through circuits.
 * - Connections over `maxConnections` are refused at the door (before the Noise handshake costs CPU) and counted.
 */
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { identify, type Identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper, type KadDHT } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { HearthError, drop } from '../../../node/common/errors.js'
import { guardedWebSockets } from '../../../node/common/net/websocket-guard.js'
import type { HearthNode, HearthServices } from '../../../node/common/net/create-node.js'
import type { PeerPenalties } from '../../../node/common/net/peer-penalties.js'
import type { RelayConfig } from '../config.js'
import type { Libp2p, PeerId, PrivateKey, ServiceMap } from '@libp2p/interface'

/** Hearth's DHT protocol; must equal the prefix in node/common/net/create-node.ts (the DHT discovery test checks). */
export const HEARTH_DHT_PROTOCOL = '/hearth/kad/1.0.0'

export interface RelayServices extends ServiceMap {
  identify: Identify
  ping: Ping
  relay: CircuitRelayService
  dht?: KadDHT
  autoNAT: unknown
}

export interface RelayNodeHooks {
  penalties: PeerPenalties
  /** A connection refused because the relay is at `maxConnections`. */
  onConnectionRefused(): void
}

export async function createRelayNode(config: RelayConfig, privateKey: PrivateKey, hooks: RelayNodeHooks): Promise<Libp2p<RelayServices>> {
  const { penalties } = hooks
  const banned = (peer: PeerId): boolean => penalties.isBanned(peer.toString())
  let node: Libp2p<RelayServices> | undefined

  const services: Record<string, (components: never) => unknown> = {
    identify: identify(),
    ping: ping(),
    relay: circuitRelayServer({
      reservations: {
        maxReservations: config.circuitMaxReservations,
        reservationTtl: config.circuitReservationTtl,
        applyDefaultLimit: true,
        defaultDurationLimit: config.circuitDurationLimit,
        defaultDataLimit: BigInt(config.circuitDataLimit),
      },
    }),
    autoNAT: autoNAT(),
  }
  if (config.dht) {
    services.dht = kadDHT({
      protocol: HEARTH_DHT_PROTOCOL,
      clientMode: false,
      // 'public' on the internet (kad-dht's default: private addresses are useless to remote peers); 'all' on a LAN
      // or in tests, where the routing table would otherwise stay empty.
      peerInfoMapper: config.dhtAddresses === 'public' ? removePrivateAddressesMapper : passthroughMapper,
    }) as (components: never) => unknown
  }

  node = (await createLibp2p({
    privateKey,
    addresses: { listen: config.listen, ...(config.announce.length > 0 ? { announce: config.announce } : {}) },
    transports: [tcp(), guardedWebSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxInboundStreams: config.maxStreamsPerConnection })],
    connectionManager: {
      // Our gater refuses (and counts) at maxConnections; libp2p's own limit is a backstop above it.
      maxConnections: config.maxConnections + 64,
      inboundConnectionThreshold: config.connectionRatePerHost,
      maxIncomingPendingConnections: 256,
    },
    // libp2p pings every connection (a new stream each time) and aborts those that do not answer within an adaptive
    // timeout of at least 5 s. A relay holds hundreds of connections and may be briefly busy: ping less often and give
    // answers longer, so a load spike does not drop clients exactly when they are waiting for it.
    connectionMonitor: { pingInterval: 30_000, pingTimeout: { minTimeout: 20_000 } },
    connectionGater: {
      denyInboundConnection: () => {
        if (node !== undefined && node.getConnections().length >= config.maxConnections) {
          hooks.onConnectionRefused()
          return true
        }
        return false
      },
      denyInboundEncryptedConnection: banned,
      denyOutboundEncryptedConnection: banned,
      denyDialPeer: banned,
      denyInboundRelayReservation: banned,
      denyInboundRelayedConnection: (_relay: PeerId, remote: PeerId) => banned(remote),
    },
    services: services as never,
  })) as unknown as Libp2p<RelayServices>

  // The gater sees connections one at a time before they are counted, so a burst of simultaneous dials can slip past
  // it; this catches the overflow once the connection exists, and closes the newest inbound ones beyond the limit.
  const relayNode = node
  relayNode.addEventListener('connection:open', (evt) => {
    const connection = evt.detail
    if (connection.direction !== 'inbound' || relayNode.getConnections().length <= config.maxConnections) return
    hooks.onConnectionRefused()
    connection.abort(new Error('relay at its connection limit'))
  })

  // A relay is told to serve the DHT whatever AutoNAT concludes about its reachability.
  if (node.services.dht !== undefined) await node.services.dht.setMode('server')
  penalties.onBan((peer) => {
    drop(node.hangUp(peerIdFromString(peer)))
  })
  return node
}

/**
 * The HearthNode face node/common's request/response layer expects, over the relay's node. The gossip half has
 * nothing behind it: a relay is in no conversation's mesh.
 */
export function asHearthNode(node: Libp2p<RelayServices>, penalties: PeerPenalties): HearthNode {
  const noGossip = (): never => {
    throw new HearthError('NOT_RUNNING', 'a relay does not run gossipsub')
  }
  const listen = (event: 'peer:connect' | 'peer:disconnect', callback: (peer: string) => void): (() => void) => {
    const listener = (evt: CustomEvent<PeerId>): void => callback(evt.detail.toString())
    node.addEventListener(event, listener)
    return () => node.removeEventListener(event, listener)
  }
  return {
    peerId: node.peerId.toString(),
    // request-response uses handle/unhandle/dialProtocol, which do not depend on the service map.
    libp2p: node as unknown as Libp2p<HearthServices>,
    penalties,
    addresses: () => node.getMultiaddrs().map(String),
    subscribe: noGossip,
    unsubscribe: noGossip,
    publish: async () => noGossip(),
    setTopicValidator: noGossip,
    removeTopicValidator: noGossip,
    topicPeers: () => [],
    connectedPeers: () => node.getPeers().map(String),
    peerScore: () => 0,
    async dial(target) {
      try {
        await node.dial(target.startsWith('/') ? multiaddr(target) : peerIdFromString(target), { signal: AbortSignal.timeout(15_000) })
      } catch (err) {
        throw new HearthError('UNREACHABLE', `dial ${target} failed`, { cause: err, publicMessage: 'peer unreachable' })
      }
    },
    hangUp: async (peer) => {
      await node.hangUp(peerIdFromString(peer))
    },
    onPeerConnected: (callback) => listen('peer:connect', callback),
    onPeerDisconnected: (callback) => listen('peer:disconnect', callback),
    onPeerDiscovered: () => () => {},
    stop: async () => {
      await node.stop()
    },
  }
}
