import type { PeerView } from '../../api/types.js'
import type { Kernel } from '../kernel.js'

/** Invites carry at most this many of our addresses. */
const MAX_INVITE_ADDRESSES = 6

/** The peers we are connected to, but for our own other devices, named where some conversation's log knows their device. */
export function peers(kernel: Kernel): PeerView[] {
  const names = new Map<string, string>()
  /** Our own other devices are not people nearby: the person would see themselves in the list (Settings → Devices has them). */
  const ours = new Set<string>()
  for (const rt of kernel.conversations.values()) {
    for (const cert of rt.log.knownDevices.values()) {
      names.set(cert.peerId, rt.log.names.get(cert.account) ?? cert.displayName)
      if (cert.account === kernel.identity.account) ours.add(cert.peerId)
    }
  }
  return kernel.node
    .connectedPeers()
    .filter((peerId) => !ours.has(peerId))
    .map((peerId) => ({ peerId, displayName: names.get(peerId) ?? null, addresses: [] }))
}

/** True once `peer` is connected, e.g. found on the LAN by mDNS when the invite's addresses did not work. */
export async function waitForPeer(kernel: Kernel, peer: string, timeoutMs: number): Promise<boolean> {
  const { node } = kernel
  if (node.connectedPeers().includes(peer)) return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off()
      resolve(false)
    }, timeoutMs)
    const off = node.onPeerConnected((p) => {
      if (p !== peer) return
      clearTimeout(timer)
      off()
      resolve(true)
    })
  })
}

/** Our addresses worth putting in an invite. */
export function dialableAddresses(kernel: Kernel): string[] {
  const all = kernel.node.addresses()
  // Loopback addresses only help on this machine; list LAN ones first so the invite stays short and useful.
  const rank = (a: string) => (a.includes('/127.0.0.1/') || a.includes('/::1/') ? 1 : 0)
  return [...all].sort((a, b) => rank(a) - rank(b)).slice(0, MAX_INVITE_ADDRESSES)
}
