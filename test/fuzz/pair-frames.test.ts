/**
 * /hearth/pair/1.0.0 under hostile input: every frame schema and the sealed account fed mutated and random bytes (a
 * value or a typed refusal, never a crash); then a real offer on a libp2p node attacked over raw streams, before the
 * proof (garbage hellos: refused and counted) and after it (an attacker who knows the code and sends hostile frames at
 * every later step: the offer ends with a HearthError, nothing crashes), after which a fresh offer still links.
 */
import fc from 'fast-check'
import type { z } from 'zod'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signingKeyPairFromSeed, generateSigningKeyPair } from '../../node/common/crypto/ed25519.js'
import { commitNonce, pairingKeys, proveE, sealAccount } from '../../node/common/crypto/pairing.js'
import { randomBytes } from '../../node/common/crypto/random.js'
import { HearthError } from '../../node/common/errors.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { lengthPrefixed } from '../../node/common/net/request-response.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { pickLocator } from '../../node/src/conversation/short-invite.js'
import { decodeCanonical, PairChannel, SMALL_FRAME_BYTES } from '../../node/src/core/devices/pair-channel.js'
import { decodeAccount, encodeAccount, expectFrame, Frames, PeerFailed } from '../../node/src/core/devices/pair-frames.js'
import { offerPairing, PAIR_PROTOCOL, pairWith, type AccountSecrets } from '../../node/src/core/devices/pair-protocol.js'
import { issueDeviceCert } from '../../node/src/identity/device-cert.js'
import { newLinkSecret } from '../../node/src/identity/link-code.js'
import { fuzz, fuzzAsync, hostileBytes, outcome, runs, SHORT_RUNS, talliesReportedAfterEach } from './fuzz-kit.js'

const tally = talliesReportedAfterEach()
const b32 = () => randomBytes(32)
const account: AccountSecrets = { accountSeed: b32(), entropy: b32(), displayName: 'Ada' }

const seeds: Record<keyof typeof Frames, Uint8Array[]> = {
  helloE: [encodeCbor({ t: 'hello', v: 1, p: b32(), c: b32() })],
  helloN: [encodeCbor({ t: 'hello', v: 1, p: b32(), n: b32() })],
  reveal: [encodeCbor({ t: 'reveal', n: b32() })],
  ready: [encodeCbor({ t: 'ready' }), encodeCbor({ t: 'cancel' }), encodeCbor({ t: 'fail', w: 'wrong-code' })],
  sealed: [encodeCbor({ t: 'sealed', b: randomBytes(120) })],
  device: [encodeCbor({ t: 'device', c: randomBytes(300) })],
  conv: [encodeCbor({ t: 'conv', i: 'ab'.repeat(16), r: 'cd'.repeat(32), k: 'group', n: 'Club', a: 1, y: ['/dns4/r.example/tcp/443/wss'], o: [randomBytes(40), randomBytes(3)] })],
  more: [encodeCbor({ t: 'ops', o: [randomBytes(40)] })],
  rest: [encodeCbor({ t: 'rest', i: [randomBytes(16), randomBytes(16)] })],
  ack: [encodeCbor({ t: 'ack' })],
  end: [encodeCbor({ t: 'end', c: 2 }), encodeCbor({ t: 'end', c: 2, p: 3 })],
  done: [encodeCbor({ t: 'done' })],
}

