/**
 * Protocol-level fuzzing: a real core (in a group with a second one) and a real `hearth-relay` process, attacked by a
 * separate libp2p node over every protocol each one registers (Hearth's own, gossipsub, identify, ping, circuit relay,
 * kad…). Past Noise and yamux, each stream gets garbage, mutated Hearth requests, huge and truncated length prefixes,
 * floods of frames, half-written frames left hanging, and resets. Afterwards both still serve honest peers (a message
 * between the two cores, a relay deposit and fetch), nothing crashed, and the refusals were counted.
 *
 * The requester side of the request/response framing is fuzzed too: an attacker serves a Hearth-style protocol that
 * answers with hostile frames, and `request()` must end every exchange with a HearthError, in bounded time.
 *
 * Transport-level garbage (bytes before Noise) is test/integration/hostile-listeners.test.ts's job.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { deriveMailboxKeys, signMailboxRequest } from '../../node/common/crypto/mailbox-capability.js'
import { HearthError } from '../../node/common/errors.js'
import { createHearthNode, type HearthNode } from '../../node/common/net/create-node.js'
import { decodeErrorFrame, encodeDataFrame, encodeEndFrame, encodeErrorFrame, FRAME_ERROR, lengthPrefixed, request } from '../../node/common/net/request-response.js'
import { waitFor } from '../../node/common/net/testing.js'
import { utf8 } from '../../node/common/util/bytes.js'
import { encodeMailboxRequest, MAILBOX_PROTOCOL } from '../../node/common/wire/mailbox.js'
import type { ConversationId, DeviceId } from '../../node/src/ids.js'
import { encodeJoinRequest, encodeSyncRequest, JOIN_PROTOCOL, SYNC_PROTOCOL } from '../../node/src/sync/sync-frames.js'
import { connect, startCore, stopAll, type TestCore } from '../helpers/cores.js'
import { bodies, makeGroup, waitForCount } from '../helpers/group.js'
import { clientNode, randomEnvelope, removeRelayDir, spawnRelay, type ClientNode, type RelayProcess } from '../helpers/relay.js'
import { hostileBytes, LONG_RUN, runs, SEED } from './fuzz-kit.js'
import { bytesOf, key, NOW } from './seeds.js'

// ------------------------------------------------------------------------------------------------------ attacks

type Ending = 'close' | 'reset' | 'hang'

type Attack =
  | { t: 'raw'; bytes: Uint8Array; end: Ending }
  | { t: 'framed'; payload: Uint8Array; end: Ending }
  | { t: 'huge-length'; prefix: Uint8Array; tail: Uint8Array; end: Ending }
  | { t: 'truncated'; claimed: number; sent: Uint8Array; end: Ending }
  | { t: 'flood'; frames: number; size: number; end: Ending }
  | { t: 'reset-at-once' }

const ending = fc.constantFrom<Ending>('close', 'close', 'reset', 'hang')

/** Varints claiming 2^20..2^63 bytes, and over-long varint encodings (more continuation bytes than any cap needs). */
const hugePrefix = fc.oneof(
  fc.bigInt({ min: 1n << 20n, max: (1n << 63n) - 1n }).map((n) => {
    const out: number[] = []
    let rest = n
    while (rest >= 0x80n) {
      out.push(Number(rest & 0x7fn) | 0x80)
      rest >>= 7n
    }
    out.push(Number(rest))
    return Uint8Array.from(out)
  }),
  fc.integer({ min: 10, max: 40 }).map((n) => Uint8Array.from([...new Array<number>(n).fill(0x80), 0x01])),
)

function attackArbitrary(requests: readonly Uint8Array[]): fc.Arbitrary<Attack> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ t: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 2048 }), end: ending }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('framed' as const), payload: hostileBytes(requests), end: ending }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('huge-length' as const), prefix: hugePrefix, tail: fc.uint8Array({ maxLength: 64 }), end: ending }) },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('truncated' as const),
        claimed: fc.integer({ min: 100, max: 200_000 }),
        sent: fc.uint8Array({ maxLength: 90 }),
        end: ending,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        t: fc.constant('flood' as const),
        frames: fc.integer({ min: 2, max: 200 }),
        size: fc.integer({ min: 0, max: 4096 }),
        end: ending,
      }),
    },
    { weight: 1, arbitrary: fc.constant({ t: 'reset-at-once' as const }) },
  )
}

