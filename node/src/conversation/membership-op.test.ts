import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHlc } from '../../../crdt/src/index.js'
import { signWithLabel } from '../../common/crypto/ed25519.js'
import { sha256 } from '../../common/crypto/kdf.js'
import { Labels } from '../../common/crypto/labels.js'
import { codeOf } from '../../common/wire/codec-testing.js'
import { toHex } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import { createIdentity, type Identity } from '../identity/identity.js'
import type { AccountId, ConversationId, DeviceId, EpochId, OpHash } from '../ids.js'
import { decodeOp, signOp, type MembershipOp, type OpBody } from './membership-op.js'

const CONV = '0c'.repeat(16) as ConversationId
const HLC = encodeHlc({ wall: 1_700_000_000_000, counter: 3 })
const E1 = '1111111111111111' as EpochId
const E2 = '2222222222222222' as EpochId
const P1 = 'aa'.repeat(32) as OpHash
const P2 = '0b'.repeat(32) as OpHash
const INV = 'cd'.repeat(16)

let alice: Identity
let bob: Identity
let bobLaptopCert: Uint8Array // another account's cert, to mix into an add

beforeAll(async () => {
  ;[alice, bob] = (await Promise.all(['alice', 'bob'].map((n) => createIdentity(n, 1)))).map((c) => c.identity) as [Identity, Identity]
  bobLaptopCert = (await createIdentity('mallory', 1)).identity.cert.bytes
})


/** Buffers (what cborg's encoder returns under Node) and Uint8Arrays compare equal after this. */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v)
  if (Array.isArray(v)) return v.map(norm)
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]))
  return v
}

const seal = (d: string, n = 80) => ({ device: d as DeviceId, box: new Uint8Array(n).fill(9) })

function bodies(): OpBody[] {
  return [
    { type: 'create', kind: 'group', name: 'Family ❤', epoch: { id: E1, seals: [seal(alice.deviceId)] } },
    { type: 'create', kind: 'direct', name: '', epoch: { id: E1, seals: [] } },
    { type: 'invite', invite: { id: INV, key: new Uint8Array(32).fill(4), expiresAt: 1_700_000_100_000, singleUse: true } },
    { type: 'invite', invite: { id: INV, key: new Uint8Array(32).fill(4), expiresAt: 0, singleUse: false } },
    { type: 'revoke-invite', inviteId: INV },
    { type: 'add', certs: [bob.cert], role: 'member', via: INV, epoch: E1, seals: [seal(bob.deviceId)] },
    { type: 'add', certs: [bob.cert], role: 'admin', via: null, epoch: E1, seals: [] },
    {
      type: 'remove',
      account: bob.account,
      cutoffs: { [`${E1}/${bob.deviceId}`]: 17, [`${E2}/${bob.deviceId}`]: 0 },
      epoch: { id: E2, seals: [seal(alice.deviceId)] },
    },
    { type: 'role', account: bob.account as AccountId, role: 'admin' },
    { type: 'profile', name: 'Grandma Zoë 🌻' },
    { type: 'rotate', epoch: { id: E2, seals: [seal(alice.deviceId), seal(bob.deviceId)] } },
    { type: 'merge' },
  ]
}

const sign = (body: OpBody, prev: OpHash[] = [P1, P2], author = alice) =>
  signOp({ conversation: CONV, prev, hlc: HLC, author: author.cert, deviceSeed: author.deviceKey.seed, body })

/** The inner operation map, signed by `seed`, wrapped: what a peer could put on the wire. */
function craft(inner: Record<string, unknown>, seed = alice.deviceKey.seed): Uint8Array {
  const o = encodeCbor(inner)
  return encodeCbor({ o, s: signWithLabel(seed, Labels.membershipOp, o) })
}
const innerOf = (op: MembershipOp) =>
  decodeCbor((decodeCbor(op.bytes, Limits.maxMembershipOpBytes, 't') as { o: Uint8Array }).o, Limits.maxMembershipOpBytes, 't') as Record<
    string,
    unknown
  >

