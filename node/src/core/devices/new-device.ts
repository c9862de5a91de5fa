import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { HearthError } from '../../../common/errors.js'
import { createHearthNode, type HearthNode, type NodeOptions } from '../../../common/net/create-node.js'
import { pickLocator } from '../../conversation/short-invite.js'
import { formatLinkCode, newLinkSecret } from '../../identity/link-code.js'
import { identityForNewDevice, type Identity } from '../../identity/identity.js'
import { offerPairing, type LinkedConversation } from './pair-protocol.js'

/** How long a link code shown on a new device stays usable. */
export const LINK_LIFETIME_MS = 10 * 60_000
/** How long a new device waits for a relay reservation before it shows a code that works on the LAN only. */
const RELAY_ADDRESS_WAIT_MS = 10_000

export interface NewDeviceOptions {
  /** This device's network settings (listen addresses, LAN discovery); relays come from `relays`. */
  network?: Partial<NodeOptions>
  /** Relays (multiaddrs with /p2p/) to hold a reservation on, so a device elsewhere reaches this one through them. */
  relays?: string[]
  /** This device's display name; by default the one the account already uses. */
  displayName?: string
  lifetimeMs?: number
  now?: () => number
  signal?: AbortSignal
  /** The code to show (QR and text) and when it stops working. */
  onLink(link: string, expiresAt: number): void
  /** The 6 digits both screens show once the other device proved it holds the code. */
  onConfirmationCode(code: string): void
  /** The person's answer after comparing them. */
  confirm(): Promise<boolean>
}

export interface LinkedDevice {
  /** The new device's identity, of the account the other device belongs to: not saved yet (the caller saves it). */
  identity: Identity
  /** The conversations whose logs came with the pairing, most recently active first. */
  conversations: LinkedConversation[]
  /**
   * The other conversations this device was admitted to (ids, most recently active first): their logs did not fit
   * the pairing (a relayed connection carries little) and come from `from` afterwards (`core.devices.importLinked`).
   */
  pending: string[]
  /** The device that linked this one and where it was reached from: the core syncs from it first. */
  from: { peerId: string; address: string | null } | null
}

/**
 * The new device's side of linking (docs/adr/0032): a network node under the key this device will keep, a link code
 * naming one address of it (a relay circuit when relays are given and reserve in time, else a LAN address), then the
 * pairing (devices/pair-protocol.ts). Nothing is written to disk here: the caller saves the identity and opens the
 * core, which takes the conversations with `core.devices.importLinked`.
 */
export async function linkAsNewDevice(options: NewDeviceOptions): Promise<LinkedDevice> {
  const now = options.now ?? Date.now
  const relays = options.relays ?? []
  const peerKey = await generateKeyPair('Ed25519')
  const node = await createHearthNode({
    privateKey: peerKey,
    listen: ['/ip4/0.0.0.0/tcp/0'],
    mdns: true,
    dht: false,
    bootstrap: relays,
    relayReservations: relays,
    ...options.network,
  } as NodeOptions)
  try {
    const locator = pickLocator(await addressesToShow(node, relays.length > 0))
    if (locator === null) throw new HearthError('UNREACHABLE', 'This device has no network address to show: check it is connected')
    const secret = newLinkSecret()
    const expiresAt = now() + (options.lifetimeMs ?? LINK_LIFETIME_MS)
    options.onLink(formatLinkCode({ secret, locator }), expiresAt)
    let identity: Identity | undefined
    let conversations: LinkedConversation[] = []
    let pending: string[] = []
    let linkedBy: string | undefined
    const offer = offerPairing(node, {
      secret,
      expiresAt,
      handlers: {
        onConfirmationCode: options.onConfirmationCode,
        confirm: options.confirm,
        makeDevice: async (account) => {
          identity = await identityForNewDevice(
            { accountSeed: account.accountSeed, peerKey, ...(account.entropy === undefined ? {} : { entropy: account.entropy }) },
            options.displayName ?? account.displayName,
            now(),
          )
          return identity.cert.bytes
        },
        onConversations: async (list, rest, peer) => {
          conversations = list
          pending = rest
          linkedBy = peer
        },
      },
    })
    const abort = () => offer.cancel()
    options.signal?.addEventListener('abort', abort)
    try {
      await offer.done
    } finally {
      options.signal?.removeEventListener('abort', abort)
    }
    if (identity === undefined) throw new HearthError('PROTOCOL_ERROR', 'Linking ended before this device got its keys')
    return { identity, conversations, pending, from: linkedBy === undefined ? null : { peerId: linkedBy, address: await addressOf(node, linkedBy) } }
  } finally {
    await node.stop()
  }
}

/** Our addresses once listening; with relays, a circuit through one of them if it comes within a few seconds. */
async function addressesToShow(node: HearthNode, withRelays: boolean): Promise<string[]> {
  await until(() => node.addresses().length > 0, 10_000)
  // The circuit reaches us from anywhere; a device nearby that found us on the LAN dials us directly anyway
  // (pair-protocol.ts), so naming the circuit costs the LAN nothing. No relay in time: a LAN code still links at home.
  if (withRelays && (await until(() => node.addresses().some((a) => a.includes('/p2p-circuit')), RELAY_ADDRESS_WAIT_MS))) {
    return node.addresses().filter((a) => a.includes('/p2p-circuit'))
  }
  return node.addresses()
}

/** Whether `condition` holds within `ms`, looking every 50 ms (addresses change with no event to wait on). */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

/**
 * Where to reach the linking device again, by the path that just worked: the relay circuit it came through, or else a
 * TCP address it listens on (identify told us; the far end of its direct connection is an outgoing port nobody can
 * dial).
 */
async function addressOf(node: HearthNode, peerId: string): Promise<string | null> {
  const remote = node.libp2p.getConnections().find((conn) => conn.remotePeer.toString() === peerId)?.remoteAddr.toString()
  if (remote?.includes('/p2p-circuit') === true) return remote
  try {
    const listening = (await node.libp2p.peerStore.get(peerIdFromString(peerId))).addresses.map((a) => a.multiaddr.toString())
    const tcp = listening.filter((a) => !a.includes('/p2p-circuit') && /\/tcp\/\d+$/.test(a))
    // Another host reaches a LAN address, never our loopback.
    const direct = tcp.find((a) => !/^\/ip4\/127\.|^\/ip6\/::1\//.test(a)) ?? tcp[0]
    return direct === undefined ? null : `${direct}/p2p/${peerId}`
  } catch {
    return null
  }
}