function attackBytes(a: Exclude<Attack, { t: 'reset-at-once' }>): Uint8Array[] {
  switch (a.t) {
    case 'raw':
      return [a.bytes]
    case 'framed':
      return [lengthPrefixed(a.payload)]
    case 'huge-length':
      return [a.prefix, a.tail]
    case 'truncated': {
      const prefix = lengthPrefixed(new Uint8Array(a.claimed)).subarray(0, lengthPrefixed(new Uint8Array(a.claimed)).length - a.claimed)
      return [prefix, a.sent.subarray(0, Math.min(a.sent.length, a.claimed - 1))]
    }
    case 'flood': {
      const frame = lengthPrefixed(new Uint8Array(a.size).fill(0xa5))
      return Array.from({ length: a.frames }, () => frame)
    }
  }
}

/** How long a hanging attack keeps its stream open before giving up on it (the held phase waits far longer). */
const HANG_MS = 150
/** Longest one attack may take: every write is bounded, and reads stop after this. */
const ATTACK_READ_MS = 1_500

/**
 * Opens `protocol` on `target` from `attacker`, plays the attack, and reports what the target did: an error frame
 * with its code (Hearth framing), other bytes, a close, or a reset. Never throws for anything the target does.
 */
async function play(attacker: HearthNode, target: string, protocol: string, attack: Attack): Promise<string> {
  let stream: Stream
  try {
    stream = await attacker.libp2p.dialProtocol(peerIdFromString(target), protocol, {
      signal: AbortSignal.timeout(5_000),
      runOnLimitedConnection: true,
    })
  } catch (err) {
    return `open failed: ${err instanceof Error ? err.name : 'error'}`
  }
  const received: Uint8Array[] = []
  const closed = new Promise<string>((resolve) => {
    stream.addEventListener('close', (evt) => resolve((evt as { error?: Error }).error === undefined ? 'closed' : 'reset'), { once: true })
  })
  stream.addEventListener('message', (evt) => {
    const data = (evt as unknown as { data: Uint8Array | { subarray(): Uint8Array } }).data
    received.push(data instanceof Uint8Array ? data : data.subarray())
  })
  try {
    if (attack.t === 'reset-at-once') {
      stream.abort(new Error('fuzz reset'))
      return 'reset by us'
    }
    for (const chunk of attackBytes(attack)) {
      if (stream.status !== 'open') break
      if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(ATTACK_READ_MS) })
    }
    if (attack.end === 'reset') {
      stream.abort(new Error('fuzz reset'))
      return 'reset by us'
    }
    if (attack.end === 'close') await stream.close({ signal: AbortSignal.timeout(ATTACK_READ_MS) })
    const wait = attack.end === 'hang' ? HANG_MS : ATTACK_READ_MS
    const how = await Promise.race([closed, new Promise<string>((resolve) => setTimeout(() => resolve('no answer yet'), wait))])
    return describeAnswer(protocol, received, how)
  } catch (err) {
    return `stream error: ${err instanceof Error ? err.name : 'error'}`
  } finally {
    if (stream.status === 'open') stream.abort(new Error('attack over'))
  }
}

/** For Hearth protocols, the error code the responder sent back; for others, whether it answered at all. */
function describeAnswer(protocol: string, received: Uint8Array[], how: string): string {
  const all = Buffer.concat(received)
  if (protocol.startsWith('/hearth/') && all.length > 1) {
    // One varint length, then the frame; error frames are small, so the length fits in one or two bytes.
    const len = all[0]! < 0x80 ? all[0]! : (all[0]! & 0x7f) | (all[1]! << 7)
    const start = all[0]! < 0x80 ? 1 : 2
    if (all[start] === FRAME_ERROR) return `error frame ${decodeErrorFrame(all.subarray(start + 1, start + len)).code}, ${how}`
    return `data frame, ${how}`
  }
  return `${all.length > 0 ? 'answered' : 'silent'}, ${how}`
}

/** A fresh attacker when the target has banned the current one (that is the penalties doing their job). */
class Attackers {
  node: HearthNode | undefined
  readonly all: HearthNode[] = []
  bans = 0

