import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyRemoteChanges, asActorId, asMessageId, createShard, sendMessage, validateRemoteChange } from '../../../crdt/src/index.js'
import { generateSigningKeyPair } from '../../common/crypto/ed25519.js'
import { randomBytes } from '../../common/crypto/random.js'
import { HearthError } from '../../common/errors.js'
import { byteFlips, codeOf } from '../../common/wire/codec-testing.js'
import { toHex } from '../../common/util/bytes.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { EnvelopeKind, openEnvelopeBody, openEnvelopeHeader, parseEnvelopeFrame, sealEnvelope } from '../../common/wire/envelope.js'
import { Limits } from '../../common/wire/limits.js'
import { actorOf } from '../core/actor.js'
import type { DeviceId } from '../ids.js'
import {
  decodeChainGrant,
  decodeContent,
  decodeKeys,
  decodeMembership,
  decodeReceipt,
  encodeChainGrant,
  encodeContent,
  encodeKeys,
  encodeMembership,
  encodeReceipt,
  type ContentPayload,
  type KeysPayload,
  type ReceiptPayload,
} from './payloads.js'

const D1 = 'a1'.repeat(32)
const D2 = 'b2'.repeat(32)


const content: ContentPayload = { shard: 3, change: new Uint8Array(120).map((_, i) => i) }
const keys: KeysPayload = { recipients: [{ device: D1, box: new Uint8Array(90).fill(1) }, { device: D2, box: new Uint8Array(256) }] }
const keysHandedOn: KeysPayload = { recipients: [], forwarded: [{ device: D1, epoch: '0123456789abcdef', sender: D2, box: new Uint8Array(90).fill(3) }] }
const receipt: ReceiptPayload = {
  hlc: '1700000000000-000001',
  epoch: '0123456789abcdef',
  have: { [D1]: 12, [D2]: 0 },
  readUpTo: '1700000000000-000001/' + 'c3'.repeat(16),
}
const membership = new Uint8Array(300).fill(7)

interface Codec<T> {
  name: string
  value: T
  encode: (v: T) => Uint8Array
  decode: (b: Uint8Array) => T
}
const codecs: Array<Codec<unknown>> = [
  { name: 'content', value: content, encode: encodeContent, decode: decodeContent } as Codec<unknown>,
  { name: 'keys', value: keys, encode: encodeKeys, decode: decodeKeys } as Codec<unknown>,
  { name: 'keys handed on', value: keysHandedOn, encode: encodeKeys, decode: decodeKeys } as Codec<unknown>,
  { name: 'membership', value: membership, encode: encodeMembership, decode: decodeMembership } as Codec<unknown>,
  { name: 'receipt', value: receipt, encode: encodeReceipt, decode: decodeReceipt } as Codec<unknown>,
]

