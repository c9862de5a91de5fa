import { afterEach, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import { generateSigningKeyPair, signingKeyPairFromSeed } from '../../../common/crypto/ed25519.js'
import { randomBytes } from '../../../common/crypto/random.js'
import { HearthError, isHearthError } from '../../../common/errors.js'
import { createHearthNode, type HearthNode } from '../../../common/net/create-node.js'
import { lengthPrefixed } from '../../../common/net/request-response.js'
import { waitFor } from '../../../common/net/testing.js'
import { encodeCbor } from '../../../common/wire/cbor.js'
import { pickLocator } from '../../conversation/short-invite.js'
import { issueDeviceCert, type DeviceCert } from '../../identity/device-cert.js'
import { newLinkSecret, type LinkCode } from '../../identity/link-code.js'
import {
  MAX_BAD_PROOFS,
  offerPairing,
  PAIR_PROTOCOL,
  PairMessages,
  pairWith,
  type AccountSecrets,
  type LinkedConversation,
  type PairDialHandlers,
  type PairOfferHandlers,
  type PairTiming,
} from './pair-protocol.js'

const nodes: HearthNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

async function startNode(): Promise<HearthNode> {
  const node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  nodes.push(node)
  return node
}

const account: AccountSecrets = { accountSeed: randomBytes(32), entropy: randomBytes(32), displayName: 'Ada' }
const accountPublic = signingKeyPairFromSeed(account.accountSeed).publicKey

function certFor(seed: Uint8Array, peerId: string): Uint8Array {
  return issueDeviceCert({
    accountSeed: seed,
    accountPublic: signingKeyPairFromSeed(seed).publicKey,
    devicePublic: generateSigningKeyPair().publicKey,
    dhPublic: randomBytes(32),
    peerId,
    displayName: 'Ada',
    createdAt: 1_700_000_000_000,
  }).bytes
}

const hex = (n: number) => Array.from(randomBytes(n), (b) => b.toString(16).padStart(2, '0')).join('')
function conversation(opCount: number, opBytes: number, over: Partial<LinkedConversation> = {}): LinkedConversation {
  return {
    id: hex(16),
    root: hex(32),
    kind: 'group',
    name: 'Book club',
    createdAt: 1_700_000_000_000,
    relays: ['/dns4/relay.example/tcp/443/wss/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'],
    ops: Array.from({ length: opCount }, () => randomBytes(opBytes)),
    ...over,
  }
}

interface Sides {
  n: HearthNode
  e: HearthNode
  code: LinkCode
  offer: ReturnType<typeof offerPairing>
  log: { codes: string[]; counts: string[]; made: AccountSecrets[]; admitted: DeviceCert[]; delivered: LinkedConversation[][]; pending: string[][]; from: string[] }
}

/** N offering with `over` handlers, E ready to dial; nothing dialed yet. */
async function setup(
  over: { offer?: Partial<PairOfferHandlers>; expiresAt?: number; timing?: Partial<PairTiming> } = {},
): Promise<Sides> {
  const [n, e] = await Promise.all([startNode(), startNode()])
  const log: Sides['log'] = { codes: [], counts: [], made: [], admitted: [], delivered: [], pending: [], from: [] }
  const handlers: PairOfferHandlers = {
    onConfirmationCode: (c) => log.codes.push(`N ${c}`),
    confirm: async () => true,
    makeDevice: async (a) => {
      log.made.push(a)
      return certFor(a.accountSeed, n.peerId)
    },
    onConversations: async (list, pending, from) => {
      log.delivered.push(list)
      log.pending.push(pending)
      log.from.push(from)
    },
    count: (r) => log.counts.push(`N ${r}`),
    ...over.offer,
  }
  const secret = newLinkSecret()
  const offer = offerPairing(n, { secret, expiresAt: over.expiresAt ?? Date.now() + 60_000, handlers, ...(over.timing ? { timing: over.timing } : {}) })
  await offer.ready
  return { n, e, code: { secret, locator: pickLocator(n.addresses())! }, offer, log }
}

function dial(s: Sides, over: Partial<PairDialHandlers> = {}, code: LinkCode = s.code, timing?: Partial<PairTiming>, bundleBytes?: number): Promise<DeviceCert> {
  return pairWith(
    s.e,
    code,
    {
      account,
      onConfirmationCode: (c) => s.log.codes.push(`E ${c}`),
      confirm: async () => true,
      admit: async (cert) => {
        s.log.admitted.push(cert)
        return []
      },
      count: (r) => s.log.counts.push(`E ${r}`),
      ...over,
    },
    { ...(timing ? { timing } : {}), ...(bundleBytes === undefined ? {} : { bundleBytes }) },
  )
}

async function refusal(p: Promise<unknown>): Promise<HearthError> {
  try {
    await p
  } catch (err) {
    if (err instanceof HearthError) return err
    throw err
  }
  throw new Error('expected a refusal')
}

const wrongSecret = (secret: string) => (secret[0] === '0' ? '1' : '0') + secret.slice(1)

describe('linking a device over /hearth/pair/1.0.0', () => {
  it('links: the same code on both screens, the certificate back, every conversation byte for byte', async () => {
    const s = await setup()
    // One small conversation and one whose log needs two bundle frames (40 × 256 KiB = 10 MiB).
    const sent = [conversation(3, 200, { kind: 'direct', name: '', relays: [] }), conversation(40, 256 * 1024)]
    const cert = await dial(s, {
      admit: async (c) => {
        s.log.admitted.push(c)
        return sent
      },
    })
    await s.offer.done
    expect(cert.peerId).toBe(s.n.peerId)
    expect(cert.account).toBe(Buffer.from(accountPublic).toString('hex'))
    expect(s.log.codes).toHaveLength(2)
    expect(s.log.codes[0]!.slice(2)).toMatch(/^\d{3} \d{3}$/)
    expect(s.log.codes[0]!.slice(2)).toBe(s.log.codes[1]!.slice(2))
    expect(s.log.made).toEqual([account])
    expect(s.log.admitted.map((c) => c.peerId)).toEqual([s.n.peerId])
    expect(s.log.delivered).toHaveLength(1)
    // Byte for byte, compared as one encoding (a deep equal over 10 MiB of byte arrays takes a minute).
    const sameBytes = (a: unknown, b: unknown) => Buffer.from(encodeCbor(a)).equals(Buffer.from(encodeCbor(b)))
    expect(sameBytes(s.log.delivered[0], sent)).toBe(true)
    expect(s.log.delivered[0]!.map((c) => c.ops.length)).toEqual([3, 40])
    expect(sameBytes(s.log.delivered[0], [sent[0], { ...sent[1]!, ops: sent[1]!.ops.slice(0, 39) }])).toBe(false)
    expect(s.log.pending).toEqual([[]])
    expect(s.log.from).toEqual([s.e.peerId])
    expect(s.log.counts).toEqual([])
  }, 60_000)

  it('carries the logs that fit its budget, newest first, and names the others for N to fetch after the link', async () => {
    const s = await setup()
    // The second does not fit 10 KB: it and everything after it are named, in order, even the small third.
    const sent = [conversation(4, 1_000), conversation(20, 1_000), conversation(1, 100), conversation(2, 100)]
    await dial(s, { admit: async () => sent }, s.code, undefined, 10_000)
    await s.offer.done
    expect(s.log.delivered[0]!.map((c) => c.id)).toEqual([sent[0]!.id])
    expect(Buffer.from(encodeCbor(s.log.delivered[0])).equals(Buffer.from(encodeCbor([sent[0]])))).toBe(true)
    expect(s.log.pending).toEqual([sent.slice(1).map((c) => c.id)])
    expect(s.log.from).toEqual([s.e.peerId])
  })

  it('names 2,500 conversations over several frames when none fits', async () => {
    const s = await setup()
    const sent = Array.from({ length: 2_500 }, () => conversation(1, 10))
    await dial(s, { admit: async () => sent }, s.code, undefined, 0)
    await s.offer.done
    expect(s.log.delivered).toEqual([[]])
    expect(s.log.pending).toEqual([sent.map((c) => c.id)])
  })

  it('refuses a wrong code and counts it; the offer still takes the right one; a second dial after success is refused', async () => {
    const s = await setup()
    const wrong = await refusal(dial(s, {}, { ...s.code, secret: wrongSecret(s.code.secret) }))
    expect(wrong.code).toBe('LINK_INVALID')
    expect(wrong.message).toBe(PairMessages.wrong)
    expect(s.log.counts).toEqual(['N pair-bad-proof'])
    expect(s.log.codes).toEqual([])
    await dial(s)
    await s.offer.done
    // Single use: the same code again finds no offer.
    const replay = await refusal(dial(s))
    expect(replay.code).toBe('LINK_INVALID')
    expect(s.log.made).toHaveLength(1)
  }, 60_000)

  it(`burns the offer after ${MAX_BAD_PROOFS} wrong codes`, async () => {
    const s = await setup()
    for (let i = 0; i < MAX_BAD_PROOFS; i++) {
      expect((await refusal(dial(s, {}, { ...s.code, secret: wrongSecret(s.code.secret) }))).code).toBe('LINK_INVALID')
    }
    const burnt = await refusal(s.offer.done)
    expect(burnt.code).toBe('LINK_INVALID')
    expect(burnt.message).toBe(PairMessages.burnt)
    expect(s.log.counts.filter((c) => c === 'N pair-bad-proof')).toHaveLength(MAX_BAD_PROOFS)
    expect((await refusal(dial(s))).code).toBe('LINK_INVALID')
    expect(s.log.made).toEqual([])
  }, 60_000)

  it('expires: the offer ends with LINK_EXPIRED and the right code is refused', async () => {
    const s = await setup({ expiresAt: Date.now() + 300 })
    const expired = await refusal(s.offer.done)
    expect(expired.code).toBe('LINK_EXPIRED')
    expect((await refusal(dial(s))).message).toBe(PairMessages.wrong)
  }, 30_000)

  it("sends no account when E's person declines", async () => {
    const s = await setup()
    const declined = await refusal(dial(s, { confirm: async () => false }))
    expect(declined.code).toBe('LINK_CANCELLED')
    expect(declined.message).toBe(PairMessages.cancelled)
    const onN = await refusal(s.offer.done)
    expect(onN.code).toBe('LINK_CANCELLED')
    expect(onN.message).toBe(PairMessages.otherCancelled)
    expect(s.log.made).toEqual([])
    expect(s.log.codes).toHaveLength(2)
  }, 30_000)

  it("sends no account when N's person declines, even after E's said yes", async () => {
    let nAnswers: (ok: boolean) => void = () => {}
    const s = await setup({ offer: { confirm: () => new Promise<boolean>((resolve) => (nAnswers = resolve)) } })
    const dialing = dial(s)
    await waitFor(() => s.log.codes.length === 2, { message: 'both codes shown' })
    nAnswers(false)
    const onE = await refusal(dialing)
    expect(onE.code).toBe('LINK_CANCELLED')
    expect(onE.message).toBe(PairMessages.otherCancelled)
    expect((await refusal(s.offer.done)).message).toBe(PairMessages.cancelled)
    expect(s.log.made).toEqual([])
    expect(s.log.admitted).toEqual([])
  }, 30_000)

  it('times out when a person never answers, on both sides', async () => {
    const s = await setup({ offer: { confirm: () => new Promise<boolean>(() => {}) }, timing: { personMs: 400 } })
    const onE = await refusal(dial(s, {}, s.code, { personMs: 5_000 }))
    expect(onE.code).toBe('TIMEOUT')
    expect(onE.message).toBe(PairMessages.timeout)
    expect((await refusal(s.offer.done)).code).toBe('TIMEOUT')
    expect(s.log.made).toEqual([])
  }, 30_000)

  it('refuses a certificate of another account, or for another PeerId, without admitting it', async () => {
    for (const makeDevice of [
      async () => certFor(randomBytes(32), '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'),
      async (a: AccountSecrets) => certFor(a.accountSeed, '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'),
      async () => certFor(randomBytes(32), nodes.at(-2)!.peerId),
      async () => Uint8Array.of(1, 2, 3),
    ]) {
      const s = await setup({ offer: { makeDevice } })
      const onE = await refusal(dial(s))
      expect(onE.code).toBe('PROTOCOL_ERROR')
      expect(s.log.counts).toContain('E pair-bad-cert')
      expect(s.log.admitted).toEqual([])
      const onN = await refusal(s.offer.done)
      expect(onN.message).toBe(PairMessages.badCert)
      expect(s.log.delivered).toEqual([])
    }
  }, 60_000)

  it('refuses a conversation bundle that breaks its schema without handing anything over', async () => {
    const s = await setup()
    const bad = [conversation(1, 10), conversation(1, 10, { id: 'not hex' })]
    await dial(s, { admit: async () => bad }).catch(() => {})
    const onN = await refusal(s.offer.done)
    expect(onN.code).toBe('PROTOCOL_ERROR')
    expect(s.log.delivered).toEqual([])
  }, 30_000)

  it.each([
    ['named twice', 0],
    ['sent whole and named again', 150],
  ])('refuses a conversation %s without handing anything over', async (_, bundleBytes) => {
    const s = await setup()
    const c = conversation(1, 100)
    await dial(s, { admit: async () => [c, c] }, s.code, undefined, bundleBytes).catch(() => {})
    expect((await refusal(s.offer.done)).code).toBe('PROTOCOL_ERROR')
    expect(s.log.delivered).toEqual([])
  }, 30_000)

  it('survives garbage, oversized and non-canonical hellos: refused, counted, and the offer still links', async () => {
    const s = await setup()
    const hostile: Uint8Array[] = [
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // a length far over any cap
      lengthPrefixed(randomBytes(70 * 1024)), // an unauthenticated frame over 64 KiB
      lengthPrefixed(Uint8Array.of(0xa1, 0x61, 0x74, 0x78, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f)), // {"t": "hello"} with a long string head: not canonical
      lengthPrefixed(encodeCbor({ t: 'hello', v: 1, p: randomBytes(32), c: randomBytes(32), x: 1 })), // an unknown field
    ]
    const peerN = peerIdFromString(s.n.peerId)
    await s.e.dial(s.n.addresses()[0]!)
    for (const bytes of hostile) {
      const stream = await s.e.libp2p.dialProtocol(peerN, PAIR_PROTOCOL)
      // N refuses and closes its side (and resets the stream a moment later if we keep ours open).
      const closed = new Promise<void>((resolve) => {
        stream.addEventListener('remoteCloseWrite', () => resolve(), { once: true })
        stream.addEventListener('close', () => resolve(), { once: true })
      })
      stream.addEventListener('message', () => {})
      stream.send(bytes)
      await closed
      stream.abort(new Error('done'))
    }
    expect(s.log.counts).toEqual(Array.from(hostile, () => 'N pair-bad-proof'))
    await dial(s)
    await s.offer.done
    expect(s.log.made).toHaveLength(1)
  }, 60_000)

  it('ends with a HearthError when whatever answers at the address speaks garbage', async () => {
    const [impostor, e] = await Promise.all([startNode(), startNode()])
    const replies = [
      randomBytes(100),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
      lengthPrefixed(encodeCbor({ t: 'hello', v: 1, p: randomBytes(32), n: randomBytes(32) })),
      lengthPrefixed(encodeCbor({ t: 'hello', v: 2 })),
    ]
    for (const reply of replies) {
      await impostor.libp2p.handle(PAIR_PROTOCOL, (stream) => {
        stream.addEventListener('message', () => {})
        stream.send(reply)
      })
      const code = { secret: newLinkSecret(), locator: pickLocator(impostor.addresses())! }
      const counts: string[] = []
      const err = await refusal(
        pairWith(e, code, { account, onConfirmationCode: () => {}, confirm: async () => true, admit: async () => [], count: (r) => counts.push(r) }, { timing: { stepMs: 1_000 } }),
      )
      expect(['PROTOCOL_ERROR', 'LINK_INVALID', 'TIMEOUT', 'UNREACHABLE']).toContain(err.code)
      await impostor.libp2p.unhandle(PAIR_PROTOCOL)
    }
  }, 60_000)

  it('serves one code at a time: a new offer ends the old one, and an offer made right after another ended works', async () => {
    const s = await setup()
    const handlers: PairOfferHandlers = {
      onConfirmationCode: () => {},
      confirm: async () => true,
      makeDevice: async (a) => certFor(a.accountSeed, s.n.peerId),
      onConversations: async () => {},
    }
    const secret = newLinkSecret()
    const second = offerPairing(s.n, { secret, expiresAt: Date.now() + 60_000, handlers })
    const replaced = await refusal(s.offer.done)
    expect(replaced.code).toBe('LINK_CANCELLED')
    await second.ready
    expect((await refusal(dial(s))).code).toBe('LINK_INVALID') // the first code no longer works
    // Ended and offered again in the same tick: the old offer must not remove the new one's handler.
    second.cancel()
    const thirdSecret = newLinkSecret()
    const third = offerPairing(s.n, { secret: thirdSecret, expiresAt: Date.now() + 60_000, handlers })
    expect((await refusal(second.done)).code).toBe('LINK_CANCELLED')
    await third.ready
    await new Promise((resolve) => setTimeout(resolve, 50))
    await dial(s, {}, { ...s.code, secret: thirdSecret })
    await third.done
  }, 30_000)

  it("reports a failing confirm() on this device as this device's error", async () => {
    const s = await setup({ offer: { confirm: () => Promise.reject(new HearthError('NOT_RUNNING', 'the window closed')) } })
    const onE = await refusal(dial(s))
    expect(onE.code).toBe('PROTOCOL_ERROR')
    const onN = await refusal(s.offer.done)
    expect(onN.code).toBe('NOT_RUNNING')
    expect(s.log.made).toEqual([])
  }, 30_000)

  it('lets N cancel while its person decides, and tells E', async () => {
    const s = await setup({ offer: { confirm: () => new Promise<boolean>(() => {}) } })
    const dialing = dial(s)
    await waitFor(() => s.log.codes.length === 2, { message: 'both codes shown' })
    s.offer.cancel()
    expect((await refusal(s.offer.done)).code).toBe('LINK_CANCELLED')
    const onE = await refusal(dialing)
    expect(isHearthError(onE, 'LINK_CANCELLED')).toBe(true)
    expect(onE.message).toBe(PairMessages.otherCancelled)
  }, 30_000)
})