  /** Streams in a row that could not open: a banned peer may still complete a dial that the target then drops. */
  failures = 0

  async current(target: string, address: string): Promise<HearthNode> {
    const open = this.node?.libp2p.getConnections(peerIdFromString(target)).some((c) => c.status === 'open') ?? false
    if (this.node !== undefined && open && this.failures < 2) return this.node
    if (this.node !== undefined && this.failures < 2) {
      // Either banned or the connection dropped: try once to come back, else a new identity.
      try {
        await this.node.libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(3_000) })
        return this.node
      } catch {
        this.bans++
      }
    }
    if (this.failures >= 2) this.bans++
    this.failures = 0
    this.node = await createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {} })
    this.all.push(this.node)
    await this.node.libp2p.dial(multiaddr(address), { signal: AbortSignal.timeout(5_000) })
    return this.node
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.all.map((n) => n.stop()))
  }
}

/** The protocols `peer` told `node` it speaks (identify), once the list names `expected`. */
async function protocolsOf(node: HearthNode, peer: string, expected: string): Promise<string[]> {
  return waitFor(async () => {
    const p = await node.libp2p.peerStore.get(peerIdFromString(peer)).catch(() => undefined)
    return p !== undefined && p.protocols.includes(expected) ? [...p.protocols].sort() : undefined
  }, { timeoutMs: 15_000, message: `${peer} to announce ${expected}` })
}

/** Runs `attacks` against `protocols` of `target`, a few at a time; returns outcomes counted per protocol. */
async function campaign(input: {
  target: string
  address: string
  protocols: string[]
  attacks: Array<[number, Attack]>
  attackers: Attackers
}): Promise<Map<string, Map<string, number>>> {
  const outcomes = new Map<string, Map<string, number>>()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < input.attacks.length) {
      const [p, attack] = input.attacks[next++]!
      const protocol = input.protocols[p % input.protocols.length]!
      const attacker = await input.attackers.current(input.target, input.address)
      const started = Date.now()
      const outcome = await play(attacker, input.target, protocol, attack)
      // A stream that cannot even open (other than our own stream limit) means the target dropped or banned us:
      // hang up, so the next attack dials again or comes back as a new peer.
      if (outcome.startsWith('open failed') && !outcome.includes('TooMany')) {
        input.attackers.failures++
        await attacker.libp2p.hangUp(peerIdFromString(input.target)).catch(() => {})
      } else if (!outcome.startsWith('open failed')) {
        input.attackers.failures = 0
      }
      // Every attack ends in bounded time, whatever the target does (the reads above are bounded; this catches a
      // write or close that blocks).
      expect(Date.now() - started, `${protocol} ${attack.t}`).toBeLessThan(15_000)
      const counts = outcomes.get(protocol) ?? new Map<string, number>()
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
      outcomes.set(protocol, counts)
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  return outcomes
}

function printOutcomes(name: string, outcomes: Map<string, Map<string, number>>): void {
  for (const [protocol, counts] of [...outcomes].sort(([a], [b]) => a.localeCompare(b))) {
    const text = [...counts].sort((a, b) => b[1] - a[1]).map(([o, n]) => `${o} ×${n}`).join('; ')
    console.log(`fuzz protocols ${name} ${protocol}: ${text}`)
  }
}

/** Attacks per target: a short run in `npm test`, HEARTH_FUZZ_RUNS / 50 under `npm run fuzz` (each is a stream). */
const ATTACKS = LONG_RUN ? Math.max(200, Math.round(runs(0) / 50)) : 40

/** Every protocol gets these whatever the sample holds, so each one meets each kind of attack at least once. */
const BASIC_ATTACKS: Attack[] = [
  { t: 'framed', payload: Uint8Array.from({ length: 50 }, (_, i) => (i * 37) & 0xff), end: 'close' },
  { t: 'huge-length', prefix: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), tail: new Uint8Array(8), end: 'close' },
  { t: 'truncated', claimed: 1_000, sent: new Uint8Array(10), end: 'close' },
  { t: 'raw', bytes: new Uint8Array(64).fill(0xff), end: 'close' },
  { t: 'flood', frames: 100, size: 1_000, end: 'close' },
  { t: 'reset-at-once' },
]

