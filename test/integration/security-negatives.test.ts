import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { request } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { EnvelopeKind, sealEnvelope } from '../../node/common/wire/envelope.js'
import type { ConversationId } from '../../node/src/ids.js'
import { SYNC_PROTOCOL } from '../../node/src/sync/sync-frames.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

type EpochKeysLike = { envelope: { epochTag: Uint8Array; headerKey: Uint8Array }; controlKey: Uint8Array; topic: string }
type Internals = {
  conversations: Map<string, { epochs: Map<string, EpochKeysLike>; log: { currentEpoch: string }; own: Map<string, { next: number }> }>
  enqueue(id: string, bytes: Uint8Array, from: string | null): void
}
const internals = (c: TestCore) => c.core as unknown as Internals
const currentKeys = (c: TestCore, id: string) => {
  const rt = internals(c).conversations.get(id)!
  return rt.epochs.get(rt.log.currentEpoch)!
}

/**
 * Each attack is mounted by a peer on the real network (bob or eve's node publishing on the conversation's topic, or
 * calling the sync protocol), and each must be refused, counted, and leave the history and the node intact.
 */
describe('bad input from peers is refused, counted and harmless', () => {
  let alice: TestCore, bob: TestCore, eve: TestCore
  let id: ConversationId
  let other: ConversationId
  let sample: Uint8Array

  beforeAll(async () => {
    alice = await startCore('alice')
    bob = await startCore('bob')
    eve = await startCore('eve')
    id = await makeGroup(alice, [bob])
    other = (await bob.core.createConversation({ kind: 'group', name: 'elsewhere' })).id as ConversationId
    await connect(eve, alice)
    // Capture a genuine envelope of bob's as it travels.
    const captured: Uint8Array[] = []
    bob.core.node.subscribe(currentKeys(alice, id).topic, () => {})
    alice.core.node.subscribe(currentKeys(alice, id).topic, (data) => captured.push(data))
    await bob.core.send(id, 'genuine')
    await waitForCount(alice, id, 1)
    await waitFor(() => captured.length > 0)
    // The largest is the content envelope: a receipt (a signal) may travel first, and a signal is never a duplicate.
    await waitFor(() => captured.some((b) => b.length > 400))
    sample = captured.reduce((a, b) => (b.length > a.length ? b : a))
  }, 60_000)

  afterAll(async () => {
    await stopAll([alice, bob, eve])
  })

  const counted = (reason: string) => alice.core.counters.get(reason)

  async function expectRefused(reason: string, publish: () => Promise<unknown> | void): Promise<void> {
    const before = counted(reason)
    await publish()
    await waitFor(() => counted(reason) > before, { message: `alice to count a '${reason}' refusal` })
    expect(await bodies(alice, id)).toEqual(['bob: genuine'])
  }

  it('forged sender: an envelope naming bob but signed by another key', async () => {
    const keys = currentKeys(alice, id)
    const forged = sealEnvelope({
      keys: keys.envelope,
      header: { device: bob.identity.deviceKey.publicKey, seq: 99, kind: EnvelopeKind.content },
      bodyKey: keys.controlKey,
      body: new Uint8Array(32),
      signingSeed: generateSigningKeyPair().seed,
    })
    await expectRefused('forged', () => bob.core.node.publish(keys.topic, forged))
    // The same envelope arriving in a sync page takes the batched path (signatures verified on the thread pool).
    await expectRefused('forged', () => internals(alice).enqueue(id, forged, bob.identity.peerId))
  })

  it('replayed envelope: the same genuine envelope again changes nothing', async () => {
    await expectRefused('duplicate', () => internals(alice).enqueue(id, sample, bob.identity.peerId))
  })

  it('an envelope of another conversation published on this one’s topic', async () => {
    const otherKeys = currentKeys(bob, other)
    const foreign = sealEnvelope({
      keys: otherKeys.envelope,
      header: { device: bob.identity.deviceKey.publicKey, seq: 1, kind: EnvelopeKind.content },
      bodyKey: otherKeys.controlKey,
      body: new Uint8Array(32),
      signingSeed: bob.identity.deviceKey.seed,
    })
    await expectRefused('wrong-conversation', () => bob.core.node.publish(currentKeys(alice, id).topic, foreign))
  })

  it('a non-member who learned the epoch keys publishes', async () => {
    const keys = currentKeys(alice, id)
    const outsider = sealEnvelope({
      keys: keys.envelope,
      header: { device: eve.identity.deviceKey.publicKey, seq: 1, kind: EnvelopeKind.content },
      bodyKey: keys.controlKey,
      body: new Uint8Array(32),
      signingSeed: eve.identity.deviceKey.seed,
    })
    await expectRefused('unknown-device', () => internals(alice).enqueue(id, outsider, eve.identity.peerId))
  })

  it('truncated and garbage envelopes', async () => {
    await expectRefused('malformed', () => bob.core.node.publish(currentKeys(alice, id).topic, sample.subarray(0, 40)))
    await expectRefused('wrong-conversation', () => {
      const flipped = new Uint8Array(sample)
      flipped[20] = flipped[20]! ^ 0xff
      return bob.core.node.publish(currentKeys(alice, id).topic, flipped)
    })
  })

  it('oversized envelope', async () => {
    await expectRefused('oversized', () => internals(alice).enqueue(id, new Uint8Array(70 * 1024).fill(1), bob.identity.peerId))
  })

  it('sync: a non-member, a garbage request and an oversized request are refused; honest sync still works', async () => {
    const attempt = async (bytes: Uint8Array) => {
      const frames = []
      for await (const f of request(eve.core.node, alice.identity.peerId, SYNC_PROTOCOL, bytes, {
        maxRequestBytes: 4 * 1024 * 1024,
        maxResponseBytes: 4 * 1024 * 1024,
        timeoutMs: 5_000,
      }))
        frames.push(f)
      return frames
    }
    await expect(attempt(new Uint8Array([1, 2, 3, 4, 5]))).rejects.toMatchObject({ code: 'MALFORMED' })
    await expect(attempt(new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    // Eve signs a well-formed request as herself: she is not a member.
    const { encodeSyncRequest } = await import('../../node/src/sync/sync-frames.js')
    const asEve = encodeSyncRequest(
      { conversation: id, device: eve.identity.deviceId, at: Date.now(), heads: [], vector: [] },
      eve.identity.deviceKey.seed,
      { requester: eve.identity.peerId, responder: alice.identity.peerId },
    )
    await expect(attempt(asEve)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })

    await bob.core.send(id, 'still working')
    await waitForCount(alice, id, 2)
    expect(await bodies(alice, id)).toEqual(['bob: genuine', 'bob: still working'])
  })
})
