import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { keyAt } from '../../node/common/crypto/sender-chain.js'
import { waitFor } from '../../node/common/net/testing.js'
import { fromBase64Url, toBase64Url } from '../../node/common/util/bytes.js'
import { EnvelopeKind, sealEnvelope } from '../../node/common/wire/envelope.js'
import { encodeContent } from '../../node/src/history/payloads.js'
import type { ConversationId, EpochId } from '../../node/src/ids.js'
import type { OwnChain } from '../../node/src/store/core-store.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'

type Internals = {
  conversations: Map<
    string,
    {
      log: { currentEpoch: string }
      own: Map<string, OwnChain>
      epochs: Map<string, { envelope: { epochTag: Uint8Array; headerKey: Uint8Array }; topic: string }>
    }
  >
}

/**
 * A member (bob) sends correctly encrypted and signed envelopes whose Automerge change is each of the corrupt files
 * from shared/vectors: the receiver must refuse every one, keep running, and keep accepting bob's later messages.
 */
describe('corrupt Automerge received from a peer', () => {
  let cores: TestCore[] = []
  afterAll(async () => {
    await stopAll(cores)
  })

  it('is rejected cleanly, counted, and the stream goes on', async () => {
    const alice = await startCore('alice')
    const bob = await startCore('bob')
    cores = [alice, bob]
    const id = await makeGroup(alice, [bob])
    await bob.core.send(id, 'before')
    await waitForCount(alice, id, 1)

    const dir = new URL('../vectors/automerge-corrupt/', import.meta.url)
    const files = readdirSync(dir).filter((f) => f !== 'LICENSE')
    expect(files.length).toBe(9)
    const rt = (bob.core as unknown as Internals).conversations.get(id)!
    const epoch = rt.log.currentEpoch
    const keys = rt.epochs.get(epoch)!
    for (const file of files) {
      const own = rt.own.get(epoch)!
      const step = keyAt({ chainKey: fromBase64Url(own.cursorKey), index: own.next }, own.next)
      const envelope = sealEnvelope({
        keys: keys.envelope,
        header: { device: bob.identity.deviceKey.publicKey, seq: own.next, kind: EnvelopeKind.content },
        bodyKey: step.key,
        body: encodeContent({ shard: 0, change: new Uint8Array(readFileSync(new URL(file, dir))) }),
        signingSeed: bob.identity.deviceKey.seed,
      })
      // Keep bob's own stream in step, as if his core had written these: stored, so a gap on alice's side (a publish
      // before the mesh formed) is filled by sync rather than stalling the stream.
      const next = { ...own, next: own.next + 1, cursorKey: toBase64Url(step.next.chainKey) }
      rt.own.set(epoch, next)
      await bob.core.store.commit([bob.core.store.putEnvelope(id as ConversationId, epoch as EpochId, bob.identity.deviceId, own.next, envelope), bob.core.store.putOwnChain(id as ConversationId, epoch as EpochId, next)], true)
      await bob.core.node.publish(keys.topic, envelope)
    }
    await waitFor(() => alice.core.counters.get('bad-content') >= files.length, {
      message: 'alice to refuse every corrupt change',
    })
    await bob.core.send(id, 'after')
    await waitForCount(alice, id, 2)
    expect(await bodies(alice, id)).toEqual(['bob: before', 'bob: after'])
  })
})