function sampleAttacks(requests: readonly Uint8Array[], protocols: number, seedOffset: number): Array<[number, Attack]> {
  const basic = Array.from({ length: protocols }, (_, p) => BASIC_ATTACKS.map((a): [number, Attack] => [p, a])).flat()
  return [...basic, ...fc.sample(fc.tuple(fc.nat(), attackArbitrary(requests)), { seed: SEED + seedOffset, numRuns: ATTACKS })]
}

/**
 * Half-written frames left hanging on every protocol at once. Under `npm run fuzz` the test waits for the target to
 * cut each one off on its own (Hearth protocols have read deadlines; others are closed by libp2p's inactivity rules
 * or stay open, which is reported); in the short run they are held only while the target is checked to still serve.
 */
async function holdHalfFrames(attacker: HearthNode, target: string, protocols: string[]): Promise<Stream[]> {
  const streams: Stream[] = []
  for (const protocol of protocols) {
    try {
      const s = await attacker.libp2p.dialProtocol(peerIdFromString(target), protocol, { signal: AbortSignal.timeout(5_000), runOnLimitedConnection: true })
      s.send(Uint8Array.from([0xe8, 0x07, 1, 2, 3])) // claims 1,000 bytes, sends 3
      streams.push(s)
    } catch {
      // A protocol that refuses a second stream (or this attacker) is fine.
    }
  }
  return streams
}

// ------------------------------------------------------------------------------------------------------ targets

