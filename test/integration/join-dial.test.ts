import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeInvite, encodeInvite } from '../../node/src/conversation/invite-code.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'

/**
 * Joining dials every address of the invite at once. An inviter's address that answers nothing from here (its LAN
 * address seen from another home, a firewalled port) must not hold the join up: libp2p alone tries one peer's
 * addresses one after another, each for up to 6 s.
 */
describe('joining with an invite', () => {
  let cores: TestCore[] = []
  let tarpit: Server | undefined
  const held: Socket[] = []
  afterEach(async () => {
    for (const s of held) s.destroy()
    await new Promise<void>((resolve) => (tarpit ? tarpit.close(() => resolve()) : resolve()))
    await stopAll(cores)
    cores = []
  })

  it('races the addresses: one that accepts and then says nothing does not delay the join', async () => {
    // A TCP port that accepts and never speaks: a dial to it waits until the dialer's per-address timeout.
    let silentDialed = false
    tarpit = createServer((socket) => {
      silentDialed = true
      held.push(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => tarpit!.listen(0, '127.0.0.1', resolve))
    const port = (tarpit.address() as { port: number }).port

    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores = [alice, bob, mallory]
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const invite = decodeInvite((await alice.core.createInvite(group.id as ConversationId)).code)
    // The silent address first, as an inviter's unreachable LAN address would be, and another peer's address claiming
    // to be alice's: it answers, but the handshake shows it is not her, so it does not count.
    const impostor = mallory.core.node.addresses()[0]!.replace(/\/p2p\/.*$/, '')
    const code = encodeInvite({
      ...invite,
      addresses: [`/ip4/127.0.0.1/tcp/${port}/p2p/${invite.peerId}`, `${impostor}/p2p/${invite.peerId}`, ...invite.addresses],
    })

    const started = performance.now()
    await bob.core.join(code)
    const took = performance.now() - started
    expect(bob.core.members(group.id as ConversationId).map((m) => m.displayName).sort()).toEqual(['alice', 'bob'])
    expect(silentDialed, 'the silent address was dialed too').toBe(true)
    // Well under the 6 s one silent address costs when addresses are tried one at a time.
    expect(took).toBeLessThan(4_000)
  })
})
