import { multiaddr } from '@multiformats/multiaddr'
import { HearthError } from '../../common/errors.js'
import type { HearthNode } from '../../common/net/create-node.js'

/**
 * Dials a peer's addresses all at once and resolves when one of them reaches that peer, the way browsers race IPv4
 * and IPv6. libp2p tries one peer's addresses one after another, each with its own timeout, and joins concurrent dials
 * to the same PeerId into that one job: an inviter's LAN address that answers nothing from another home would hold a
 * join up for seconds before its relay circuit is tried. So direct addresses are dialed without their `/p2p/` part
 * (separate jobs), and a connection counts only once the Noise handshake has shown it is `peerId`'s. Circuit
 * addresses keep theirs (they name the peer to reach through the relay).
 */
export async function raceDials(node: Pick<HearthNode, 'dial' | 'connectedPeers'>, addresses: string[], peerId: string): Promise<void> {
  if (addresses.length === 0) throw new HearthError('UNREACHABLE', 'the invite names no address')
  const reached = async (address: string): Promise<void> => {
    await node.dial(withoutPeer(address, peerId))
    if (!node.connectedPeers().includes(peerId)) {
      throw new HearthError('UNREACHABLE', `${address} answered, but not as the peer the invite names`)
    }
  }
  try {
    await Promise.any(addresses.map(reached))
  } catch (err) {
    const errors = err instanceof AggregateError ? err.errors : [err]
    throw errors.find((e) => e instanceof HearthError) ?? new HearthError('UNREACHABLE', 'no address answered', { cause: err })
  }
}

function withoutPeer(address: string, peerId: string): string {
  let ma
  try {
    ma = multiaddr(address)
  } catch {
    return address // the node's dial reports it
  }
  const parts = ma.getComponents()
  if (parts.some((c) => c.name === 'p2p-circuit')) return address
  const last = parts.at(-1)
  if (last?.name !== 'p2p' || last.value !== peerId) return address
  return ma.decapsulateCode(last.code).toString()
}
