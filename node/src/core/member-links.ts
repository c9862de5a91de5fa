/**
 * The libp2p side of keeping members' devices connected: where MemberReconnect finds a device's direct addresses and
 * dials them, and what LinkProbe pings and drops. The core only says who is a member.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { HearthNode } from '../../common/net/create-node.js'
import { LinkProbe } from './link-probe.js'
import type { Logger } from './logger.js'
import { MemberReconnect, type ReconnectSchedule } from './member-reconnect.js'
import type { SecurityCounters } from './security-counters.js'

export interface MemberLinksOptions {
  node: HearthNode
  /** A device of a member of a conversation we are still in. */
  isMember(peer: string): boolean
  counters: SecurityCounters
  logger: Logger
  schedule?: Partial<ReconnectSchedule>
}

export function memberLinks(options: MemberLinksOptions): { reconnect: MemberReconnect; probe: LinkProbe } {
  const { node, isMember, counters, logger } = options
  const libp2p = node.libp2p
  const reconnect = new MemberReconnect({
    wanted: (peer) => !(node.penalties?.isBanned(peer) ?? false) && isMember(peer),
    isConnected: (peer) => node.connectedPeers().includes(peer),
    addresses: async (peer) => {
      try {
        const known = (await libp2p.peerStore.get(peerIdFromString(peer))).addresses.map((a) => a.multiaddr.toString())
        const withPeer = (a: string) => (a.endsWith(`/p2p/${peer}`) ? a : `${a}/p2p/${peer}`)
        const direct = known.filter((a) => !isRelayed(a)).map(withPeer)
        // Both behind NAT: the circuit is the only way back (member-reconnect.ts paces these tries).
        return direct.length > 0 ? { addresses: direct, relayed: false } : { addresses: known.filter(isRelayed).map(withPeer), relayed: true }
      } catch {
        return { addresses: [], relayed: false } // not in the peer store (never connected since start): discovery finds it
      }
    },
    dial: async (_peer, addresses, signal) => {
      await libp2p.dial(
        addresses.map((a) => multiaddr(a)),
        { signal },
      )
    },
    logger,
    ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
  })
  const probe = new LinkProbe({
    peers: () => {
      const direct = new Set<string>()
      for (const conn of libp2p.getConnections()) {
        const peer = conn.remotePeer.toString()
        if (!direct.has(peer) && !isRelayed(conn.remoteAddr.toString()) && isMember(peer)) direct.add(peer)
      }
      return [...direct]
    },
    ping: async (peer, signal) => {
      await libp2p.services.ping.ping(peerIdFromString(peer), { signal })
    },
    drop: async (peer) => {
      counters.count('silent-link')
      for (const conn of libp2p.getConnections(peerIdFromString(peer))) {
        if (!isRelayed(conn.remoteAddr.toString())) conn.abort(new Error('no answer to a ping within 3 s'))
      }
    },
    logger,
  })
  return { reconnect, probe }
}

/** A connection or address that goes through a relay's circuit. */
function isRelayed(address: string): boolean {
  return address.includes('/p2p-circuit')
}
