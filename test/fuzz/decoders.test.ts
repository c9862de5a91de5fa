/**
 * Fuzzing the core's decoders: sync and join frames, membership operations, invite codes, device certificates, the
 * payloads inside envelopes, HLC and message-ref text, and Automerge changes taken the way the core takes them.
 * Signed formats are also fuzzed "re-signed": the structure is mutated and then signed properly, so the fuzzer gets
 * past the signature to the schema and the checks behind it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  applyRemoteChanges,
  asActorId,
  asMessageId,
  createShard,
  decodeHlc,
  encodeHlc,
  hlcReceive,
  isHlc,
  loadShard,
  parseRefKey,
  readMessage,
  react,
  refKey,
  saveShard,
  sendMessage,
  validateRemoteChange,
  editMessage,
  deleteMessage,
  type Shard,
} from '../../crdt/src/index.js'
import { signWithLabel } from '../../node/common/crypto/ed25519.js'
import { Labels } from '../../node/common/crypto/labels.js'
import { toBase64Url, toHex } from '../../node/common/util/bytes.js'
import { encodeCbor } from '../../node/common/wire/cbor.js'
import { Limits } from '../../node/common/wire/limits.js'
import type { AccountId, ConversationId, DeviceId, EpochId, OpHash } from '../../node/src/ids.js'
import {
  decodeChainGrant,
  decodeContent,
  decodeContentSecrets,
  decodeKeys,
  decodeMembership,
  decodeReceipt,
  decodeSignal,
  encodeChainGrant,
  encodeContent,
  encodeContentSecrets,
  encodeKeys,
  encodeMembership,
  encodeReceipt,
  encodeTyping,
  type SignalPayload,
} from '../../node/src/history/payloads.js'
import { decodeDeviceCert } from '../../node/src/identity/device-cert.js'
import { decodeInvite, encodeInvite, INVITE_PREFIX, type InviteCode } from '../../node/src/conversation/invite-code.js'
import { decodeOp, signOp, type OpBody } from '../../node/src/conversation/membership-op.js'
import {
  decodeJoinRequest,
  decodeJoinResponse,
  decodeSyncFrame,
  decodeSyncRequest,
  encodeJoinRequest,
  encodeJoinResponse,
  encodeSyncFrame,
  encodeSyncRequest,
  type SyncFrame,
  type SyncRequest,
} from '../../node/src/sync/sync-frames.js'
import { cborTree, fuzz, hostileBytes, hostileText, mutatedCbor, mutateTree, outcome, runs, SHORT_RUNS, withoutNegativeZero, treeMutation, encodeTree, talliesReportedAfterEach } from './fuzz-kit.js'
import { bytesOf, envelopeSeeds, key, NOW, PEER_ID, testDevice } from './seeds.js'

const tally = talliesReportedAfterEach()

const alice = testDevice(0x10, 'Alice')
const bob = testDevice(0x20, 'Bob ❤')
const CONV = '0c'.repeat(16) as ConversationId
const E1 = '1111111111111111' as EpochId
const E2 = '2222222222222222' as EpochId
const INV = 'cd'.repeat(16)
const HLC = encodeHlc({ wall: NOW, counter: 3 })
const peers = { requester: '12D3KooWRequesterFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzz', responder: '12D3KooWResponderFuzzFuzzFuzzFuzzFuzzFuzzFuzzFuzz' }

/** Re-signs mutated structures: `sign(bytes)` makes the outer signed form from mutated inner bytes. */
function resigned(inner: readonly Uint8Array[], sign: (bytes: Uint8Array) => Uint8Array): fc.Arbitrary<Uint8Array> {
  const trees = inner.map(cborTree)
  return fc
    .tuple(fc.nat({ max: trees.length - 1 }), fc.array(treeMutation, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([i, ms, canonical]) => sign(encodeTree(mutateTree(trees[i], ms), canonical ? null : { longLengths: true, indefinite: false })))
}

describe('fuzz: sync and join frames', () => {
  const DEVICE = toHex(alice.device.publicKey) as DeviceId
  const requests: SyncRequest[] = [
    { conversation: CONV, device: DEVICE, at: NOW, heads: ['ab'.repeat(32)], vector: [{ epoch: E1, device: DEVICE, seq: 5 }] },
    { conversation: CONV, device: DEVICE, at: NOW, heads: [], vector: [], paced: [{ epoch: E2, device: DEVICE, max: 3 }] },
  ]
  const frames: SyncFrame[] = [
    { kind: 'ops', ops: [bytesOf(100, 1), bytesOf(0, 0)] },
    { kind: 'envelopes', envelopes: envelopeSeeds(alice.device).slice(0, 3) },
    { kind: 'evidence', envelopes: envelopeSeeds(alice.device).slice(4, 6) },
    { kind: 'done', vector: [{ epoch: E1, device: DEVICE, seq: 1 }, { epoch: E2, device: DEVICE, seq: 2 ** 40 }] },
  ]

  it('decodeSyncRequest (signed, checked against the session PeerIds and the clock)', () => {
    const t = tally('sync request')
    const seeds = requests.map((r) => encodeSyncRequest(r, alice.device.seed, peers))
    fuzz(
      fc.property(hostileBytes(seeds), (input) => {
        outcome(
          t,
          () => decodeSyncRequest(input, peers, NOW),
          (r) => {
            expect(r.vector.length).toBeLessThanOrEqual(Limits.maxMembers * Limits.maxDevicesPerMember * 16)
            expect(r.vector.every((p) => Number.isSafeInteger(p.seq) && p.seq >= 0)).toBe(true)
            expect(r.heads.length).toBeLessThanOrEqual(256)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })

  it('decodeSyncFrame (pages of ops, envelopes, evidence, done)', () => {
    const t = tally('sync frame')
    fuzz(
      fc.property(hostileBytes(frames.map(encodeSyncFrame)), (input) => {
        outcome(
          t,
          () => decodeSyncFrame(input),
          (f) => {
            if (f.kind === 'envelopes' || f.kind === 'evidence') expect(f.envelopes.length).toBeLessThanOrEqual(Limits.maxEnvelopesPerPage)
            if (f.kind === 'ops') expect(f.ops.every((o) => o instanceof Uint8Array)).toBe(true)
            expect(decodeSyncFrame(encodeSyncFrame(f))).toEqual(withoutNegativeZero(f))
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })

  it('decodeJoinRequest and decodeJoinResponse', () => {
    const t = tally('join request')
    const invite = key(0x51)
    const seeds = [encodeJoinRequest({ conversation: CONV, inviteId: INV, cert: alice.cert.bytes }, invite.seed, peers.responder)]
    fuzz(
      fc.property(hostileBytes(seeds), (input) => {
        outcome(
          t,
          () => decodeJoinRequest(input),
          ({ request, signature }) => {
            expect(signature.length).toBe(64)
            expect(request.cert).toBeInstanceOf(Uint8Array)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    const r = tally('join response')
    fuzz(
      fc.property(hostileBytes([encodeJoinResponse([bytesOf(50, 1), bytesOf(300, 2)]), encodeJoinResponse([])]), (input) => {
        outcome(r, () => decodeJoinResponse(input), (ops) => expect(ops.length).toBeLessThanOrEqual(4096))
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('fuzz: membership operations', () => {
  const seal = (d: string, n = 80) => ({ device: d as DeviceId, box: bytesOf(n, 9) })
  const bodies: OpBody[] = [
    { type: 'create', kind: 'group', name: 'Family ❤', epoch: { id: E1, seals: [seal(toHex(alice.device.publicKey))] } },
    { type: 'invite', invite: { id: INV, key: bytesOf(32, 4), expiresAt: NOW + 100_000, singleUse: true } },
    { type: 'revoke-invite', inviteId: INV },
    { type: 'add', certs: [bob.cert], role: 'member', via: INV, epoch: E1, seals: [seal(toHex(bob.device.publicKey))] },
    {
      type: 'remove',
      account: toHex(bob.account.publicKey) as AccountId,
      cutoffs: { [`${E1}/${toHex(bob.device.publicKey)}`]: 17 },
      epoch: { id: E2, seals: [seal(toHex(alice.device.publicKey))] },
    },
    { type: 'role', account: toHex(bob.account.publicKey) as AccountId, role: 'admin' },
    { type: 'profile', name: 'Grandma Zoë 🌻' },
    { type: 'rotate', epoch: { id: E2, seals: [seal(toHex(alice.device.publicKey)), seal(toHex(bob.device.publicKey))] } },
    { type: 'merge' },
  ]
  const ops = bodies.map((body, i) =>
    signOp({
      conversation: CONV,
      prev: i === 0 ? [] : [('0' + i).repeat(32) as OpHash],
      hlc: HLC,
      author: alice.cert,
      deviceSeed: alice.device.seed,
      body,
    }),
  )
  const checkOp = (op: ReturnType<typeof decodeOp>): void => {
    expect(op.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(op.prev.length).toBeLessThanOrEqual(64)
    expect(decodeOp(op.bytes).hash).toBe(op.hash)
  }

  it('decodeOp on mutated and random encodings', () => {
    const t = tally('membership op')
    fuzz(
      fc.property(hostileBytes(ops.map((o) => o.bytes)), (input) => {
        outcome(t, () => decodeOp(input), checkOp)
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })

  it('decodeOp on mutated operations signed by their author (reaches the body schema and the certificate)', () => {
    const t = tally('membership op (re-signed)')
    const inner = ops.map((o) => cborTree(o.bytes) as { o: Uint8Array }).map((s) => s.o)
    const sign = (o: Uint8Array): Uint8Array => encodeCbor({ o, s: signWithLabel(alice.device.seed, Labels.membershipOp, o) })
    fuzz(
      fc.property(resigned(inner, sign), (input) => {
        outcome(t, () => decodeOp(input), checkOp)
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('fuzz: invites and certificates', () => {
  const invite = (over: Partial<InviteCode> = {}): InviteCode => ({
    conversation: CONV,
    root: 'ab'.repeat(32) as OpHash,
    name: 'Family',
    inviteId: INV,
    secret: bytesOf(32, 7),
    expiresAt: NOW + 7 * 86_400_000,
    addresses: [`/ip4/192.168.1.20/tcp/4001/p2p/${PEER_ID}`, `/ip4/127.0.0.1/tcp/4001/p2p/${PEER_ID}`],
    peerId: PEER_ID,
    relays: [],
    ...over,
  })
  const codes = [
    encodeInvite(invite()),
    encodeInvite(invite({ relays: [`/dns4/relay.example/tcp/443/wss/p2p/${PEER_ID}`], expiresAt: 0, addresses: [] })),
  ]

  it('decodeInvite on edited links, mutated CBOR inside them, and random text', () => {
    const t = tally('invite code')
    const inner = codes.map((c) => Uint8Array.from(Buffer.from(c.slice(INVITE_PREFIX.length), 'base64url')))
    const recoded = mutatedCbor(inner).map((b) => INVITE_PREFIX + toBase64Url(b))
    const bytesCoded = hostileBytes(inner).map((b) => toBase64Url(b))
    fuzz(
      fc.property(fc.oneof(hostileText(codes), recoded, bytesCoded), (text) => {
        outcome(
          t,
          () => decodeInvite(text),
          (i) => {
            expect(i.addresses.length).toBeLessThanOrEqual(6)
            expect(i.relays.length).toBeLessThanOrEqual(3)
            expect(i.secret.length).toBe(32)
            expect(decodeInvite(encodeInvite(i))).toEqual(withoutNegativeZero(i))
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    // An invite is typed by the person: anything wrong with it is the one INVITE_INVALID.
    expect([...t.refusals.keys()]).toEqual(['INVITE_INVALID'])
  })

  it('decodeDeviceCert, mutated and re-signed by the account', () => {
    const t = tally('device certificate')
    const certs = [alice.cert.bytes, bob.cert.bytes]
    const inner = certs.map((c) => (cborTree(c) as { b: Uint8Array }).b)
    const sign = (b: Uint8Array): Uint8Array => encodeCbor({ b, s: signWithLabel(alice.account.seed, Labels.deviceCert, b) })
    fuzz(
      fc.property(fc.oneof(hostileBytes(certs), resigned(inner, sign)), (input) => {
        outcome(
          t,
          () => decodeDeviceCert(input),
          (c) => {
            expect(c.account).toMatch(/^[0-9a-f]{64}$/)
            expect(c.dhPublic.length).toBe(32)
            expect(c.peerId.length).toBeGreaterThan(0)
            expect(Number.isSafeInteger(c.createdAt)).toBe(true)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })
})

describe('fuzz: payloads inside envelopes', () => {
  const targets: Array<[string, Uint8Array[], (b: Uint8Array) => unknown, (v: never) => unknown]> = [
    ['content payload', [encodeContent({ shard: 0, change: bytesOf(200, 1) }), encodeContent({ shard: 999_999, change: new Uint8Array(0) }), encodeContent({ shard: 3, change: bytesOf(50, 1), epoch: E1 })], decodeContent, encodeContent],
    ['content secrets', [encodeContentSecrets({ keys: [{ message: '0a'.repeat(16), key: bytesOf(32, 6) }] }), encodeContentSecrets({ keys: [] })], decodeContentSecrets, encodeContentSecrets],
    ['signal', [encodeTyping({ hlc: HLC }), encodeReceipt({ hlc: HLC, epoch: E1, have: {}, readUpTo: '' })], decodeSignal, (v: SignalPayload) => (v.type === 'typing' ? encodeTyping(v.typing) : encodeReceipt(v.receipt))],
    [
      'keys payload',
      [
        encodeKeys({ recipients: [{ device: 'ab'.repeat(32), box: bytesOf(100, 2) }] }),
        encodeKeys({ recipients: [] }),
        encodeKeys({ recipients: [], forwarded: [{ device: 'ab'.repeat(32), epoch: E1, sender: 'cd'.repeat(32), box: bytesOf(90, 7) }] }),
      ],
      decodeKeys,
      encodeKeys,
    ],
    ['chain grant', [encodeChainGrant(bytesOf(32, 3))], decodeChainGrant, encodeChainGrant],
    ['membership payload', [encodeMembership(bytesOf(500, 4))], decodeMembership, encodeMembership],
    ['receipt', [encodeReceipt({ hlc: HLC, epoch: E1, have: { ['ab'.repeat(32)]: 5 }, readUpTo: 'x'.repeat(64) })], decodeReceipt, encodeReceipt],
  ]
  it.each(targets)('%s', (name, seeds, decode, encode) => {
    const t = tally(name)
    fuzz(
      fc.property(hostileBytes(seeds), (input) => {
        outcome(
          t,
          () => decode(input),
          (v) => expect(decode(encode(v as never) as Uint8Array)).toEqual(withoutNegativeZero(v)),
        )
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })
})

describe('fuzz: HLC and message-ref text', () => {
  it('decodeHlc gives a clock that encodes back to the same text, or a CrdtError; hlcReceive stays ahead', () => {
    const t = tally('hlc')
    const seeds = [HLC, encodeHlc({ wall: 0, counter: 0 }), encodeHlc({ wall: 9_999_999_999_999, counter: 999_999 })]
    fuzz(
      fc.property(hostileText(seeds), fc.nat({ max: 9_999_999_999_999 }), (text, now) => {
        const remote = outcome(t, () => decodeHlc(text), (h) => expect(encodeHlc(h)).toBe(text))
        if (remote === undefined) return
        const local = decodeHlc(HLC)
        outcome(t, () => hlcReceive(local, remote, now), (next) => {
          expect(isHlc(next)).toBe(true)
          expect(encodeHlc(next) > HLC).toBe(true)
        })
      }),
      runs(SHORT_RUNS),
    )
  })

  it('parseRefKey gives a ref whose key is the text, or undefined (never throws)', () => {
    const t = tally('ref key')
    const seeds = ['0a'.repeat(16) + '1b'.repeat(16), 'f'.repeat(64)]
    fuzz(
      fc.property(hostileText(seeds), (text) => {
        outcome(t, () => parseRefKey(text), (ref) => {
          if (ref !== undefined) expect(refKey(ref)).toBe(text)
        })
      }),
      runs(SHORT_RUNS),
    )
  })
})

/** The change the fuzzer found (seed 322135, input 15,136 of the long run): see the test that uses it. */
const SLOW_CHANGE_HEX =
  '856f4a83f8a09bb5019b01019c8d763188353b297266b834433fb803014cebaabdf46ff10ff52a3d7ce7f0ec10a1a1a1a1a1a1a1a1a1a1a1a1a1a1' +
  'a1a1041300000007010202031547340142035603700202007e03137ed9d9f7613161316131613161316131613161316131613161316131613161' +
  '316131303230323032303230323032303230323032303230323032303230323032303204f09f918d027e00017e00020200'

describe('fuzz: Automerge changes as the core takes them', () => {
  const A = asActorId('a1'.repeat(16))
  const B = asActorId('b2'.repeat(16))
  const M1 = asMessageId('01'.repeat(16))
  const M2 = asMessageId('02'.repeat(16))
  const hlc = { wall: NOW, counter: 0 }
  // A's history: two messages, an edit, a reaction, a delete: every kind of change the core sends.
  const changes: Uint8Array[] = []
  let doc: Shard = createShard(A)
  for (const step of [
    (d: Shard) => sendMessage(d, A, { id: M1, body: 'hello', hlc, seq: 0 }),
    (d: Shard) => sendMessage(d, A, { id: M2, body: 'reply ❤', hlc: { ...hlc, counter: 1 }, seq: 1, replyTo: { author: A, id: M1 } }),
    (d: Shard) => editMessage(d, A, { id: M1, body: 'hello!', hlc: { ...hlc, counter: 2 } }),
    (d: Shard) => react(d, A, { target: { author: A, id: M2 }, emoji: '👍', on: true }),
    (d: Shard) => deleteMessage(d, A, { id: M2 }),
  ]) {
    const r = step(doc)
    doc = r.doc
    changes.push(r.change)
  }
  const saved = saveShard(doc)

  it('a 166-byte change on which Automerge spends seconds and ~200 MB before refusing it is still refused (found by this fuzzer)', () => {
    // Automerge's decodeChange (3.5, WASM) allocates for a string length claimed in the key column before finding the
    // bytes are not there: the first time in a process about 2-4 s and +200 MB of WASM memory, tens of ms after.
    // Not fixable in Hearth's code; kept here so the cost is visible and the refusal stays typed.
    const change = Uint8Array.from(Buffer.from(SLOW_CHANGE_HEX, 'hex'))
    const rss = process.memoryUsage().rss
    const started = performance.now()
    const result = validateRemoteChange(change, B)
    const ms = performance.now() - started
    console.log(`fuzz automerge slow change: refused in ${ms.toFixed(0)} ms, RSS +${((process.memoryUsage().rss - rss) / 1e6).toFixed(0)} MB`)
    expect(result.ok).toBe(false)
    expect(applyRemoteChanges(createShard(B), [change]).rejected).toHaveLength(1)
  })

  it('decodeContent, validateRemoteChange, applyRemoteChanges, then reading what they touched', () => {
    const t = tally('automerge change')
    let applied = 0
    const payloads = changes.map((change, i) => encodeContent({ shard: i % 2, change }))
    const mutatedChanges = hostileBytes(changes).map((change) => encodeContent({ shard: 0, change }))
    fuzz(
      fc.property(fc.oneof(hostileBytes(payloads), mutatedChanges), fc.constantFrom(A, B), (input, sender) => {
        outcome(t, () => {
          const payload = decodeContent(input)
          const valid = validateRemoteChange(payload.change, sender)
          if (!valid.ok) return valid
          // The receiver holds A's earlier changes (or not): both orders must be safe.
          const base = applyRemoteChanges(createShard(B), changes.slice(0, 1)).doc
          const result = applyRemoteChanges(base, [payload.change])
          for (const ref of [...result.touched.messages, ...result.touched.reactionTargets]) readMessage(result.doc, ref.author, ref.id)
          applied++
          return valid
          // Automerge itself may take seconds on a crafted change (see the test above): allowed up to 30 s here and
          // counted as slow in the summary; a hang still fails.
        }, undefined, 30_000)
      }),
      runs(SHORT_RUNS),
    )
    console.log(`fuzz automerge change: ${applied} changes passed the authorship rule and were applied`)
    // After all that, the library still works.
    const again = applyRemoteChanges(createShard(B), changes)
    expect(readMessage(again.doc, A, M1)?.body).toBe('hello!')
  })

  it('loadShard on mutated saved shards: a document or CORRUPT_DATA', () => {
    const t = tally('automerge shard load')
    fuzz(
      fc.property(hostileBytes([saved]), (input) => {
        outcome(t, () => loadShard(input, B))
      }),
      runs(SHORT_RUNS / 2),
    )
  })
})
