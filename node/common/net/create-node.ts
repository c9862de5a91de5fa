/**
 * Builds the libp2p node every Hearth process runs (desktop core and relay alike) and wraps it in a small API.
 *
 * This file knows nothing about conversations or documents: topics are opaque strings and payloads opaque bytes.
 * What it does know is the wire policy (docs/PROTOCOL.md, "Gossipsub"):
 *  - gossipsub with StrictNoSign and content-hash message ids, so forwarders do not learn who published;
 *  - gossip is a fast path only (publishing with nobody listening is not an error; sync delivers later);
 *  - a per-message size cap and topic validators that score a forwarder down when it relays junk;
 *  - discovery (mDNS, bootstrap, DHT) only reports peers, so this file dials them itself.
 */
import { createHash, randomUUID } from 'node:crypto'
import { autoNAT } from '@libp2p/autonat'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
import { FaultTolerance, peerDiscoverySymbol } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { noise } from '@libp2p/noise'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webRTC } from '@libp2p/webrtc'
import { yamux } from '@libp2p/yamux'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { HearthError, drop } from '../errors.js'
import { guardedWebSockets } from './websocket-guard.js'
import type { GossipSub, GossipsubOpts, TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PeerDiscovery, PeerId, PeerInfo, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import { AutoDialer } from './auto-dialer.js'
import type { PeerPenalties } from './peer-penalties.js'

/** Gossip payload cap (envelopes are at most 64 KiB, `Limits.maxEnvelopeBytes`; this leaves room for framing and growth). */
export const DEFAULT_MAX_MESSAGE_BYTES = 128 * 1024

/**
 * Cap on one gossipsub RPC frame. It must be larger than one message: gossipsub answers an IWANT with several
 * messages batched in a single RPC, and a frame over the cap kills the whole inbound stream, not just the message.
 */
export const DEFAULT_MAX_RPC_BYTES = 1024 * 1024


export { REDIAL_BACKOFF_MS } from './auto-dialer.js'
export type DiscoverySource = 'mdns' | 'bootstrap' | 'dht'
export type ValidationResult = 'accept' | 'reject' | 'ignore'
export type TopicValidator = (data: Uint8Array, from: string) => ValidationResult
export type MessageHandler = (data: Uint8Array, from: string) => void

export interface GossipOptions {
  /** Largest accepted payload; bigger messages are refused on publish and rejected (and scored) on receipt. */
  maxMessageBytes?: number
  /** Largest gossipsub RPC frame read from a peer. Default 1 MiB; must be >= maxMessageBytes. */
  maxRpcBytes?: number
  /** Gossipsub heartbeat, ms. Default 1000 (gossipsub's default). */
  heartbeatIntervalMs?: number
  /** Send own messages to every known subscriber, not just the mesh. Default true (small groups, fast delivery). */
  floodPublish?: boolean
  /** Overrides for gossipsub's score thresholds (gossip/publish/graylist). */
  scoreThresholds?: Partial<PeerScoreThresholds>
  /** Overrides for the per-topic score parameters applied to every topic that has a validator. */
  topicScoreParams?: Partial<TopicScoreParams>
  /** Weight given to PeerPenalties when a validator rejects a message a peer forwarded. Default 10. */
  rejectPenalty?: number
}

export interface NodeOptions {
  /** libp2p Ed25519 key (the caller loads it with `privateKeyFromProtobuf`). A fresh one is made when absent. */
  privateKey?: PrivateKey
  /** Listen addresses. Default TCP and WebSockets on all interfaces, or a fresh /memory address for 'memory'. */
  listen?: string[]
  /** 'memory' runs many nodes in one test process without sockets. Default 'tcp+ws'. */
  transports?: 'tcp+ws' | 'memory'
  /** LAN discovery. The service tag keeps Hearth's announcements apart from other libp2p apps on the LAN. */
  mdns?: boolean | { serviceTag?: string; interval?: number }
  /** Multiaddrs (with /p2p/) of relays to connect to at start. */
  bootstrap?: string[]
  /** kad-dht under Hearth's own prefix. Desktops are clients; relays are servers. Default false. */
  dht?: 'client' | 'server' | false
  /**
   * Which addresses the DHT keeps. 'all' (default) keeps private and loopback addresses: Hearth works on LANs and in
   * tests, where kad-dht's default (public only) leaves the routing table empty and `provide()` hangs. Relays on the
   * public internet should use 'public'.
   */
  dhtAddresses?: 'all' | 'public'
  connectionLimits?: { maxConnections?: number; inboundConnectionThreshold?: number }
  gossip?: GossipOptions
  /** Misbehaviour tracker: banned peers are refused by the connection gater and disconnected at once. */
  penalties?: PeerPenalties
  /**
   * NAT traversal for desktops: hole punching (DCUtR) upgrades a relayed connection to a direct one, AutoNAT asks
   * peers whether our addresses are reachable, and WebRTC (private-to-private, signalled over a relay circuit) is a
   * transport for peers that TCP hole punching cannot join. Off by default (relays and tests do not want it).
   */
  nat?: {
    dcutr?: boolean
    autonat?: boolean
    /** STUN/TURN servers for WebRTC; none by default (public STUN is a third party the user did not choose). */
    webrtc?: false | { iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }> }
  }
  /**
   * Relays (multiaddrs with /p2p/) to hold a reservation on, so peers that cannot dial us directly reach us through
   * `<relay>/p2p-circuit/p2p/<us>`. Each becomes a listen address.
   */
  relayReservations?: string[]
  /** Receives errors that have no caller to return to (a throwing message handler, a failed background dial). */
  onError?: (err: unknown, context: string) => void
}