describe('envelope payloads', () => {
  it.each(codecs)('$name round trips', ({ value, encode, decode }) => {
    expect(decode(encode(value))).toEqual(value)
  })

  it('edge values round trip', () => {
    expect(decodeContent(encodeContent({ shard: 0, change: new Uint8Array(0) }))).toEqual({ shard: 0, change: new Uint8Array(0) })
    expect(decodeContent(encodeContent({ shard: 1_000_000, change: new Uint8Array(1) })).shard).toBe(1_000_000)
    expect(decodeKeys(encodeKeys({ recipients: [] }))).toEqual({ recipients: [] })
    // Another encoder's empty list of forwarded chains reads as none, so what is read encodes back to the same value.
    const emptyForwarded = decodeKeys(encodeCbor({ r: [], f: [] }))
    expect(emptyForwarded).toEqual({ recipients: [] })
    expect(decodeKeys(encodeKeys(emptyForwarded))).toEqual(emptyForwarded)
    expect(decodeReceipt(encodeReceipt({ hlc: '', epoch: '0'.repeat(16), have: {}, readUpTo: '' }))).toEqual({
      hlc: '',
      epoch: '0'.repeat(16),
      have: {},
      readUpTo: '',
    })
  })

  it('schema limits → MALFORMED', () => {
    const bad: Array<[(b: Uint8Array) => unknown, unknown]> = [
      [decodeContent, { s: 1_000_001, c: new Uint8Array(1) }],
      [decodeContent, { s: -1, c: new Uint8Array(1) }],
      [decodeContent, { s: 0, c: 'change' }],
      [decodeContent, { s: 0 }],
      [decodeKeys, { r: [{ d: D1, b: new Uint8Array(257) }] }],
      [decodeKeys, { r: [{ d: D1.toUpperCase(), b: new Uint8Array(1) }] }],
      [decodeKeys, { r: Array(513).fill({ d: D1, b: new Uint8Array(1) }) }],
      [decodeKeys, { r: [], f: [{ d: D1, e: 'short', s: D2, b: new Uint8Array(1) }] }],
      [decodeKeys, { r: [], f: [{ d: D1, e: '0'.repeat(16), s: 'x', b: new Uint8Array(1) }] }],
      [decodeKeys, { r: [], f: [{ d: D1, e: '0'.repeat(16), s: D2, b: new Uint8Array(257) }] }],
      [decodeKeys, { r: [], f: Array(257).fill({ d: D1, e: '0'.repeat(16), s: D2, b: new Uint8Array(1) }) }],
      [decodeMembership, { o: 'op' }],
      [decodeMembership, {}],
      [decodeReceipt, { t: 'read', h: '', e: '0'.repeat(16), w: {}, r: '' }],
      [decodeReceipt, { t: 'receipt', h: 'h'.repeat(41), e: '0'.repeat(16), w: {}, r: '' }],
      [decodeReceipt, { t: 'receipt', h: '', e: 'short', w: {}, r: '' }],
      [decodeReceipt, { t: 'receipt', h: '', e: '0'.repeat(16), w: { notadevice: 1 }, r: '' }],
      [decodeReceipt, { t: 'receipt', h: '', e: '0'.repeat(16), w: { [D1]: -1 }, r: '' }],
      [decodeReceipt, { t: 'receipt', h: '', e: '0'.repeat(16), w: {}, r: 'r'.repeat(101) }],
    ]
    for (const [decode, value] of bad) expect([value, codeOf(() => decode(encodeCbor(value)))]).toEqual([value, 'MALFORMED'])
  })

  it.each(codecs)('$name: oversized → TOO_LARGE before parsing', ({ decode }) => {
    expect(codeOf(() => decode(new Uint8Array(Limits.maxEnvelopeBytes + 1)))).toBe('TOO_LARGE')
  })

  it.each(codecs)('$name: every single-byte change → MALFORMED or a value that round trips', ({ value, encode, decode }) => {
    const bytes = encode(value)
    for (const [m] of byteFlips(bytes)) {
      let v: unknown
      try {
        v = decode(m)
      } catch (err) {
        expect(err).toBeInstanceOf(HearthError)
        expect((err as HearthError).code).toBe('MALFORMED')
        continue
      }
      expect(decode(encode(v))).toEqual(v)
    }
  })

  it.each(codecs)('$name: every truncation → MALFORMED', ({ value, encode, decode }) => {
    const bytes = encode(value)
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decode(bytes.subarray(0, n)))).toBe('MALFORMED')
  })

  it('random bytes → MALFORMED from every payload decoder (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        for (const { decode } of codecs) expect(codeOf(() => decode(b))).toBe('MALFORMED')
      }),
      { numRuns: 400, seed: 71 },
    )
  })
})