describe('membership operation codec', () => {
  it('round trips every operation type; hash is the SHA-256 of the signed bytes; prev is sorted', () => {
    for (const body of bodies()) {
      const op = sign(body, [P1, P2])
      expect(norm(op.body)).toEqual(norm(body))
      expect(op.prev).toEqual([P2, P1])
      expect(op.conversation).toBe(CONV)
      expect(op.hlc).toBe(HLC)
      expect(norm(op.author)).toEqual(norm(alice.cert))
      expect(op.hash).toBe(toHex(sha256((decodeCbor(op.bytes, Limits.maxMembershipOpBytes, 't') as { o: Uint8Array }).o)))
      expect(decodeOp(op.bytes)).toEqual(op)
    }
  })

  it('a deeply nested map is MALFORMED, not a stack overflow (the canonical-encoding check used to throw RangeError)', () => {
    for (const depth of [2_000, 5_000]) {
      const deep = new Uint8Array(depth * 3 + 1)
      for (let i = 0; i < depth; i++) deep.set([0xa1, 0x61, 0x61], i * 3)
      deep[deep.length - 1] = 0x01
      expect(codeOf(() => decodeOp(deep))).toBe('MALFORMED')
      expect(codeOf(() => decodeOp(encodeCbor({ o: deep, s: new Uint8Array(64) })))).toBe('MALFORMED')
    }
  })

  it('is deterministic: the same input signs to the same bytes and hash', () => {
    const [a, b] = [sign(bodies()[5]!), sign(bodies()[5]!)]
    expect(a.bytes).toEqual(b.bytes)
    expect(a.hash).toBe(b.hash)
  })

  it('an operation not signed by the device in its author certificate → BAD_SIGNATURE', () => {
    const inner = innerOf(sign(bodies()[0]!))
    expect(codeOf(() => decodeOp(craft(inner, bob.deviceKey.seed)))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => decodeOp(craft(inner, alice.accountKey.seed)))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => decodeOp(craft(inner)))).toBe('ok')
    // a signature over the same bytes under another label does not count
    const o = encodeCbor(inner)
    const other = encodeCbor({ o, s: signWithLabel(alice.deviceKey.seed, Labels.deviceCert, o) })
    expect(codeOf(() => decodeOp(other))).toBe('BAD_SIGNATURE')
  })

  it('an add must carry certificates of one account, each valid', () => {
    const inner = innerOf(sign(bodies()[5]!))
    const b = inner['b'] as Record<string, unknown>
    expect(codeOf(() => decodeOp(craft({ ...inner, b: { ...b, c: [bob.cert.bytes, bobLaptopCert] } })))).toBe('MALFORMED')
    expect(codeOf(() => decodeOp(craft({ ...inner, b: { ...b, c: [] } })))).toBe('MALFORMED')
    const forged = new Uint8Array(bob.cert.bytes)
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1
    expect(codeOf(() => decodeOp(craft({ ...inner, b: { ...b, c: [forged] } })))).toBe('BAD_SIGNATURE')
    expect(codeOf(() => decodeOp(craft({ ...inner, b: { ...b, c: Array(9).fill(bob.cert.bytes) } })))).toBe('MALFORMED')
  })

  it('rejects fields outside the schema even when properly signed', () => {
    const inner = innerOf(sign(bodies()[0]!))
    const b = inner['b'] as Record<string, unknown>
    expect(codeOf(() => decodeOp(craft({ ...inner, v: 2 })))).toBe('UNSUPPORTED_VERSION')
    const bad: Array<Record<string, unknown>> = [
      { ...inner, v: '1' },
      { ...inner, c: 'C0'.repeat(16) },
      { ...inner, c: '0c'.repeat(15) },
      { ...inner, p: Array(65).fill(P1) },
      { ...inner, p: ['xyz'] },
      { ...inner, h: 'h'.repeat(41) },
      { ...inner, a: new Uint8Array(10) },
      { ...inner, b: { ...b, t: 'destroy' } },
      { ...inner, b: { ...b, k: 'channel' } },
      { ...inner, b: { ...b, n: 'n'.repeat(401) } },
      { ...inner, b: { ...b, e: { i: 'short', s: [] } } },
      { ...inner, b: { ...b, e: { i: E1, s: [{ d: alice.deviceId, b: new Uint8Array(257) }] } } },
      { ...inner, b: { t: 'role', a: bob.account, r: 'owner' } },
      { ...inner, b: { t: 'profile', n: 'n'.repeat(257) } },
      { ...inner, b: { t: 'profile', n: 7 } },
      { ...inner, b: { t: 'remove', a: bob.account, o: { nonsense: 1 }, e: { i: E2, s: [] } } },
      { ...inner, b: { t: 'remove', a: bob.account, o: { [`${E1}/${bob.deviceId}`]: -1 }, e: { i: E2, s: [] } } },
      { ...inner, b: { t: 'invite', i: { i: INV, k: new Uint8Array(31), x: 0, u: true } } },
    ]
    for (const value of bad) expect(codeOf(() => decodeOp(craft(value)))).toBe('MALFORMED')
    const tooMany = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`${i.toString(16).padStart(16, '0')}/${bob.deviceId}`, 1]))
    expect(codeOf(() => decodeOp(craft({ ...inner, b: { t: 'remove', a: bob.account, o: tooMany, e: { i: E2, s: [] } } })))).toBe(
      'MALFORMED',
    )
  })

  it('one operation has one encoding: re-encoded, unsorted or extended forms of a signed operation are refused', () => {
    const op = sign(bodies()[5]!)
    const { o, s: sig } = decodeCbor(op.bytes, Limits.maxMembershipOpBytes, 't') as { o: Uint8Array; s: Uint8Array }
    // the wrapper's keys in the other order: the same signed bytes, another byte string, so another identity if accepted
    const swapped = new Uint8Array([0xa2, ...encodeCbor('s'), ...encodeCbor(sig), ...encodeCbor('o'), ...encodeCbor(o)])
    expect(codeOf(() => decodeCbor(swapped, 1 << 20, 't'))).toBe('ok')
    expect(codeOf(() => decodeOp(swapped))).toBe('MALFORMED')
    // the signed map itself re-encoded with its keys unsorted, and signed again by the author
    const inner = innerOf(op)
    const keys = Object.keys(inner).sort().reverse()
    const unsorted = new Uint8Array([0xa0 + keys.length, ...keys.flatMap((k) => [...encodeCbor(k), ...encodeCbor(inner[k])])])
    const resigned = encodeCbor({ o: unsorted, s: signWithLabel(alice.deviceKey.seed, Labels.membershipOp, unsorted) })
    expect(codeOf(() => decodeOp(resigned))).toBe('MALFORMED')
    // a field the schema does not know, parents unsorted or repeated
    expect(codeOf(() => decodeOp(craft({ ...inner, x: 1 })))).toBe('MALFORMED')
    expect(codeOf(() => decodeOp(craft({ ...inner, p: [P1, P2] })))).toBe('MALFORMED')
    expect(codeOf(() => decodeOp(craft({ ...inner, p: [P2, P2] })))).toBe('MALFORMED')
    expect(codeOf(() => decodeOp(craft({ ...inner, p: [P2, P1] })))).toBe('ok')
    // the signature is not part of the identity: the hash is over the signed bytes
    expect(decodeOp(op.bytes).hash).toBe(toHex(sha256(o)))
  })

  it('oversized: TOO_LARGE before parsing, and an operation that would be too big cannot be signed', () => {
    expect(codeOf(() => decodeOp(new Uint8Array(Limits.maxMembershipOpBytes + 1)))).toBe('TOO_LARGE')
    const seals = Array.from({ length: 1100 }, (_, i) => seal(i.toString(16).padStart(64, '0'), 256))
    expect(codeOf(() => sign({ type: 'rotate', epoch: { id: E2, seals } }))).toBe('TOO_LARGE')
    const fits = Array.from({ length: 600 }, (_, i) => seal(i.toString(16).padStart(64, '0'), 256))
    expect(codeOf(() => sign({ type: 'rotate', epoch: { id: E2, seals: fits } }))).toBe('ok')
  })

  it('every single-byte change of a signed add is rejected (all positions, 3 flips each)', () => {
    const op = sign(bodies()[5]!)
    const codes = new Map<string, number>()
    for (let i = 0; i < op.bytes.length; i++) {
      for (const flip of [0x01, 0x40, 0xff]) {
        const m = new Uint8Array(op.bytes)
        m[i] = m[i]! ^ flip
        const code = codeOf(() => decodeOp(m))
        codes.set(code, (codes.get(code) ?? 0) + 1)
        if (code === 'ok') expect({ ...decodeOp(m), bytes: op.bytes, hash: op.hash }).toEqual(op)
      }
    }
    expect(codes.has('ok')).toBe(false)
    // (UNSUPPORTED_VERSION when the flip lands on the version number)
    expect([...codes.keys()].sort()).toEqual(['BAD_SIGNATURE', 'MALFORMED', 'UNSUPPORTED_VERSION'])
  })

  it('random mutations of every operation type are rejected (property, 400 runs)', () => {
    const ops = bodies().map((b) => sign(b))
    fc.assert(
      fc.property(fc.nat(ops.length - 1), fc.nat(), fc.integer({ min: 1, max: 255 }), (which, at, flip) => {
        const op = ops[which]!
        const m = new Uint8Array(op.bytes)
        m[at % m.length] = m[at % m.length]! ^ flip
        const code = codeOf(() => decodeOp(m))
        expect(['MALFORMED', 'BAD_SIGNATURE', 'UNSUPPORTED_VERSION']).toContain(code)
      }),
      { numRuns: 400, seed: 31 },
    )
  })

  it('every truncation is rejected', () => {
    const op = sign(bodies()[7]!)
    for (let n = 0; n < op.bytes.length; n++) {
      expect(['MALFORMED', 'BAD_SIGNATURE']).toContain(codeOf(() => decodeOp(op.bytes.subarray(0, n))))
    }
  })

  it('random bytes are rejected with MALFORMED (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        expect(codeOf(() => decodeOp(b))).toBe('MALFORMED')
      }),
      { numRuns: 500, seed: 32 },
    )
  })
})
