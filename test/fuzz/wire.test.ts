/**
 * Fuzzing the shared wire decoders (node/common/wire, the framing's error frames): random bytes, byte mutations and
 * CBOR-structure mutations of valid encodings. Each decoder returns a value that meets its contract or throws a
 * HearthError; refusals are counted by code and printed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { deriveMailboxKeys, ReplayGuard, signMailboxRequest, verifyMailboxRequest, type MailboxAuth } from '../../node/common/crypto/mailbox-capability.js'
import { ErrorCodes, HearthError } from '../../node/common/errors.js'
import { decodeErrorFrame, encodeErrorFrame } from '../../node/common/net/request-response.js'
import { utf8 } from '../../node/common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../node/common/wire/cbor.js'
import { openEnvelopeBody, openEnvelopeHeader, openEnvelopeSecrets, parseEnvelopeFrame, EnvelopeKind } from '../../node/common/wire/envelope.js'
import {
  decodeMailboxRequest,
  decodeMailboxResponse,
  encodeMailboxRequest,
  encodeMailboxResponse,
  isMailboxCursor,
  MAX_DEPOSIT_ENVELOPES,
  MAX_MAILBOX_ENVELOPE_BYTES,
  paramsOf,
  refusalForError,
  type MailboxRequest,
  type MailboxResponse,
} from '../../node/common/wire/mailbox.js'
import { bytes, parseWire, uint } from '../../node/common/wire/schema.js'
import { cborTree, cborValue, fuzz, hostileBytes, mutatedCbor, outcome, runs, SHORT_RUNS, withoutNegativeZero, talliesReportedAfterEach } from './fuzz-kit.js'
import { BODY_KEY, bytesOf, envelopeSeeds, frameIsConsistent, HEADER_KEY, headerPlain, key, NOW, sealRawEnvelope } from './seeds.js'

const tally = talliesReportedAfterEach()

describe('fuzz: CBOR and the schema layer', () => {
  const seeds = [
    encodeCbor({ v: 1, a: 'x', b: new Uint8Array(32), c: [1, 2, 3], d: { e: null, f: true } }),
    encodeCbor([1, -1, 2 ** 40, 'text', new Uint8Array(3), [[[]]], {}]),
    encodeCbor({ k: 'env', e: [new Uint8Array(100), new Uint8Array(0)] }),
    encodeCbor('a'.repeat(300)),
  ]

  it('decodeCbor: a value that encodes and decodes to itself, or MALFORMED/TOO_LARGE', () => {
    const t = tally('decodeCbor')
    fuzz(
      fc.property(hostileBytes(seeds), (input) => {
        outcome(
          t,
          () => decodeCbor(input, 64 * 1024, 'fuzz input'),
          // Compared as canonical encodings: -0 and 0 are one value to the schemas, two to toEqual.
          (value) => expect(encodeCbor(decodeCbor(encodeCbor(value), 1 << 20, 'again'))).toEqual(encodeCbor(value)),
        )
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
    expect([...t.refusals.keys()].every((c) => c === 'MALFORMED' || c === 'TOO_LARGE')).toBe(true)
  })

  it('parseWire: any CBOR value is parsed to the schema or refused MALFORMED/UNSUPPORTED_VERSION', () => {
    const t = tally('parseWire')
    const schema = z.object({ v: z.literal(1), b: bytes(32), n: uint, s: z.string().max(10), a: z.array(uint).max(4) })
    const valid = { v: 1, b: new Uint8Array(32), n: 5, s: 'ok', a: [1, 2] }
    const inputs = fc.oneof(cborValue, mutatedCbor([encodeCbor(valid)]).map((b) => {
      try {
        return cborTree(b)
      } catch {
        return b
      }
    }))
    fuzz(
      fc.property(inputs, (value) => {
        outcome(
          t,
          () => parseWire(schema, value, 'fuzz value'),
          (parsed) => expect(schema.safeParse(parsed).success).toBe(true),
        )
      }),
      runs(SHORT_RUNS),
    )
    expect([...t.refusals.keys()].every((c) => c === 'MALFORMED' || c === 'UNSUPPORTED_VERSION')).toBe(true)
  })
})

describe('fuzz: the envelope (frame, header, body)', () => {
  const signer = key(0x41)
  const seeds = envelopeSeeds(signer)

  it('parseEnvelopeFrame + openEnvelopeHeader + openEnvelopeBody on mutated and random envelopes', () => {
    const t = tally('envelope')
    fuzz(
      fc.property(hostileBytes(seeds), (input) => {
        outcome(
          t,
          () => {
            const frame = parseEnvelopeFrame(input)
            expect(frameIsConsistent(frame)).toBe(true)
            const header = openEnvelopeHeader(frame, HEADER_KEY)
            return { header, body: openEnvelopeBody(frame, header, BODY_KEY), secrets: openEnvelopeSecrets(frame, header, BODY_KEY) }
          },
          ({ header }) => {
            expect(header.device.length).toBe(32)
            expect(Number.isSafeInteger(header.seq) && header.seq >= 0).toBe(true)
            expect(Object.values(EnvelopeKind)).toContain(header.kind)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
    expect(t.values).toBeGreaterThan(0)
  })

  it('openEnvelopeHeader on mutated header plaintexts inside a box that opens', () => {
    // The AEAD stops byte mutations of the header box; sealing mutated plaintexts reaches the CBOR header decoder.
    const t = tally('envelope header')
    const body = bytesOf(10, 1)
    const plains = [
      headerPlain(signer.publicKey, 1, EnvelopeKind.content, body),
      headerPlain(signer.publicKey, 0, EnvelopeKind.signal, body),
      headerPlain(signer.publicKey, 2 ** 40, EnvelopeKind.keys, body),
    ]
    fuzz(
      fc.property(hostileBytes(plains), fc.nat(255), (plain, nonce) => {
        const envelope = sealRawEnvelope({ headerPlain: plain, body, signer, nonce })
        outcome(
          t,
          () => openEnvelopeHeader(parseEnvelopeFrame(envelope), HEADER_KEY, { verifySignature: false }),
          (header) => {
            expect(header.device.length).toBe(32)
            expect(header.bodyHash.length).toBe(32)
            expect(header.kind === EnvelopeKind.signal).toBe(header.seq === 0)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('fuzz: relay mailbox frames', () => {
  const keys = deriveMailboxKeys(bytesOf(32, 1))
  const RELAY = '12D3KooWRelayFuzz'
  const sign = (params: Parameters<typeof signMailboxRequest>[2], nonce: number): MailboxAuth =>
    signMailboxRequest(keys, RELAY, params, { timestamp: NOW, nonce: bytesOf(16, nonce) })
  const deposit = { op: 'deposit' as const, envelopes: [{ id: bytesOf(32, 2), bytes: bytesOf(300, 3) }, { id: bytesOf(16, 4), bytes: new Uint8Array(0) }] }
  const requests: MailboxRequest[] = [
    { ...deposit, auth: sign(paramsOf({ ...deposit, auth: undefined as never }), 1) },
    { op: 'fetch', auth: sign({ op: 'fetch', after: null, reader: null, limit: 500, waitMs: 0 }, 2), after: null, reader: null, limit: 500, waitMs: 0 },
    {
      op: 'fetch',
      auth: sign({ op: 'fetch', after: 'AAAA.0000000000000001', reader: bytesOf(16, 5), limit: 1, waitMs: 25_000 }, 3),
      after: 'AAAA.0000000000000001',
      reader: bytesOf(16, 5),
      limit: 1,
      waitMs: 25_000,
    },
    { op: 'ack', auth: sign({ op: 'ack', reader: bytesOf(32, 6), cursor: 'x-1' }, 4), reader: bytesOf(32, 6), cursor: 'x-1' },
  ]
  const responses: MailboxResponse[] = [
    { kind: 'deposit', results: [{ status: 'stored' }, { status: 'duplicate' }, { status: 'refused', reason: 'mailbox-quota' }] },
    { kind: 'page', items: [{ cursor: 'g.1', id: bytesOf(32, 1), bytes: bytesOf(10, 0) }], next: 'g.1', more: true },
    { kind: 'page', items: [], next: 'g.0', more: false },
    { kind: 'ack' },
    { kind: 'refused', reason: 'stale', relayTime: NOW },
    { kind: 'refused', reason: 'rate-limited', retryAfterMs: 250 },
  ]

  it('decodeMailboxRequest and the relay authorisation behind it (what the relay runs on every request)', () => {
    const t = tally('mailbox request (relay)')
    // A small guard, so the fuzzer also exercises its bounds.
    const guard = new ReplayGuard({ maxEntries: 64, maxPerMailbox: 8 })
    const verdicts = new Map<string, number>()
    fuzz(
      fc.property(hostileBytes(requests.map(encodeMailboxRequest)), (input) => {
        const request = outcome(
          t,
          () => decodeMailboxRequest(input),
          (r) => {
            if (r.op === 'deposit') {
              expect(r.envelopes.length).toBeGreaterThan(0)
              expect(r.envelopes.length).toBeLessThanOrEqual(MAX_DEPOSIT_ENVELOPES)
              expect(r.envelopes.every((e) => e.bytes.length <= MAX_MAILBOX_ENVELOPE_BYTES)).toBe(true)
            }
            if (r.op !== 'deposit' && r.op !== 'fetch' && r.op !== 'ack') throw new Error('unknown op')
            if (r.op === 'ack') expect(isMailboxCursor(r.cursor)).toBe(true)
            // What decoded re-encodes to something that decodes to the same request.
            expect(decodeMailboxRequest(encodeMailboxRequest(r))).toEqual(withoutNegativeZero(r))
          },
        )
        if (request === undefined) return
        const check = verifyMailboxRequest(request.auth, RELAY, paramsOf(request), guard, NOW)
        const verdict = check.ok ? 'ok' : check.reason
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1)
      }),
      runs(SHORT_RUNS),
    )
    console.log(`fuzz mailbox request: relay authorisation verdicts ${JSON.stringify(Object.fromEntries(verdicts))}`)
    // Every refusal maps to a wire reason the relay can send.
    for (const code of t.refusals.keys()) expect(refusalForError(code as HearthError['code'])).not.toBe('internal')
  })

  it('decodeMailboxResponse (what a client reads from a relay)', () => {
    const t = tally('mailbox response')
    fuzz(
      fc.property(hostileBytes(responses.map(encodeMailboxResponse)), (input) => {
        outcome(
          t,
          () => decodeMailboxResponse(input),
          (r) => expect(decodeMailboxResponse(encodeMailboxResponse(r))).toEqual(withoutNegativeZero(r)),
        )
      }),
      runs(SHORT_RUNS),
    )
  })
})

describe('fuzz: request/response framing', () => {
  it('decodeErrorFrame turns any bytes into a HearthError with a known code and a bounded message', () => {
    const t = tally('error frame')
    const seeds = [encodeErrorFrame('RATE_LIMITED', 'slow down').subarray(1), utf8('{"code":"MALFORMED","message":"x"}'), utf8('null')]
    const json = fc.jsonValue().map((v) => utf8(JSON.stringify(v)))
    fuzz(
      fc.property(fc.oneof(hostileBytes(seeds), json), (input) => {
        outcome(
          t,
          () => decodeErrorFrame(input),
          (err) => {
            expect(err).toBeInstanceOf(HearthError)
            expect(ErrorCodes).toContain(err.code)
            expect(err.message.length).toBeLessThanOrEqual(600)
          },
        )
      }),
      runs(SHORT_RUNS),
    )
  })
})
