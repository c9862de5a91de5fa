import { sha256 } from '@noble/hashes/sha2.js'
import { afterEach, describe, expect, it } from 'vitest'
import { applyRemoteChanges, createShard, hlcNow, HLC_ZERO, sendMessage, shardOf } from '../../crdt/src/index.js'
import type { MailboxKeys } from '../../node/common/crypto/mailbox-capability.js'
import { randomBytes } from '../../node/common/crypto/random.js'
import { keyAt } from '../../node/common/crypto/sender-chain.js'
import { waitFor } from '../../node/common/net/testing.js'
import { fromBase64Url, toBase64Url, toHex } from '../../node/common/util/bytes.js'
import { EnvelopeKind, sealEnvelope } from '../../node/common/wire/envelope.js'
import type { CoreEvents } from '../../node/src/core/events.js'
import { actorOf } from '../../node/src/core/actor.js'
import type { MailboxPort } from '../../node/src/core/relays/relay-mailboxes.js'
import { encodeContent } from '../../node/src/history/payloads.js'
import type { ConversationId, EpochId } from '../../node/src/ids.js'
import type { OwnChain } from '../../node/src/store/core-store.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'
import { coresAndRelays, startTestRelay } from '../helpers/relay-for-cores.js'

type Internals = {
  conversations: Map<string, { epochs: Map<string, { envelope: { epochTag: Uint8Array; headerKey: Uint8Array }; topic: string; mailboxSecret: Uint8Array }>; log: { currentEpoch: EpochId }; own: Map<string, OwnChain> }>
  enqueue(id: string, bytes: Uint8Array, from: string | null): void
}
const internals = (c: TestCore) => c.core as unknown as Internals

/**
 * Mallory's device signs two different messages for one position of its stream, with its real keys and chain: what a
 * modified client could do. Both read correctly (same chain key), both verify; only the texts differ.
 */
async function equivocate(
  mallory: TestCore,
  id: ConversationId,
): Promise<{ a: Uint8Array; b: Uint8Array; seq: number; epoch: EpochId; another: (body: string) => Promise<Uint8Array> }> {
  const rt = internals(mallory).conversations.get(id)!
  const epoch = rt.log.currentEpoch
  const keys = rt.epochs.get(epoch)!
  const own = rt.own.get(epoch)!
  const seq = own.next
  const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: seq }, seq)
  const actor = actorOf(mallory.identity.deviceId)
  const shard = shardOf(own.messages)
  const version = async (body: string) => {
    const changes = await mallory.core.store.listChanges(id, epoch, shard)
    const doc = applyRemoteChanges(createShard(actor), changes).doc
    const { change } = sendMessage(doc, actor, { id: toHex(randomBytes(16)) as never, body, hlc: hlcNow(HLC_ZERO, Date.now()), seq: own.messages })
    return sealEnvelope({
      keys: keys.envelope,
      header: { device: mallory.identity.deviceKey.publicKey, seq, kind: EnvelopeKind.content },
      bodyKey: step.key,
      body: encodeContent({ shard, change }),
      signingSeed: mallory.identity.deviceKey.seed,
    })
  }
  const out = { a: await version('the meeting is at noon'), b: await version('the meeting is cancelled'), seq, epoch, another: version }
  // Mallory's client moves on as if it had sent one message there (its later envelopes use the next positions).
  const next: OwnChain = { ...own, next: seq + 1, messages: own.messages + 1, cursorKey: toBase64Url(step.next.chainKey) }
  rt.own.set(epoch, next)
  await mallory.core.store.commit([mallory.core.store.putOwnChain(id, epoch, next)], true)
  return out
}

const visible = async (c: TestCore, id: ConversationId) => (await c.core.page(id, { limit: 500 })).messages.map((m) => `${m.id} ${m.authorName}: ${m.body}`)

