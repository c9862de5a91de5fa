/**
 * Joining while every admin is offline (docs/adr/0027): the joiner asks through the conversation's relay and the first
 * admin to come back lets it in. Real cores, a real relay, real libp2p.
 */
import { describe, expect, it } from 'vitest'
import { generateSigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { deriveMailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { MailboxClient } from '../../node/common/net/mailbox-client.js'
import { waitFor } from '../../node/common/net/testing.js'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeInvite } from '../../node/src/conversation/invite-code.js'
import { deviceInviteSecret } from '../../node/src/conversation/short-invite-keys.js'
import { formatShortInvite } from '../../node/src/conversation/short-invite.js'
import {
  encodeItem,
  inviteMailboxSecret,
  itemId,
  itemSealKey,
  relayResponder,
  sealItem,
  signDeviceProof,
} from '../../node/src/core/membership/join-relay-frames.js'
import type { ConversationId } from '../../node/src/ids.js'
import { encodeJoinRequest } from '../../node/src/sync/sync-frames.js'
import { startCore, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

/** Everything `c` wrote is on the relay: a pass of its relay client deposits its whole own stream. */
async function allSent(c: TestCore, id: ConversationId): Promise<void> {
  await waitFor(async () => (await c.core.page(id, { limit: 500 })).messages.filter((m) => m.mine).every((m) => m.state !== 'pending'), {
    timeoutMs: 30_000,
    message: `${c.name}'s messages out`,
  })
  const relays = (c.core as unknown as { relays: { kick(): void; client: { idle(): Promise<void> } } }).relays
  for (let i = 0; i < 2; i++) {
    relays.kick()
    await relays.client.idle()
  }
}

/** Lets the admin's relay-join pass deposit its invites' mailbox secrets in the directory before it goes away. */
async function published(c: TestCore): Promise<void> {
  const core = c.core as unknown as { relayJoinIdle(): Promise<void> }
  await new Promise((r) => setTimeout(r, 300))
  await core.relayJoinIdle()
}

const listed = (c: TestCore, id: string) => c.core.listConversations().find((s) => s.id === id)

describe('joining through a relay while every admin is offline', () => {
  const bed = coresAndRelays()

  it('carol asks while alice and bob are away, restarts while waiting, and bob (back first) lets her in', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    let bob = await startCore('bob', { relays: [relay.address] })
    let carol = await startCore('carol', { relays: [relay.address] })
    bed.cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob])
    await alice.core.setRole(id, bob.identity.account, 'admin')
    await waitFor(() => bob.core.members(id).some((m) => m.account === bob.identity.account && m.role === 'admin'))
    await bob.core.send(id, 'written before carol asked')
    await allSent(bob, id)
    // Bob goes first: he learns of the invite from the relay alone when he comes back.
    await bob.stop()
    await alice.core.send(id, 'alice, before')
    const invite = await alice.core.createInvite(id, { singleUse: true })
    await published(alice)
    // Deposits go in stream order: once this message is on the relay, so is the invite before it.
    await alice.core.send(id, 'the invite is out')
    await allSent(alice, id)
    await alice.stop()

    const waiting = await carol.core.join(invite.code)
    expect(waiting.joinState).toBe('waiting')
    expect(waiting.name).toBe('Family')
    expect(listed(carol, id)?.joinState).toBe('waiting')
    // Opened while waiting: the conversation is there, with no one and nothing in it yet.
    expect(carol.core.getConversation(id).joinState).toBe('waiting')
    expect(carol.core.members(id)).toEqual([])
    expect((await carol.core.page(id)).messages).toEqual([])

    carol = await carol.restart()
    bed.cores = [alice, bob, carol]
    expect(listed(carol, id)?.joinState).toBe('waiting')

    bob = await bob.restart()
    bed.cores = [alice, bob, carol]
    await waitFor(() => listed(carol, id)?.joinState === undefined && carol.core.members(id).length === 3, {
      timeoutMs: 60_000,
      message: 'carol let in by bob',
    })
    expect(bob.core.counters.get('relay-join-admitted')).toBe(1)
    // Content-blind: the request, the answer and the directory are sealed; the relay holds none of these in clear.
    const stored = await relay.storedBytes()
    for (const secret of [id, carol.identity.account, carol.identity.deviceId, 'carol', 'Family']) {
      expect(stored.includes(Buffer.from(secret)), `relay storage contains ${secret}`).toBe(false)
    }
    await bob.core.send(id, 'welcome, carol')
    // Bob's chain comes with his admission; alice's messages are readable once she is back and grants hers.
    await waitFor(async () => (await bodies(carol, id)).includes('bob: welcome, carol'), { timeoutMs: 60_000, message: "bob's message after" })
    expect(await bodies(carol, id)).toContain('bob: written before carol asked')
    await carol.core.send(id, 'thanks!')
    await waitFor(async () => (await bodies(bob, id)).includes('carol: thanks!'), { timeoutMs: 60_000, message: "carol's message at bob" })
    const aliceBack = await alice.restart()
    bed.cores = [aliceBack, bob, carol]
    await waitFor(async () => (await bodies(carol, id)).includes('alice: the invite is out'), { timeoutMs: 60_000, message: "alice's messages" })
    expect(await bodies(carol, id)).toContain('alice: alice, before')
  })

  it('a removed account asking again through the relay is refused, and told so in words', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    const mallory = await startCore('mallory', { relays: [relay.address] })
    bed.cores = [alice, mallory]
    const id = await makeGroup(alice, [mallory])
    await alice.core.removeMember(id, mallory.identity.account)
    await waitFor(() => mallory.core.listConversations().find((s) => s.id === id)?.removed === true)
    const invite = await alice.core.createInvite(id, { singleUse: false })
    await published(alice)
    await alice.stop()

    const waiting = await mallory.core.join(invite.code)
    expect(waiting.joinState).toBe('waiting')
    const back = await alice.restart()
    bed.cores = [back, mallory]
    await waitFor(() => listed(mallory, id)?.joinState === 'refused', { timeoutMs: 60_000, message: 'mallory refused' })
    expect(listed(mallory, id)?.joinRefusal).toMatch(/removed/)
    expect(mallory.core.getConversation(id).joinState).toBe('refused')
    expect(mallory.core.listConversations().filter((s) => s.id === id)).toHaveLength(1)
    expect(back.core.members(id).map((m) => m.account)).not.toContain(mallory.identity.account)
    expect(back.core.counters.get('join-refused')).toBeGreaterThanOrEqual(1)
  })

  it('garbage, a request signed by the wrong key and a flood in the invite mailbox harm nothing and are counted', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    const dave = await startCore('dave', { relays: [relay.address] })
    const eve = await startCore('eve', { relays: [relay.address] })
    bed.cores = [alice, dave, eve]
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const id = group.id as ConversationId
    const invite = await alice.core.createInvite(id, { singleUse: false })
    await published(alice)
    await alice.stop()

    // Eve holds the code. She deposits garbage, a request signed by another key, one naming dave's device without his
    // signature, and a flood.
    const full = decodeInvite(invite.code)
    const secret = inviteMailboxSecret(full.secret)
    const keys = deriveMailboxKeys(secret)
    const seal = (item: Uint8Array) => sealItem(itemSealKey(secret), keys.mailboxId, item)
    const responder = relayResponder(keys.mailboxId)
    const wrongKey = encodeJoinRequest({ conversation: id, inviteId: full.inviteId, cert: eve.identity.cert.bytes }, generateSigningKeyPair().seed, responder)
    const asDave = encodeJoinRequest({ conversation: id, inviteId: full.inviteId, cert: dave.identity.cert.bytes }, full.secret, responder)
    const hostile = [
      new Uint8Array([0xff, 0x00, 0x13]),
      seal(encodeItem({ type: 'request', request: wrongKey, deviceProof: signDeviceProof(eve.identity.deviceKey.seed, wrongKey, keys.mailboxId) })),
      seal(encodeItem({ type: 'request', request: asDave, deviceProof: signDeviceProof(eve.identity.deviceKey.seed, asDave, keys.mailboxId) })),
      // Sealed garbage (the code's holder can seal) and a flood of unsealed bytes.
      seal(new Uint8Array([0xa1, 0x61, 0x76, 0x02])),
      ...Array.from({ length: 150 }, (_, i) => new Uint8Array([0xa1, 0x61, 0x76, 0x18, i % 256, i >> 8])),
    ]
    const client = new MailboxClient(eve.core.node, { timeoutMs: 5_000 })
    const stored = await client.deposit(relay.address, keys, hostile.map((bytes) => ({ id: itemId(bytes), bytes })))
    expect(stored.every((s) => s.status === 'stored')).toBe(true)

    // Dave, who really holds the invite, asks too.
    const waiting = await dave.core.join(invite.code)
    expect(waiting.joinState).toBe('waiting')
    const back = await alice.restart()
    bed.cores = [back, dave, eve]
    await waitFor(() => dave.core.members(id).length === 2, { timeoutMs: 60_000, message: 'dave let in' })
    const accounts = back.core.members(id).map((m) => m.account).sort()
    expect(accounts).toEqual([back.identity.account, dave.identity.account].sort())
    expect(back.core.counters.get('relay-join-garbage')).toBeGreaterThanOrEqual(152)
    expect(back.core.counters.get('relay-join-refused')).toBe(2)
    expect(back.core.counters.get('relay-join-admitted')).toBe(1)
  })

  it('a short link through the relay is resolved from the relay while its maker is away, then the join waits there', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    const carol = await startCore('carol', { relays: [relay.address] })
    bed.cores = [alice, carol]
    const group = await alice.core.createConversation({ kind: 'group', name: 'Family' })
    const id = group.id as ConversationId
    const made = await alice.core.createInvite(id, { singleUse: true })
    await published(alice)
    await alice.stop()
    // The link as alice's app gives it when she is reachable only through the relay: a circuit locator.
    const link = formatShortInvite({
      secret: deviceInviteSecret(alice.identity.deviceKey.seed, id, made.inviteId),
      locator: multiaddr(`${relay.address}/p2p-circuit/p2p/${alice.identity.peerId}`).bytes,
    })
    const waiting = await carol.core.join(link)
    expect(waiting.joinState).toBe('waiting')
    expect(waiting.name).toBe('Family')
    const back = await alice.restart()
    bed.cores = [back, carol]
    await waitFor(() => carol.core.members(id).length === 2, { timeoutMs: 60_000, message: 'carol let in' })
  })

  it('two admins back at once both answer the same request and converge on one add', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    const bob = await startCore('bob', { relays: [relay.address] })
    const carol = await startCore('carol', { relays: [relay.address] })
    bed.cores = [alice, bob, carol]
    const id = await makeGroup(alice, [bob])
    await alice.core.setRole(id, bob.identity.account, 'admin')
    const invite = await alice.core.createInvite(id, { singleUse: true })
    await waitFor(() => bob.core.invites(id).length > 0)
    await published(alice)
    await published(bob)
    await alice.core.send(id, 'the invite is out')
    await allSent(alice, id)
    await alice.stop()
    await bob.stop()

    expect((await carol.core.join(invite.code)).joinState).toBe('waiting')
    // Both come back at the same moment: each reads carol's request before hearing of the other's add.
    const [a, b] = await Promise.all([alice.restart(), bob.restart()])
    bed.cores = [a, b, carol]
    await waitFor(() => carol.core.members(id).length === 3, { timeoutMs: 60_000, message: 'carol let in' })
    await waitFor(() => [a, b].every((c) => c.core.members(id).length === 3), { timeoutMs: 60_000, message: 'both admins see carol' })
    const admitted = a.core.counters.get('relay-join-admitted') + b.core.counters.get('relay-join-admitted')
    expect(admitted).toBeGreaterThanOrEqual(1)
    for (const c of [a, b, carol]) {
      expect(c.core.members(id).map((m) => m.account).sort()).toEqual([alice.identity.account, bob.identity.account, carol.identity.account].sort())
    }
    await b.core.send(id, 'hello carol')
    await waitFor(async () => (await bodies(carol, id)).includes('bob: hello carol'), { timeoutMs: 60_000, message: "bob's message at carol" })
  })
})
