import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

describe('removing a member', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('rotates keys and topic: the removed member, still connected with its old keys, can neither read nor post', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores = [alice, bob, mallory]
    const id = await makeGroup(alice, [bob, mallory])
    // An admin does not remove itself (it would choose the next epoch on its way out): it leaves.
    await expect(alice.core.removeMember(id, alice.identity.account)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('leave') })

    await alice.core.send(id, 'everyone can read this')
    await waitForCount(mallory, id, 1)
    const oldTopics = [...(mallory.core as unknown as { conversations: Map<string, { topics: Set<string> }> }).conversations.get(id)!.topics]

    await alice.core.removeMember(id, mallory.identity.account)
    await waitFor(() => bob.core.members(id).length === 2)
    await waitFor(() => mallory.core.getConversation(id).removed)
    // Still connected at the network level: the removal is cryptographic, not a disconnect.
    expect(mallory.core.node.connectedPeers()).toContain(alice.identity.peerId)

    await alice.core.send(id, 'after the removal')
    await bob.core.send(id, 'bob also after')
    await waitForCount(bob, id, 3)
    await waitForCount(alice, id, 3)

    // Mallory tries to read: anti-entropy and gossip get her nothing new, even if she asks for it.
    await mallory.core.syncWith(alice.identity.peerId, id).catch(() => {})
    await new Promise((r) => setTimeout(r, 1500))
    expect(await bodies(mallory, id)).toEqual(['alice: everyone can read this'])

    // The topic rotated: the new epoch's topic is one Mallory never learned.
    const aliceTopics = [...(alice.core as unknown as { conversations: Map<string, { topics: Set<string> }> }).conversations.get(id)!.topics]
    expect(aliceTopics.filter((t) => !oldTopics.includes(t)).length).toBe(1)

    // Mallory tries to post: her own core refuses, and an envelope forced onto the old topic is refused by everyone.
    await expect(mallory.core.send(id, 'let me back in')).rejects.toMatchObject({ code: 'REMOVED' })
    const before = alice.core.counters.get('removed-member') + bob.core.counters.get('removed-member')
    const forced = await forgeAfterRemoval(mallory, id)
    for (const topic of oldTopics) await mallory.core.node.publish(topic, forced)
    await waitFor(() => alice.core.counters.get('removed-member') + bob.core.counters.get('removed-member') > before, {
      message: 'members to refuse the removed member’s envelope',
    })
    expect(await bodies(alice, id)).toEqual(['alice: everyone can read this', 'alice: after the removal', 'bob: bob also after'])
    expect(await bodies(bob, id)).toEqual(await bodies(alice, id))
  })
})

/** Builds a validly signed content envelope in the old epoch, as a removed member with its old keys could. */
async function forgeAfterRemoval(mallory: TestCore, id: string): Promise<Uint8Array> {
  const { sealEnvelope, EnvelopeKind } = await import('../../node/common/wire/envelope.js')
  const internals = mallory.core as unknown as {
    conversations: Map<string, { epochs: Map<string, { envelope: { epochTag: Uint8Array; headerKey: Uint8Array }; controlKey: Uint8Array }>; own: Map<string, { next: number }> }>
  }
  const rt = internals.conversations.get(id)!
  const [epoch, keys] = [...rt.epochs.entries()][0]!
  return sealEnvelope({
    keys: keys.envelope,
    header: { device: mallory.identity.deviceKey.publicKey, seq: rt.own.get(epoch)!.next + 5, kind: EnvelopeKind.content },
    bodyKey: keys.controlKey,
    body: new Uint8Array(10),
    signingSeed: mallory.identity.deviceKey.seed,
  })
}

describe('messages of a removed member', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  it('that nobody received are marked failed with the reason, and retry says why it cannot', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    // Bob writes while cut off; meanwhile alice removes him.
    await bob.core.node.hangUp(alice.identity.peerId)
    const stranded = await bob.core.send(id, 'written while cut off')
    await alice.core.removeMember(id, bob.identity.account)
    // Bob reconnects and learns of the removal through sync; alice refuses his stranded message (past his cutoff).
    await bob.core.node.dial(alice.core.node.addresses()[0]!)
    await waitFor(() => bob.core.getConversation(id).removed, { message: 'bob to learn of his removal' })
    await waitFor(async () => (await bob.core.page(id)).messages.find((m) => m.id === stranded.id)?.state === 'failed')
    const row = (await bob.core.page(id)).messages.find((m) => m.id === stranded.id)!
    expect(row.failure).toMatch(/removed/)
    await expect(bob.core.retry(id, stranded.id)).rejects.toMatchObject({ code: 'REMOVED' })
    expect((await alice.core.page(id)).messages.map((m) => m.body)).not.toContain('written while cut off')
  })
})