export interface HearthNode {
  readonly peerId: string
  /** The raw libp2p node, for what this wrapper does not cover. */
  readonly libp2p: Libp2p<HearthServices>
  /** The misbehaviour tracker given in NodeOptions; direct protocols report abuse to it. */
  readonly penalties: PeerPenalties | undefined
  /** Our dialable multiaddrs, each ending in /p2p/<our id>. */
  addresses(): string[]
  /**
   * Adds a message handler for a topic (subscribing on the first one). `from` is the peer that forwarded the message
   * to us, not its author: with StrictNoSign the author is unknown here. Returns a function removing this handler.
   */
  subscribe(topic: string, onMessage: MessageHandler): () => void
  /** Drops every handler, leaves the topic, and removes its validator and score parameters. */
  unsubscribe(topic: string): void
  /** Never throws for lack of peers: gossip is a fast path, so nobody listening means 0 recipients. */
  publish(topic: string, data: Uint8Array): Promise<{ recipients: number }>
  /**
   * Installs the validator that runs before a message is delivered or forwarded. 'reject' drops it, scores the
   * forwarding peer down in gossipsub and in `penalties`; 'ignore' drops it without blame. Set it before subscribing.
   */
  setTopicValidator(topic: string, validator: TopicValidator): void
  removeTopicValidator(topic: string): void
  /** Peers known to be subscribed to the topic. */
  topicPeers(topic: string): string[]
  connectedPeers(): string[]
  /** Gossipsub's score of a peer (negative after it forwarded rejected messages). */
  peerScore(peer: string): number
  /** Dials a multiaddr (starting with '/') or a PeerId whose addresses are already known. */
  dial(multiaddrOrPeerId: string): Promise<void>
  hangUp(peer: string): Promise<void>
  onPeerConnected(callback: (peer: string) => void): () => void
  onPeerDisconnected(callback: (peer: string) => void): () => void
  onPeerDiscovered(callback: (peer: string, source: DiscoverySource, addresses: string[]) => void): () => void
  stop(): Promise<void>
}

export interface HearthServices extends ServiceMap {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht?: KadDHT
}

