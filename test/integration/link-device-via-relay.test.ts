/**
 * Linking a device that is reachable only through a relay circuit (a new phone behind NAT): the link code's locator is
 * the circuit, without the relay's PeerId, and the whole exchange runs over the relayed connection. It carries the
 * names of the conversations, newest first, not their logs: the new device fetches those after the link
 * (link-large-account-via-relay.test.ts).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSigningKeyPair, signingKeyPairFromSeed } from '../../node/common/crypto/ed25519.js'
import { randomBytes } from '../../node/common/crypto/random.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { waitFor } from '../../node/common/net/testing.js'
import { pickLocator } from '../../node/src/conversation/short-invite.js'
import { offerPairing, pairWith, type AccountSecrets, type LinkedConversation } from '../../node/src/core/devices/pair-protocol.js'
import { issueDeviceCert } from '../../node/src/identity/device-cert.js'
import { formatLinkCode, newLinkSecret, parseLinkCode } from '../../node/src/identity/link-code.js'
import { startTestRelay, type TestRelay } from '../helpers/relay-for-cores.js'

describe('linking a device through a relay circuit', () => {
  const nodes: HearthNode[] = []
  let relay: TestRelay | undefined
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    await relay?.dispose()
  })

  it('links over the circuit: codes match, the certificate comes back, the conversations are named in order', async () => {
    relay = await startTestRelay('pair')
    // N listens on nothing of its own: only its reservation on the relay makes it reachable.
    const n = await createHearthNode({ listen: [], relayReservations: [relay.address] })
    const e = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodes.push(n, e)
    await waitFor(() => n.addresses().some((a) => a.includes('/p2p-circuit')), { timeoutMs: 20_000, message: 'reservation' })
    const locator = pickLocator(n.addresses())!
    expect(multiaddr(locator).toString()).toMatch(/\/p2p-circuit\/p2p\//)
    expect(multiaddr(locator).toString().split('/p2p-circuit')[0]).not.toContain('/p2p/')

    const account: AccountSecrets = { accountSeed: randomBytes(32), displayName: 'Ada' }
    const sent: LinkedConversation[] = [
      { id: 'ab'.repeat(16), root: 'cd'.repeat(32), kind: 'group', name: 'Club', createdAt: 2, relays: [relay.address], ops: Array.from({ length: 3 }, () => randomBytes(1_000)) },
      { id: 'ef'.repeat(16), root: 'cd'.repeat(32), kind: 'group', name: 'Big', createdAt: 1, relays: [relay.address], ops: Array.from({ length: 20 }, () => randomBytes(2_000)) },
    ]
    const secret = newLinkSecret()
    const codes: string[] = []
    let delivered: LinkedConversation[] = []
    let pending: string[] = []
    let from = ''
    const offer = offerPairing(n, {
      secret,
      expiresAt: Date.now() + 60_000,
      handlers: {
        onConfirmationCode: (c) => codes.push(c),
        confirm: async () => true,
        makeDevice: async (a) =>
          issueDeviceCert({
            accountSeed: a.accountSeed,
            accountPublic: signingKeyPairFromSeed(a.accountSeed).publicKey,
            devicePublic: generateSigningKeyPair().publicKey,
            dhPublic: randomBytes(32),
            peerId: n.peerId,
            displayName: a.displayName,
            createdAt: 1,
          }).bytes,
        onConversations: async (list, rest, peer) => {
          delivered = list
          pending = rest
          from = peer
        },
      },
    })
    await offer.ready
    // What E's person scans, read back as E reads it.
    const code = parseLinkCode(formatLinkCode({ secret, locator }))
    const cert = await pairWith(e, code, { account, onConfirmationCode: (c) => codes.push(c), confirm: async () => true, admit: async () => sent })
    await offer.done
    expect(cert.peerId).toBe(n.peerId)
    expect(codes).toHaveLength(2)
    expect(codes[0]).toBe(codes[1])
    // A relayed connection carries no logs in the pairing (pair-frames.ts LIMITED_BUNDLE_BYTES): all are named.
    expect(delivered).toEqual([])
    expect(pending).toEqual(sent.map((c) => c.id))
    expect(from).toBe(e.peerId)
    const conns = e.libp2p.getConnections().filter((c) => c.remotePeer.toString() === n.peerId)
    expect(conns.length).toBeGreaterThan(0)
    expect(conns.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)
  }, 60_000)
})
