/**
 * Store-and-forward through relays, end to end with real cores and real relays: nobody needs to be online at the
 * same time as anybody else.
 */
import { describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { fromHex } from '../../node/common/util/bytes.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

async function states(c: TestCore, id: ConversationId): Promise<string[]> {
  return (await c.core.page(id, { limit: 500 })).messages.filter((m) => m.mine).map((m) => m.state)
}

describe('offline delivery through relays', () => {
  const bed = coresAndRelays()

  it('alice sends while bob is offline, alice shuts down, bob gets everything from the relay alone, in order', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    let bob = await startCore('bob', { relays: [relay.address] })
    bed.cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.core.send(id, 'see you later')
    await waitForCount(alice, id, 1)

    await bob.stop()
    const sent = Array.from({ length: 25 }, (_, i) => `while you were away ${i}`)
    for (const text of sent) await alice.core.send(id, text)
    // "sent" means a relay holds it durably: only then may alice go away.
    await waitFor(async () => (await states(alice, id)).every((s) => s === 'sent'), { timeoutMs: 20_000, message: 'relay acknowledgements' })
    const expected = await bodies(alice, id)
    await alice.stop()

    bob = await bob.restart()
    bed.cores = [alice, bob]
    expect(bob.core.node.connectedPeers()).not.toContain(alice.identity.peerId)
    await waitForCount(bob, id, 26)
    expect(await bodies(bob, id)).toEqual(expected)
    expect(bob.core.node.connectedPeers()).not.toContain(alice.identity.peerId)

    // Content-blind: nothing the relay stored or logged names the conversation, its members or what they said.
    const stored = await relay.storedBytes()
    const log = relay.logText()
    const secrets = [
      ...sent.slice(0, 3),
      'see you later',
      id,
      alice.identity.account,
      bob.identity.account,
      alice.identity.deviceId,
      bob.identity.deviceId,
      'alice',
      'Family',
    ]
    for (const secret of secrets) {
      expect(stored.includes(Buffer.from(secret)), `relay storage contains ${secret}`).toBe(false)
      expect(log.includes(secret), `relay log contains ${secret}`).toBe(false)
    }
    for (const raw of [id, alice.identity.account, bob.identity.account]) {
      expect(stored.includes(Buffer.from(fromHex(raw))), `relay storage contains the bytes of ${raw}`).toBe(false)
    }
  })

  it('two relays, one down: delivery still works and the down one is reported unreachable', async () => {
    const r1 = await startTestRelay('r1')
    const r2 = await startTestRelay('r2')
    bed.relays = [r1, r2]
    const alice = await startCore('alice', { relays: [r1.address, r2.address] })
    let bob = await startCore('bob', { relays: [r1.address, r2.address] })
    bed.cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.stop()
    await r1.stop()

    for (let i = 0; i < 10; i++) await alice.core.send(id, `one relay is enough ${i}`)
    await waitFor(async () => (await states(alice, id)).every((s) => s === 'sent'), { timeoutMs: 20_000, message: 'r2 acknowledgements' })
    await waitFor(() => alice.core.relayStatus().some((r) => r.address === r1.address && r.state === 'unreachable'), {
      timeoutMs: 20_000,
      message: 'r1 reported unreachable',
    })
    const expected = await bodies(alice, id)
    await alice.stop()

    bob = await bob.restart()
    bed.cores = [alice, bob]
    await waitForCount(bob, id, 10)
    expect(await bodies(bob, id)).toEqual(expected)
  })

  it('a relay restarted between deposit and fetch loses nothing it acknowledged', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    let bob = await startCore('bob', { relays: [relay.address] })
    bed.cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.stop()
    for (let i = 0; i < 10; i++) await alice.core.send(id, `durable ${i}`)
    await waitFor(async () => (await states(alice, id)).every((s) => s === 'sent'), { timeoutMs: 20_000 })
    const expected = await bodies(alice, id)
    await alice.stop()

    await relay.restart()
    bob = await bob.restart()
    bed.cores = [alice, bob]
    await waitForCount(bob, id, 10)
    expect(await bodies(bob, id)).toEqual(expected)
  })

  it('a full mailbox is a refusal alice sees, not a silent drop; her messages stay pending, not "sent"', async () => {
    const relay = await startTestRelay('tiny', { maxEnvelopeBytes: 4096, mailboxMaxBytes: 8 * 1024 })
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    const bob = await startCore('bob', { relays: [relay.address] })
    bed.cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.stop()
    for (let i = 0; i < 30; i++) await alice.core.send(id, `filling the mailbox ${i} ${'x'.repeat(300)}`)
    await waitFor(() => alice.core.relayStatus().some((r) => r.state === 'refused'), { timeoutMs: 20_000, message: 'a refusal' })
    const status = alice.core.relayStatus().find((r) => r.state === 'refused')!
    expect(status.detail).toMatch(/quota/)
    expect(await states(alice, id)).toContain('pending')
  })
})