describe('chain grant (inside a sealed box of a keys payload)', () => {
  const key = new Uint8Array(32).map((_, i) => 255 - i)

  it('round trips', () => {
    expect(decodeChainGrant(encodeChainGrant(key))).toEqual(key)
  })

  it('only a 32-byte key from index 0; at most 128 bytes; anything else is refused cleanly', () => {
    for (const v of [{ k: key, i: 1 }, { k: key.subarray(1), i: 0 }, { k: key }, { i: 0 }, { k: 'key', i: 0 }, [key, 0]]) {
      expect(codeOf(() => decodeChainGrant(encodeCbor(v)))).toBe('MALFORMED')
    }
    expect(codeOf(() => decodeChainGrant(encodeCbor({ k: key, i: 0, pad: new Uint8Array(100) })))).toBe('TOO_LARGE')
    const bytes = encodeChainGrant(key)
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeChainGrant(bytes.subarray(0, n)))).toBe('MALFORMED')
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        expect(codeOf(() => decodeChainGrant(b))).toBe(b.length > 128 ? 'TOO_LARGE' : 'MALFORMED')
      }),
      { numRuns: 300, seed: 73 },
    )
  })
})

describe('corrupt Automerge changes from a peer (test/vectors/automerge-corrupt)', () => {
  const dir = fileURLToPath(new URL('../../../test/vectors/automerge-corrupt/', import.meta.url))
  const files = readdirSync(dir).filter((f) => f !== 'LICENSE' && f !== 'exemplar.automerge')
  const sender = generateSigningKeyPair()
  const device = toHex(sender.publicKey) as DeviceId
  const actor = actorOf(device)

  /** What the core does with a content envelope from `device`, up to the point where it would apply the change. */
  function receive(change: Uint8Array) {
    const epoch = { epochTag: randomBytes(8), headerKey: randomBytes(32) }
    const bodyKey = randomBytes(32)
    const envelope = sealEnvelope({
      keys: epoch,
      header: { device: sender.publicKey, seq: 1, kind: EnvelopeKind.content },
      bodyKey,
      body: encodeContent({ shard: 0, change }),
      signingSeed: sender.seed,
    })
    const frame = parseEnvelopeFrame(envelope)
    const header = openEnvelopeHeader(frame, epoch.headerKey)
    expect(header.kind).toBe(EnvelopeKind.content)
    const payload = decodeContent(openEnvelopeBody(frame, header, bodyKey))
    return validateRemoteChange(payload.change, actor)
  }

  it('has the vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(8)
  })

  it('accepts an honest change from the sender (the check is not vacuous)', () => {
    const { change } = sendMessage(createShard(actor), actor, {
      id: asMessageId('01'.repeat(16)),
      body: 'hello',
      hlc: { wall: 1_700_000_000_000, counter: 0 },
      seq: 1,
    })
    expect(receive(change).ok).toBe(true)
  })

  it.each(files)('rejects %s as undecodable, without throwing', (file) => {
    const bytes = new Uint8Array(readFileSync(join(dir, file)))
    let result: ReturnType<typeof receive> | undefined
    expect(() => (result = receive(bytes))).not.toThrow()
    expect(result!.ok).toBe(false)
    // rejected for what it is, not merely because its actor is someone else's
    if (!result!.ok) expect(result!.reason).toMatch(/^undecodable change/)
  })

  it('truncated honest changes are rejected; mutated ones never throw, and what passes is the sender\'s own and applies safely', () => {
    const { change } = sendMessage(createShard(actor), actor, {
      id: asMessageId('02'.repeat(16)),
      body: 'a message long enough to have a few columns',
      hlc: { wall: 1_700_000_000_000, counter: 0 },
      seq: 1,
    })
    for (let n = 0; n < change.length; n++) expect(validateRemoteChange(change.subarray(0, n), actor).ok).toBe(false)
    let accepted = 0
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const m = new Uint8Array(change)
        m[at % m.length] = m[at % m.length]! ^ flip
        const result = validateRemoteChange(m, actor)
        if (!result.ok) return
        accepted++
        // (Automerge does not verify a change's checksum on decode, so some flips do decode.) What passes must be by
        // the sender, and applying it must neither throw nor touch anyone else's subtree.
        expect(result.actor).toBe(actor)
        const other = asActorId('c3'.repeat(16))
        const applied = applyRemoteChanges(createShard(other), [m])
        expect(Object.keys(applied.doc).every((k) => k === actor)).toBe(true)
      }),
      { numRuns: 300, seed: 72 },
    )
    expect(accepted).toBeLessThan(300)
  })
})