describe('fuzz: every protocol of a running core and relay', () => {
  let alice: TestCore
  let bob: TestCore
  let conversation: ConversationId
  let relay: RelayProcess
  let honest: ClientNode
  const attackers = new Attackers()

  beforeAll(async () => {
    // The relay cuts slow senders off after 2 s (the default 10 s would only make the held phase longer).
    ;[alice, bob, relay, honest] = await Promise.all([
      startCore('fuzz-alice'),
      startCore('fuzz-bob'),
      spawnRelay({ flags: { 'request-timeout': '2s' } }),
      clientNode(),
    ])
    conversation = await makeGroup(alice, [bob])
  }, 120_000)

  afterAll(async () => {
    await attackers.stop()
    await honest?.stop()
    await stopAll([alice, bob])
    await relay?.stop()
    if (relay !== undefined) await removeRelayDir(relay)
  })

  it('the core: garbage on each protocol, then it still chats and syncs', async () => {
    const target = alice.core.node.peerId.toString()
    const address = alice.core.node.addresses()[0]!
    const first = await attackers.current(target, address)
    const protocols = await protocolsOf(first, target, SYNC_PROTOCOL)
    console.log(`fuzz protocols core speaks: ${protocols.join(' ')}`)
    expect(protocols).toEqual(expect.arrayContaining([SYNC_PROTOCOL, JOIN_PROTOCOL]))

    const device = key(0x61)
    const peers = { requester: first.peerId.toString(), responder: target }
    const requests = [
      encodeSyncRequest({ conversation, device: Buffer.from(device.publicKey).toString('hex') as DeviceId, at: Date.now(), heads: [], vector: [] }, device.seed, peers),
      encodeJoinRequest({ conversation, inviteId: 'cd'.repeat(16), cert: bytesOf(200, 1) }, device.seed, target),
    ]
    const outcomes = await campaign({ target, address, protocols, attacks: sampleAttacks(requests, protocols.length, 1), attackers })
    printOutcomes('core', outcomes)

    const held = await holdHalfFrames(await attackers.current(target, address), target, protocols)
    // Still serving honest members while those hang: a message each way, then a full sync after a restart.
    await bob.core.send(conversation, 'after the fuzz')
    await waitForCount(alice, conversation, 1)
    await alice.core.send(conversation, 'still here')
    await waitForCount(bob, conversation, 2)
    if (LONG_RUN) {
      const open = await waitFor(() => (held.every((s) => s.status !== 'open') ? true : undefined), { timeoutMs: 40_000 }).catch(() => false)
      const stillOpen = held.filter((s) => s.status === 'open').map((s) => s.protocol)
      console.log(`fuzz protocols core: half-written frames ${open === true ? 'all cut off' : `still open on ${stillOpen.join(' ')}`}`)
      for (const s of held) {
        if (s.protocol?.startsWith('/hearth/') === true) expect(s.status, s.protocol).not.toBe('open')
      }
    }
    for (const s of held) if (s.status === 'open') s.abort(new Error('done'))
    // A restarted member catches up from alice by sync on reconnect.
    bob = await bob.restart()
    await connect(bob, alice)
    await bob.core.send(conversation, 'back again')
    await waitForCount(alice, conversation, 3)
    expect(await bodies(alice, conversation)).toEqual(expect.arrayContaining([expect.stringContaining('back again')]))

    const penalties = alice.core.node.penalties?.counts() ?? {}
    console.log(`fuzz protocols core: security counters ${JSON.stringify(alice.core.counters.snapshot())}, penalties ${JSON.stringify(penalties)}, attackers banned ${attackers.bans}`)
    expect(Object.values(penalties).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  }, 600_000)

  it('the relay: garbage on each protocol, then a deposit and a fetch work', async () => {
    const target = relay.peerId
    const address = relay.address
    const first = await attackers.current(target, address)
    const protocols = await protocolsOf(first, target, MAILBOX_PROTOCOL)
    console.log(`fuzz protocols relay speaks: ${protocols.join(' ')}`)
    expect(protocols).toContain(MAILBOX_PROTOCOL)

    const keys = deriveMailboxKeys(bytesOf(32, 9))
    const ids = [bytesOf(32, 1)]
    const requests = [
      encodeMailboxRequest({ op: 'deposit', auth: signMailboxRequest(keys, target, { op: 'deposit', ids }, { timestamp: Date.now() }), envelopes: [{ id: ids[0]!, bytes: bytesOf(100, 2) }] }),
      encodeMailboxRequest({ op: 'fetch', auth: signMailboxRequest(keys, target, { op: 'fetch', after: null, reader: null, limit: 10, waitMs: 0 }, { timestamp: NOW }), after: null, reader: null, limit: 10, waitMs: 0 }),
    ]
    const outcomes = await campaign({ target, address, protocols, attacks: sampleAttacks(requests, protocols.length, 2), attackers })
    printOutcomes('relay', outcomes)

    const held = await holdHalfFrames(await attackers.current(target, address), target, protocols)
    expect(relay.child.exitCode).toBeNull()
    const honestKeys = deriveMailboxKeys(bytesOf(32, 0x77))
    const envelope = randomEnvelope(500)
    const deposited = await honest.client.deposit(relay.address, honestKeys, [envelope])
    expect(deposited[0]?.status).toBe('stored')
    const page = await honest.client.fetch(relay.address, honestKeys)
    expect(page.items.map((i) => Buffer.from(i.bytes).toString('hex'))).toEqual([Buffer.from(envelope.bytes).toString('hex')])
    if (LONG_RUN) {
      await waitFor(() => (held.filter((s) => s.protocol === MAILBOX_PROTOCOL).every((s) => s.status !== 'open') ? true : undefined), { timeoutMs: 20_000 })
    }
    for (const s of held) if (s.status === 'open') s.abort(new Error('done'))

    const refusals = await relay.metric('hearth_relay_refusals_total')
    const requestsTotal = await relay.metric('hearth_relay_requests_total')
    console.log(`fuzz protocols relay: ${requestsTotal} mailbox requests, ${refusals} refused, ${await relay.metric('hearth_relay_bans_total')} bans; attackers banned ${attackers.bans}`)
    expect(refusals).toBeGreaterThan(0)
    expect(relay.child.exitCode).toBeNull()
  }, 600_000)
})

// ----------------------------------------------------------------------------------- requester-side framing

/** What a hostile responder sends back: a list of raw chunks, then how it ends. */
type Answer = { chunks: Uint8Array[]; end: Ending }

const frame = (kind: number, body: Uint8Array): Uint8Array => lengthPrefixed(Uint8Array.from([kind, ...body]))
const answerArbitrary: fc.Arbitrary<Answer> = fc.record({
  chunks: fc.array(
    fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => lengthPrefixed(encodeDataFrame(b))),
      fc.constant(lengthPrefixed(encodeEndFrame())),
      fc.jsonValue().map((v) => lengthPrefixed(encodeErrorFrame('MALFORMED', JSON.stringify(v)))),
      fc.jsonValue().map((v) => frame(FRAME_ERROR, utf8(JSON.stringify(v)))),
      fc.uint8Array({ maxLength: 64 }).map((b) => frame(2, b)),
      fc.tuple(fc.integer({ min: 3, max: 255 }), fc.uint8Array({ maxLength: 16 })).map(([k, b]) => frame(k, b)),
      fc.uint8Array({ minLength: 1, maxLength: 32 }),
      hugePrefix,
      fc.constant(lengthPrefixed(encodeDataFrame(new Uint8Array(5_000)))), // over the requester's 4 KiB cap
    ),
    { maxLength: 6 },
  ),
  end: ending,
})