describe('equivocation: one device, two messages for one position', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('is detected by every member, counted, kept as evidence, and withdrawn the same way everywhere', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores = [alice, bob, mallory]
    const id = await makeGroup(alice, [bob, mallory])
    await mallory.core.send(id, 'hi all')
    for (const c of cores) await waitForCount(c, id, 1)

    const events: Array<[string, CoreEvents['security.equivocation']]> = []
    for (const c of [alice, bob]) c.core.events.on('security.equivocation', (e) => events.push([c.name, e]))
    const updates: Array<CoreEvents['message.updated']> = []
    alice.core.events.on('message.updated', (e) => updates.push(e))

    // Each member gets one version (as a sync page or a relay fetch would hand it over): each shows its own text.
    const { a, b, seq, epoch } = await equivocate(mallory, id)
    internals(alice).enqueue(id, a, mallory.identity.peerId)
    internals(bob).enqueue(id, b, mallory.identity.peerId)
    await waitFor(async () => (await bodies(alice, id)).includes('mallory: the meeting is at noon'))
    await waitFor(async () => (await bodies(bob, id)).includes('mallory: the meeting is cancelled'))

    // Alice and bob hold equally many envelopes of mallory's, so only the bytes differ: the next sync finds it.
    await waitFor(() => alice.core.counters.get('equivocation') > 0 && bob.core.counters.get('equivocation') > 0, {
      timeoutMs: 15_000,
      message: 'both members to detect the equivocation',
    })
    await alice.core.syncWith(bob.identity.peerId, id)
    await bob.core.syncWith(alice.identity.peerId, id)
    await alice.core.settle()
    await bob.core.settle()

    // Neither version is shown anywhere, whichever arrived first; the histories are identical.
    for (const c of [alice, bob, mallory]) {
      const shown = await bodies(c, id)
      expect(shown.some((m) => m.includes('the meeting is'))).toBe(false)
    }
    expect(await visible(bob, id)).toEqual(await visible(alice, id))
    expect(await visible(mallory, id)).toEqual(await visible(alice, id))

    // Counted, announced with the position, and in the conversation summary for the banner.
    for (const name of ['alice', 'bob']) {
      expect(events.find(([n]) => n === name)?.[1]).toMatchObject({ conversation: id, device: mallory.identity.deviceId, account: mallory.identity.account, epoch, seq })
    }
    for (const c of [alice, bob]) {
      expect(c.core.getConversation(id).conflicts).toEqual([
        expect.objectContaining({ account: mallory.identity.account, displayName: 'mallory', device: mallory.identity.deviceId, positions: 1 }),
      ])
    }
    // The row alice showed is marked withdrawn in place (the UI renders it like a deleted message).
    expect(updates.find((u) => u.message.withdrawn === 'conflict')?.message).toMatchObject({ author: mallory.identity.account, body: '', withdrawn: 'conflict' })

    // Both versions are kept as evidence on each member.
    for (const c of [alice, bob]) expect((await c.core.store.evidenceAt(id, epoch, mallory.identity.deviceId, seq)).length).toBe(2)

    // Life goes on: messages after the equivocated position reach everyone, and the histories stay identical.
    await alice.core.send(id, 'after it')
    await bob.core.send(id, 'me too')
    for (const c of cores) await waitForCount(c, id, 3)
    expect(await bodies(alice, id)).toEqual(['mallory: hi all', 'alice: after it', 'bob: me too'])
    expect(await visible(bob, id)).toEqual(await visible(alice, id))
    expect(await visible(mallory, id)).toEqual(await visible(alice, id))
  }, 60_000)

  it('over gossip: the second version is forwarded once as evidence and a member that saw neither learns both', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores = [alice, bob, mallory]
    const id = await makeGroup(alice, [bob, mallory])
    await alice.core.send(id, 'hello')
    for (const c of cores) await waitForCount(c, id, 1)

    const { a, b, another, epoch, seq } = await equivocate(mallory, id)
    const topic = internals(mallory).conversations.get(id)!.epochs.get(internals(mallory).conversations.get(id)!.log.currentEpoch)!.topic
    await mallory.core.node.publish(topic, a)
    await waitFor(async () => (await bodies(bob, id)).includes('mallory: the meeting is at noon'))
    await waitFor(async () => (await bodies(alice, id)).includes('mallory: the meeting is at noon'))
    // The second version over the same topic: the gossip validator must not drop it as a duplicate of seq.
    await mallory.core.node.publish(topic, b)
    for (const c of [alice, bob]) {
      await waitFor(() => c.core.counters.get('equivocation') > 0, { message: `${c.name} to detect the second version` })
    }
    for (const c of [alice, bob]) expect(await bodies(c, id)).toEqual(['alice: hello'])
    // Republishing the evidence changes nothing more: it is a duplicate now, counted once as equivocation.
    const before = alice.core.counters.get('equivocation')
    internals(alice).enqueue(id, b, mallory.identity.peerId)
    await alice.core.settle()
    expect(alice.core.counters.get('equivocation')).toBe(before)
    // More versions of a known conflict are neither kept nor forwarded: a member cannot flood with them.
    const third = await another('and a third story')
    await mallory.core.node.publish(topic, third)
    internals(bob).enqueue(id, third, mallory.identity.peerId)
    await bob.core.settle()
    await new Promise((r) => setTimeout(r, 300))
    for (const c of [alice, bob]) {
      expect(c.core.counters.get('equivocation')).toBe(1)
      expect((await c.core.store.evidenceAt(id, epoch, mallory.identity.deviceId, seq)).length).toBe(2)
    }

    // A member who joins later, having seen neither, learns of the conflict from the evidence sync carries.
    const carol = await startCore('carol')
    cores.push(carol)
    await carol.core.join((await alice.core.createInvite(id, { singleUse: true })).code)
    await waitFor(() => carol.core.counters.get('equivocation') > 0, { timeoutMs: 20_000, message: 'carol to learn of the conflict' })
    await waitForCount(carol, id, 1)
    await carol.core.settle()
    expect(await visible(carol, id)).toEqual(await visible(alice, id))
    expect(carol.core.getConversation(id).conflicts?.map((c) => c.account)).toEqual([mallory.identity.account])
  }, 60_000)
})