describe('pairing frame decoders', () => {
  it('every frame: a value of its schema that re-encodes to the same bytes, the other side ending, or a typed refusal', () => {
    for (const [name, schemaSeeds] of Object.entries(seeds) as Array<[keyof typeof Frames, Uint8Array[]]>) {
      const t = tally(`pair ${name} frame`)
      fuzz(
        fc.property(hostileBytes(schemaSeeds), (input) => {
          outcome(
            t,
            () => {
              try {
                const schema: z.ZodType<unknown> = Frames[name]
                return expectFrame(schema, decodeCanonical(input), name)
              } catch (err) {
                // The other side ending the exchange (cancel or fail) is a value of the protocol, not a crash.
                if (err instanceof PeerFailed) return undefined
                throw err
              }
            },
            (value) => {
              if (value !== undefined) expect(Buffer.from(encodeCbor(value)).equals(Buffer.from(input))).toBe(true)
            },
          )
        }),
        runs(SHORT_RUNS),
      )
      expect([...t.refusals.keys()].every((c) => ['MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_VERSION'].includes(c))).toBe(true)
    }
  })

  it('the sealed account: seeds and entropy of 32 bytes and a bounded name, or MALFORMED/TOO_LARGE', () => {
    const t = tally('pair account')
    fuzz(
      fc.property(hostileBytes([encodeAccount(account), encodeAccount({ accountSeed: b32(), displayName: 'B' })]), (input) => {
        outcome(
          t,
          () => decodeAccount(input),
          (a) => {
            expect(a.accountSeed.length).toBe(32)
            expect(a.entropy === undefined || a.entropy.length === 32).toBe(true)
            expect(a.displayName.length >= 1 && a.displayName.length <= 256).toBe(true)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('an offer attacked over raw streams', () => {
  let n: HearthNode
  let attacker: HearthNode
  beforeAll(async () => {
    const start = () => createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    ;[n, attacker] = await Promise.all([start(), start()])
    await attacker.dial(n.addresses()[0]!)
  })
  afterAll(async () => {
    await Promise.all([n.stop(), attacker.stop()])
  })

  function offer(count: string[], made: AccountSecrets[] = []) {
    const secret = newLinkSecret()
    const o = offerPairing(n, {
      secret,
      expiresAt: Date.now() + 60_000,
      timing: { stepMs: 1_000, personMs: 1_000 },
      handlers: {
        onConfirmationCode: () => {},
        confirm: async () => true,
        makeDevice: async (a) => {
          made.push(a)
          return issueDeviceCert({
            accountSeed: a.accountSeed,
            accountPublic: signingKeyPairFromSeed(a.accountSeed).publicKey,
            devicePublic: generateSigningKeyPair().publicKey,
            dhPublic: b32(),
            peerId: n.peerId,
            displayName: a.displayName,
            createdAt: 1,
          }).bytes
        },
        onConversations: async () => {},
        count: (r) => count.push(r),
      },
    })
    return { secret, o }
  }

  /** Opens a raw stream to the offer and runs `attack` on it as a PairChannel (the honest framing, hostile content). */
  async function raw(attack: (ch: PairChannel, send: (bytes: Uint8Array) => void) => Promise<void>): Promise<void> {
    const stream = await attacker.libp2p.dialProtocol(peerIdFromString(n.peerId), PAIR_PROTOCOL)
    const ch = new PairChannel(stream, AbortSignal.timeout(10_000))
    try {
      await attack(ch, (bytes) => stream.send(bytes))
    } catch {
      // the offer refusing us is the expected end
    } finally {
      ch.abort()
    }
  }

  it('garbage before the proof is refused, counted as a wrong guess, and never reaches the person', async () => {
    const t = tally('pair hostile hello')
    const counts: string[] = []
    await fuzzAsync(
      fc.asyncProperty(hostileBytes([...seeds.helloE, encodeCbor({ t: 'hello', v: 1, p: b32() })]), async (input) => {
        const { o } = offer(counts)
        await o.ready
        const before = counts.length
        await raw(async (ch, send) => {
          send(lengthPrefixed(input))
          await ch.read(SMALL_FRAME_BYTES, 5_000)
        })
        t.inputs++
        // A garbage hello is a wrong guess (or, cut short before a whole frame arrived, nothing at all).
        expect(counts.length - before).toBeLessThanOrEqual(1)
        if (counts.length > before) t.refused('pair-bad-proof')
        o.cancel()
        await o.done.catch(() => {})
      }),
      runs(40),
    )
    t.ended = performance.now()
    expect(counts.length).toBeGreaterThan(20)
    expect(counts.every((c) => c === 'pair-bad-proof')).toBe(true)
  }, 120_000)

  it('after a good proof, hostile frames at any step end the offer with a HearthError; a fresh offer still links', async () => {
    const t = tally('pair hostile steps')
    const steps = ['reveal', 'sealed', 'bundle'] as const
    await fuzzAsync(
      fc.asyncProperty(fc.constantFrom(...steps), hostileBytes([...seeds.reveal, ...seeds.sealed, ...seeds.conv, ...seeds.end]), async (step, input) => {
        const counts: string[] = []
        const made: AccountSecrets[] = []
        const { secret, o } = offer(counts, made)
        await o.ready
        await raw(async (ch, send) => {
          const keys = pairingKeys(secret, attacker.peerId, n.peerId)
          const nonceE = b32()
          await ch.send({ t: 'hello', v: 1, p: proveE(keys), c: commitNonce(keys, nonceE) })
          await ch.read(SMALL_FRAME_BYTES, 5_000)
          if (step === 'reveal') return send(lengthPrefixed(input))
          await ch.send({ t: 'reveal', n: nonceE })
          await ch.read(SMALL_FRAME_BYTES, 5_000) // ready
          if (step === 'sealed') return send(lengthPrefixed(input))
          await ch.send({ t: 'sealed', b: sealAccount(keys, encodeAccount(account)) })
          await ch.read(SMALL_FRAME_BYTES, 5_000) // device
          send(lengthPrefixed(input))
          await ch.read(SMALL_FRAME_BYTES, 5_000)
        })
        t.inputs++
        const err = await o.done.then(
          () => undefined,
          (e: unknown) => e,
        )
        // The attacker got as far as it meant to: the account reached makeDevice only when it was sent honestly.
        expect(made.length).toBe(step === 'bundle' ? 1 : 0)
        // A hostile bundle may happen to be a valid one; anything else ends in a typed refusal.
        if (err !== undefined) {
          expect(err).toBeInstanceOf(HearthError)
          t.refused((err as HearthError).code)
        }
      }),
      runs(30),
    )
    t.ended = performance.now()
    // Still links honestly afterwards.
    const { secret, o } = offer([])
    await o.ready
    const cert = await pairWith(attacker, { secret, locator: pickLocator(n.addresses())! }, { account, onConfirmationCode: () => {}, confirm: async () => true, admit: async () => [] })
    await o.done
    expect(cert.peerId).toBe(n.peerId)
  }, 180_000)
})