describe('fuzz: the requester side of the request/response framing', () => {
  const PROTOCOL = '/hearth/fuzz-answer/1.0.0'
  const LIMITS = { maxRequestBytes: 64, maxResponseBytes: 4096, timeoutMs: 2_000, readTimeoutMs: 600 }
  let requester: HearthNode
  let responder: HearthNode
  const answers = fc.sample(answerArbitrary, { seed: SEED, numRuns: LONG_RUN ? Math.max(500, Math.round(runs(0) / 20)) : 100 })

  beforeAll(async () => {
    const start = (): Promise<HearthNode> => createHearthNode({ listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, dht: false, onError: () => {} })
    requester = await start()
    responder = await start()
    // The request body names the answer to play.
    await responder.libp2p.handle(PROTOCOL, (stream) => {
      const onMessage = (evt: Event): void => {
        stream.removeEventListener('message', onMessage)
        const data = (evt as unknown as { data: { subarray(): Uint8Array } }).data.subarray()
        const answer = answers[data[1]! * 256 + data[2]!]!
        void (async () => {
          try {
            for (const chunk of answer.chunks) if (!stream.send(chunk)) await stream.onDrain({ signal: AbortSignal.timeout(1_000) })
            if (answer.end === 'close') await stream.close()
            else if (answer.end === 'reset') stream.abort(new Error('hostile reset'))
            // 'hang': say nothing more; the requester's deadline must end it.
          } catch {
            stream.abort(new Error('hostile responder gave up'))
          }
        })()
      }
      stream.addEventListener('message', onMessage)
    })
    await requester.libp2p.dial(multiaddr(responder.addresses()[0]!))
  })

  afterAll(async () => {
    await Promise.allSettled([requester?.stop(), responder?.stop()])
  })

  it('every exchange ends with the chunks sent or a HearthError, within its deadline', async () => {
    const codes = new Map<string, number>()
    let completed = 0
    const peer = responder.peerId
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < answers.length) {
        const i = next++
        // Hostile answers may get the connection closed; each exchange starts on a live one.
        if (!requester.libp2p.getConnections(peerIdFromString(peer)).some((c) => c.status === 'open')) {
          await requester.libp2p.dial(multiaddr(responder.addresses()[0]!), { signal: AbortSignal.timeout(5_000) })
        }
        const started = Date.now()
        try {
          const chunks: Uint8Array[] = []
          for await (const chunk of request(requester, peer, PROTOCOL, Uint8Array.of(i >> 8, i & 0xff), LIMITS)) chunks.push(chunk)
          expect(chunks.every((c) => c.length <= LIMITS.maxResponseBytes)).toBe(true)
          completed++
        } catch (err) {
          if (!(err instanceof HearthError)) throw new Error(`answer ${i} (seed ${SEED}): untyped ${String(err)}`, { cause: err })
          codes.set(err.code, (codes.get(err.code) ?? 0) + 1)
        }
        expect(Date.now() - started, `answer ${i}`).toBeLessThan(LIMITS.timeoutMs + 3_000)
      }
    }
    await Promise.all(Array.from({ length: 6 }, worker))
    console.log(`fuzz request/response (requester): ${answers.length} hostile answers, ${completed} completed, refused ${JSON.stringify(Object.fromEntries(codes))}`)
    expect(codes.size).toBeGreaterThan(1)
  }, 600_000)
})