describe('equivocation through a relay', () => {
  const bed = coresAndRelays()

  it('a member that was away fetches both versions from the relay alone, detects it and shows neither', async () => {
    const relay = await startTestRelay('r1')
    bed.relays = [relay]
    const alice = await startCore('alice', { relays: [relay.address] })
    let bob = await startCore('bob', { relays: [relay.address] })
    const mallory = await startCore('mallory', { relays: [relay.address] })
    bed.cores = [alice, bob, mallory]
    const id = await makeGroup(alice, [bob, mallory])
    await mallory.core.send(id, 'hi all')
    for (const c of bed.cores) await waitForCount(c, id, 1)
    await bob.stop()

    // Mallory's client deposits one version, then the other, at the same position of its stream (straight through
    // its mailbox client: a modified client does not ask its own relay pass).
    const { a, b, epoch, seq } = await equivocate(mallory, id)
    const relays = (mallory.core as unknown as { relays: { client: { port: MailboxPort; keysFor(secret: Uint8Array): MailboxKeys } } }).relays.client
    const keys = relays.keysFor(internals(mallory).conversations.get(id)!.epochs.get(epoch)!.mailboxSecret)
    for (const version of [a, b]) {
      const [outcome] = await relays.port.deposit(relay.address, keys, [{ id: sha256(version), bytes: version }])
      expect(outcome?.status).toBe('stored')
    }
    await mallory.stop()
    await alice.stop()

    // Bob comes back with nobody to talk to but the relay.
    bob = await bob.restart()
    bed.cores = [alice, bob, mallory]
    await waitFor(() => bob.core.counters.get('equivocation') > 0, { timeoutMs: 20_000, message: 'bob to detect it from the relay fetch' })
    await bob.core.settle()
    expect(bob.core.node.connectedPeers()).toEqual([relay.peerId])
    expect(await bodies(bob, id)).toEqual(['mallory: hi all'])
    expect(bob.core.getConversation(id).conflicts?.map((c) => c.device)).toEqual([mallory.identity.deviceId])
    expect((await bob.core.store.evidenceAt(id, epoch, mallory.identity.deviceId, seq)).length).toBe(2)
  }, 60_000)
})
