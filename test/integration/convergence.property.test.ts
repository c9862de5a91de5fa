import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../node/common/net/testing.js'
import type { ConversationId } from '../../node/src/ids.js'
import { startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { makeGroup } from '../helpers/group.js'

/**
 * Random sends across four peers under random partitions and heals converge to one identical, gap-free,
 * duplicate-free history. Real cores, real libp2p over TCP loopback; a partition is a closed connection that nobody
 * redials until the heal.
 */
type Step = { kind: 'send'; who: number } | { kind: 'cut'; a: number; b: number } | { kind: 'heal'; a: number; b: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('send' as const), who: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heal' as const), a: fc.integer({ min: 0, max: 3 }), b: fc.integer({ min: 0, max: 3 }) }) },
)

describe('convergence under partitions (property)', () => {
  let peers: TestCore[] = []
  beforeAll(async () => {
    peers = [await startCore('alice'), await startCore('bob'), await startCore('charlie'), await startCore('dave')]
  }, 60_000)
  afterAll(async () => {
    await stopAll(peers)
  })

  async function link(a: TestCore, b: TestCore) {
    if (!a.core.node.connectedPeers().includes(b.identity.peerId)) await a.core.node.dial(b.core.node.addresses()[0]!)
  }

  it('every peer ends with the same history, each acknowledged message exactly once', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 40 }), async (steps) => {
        run++
        // A fresh conversation per run: the same four cores, a new group.
        const [admin, ...rest] = peers as [TestCore, ...TestCore[]]
        for (let i = 0; i < peers.length; i++) for (let j = i + 1; j < peers.length; j++) await link(peers[i]!, peers[j]!)
        const id: ConversationId = await makeGroup(admin, rest, `run ${run}`)
        const sent: string[] = []
        let n = 0
        for (const s of steps) {
          if (s.kind === 'send') {
            const m = await peers[s.who]!.core.send(id, `${peers[s.who]!.name} ${n++}`)
            sent.push(m.id)
          } else if (s.a !== s.b) {
            const [a, b] = [peers[s.a]!, peers[s.b]!]
            if (s.kind === 'cut') await a.core.node.hangUp(b.identity.peerId)
            else await link(a, b)
          }
        }
        for (let i = 0; i < peers.length; i++) for (let j = i + 1; j < peers.length; j++) await link(peers[i]!, peers[j]!)
        const histories = async () =>
          Promise.all(peers.map(async (p) => (await p.core.page(id, { limit: 500 })).messages.map((m) => m.id)))
        await waitFor(async () => (await histories()).every((h) => h.length === sent.length), {
          timeoutMs: 30_000,
          message: `all peers to hold ${sent.length} messages`,
        })
        const all = await histories()
        for (const h of all) {
          expect(h).toEqual(all[0])
          expect(new Set(h).size).toBe(h.length)
        }
        expect([...all[0]!].sort()).toEqual([...sent].sort())
      }),
      { numRuns: 8, seed: 20261122, endOnFailure: true },
    )
  }, 240_000)
})