/**
 * Score parameters for a validated topic. Chat topics are quiet, so gossipsub's mesh-delivery-rate penalties (P3,
 * P3b), tuned for busy blockchain topics, would prune honest but silent peers: they are off. What remains is a small
 * reward for first deliveries and a steep penalty for invalid ones (P4 is quadratic: one reject puts a peer below the
 * gossip threshold, a few below the graylist threshold).
 */
function hearthTopicScoreParams(overrides: Partial<TopicScoreParams> | undefined): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1_000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 0.5,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 20,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -20,
    // Per decayInterval (1 s): the count halves in about 23 s.
    invalidMessageDeliveriesDecay: 0.97,
    ...overrides,
  })
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

function contextError(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

type DiscoveryFactory = NonNullable<Libp2pOptions['peerDiscovery']>[number]
type ServiceFactories = NonNullable<Libp2pOptions['services']>

function wrapDiscovery<C>(
  factory: (components: C) => PeerDiscovery,
  source: DiscoverySource,
  report: (info: PeerInfo, source: DiscoverySource) => void,
): DiscoveryFactory {
  // The factory's declared components are a subset of what libp2p passes in, which TypeScript cannot see through
  // the generic; the cast only widens the parameter type.
  return ((components: C) => {
    const discovery = factory(components)
    discovery.addEventListener('peer', (evt) => report(evt.detail, source))
    return discovery
  }) as DiscoveryFactory
}

export async function createHearthNode(options: NodeOptions = {}): Promise<HearthNode> {
  const transportsMode = options.transports ?? 'tcp+ws'
  const gossipOptions = options.gossip ?? {}
  const maxMessageBytes = gossipOptions.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
  const maxRpcBytes = Math.max(gossipOptions.maxRpcBytes ?? DEFAULT_MAX_RPC_BYTES, maxMessageBytes + 4096)
  const rejectPenalty = gossipOptions.rejectPenalty ?? 10
  const penalties = options.penalties
  const onError =
    options.onError ??
    ((err: unknown, context: string) => {
      console.warn(`hearth net: ${context}: ${contextError(err)}`)
    })

  let libp2pRef: Libp2p<HearthServices> | undefined
  const discoveredListeners = new Set<(peer: string, source: DiscoverySource, addresses: string[]) => void>()
  const isBanned = (peer: string): boolean => penalties?.isBanned(peer) ?? false
  const autoDialer = new AutoDialer(() => libp2pRef, isBanned)

  const report = (info: PeerInfo, source: DiscoverySource): void => {
    const id = info.id.toString()
    const addresses = info.multiaddrs.map(String)
    for (const listener of discoveredListeners) {
      try {
        listener(id, source, addresses)
      } catch (err) {
        onError(err, 'peer discovered listener')
      }
    }
    autoDialer.enqueue(info)
  }

  const webrtcOptions = options.nat?.webrtc ?? false
  const listen = [
    ...(options.listen ??
      (transportsMode === 'memory' ? [`/memory/${randomUUID()}`] : ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'])),
    // A reservation on each relay; '/webrtc' lets peers reach us by WebRTC signalled through those circuits.
    ...(options.relayReservations ?? []).map((relay) => `${relay}/p2p-circuit`),
    ...(transportsMode !== 'memory' && webrtcOptions !== false ? ['/webrtc'] : []),
  ]

  const peerDiscovery: DiscoveryFactory[] = []
  if (options.mdns !== undefined && options.mdns !== false) {
    const init = options.mdns === true ? {} : options.mdns
    peerDiscovery.push(
      wrapDiscovery(
        mdns({
          // DNS-SD style name: other libp2p apps on the LAN use '_p2p._udp.local' and are not Hearth peers.
          serviceTag: init.serviceTag ?? '_hearth-lan._udp.local',
          ...(init.interval === undefined ? {} : { interval: init.interval }),
        }),
        'mdns',
        report,
      ),
    )
  }
  if (options.bootstrap !== undefined && options.bootstrap.length > 0) {
    peerDiscovery.push(wrapDiscovery(bootstrap({ list: options.bootstrap }), 'bootstrap', report))
  }

  const gossipInit: Partial<GossipsubOpts> = {
    globalSignaturePolicy: 'StrictNoSign',
    // Content-hash ids: the same envelope arriving by two paths (or published twice) is delivered once, and the id
    // carries nothing about the publisher.
    msgIdFn: (msg) => sha256(msg.data),
    // Runs before the message is decoded and validated, so duplicates (the common case in a mesh) cost one hash.
    // It must be collision resistant: a fast-id collision makes gossipsub drop the second message as a duplicate,
    // which a cheap non-cryptographic hash would let an attacker use to suppress chosen messages.
    fastMsgIdFn: (rpcMsg) => sha256(rpcMsg.data ?? new Uint8Array(0)).toString('base64'),
    msgIdToStrFn: (id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('base64'),
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    floodPublish: gossipOptions.floodPublish ?? true,
    emitSelf: false,
    // Peers behind NAT first meet over a relay circuit (a limited connection); chat must flow there until DCUtR
    // upgrades it. The relay's own limits bound what this costs it.
    runOnLimitedConnection: true,
    maxInboundDataLength: maxRpcBytes,
    // Runs on every received message before topic validators: a universal per-message size cap that also counts as
    // an invalid delivery in the forwarder's score (a throwing transform is scored like a reject).
    dataTransform: {
      inboundTransform: (_topic, data) => {
        if (data.byteLength > maxMessageBytes) {
          throw new HearthError('TOO_LARGE', `gossip message of ${data.byteLength} bytes`)
        }
        return data
      },
      outboundTransform: (_topic, data) => data,
    },
    scoreParams: {
      // Many honest peers share an IP on a LAN, behind a NAT, or on loopback in tests: colocation is no signal here.
      IPColocationFactorWeight: 0,
    },
    ...(gossipOptions.scoreThresholds === undefined ? {} : { scoreThresholds: gossipOptions.scoreThresholds }),
    ...(gossipOptions.heartbeatIntervalMs === undefined ? {} : { heartbeatInterval: gossipOptions.heartbeatIntervalMs }),
  }

  const services: ServiceFactories = {
    identify: identify(),
    ping: ping(),
    pubsub: gossipsub(gossipInit),
  }
  if (options.nat?.dcutr === true) services.dcutr = dcutr()
  if (options.nat?.autonat === true) services.autonat = autoNAT()
  if (options.dht !== undefined && options.dht !== false) {
    const dhtFactory = kadDHT({
      // A private prefix keeps Hearth's DHT apart from the IPFS one: '/hearth/kad/1.0.0'.
      protocol: '/hearth/kad/1.0.0',
      clientMode: options.dht === 'client',
      peerInfoMapper: options.dhtAddresses === 'public' ? removePrivateAddressesMapper : passthroughMapper,
    })
    services.dht = (components) => {
      // kad-dht declares the ping service as a component; libp2p adds services to the components it passes in.
      const dht = dhtFactory(components as unknown as Parameters<typeof dhtFactory>[0])
      const discovery = (dht as unknown as Partial<Record<typeof peerDiscoverySymbol, PeerDiscovery>>)[
        peerDiscoverySymbol
      ]
      discovery?.addEventListener('peer', (evt) => report(evt.detail, 'dht'))
      return dht
    }
  }

  const inboundThreshold =
    options.connectionLimits?.inboundConnectionThreshold ?? (transportsMode === 'memory' ? 1_000 : 25)

  const node = (await createLibp2p({
    ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
    addresses: { listen },
    // A relay that is down or slow must not keep the node from starting: its reservation is retried, while a direct
    // listen address that fails is still an error (checked below).
    transportManager: { faultTolerance: FaultTolerance.NO_FATAL },
    // The circuit relay transport dials /p2p-circuit addresses through community relays and holds the reservations
    // asked for in `relayReservations`; with no relay configured it is idle.
    transports:
      transportsMode === 'memory'
        ? [memory()]
        : [
            tcp(),
            guardedWebSockets(),
            circuitRelayTransport(),
            ...(webrtcOptions === false ? [] : [webRTC({ rtcConfiguration: { iceServers: webrtcOptions.iceServers ?? [] } })]),
          ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: {
      ...(options.connectionLimits?.maxConnections === undefined
        ? {}
        : { maxConnections: options.connectionLimits.maxConnections }),
      // libp2p's default (5 new inbound connections per second per host) resets honest peers behind one NAT, on a
      // LAN or in tests; this still bounds a connection flood from one address.
      inboundConnectionThreshold: inboundThreshold,
    },
    connectionGater: {
      // Ban enforcement: checked once the remote's identity is proven (after Noise), so a banned peer cannot get
      // in under a different address.
      denyInboundEncryptedConnection: (peerId: PeerId) => isBanned(peerId.toString()),
      denyOutboundEncryptedConnection: (peerId: PeerId) => isBanned(peerId.toString()),
      denyDialPeer: (peerId: PeerId) => isBanned(peerId.toString()),
      denyInboundRelayedConnection: (_relay: PeerId, remote: PeerId) => isBanned(remote.toString()),
    },
    services,
  })) as unknown as Libp2p<HearthServices>
  libp2pRef = node
  const direct = listen.filter((a) => !a.includes('/p2p-circuit') && a !== '/webrtc')
  if (direct.length > 0 && !node.getMultiaddrs().some((ma) => !ma.toString().includes('/p2p-circuit'))) {
    await node.stop()
    throw new HearthError('INVALID_INPUT', `could not listen on ${direct.join(', ')}: is the port in use, or the address not one of this machine's?`)
  }

  const pubsub = node.services.pubsub
  if (options.dht === 'server' && node.services.dht !== undefined) {
    // Without a public address kad-dht stays a client; a relay is told to serve regardless.
    await node.services.dht.setMode('server')
  }

  const handlers = new Map<string, Set<MessageHandler>>()
  pubsub.addEventListener('gossipsub:message', (evt) => {
    const { msg, propagationSource } = evt.detail
    const set = handlers.get(msg.topic)
    if (set === undefined) return
    const from = propagationSource.toString()
    for (const handler of set) {
      try {
        handler(msg.data, from)
      } catch (err) {
        onError(err, `message handler for topic ${msg.topic}`)
      }
    }
  })

  // Gossipsub's PeerScore is not in its public interface; topic score parameters are looked up per message, so adding
  // an entry when a validator is installed turns scoring on for that (opaque, rotating) topic.
  const scoreTopics = (pubsub as unknown as { score?: { params?: { topics?: Record<string, TopicScoreParams> } } })
    .score?.params?.topics

  const removePenaltyListener = penalties?.onBan((peer) => {
    drop(hangUp(peer), (err) => onError(err, 'disconnecting banned peer'))
  })

  async function hangUp(peer: string): Promise<void> {
    await node.hangUp(peerIdFromString(peer))
  }

  function removeTopicValidator(topic: string): void {
    pubsub.topicValidators.delete(topic)
    if (scoreTopics !== undefined) delete scoreTopics[topic]
  }

  const listenerRemovers: Array<() => void> = []
  function addNodeListener(event: 'peer:connect' | 'peer:disconnect', callback: (peer: string) => void): () => void {
    const listener = (evt: CustomEvent<PeerId>): void => {
      try {
        callback(evt.detail.toString())
      } catch (err) {
        onError(err, `${event} listener`)
      }
    }
    node.addEventListener(event, listener)
    const remove = (): void => node.removeEventListener(event, listener)
    listenerRemovers.push(remove)
    return remove
  }

  const hearth: HearthNode = {
    peerId: node.peerId.toString(),
    libp2p: node,
    penalties,
    addresses: () => node.getMultiaddrs().map(String),
    subscribe(topic, onMessage) {
      let set = handlers.get(topic)
      if (set === undefined) {
        set = new Set()
        handlers.set(topic, set)
        pubsub.subscribe(topic)
      }
      set.add(onMessage)
      return () => {
        const current = handlers.get(topic)
        if (current === undefined) return
        current.delete(onMessage)
        if (current.size === 0) {
          handlers.delete(topic)
          pubsub.unsubscribe(topic)
        }
      }
    },
    unsubscribe(topic) {
      handlers.delete(topic)
      pubsub.unsubscribe(topic)
      removeTopicValidator(topic)
    },
    async publish(topic, data) {
      if (data.byteLength > maxMessageBytes) {
        throw new HearthError('TOO_LARGE', `gossip message of ${data.byteLength} bytes exceeds ${maxMessageBytes}`)
      }
      try {
        const result = await pubsub.publish(topic, data)
        return { recipients: result.recipients.length }
      } catch (err) {
        // allowPublishToZeroTopicPeers and ignoreDuplicatePublishError make these unreachable today; kept so an
        // option change cannot turn a quiet topic into an exception in the send path.
        const message = contextError(err)
        if (message.includes('NoPeersSubscribedToTopic') || message.includes('PublishError.Duplicate')) {
          return { recipients: 0 }
        }
        throw err
      }
    },
    setTopicValidator(topic, validator) {
      const fn: TopicValidatorFn = (peerId, msg) => {
        let result: ValidationResult
        try {
          result = validator(msg.data, peerId.toString())
        } catch (err) {
          // A throwing validator is our bug, not the peer's: drop the message without blaming anyone.
          onError(err, `topic validator for ${topic}`)
          return TopicValidatorResult.Ignore
        }
        switch (result) {
          case 'accept':
            return TopicValidatorResult.Accept
          case 'reject':
            penalties?.penalise(peerId.toString(), 'gossip-invalid', rejectPenalty)
            return TopicValidatorResult.Reject
          default:
            return TopicValidatorResult.Ignore
        }
      }
      pubsub.topicValidators.set(topic, fn)
      if (scoreTopics !== undefined) scoreTopics[topic] = hearthTopicScoreParams(gossipOptions.topicScoreParams)
    },
    removeTopicValidator,
    topicPeers: (topic) => pubsub.getSubscribers(topic).map(String),
    connectedPeers: () => node.getPeers().map(String),
    peerScore(peer) {
      const scorer = pubsub as unknown as { getScore?: (peer: string) => number }
      return scorer.getScore?.(peer) ?? 0
    },
    async dial(target) {
      let dialTarget: Multiaddr | PeerId
      try {
        dialTarget = target.startsWith('/') ? multiaddr(target) : peerIdFromString(target)
      } catch (err) {
        throw new HearthError('INVALID_INPUT', `not a multiaddr or PeerId: ${target}`, { cause: err })
      }
      try {
        await node.dial(dialTarget, { signal: AbortSignal.timeout(15_000) })
      } catch (err) {
        throw new HearthError('UNREACHABLE', `dial ${target} failed: ${contextError(err)}`, {
          cause: err,
          publicMessage: 'peer unreachable',
        })
      }
    },
    hangUp,
    onPeerConnected: (callback) => addNodeListener('peer:connect', callback),
    onPeerDisconnected: (callback) => addNodeListener('peer:disconnect', callback),
    onPeerDiscovered(callback) {
      discoveredListeners.add(callback)
      return () => discoveredListeners.delete(callback)
    },
    async stop() {
      autoDialer.stop()
      removePenaltyListener?.()
      for (const remove of listenerRemovers.splice(0)) remove()
      discoveredListeners.clear()
      handlers.clear()
      await node.stop()
    },
  }
  return hearth
}
