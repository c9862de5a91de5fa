import { beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from '../../../common/crypto/random.js'
import { advance, newChain } from '../../../common/crypto/sender-chain.js'
import { toBase64Url } from '../../../common/util/bytes.js'
import { EnvelopeKind } from '../../../common/wire/envelope.js'
import { deriveEpochKeys } from '../../conversation/epoch-keys.js'
import { createIdentity, type Identity } from '../../identity/identity.js'
import type { Put, OwnChain, StreamState } from '../../store/core-store.js'
import { streamKey, type ConversationRuntime } from '../conversation-runtime.js'
import type { Kernel } from '../kernel.js'
import { SecurityCounters } from '../security-counters.js'
import { sealOwn } from '../send/own-stream.js'
import { MAX_OFFERS, addOffer, checkOffers } from './offered-chain.js'

let carol: Identity
beforeAll(async () => {
  carol = (await createIdentity('Carol', Date.now())).identity
})

const keys = deriveEpochKeys(randomBytes(32))
const text = (s: string) => new TextEncoder().encode(s)

/** Carol's stream in one epoch: the given kinds in order, sealed as her core seals them; and her chain as granted. */
function carolsStream(kinds: EnvelopeKind[]): { envelopes: Uint8Array[]; granted: string } {
  const chain = newChain()
  let own: OwnChain = { initialKey: toBase64Url(chain.chainKey), cursorKey: toBase64Url(advance(chain).chainKey), next: 1, messages: 0, sentTo: [], delivered: 0 }
  const envelopes = kinds.map((kind, i) => {
    const sealed = sealOwn(carol, keys, own, kind, text(`body ${i}`))
    own = sealed.next
    return sealed.bytes
  })
  return { envelopes, granted: toBase64Url(chain.chainKey) }
}

/** Just what checkOffers reads: the stream's stored envelopes, a commit, and the counters. */
function setting(envelopes: Uint8Array[]) {
  const counters = new SecurityCounters()
  const commits: Put[][] = []
  const kernel = {
    counters,
    store: {
      envelopesAfter: async (_c: string, _e: string, _d: string, after: number, limit: number) => envelopes.slice(after, after + limit),
      putStream: (_c: string, _e: string, _d: string, s: StreamState): Put => ({ type: 'put', key: 'stream', value: text(JSON.stringify(s)) }),
      commit: async (puts: Put[]) => void commits.push(puts),
    },
  } as unknown as Kernel
  const rt = { id: 'c'.repeat(32), epochs: new Map([[keys.id, keys]]) } as unknown as ConversationRuntime
  return { kernel, rt, counters, commits, key: streamKey(keys.id, carol.deviceId) }
}

const chainless = (have: number): StreamState => ({ have, done: 0, chain: null })
const bogus = () => toBase64Url(randomBytes(32))

describe('chains handed on by another device', () => {
  it("become the stream's chain once they open one of the sender's envelopes", async () => {
    const { envelopes, granted } = carolsStream([EnvelopeKind.keys, EnvelopeKind.content, EnvelopeKind.content])
    const { kernel, rt, key, counters } = setting(envelopes)
    const s = chainless(3)
    expect(addOffer(s, granted)).toBe(true)
    expect(await checkOffers(kernel, rt, key, s)).toBe('taken')
    expect(s).toEqual({ have: 3, done: 0, chain: { key: granted, index: 0 }, granted })
    expect(counters.get('bad-forwarded-chain')).toBe(0)
  })

  it('a wrong chain opens nothing: refused, counted, and the stream stays waiting for its real chain', async () => {
    const { envelopes } = carolsStream([EnvelopeKind.content, EnvelopeKind.content])
    const { kernel, rt, key, counters, commits } = setting(envelopes)
    const s = chainless(2)
    addOffer(s, bogus())
    expect(await checkOffers(kernel, rt, key, s)).toBe('refused')
    // Taken unchecked, it would have had every message read with the wrong key, counted bad and skipped for good.
    expect(s.chain).toBeNull()
    expect(s.offered).toBeUndefined()
    expect(counters.get('bad-forwarded-chain')).toBe(1)
    expect(commits).toHaveLength(1)
  })

  it('a wrong offer ahead of the right one does not keep the right one out', async () => {
    const { envelopes, granted } = carolsStream([EnvelopeKind.content])
    const { kernel, rt, key, counters } = setting(envelopes)
    const s = chainless(1)
    addOffer(s, bogus())
    addOffer(s, granted)
    expect(await checkOffers(kernel, rt, key, s)).toBe('taken')
    expect(s.chain?.key).toBe(granted)
    expect(counters.get('bad-forwarded-chain')).toBe(1)
  })

  it('waits while the stream holds no content envelope to check against', async () => {
    const { envelopes, granted } = carolsStream([EnvelopeKind.keys, EnvelopeKind.membership])
    const { kernel, rt, key } = setting(envelopes)
    const s = chainless(2)
    addOffer(s, granted)
    expect(await checkOffers(kernel, rt, key, s)).toBe('waiting')
    expect(s.offered).toEqual([granted])
    expect(await checkOffers(kernel, rt, key, chainless(0))).toBe('waiting')
  })

  it('keeps a bounded number of offers, none twice, and none for a stream that has its chain', () => {
    const s = chainless(0)
    const first = bogus()
    expect(addOffer(s, first)).toBe(true)
    expect(addOffer(s, first)).toBe(false)
    for (let i = 1; i < MAX_OFFERS; i++) expect(addOffer(s, bogus())).toBe(true)
    expect(addOffer(s, bogus())).toBe(false)
    expect(s.offered).toHaveLength(MAX_OFFERS)
    expect(addOffer({ have: 0, done: 0, chain: { key: first, index: 0 } }, bogus())).toBe(false)
  })
})