describe('a removed member’s messages in flight', () => {
  let cores: TestCore[] = []
  afterEach(async () => {
    await stopAll(cores)
    cores = []
  })

  /** Mallory's next message reaches Bob (a sync page, a relay fetch) while Alice, not having seen it, will remove her. */
  async function inFlightAtBob() {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    const mallory = await startCore('mallory')
    cores = [alice, bob, mallory]
    const id = await makeGroup(alice, [bob, mallory])
    await mallory.core.send(id, 'before')
    for (const c of cores) await waitForCount(c, id, 1)
    const { envelope, topic } = await composeLikeMallory(mallory, id, 'sent while the removal was on its way')
    internals(bob).enqueue(id, envelope, mallory.identity.peerId)
    await waitFor(async () => (await bodies(bob, id)).includes('mallory: sent while the removal was on its way'))
    return { alice, bob, mallory, id, envelope, topic }
  }
  const internals = (c: TestCore) => c.core as unknown as { enqueue(id: string, bytes: Uint8Array, from: string | null): void }

  it('end the same on every member: one that showed it before the removal arrived withdraws it', async () => {
    const { alice, bob, mallory, id, envelope, topic } = await inFlightAtBob()
    const inFlight = (await bob.core.page(id)).messages.find((m) => m.body.startsWith('sent while'))!
    const withdrawn: string[] = []
    bob.core.events.on('message.updated', (e) => {
      if (e.message.withdrawn === 'removed') withdrawn.push(e.message.id)
    })
    await alice.core.removeMember(id, mallory.identity.account)
    await waitFor(() => bob.core.members(id).length === 2, { message: 'bob to learn of the removal' })
    // The same message reaches Alice after the removal: refused there, as it is past Mallory's cutoff.
    const refused = alice.core.counters.get('removed-member')
    await mallory.core.node.publish(topic, envelope)
    internals(alice).enqueue(id, envelope, null)
    await waitFor(() => alice.core.counters.get('removed-member') > refused)
    await waitFor(async () => !(await bodies(bob, id)).includes('mallory: sent while the removal was on its way'), {
      message: 'bob to withdraw the message written past the cutoff',
    })
    await alice.core.syncWith(bob.identity.peerId, id)
    await bob.core.syncWith(alice.identity.peerId, id)
    await bob.core.settle()
    await alice.core.settle()

    expect(await bodies(alice, id)).toEqual(['mallory: before'])
    expect(await bodies(bob, id)).toEqual(['mallory: before'])
    const ids = async (c: TestCore) => (await c.core.page(id)).messages.map((m) => m.id)
    expect(await ids(bob)).toEqual(await ids(alice))
    // Bob's screen was told, so a list showing it marks it withdrawn in place.
    expect(withdrawn).toEqual([inFlight.id])
    // The conversation list neither quotes it nor counts it as unread.
    expect(bob.core.getConversation(id)).toMatchObject({ lastMessage: { body: 'before' }, unread: 1 })
    // Both keep talking as before.
    await bob.core.send(id, 'still here')
    await waitForCount(alice, id, 2)
    expect(await bodies(alice, id)).toEqual(await bodies(bob, id))
  }, 60_000)

  it('a member who wrote after a removed member’s refused message, before learning of the removal, is still read by everyone', async () => {
    // Found by the soak: Bob's change depended on Mallory's, which Alice refuses (past Mallory's cutoff), so Alice could
    // never apply Bob's message. Written on Bob's own changes only, it depends on nothing of Mallory's.
    const { alice, bob, mallory, id } = await inFlightAtBob()
    // Bob writes in the same shard before he knows; Alice removes Mallory without having seen her last message.
    await bob.core.send(id, 'written before bob knew')
    await alice.core.removeMember(id, mallory.identity.account)
    await waitFor(() => bob.core.members(id).length === 2, { message: 'bob to learn of the removal' })
    await alice.core.syncWith(bob.identity.peerId, id)
    await waitFor(async () => (await bodies(alice, id)).includes('bob: written before bob knew'), { message: "alice to show bob's message" })
    await waitFor(async () => JSON.stringify(await bodies(bob, id)) === JSON.stringify(await bodies(alice, id)), { message: 'the same history on both' })
    expect(await bodies(alice, id)).toEqual(['mallory: before', 'bob: written before bob knew'])
  }, 60_000)
})

/** Mallory's next content envelope, built as her core would (real chain key, next position), not yet sent anywhere. */
async function composeLikeMallory(mallory: TestCore, id: string, body: string): Promise<{ envelope: Uint8Array; topic: string }> {
  const { applyRemoteChanges, createShard, hlcNow, HLC_ZERO, sendMessage, shardOf } = await import('../../crdt/src/index.js')
  const { keyAt } = await import('../../node/common/crypto/sender-chain.js')
  const { randomBytes } = await import('../../node/common/crypto/random.js')
  const { fromBase64Url, toBase64Url, toHex } = await import('../../node/common/util/bytes.js')
  const { sealEnvelope, EnvelopeKind } = await import('../../node/common/wire/envelope.js')
  const { actorOf } = await import('../../node/src/core/actor.js')
  const { encodeContent } = await import('../../node/src/history/payloads.js')
  type Own = { next: number; messages: number; cursorKey: string; initialKey: string; sentTo: string[]; delivered: number }
  const rt = (mallory.core as unknown as {
    conversations: Map<string, { epochs: Map<string, { envelope: { epochTag: Uint8Array; headerKey: Uint8Array }; topic: string }>; log: { currentEpoch: string }; own: Map<string, Own> }>
  }).conversations.get(id)!
  const epoch = rt.log.currentEpoch
  const keys = rt.epochs.get(epoch)!
  const own = rt.own.get(epoch)!
  const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: own.next }, own.next)
  const actor = actorOf(mallory.identity.deviceId)
  const shard = shardOf(own.messages)
  const doc = applyRemoteChanges(createShard(actor), await mallory.core.store.listChanges(id as never, epoch as never, shard)).doc
  const { change } = sendMessage(doc, actor, { id: toHex(randomBytes(16)) as never, body, hlc: hlcNow(HLC_ZERO, Date.now()), seq: own.messages })
  const envelope = sealEnvelope({
    keys: keys.envelope,
    header: { device: mallory.identity.deviceKey.publicKey, seq: own.next, kind: EnvelopeKind.content },
    bodyKey: step.key,
    body: encodeContent({ shard, change }),
    signingSeed: mallory.identity.deviceKey.seed,
  })
  rt.own.set(epoch, { ...own, next: own.next + 1, messages: own.messages + 1, cursorKey: toBase64Url(step.next.chainKey) })
  return { envelope, topic: keys.topic }
}
