import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deriveMailboxKeys, signMailboxRequest, type MailboxAuth } from '../crypto/mailbox-capability.js'
import { encodeCbor } from './cbor.js'
import { byteFlips, codeOf } from './codec-testing.js'
import {
  MAX_DEPOSIT_ENVELOPES,
  MAX_MAILBOX_ENVELOPE_BYTES,
  MAX_REQUEST_BYTES,
  MailboxRefusedError,
  decodeMailboxRequest,
  decodeMailboxResponse,
  encodeMailboxRequest,
  encodeMailboxResponse,
  paramsOf,
  refusalCode,
  refusalForError,
  type MailboxRequest,
  type MailboxResponse,
} from './mailbox.js'

const keys = deriveMailboxKeys(new Uint8Array(32).fill(1))
const RELAY = '12D3KooWRelay'
const auth: MailboxAuth = signMailboxRequest(keys, RELAY, { op: 'ack', reader: new Uint8Array(16), cursor: 'a' }, { timestamp: 1_700_000_000_000 })

const requests: MailboxRequest[] = [
  { op: 'deposit', auth, envelopes: [{ id: new Uint8Array(32).fill(2), bytes: new Uint8Array(300).fill(3) }, { id: new Uint8Array(16).fill(4), bytes: new Uint8Array(0) }] },
  { op: 'fetch', auth, after: null, reader: null, limit: 500, waitMs: 0 },
  { op: 'fetch', auth, after: 'AAAA.0000000000000001', reader: new Uint8Array(16).fill(5), limit: 1, waitMs: 25_000 },
  { op: 'ack', auth, reader: new Uint8Array(32).fill(6), cursor: 'x-1' },
]

const responses: MailboxResponse[] = [
  { kind: 'deposit', results: [{ status: 'stored' }, { status: 'duplicate' }, { status: 'refused', reason: 'mailbox-quota' }] },
  { kind: 'page', items: [{ cursor: 'g.1', id: new Uint8Array(32).fill(1), bytes: new Uint8Array(10) }], next: 'g.1', more: true },
  { kind: 'page', items: [], next: 'g.0', more: false },
  { kind: 'ack' },
  { kind: 'refused', reason: 'stale', relayTime: 1_700_000_000_123 },
  { kind: 'refused', reason: 'rate-limited', retryAfterMs: 250 },
]

describe('mailbox codec', () => {
  it('round-trips every request and response shape', () => {
    for (const r of requests) expect(decodeMailboxRequest(encodeMailboxRequest(r))).toEqual(r)
    for (const r of responses) expect(decodeMailboxResponse(encodeMailboxResponse(r))).toEqual(r)
  })

  it('gives the signed parameters of each request', () => {
    expect(paramsOf(requests[0]!)).toEqual({ op: 'deposit', ids: [new Uint8Array(32).fill(2), new Uint8Array(16).fill(4)] })
    expect(paramsOf(requests[2]!)).toMatchObject({ op: 'fetch', after: 'AAAA.0000000000000001', limit: 1, waitMs: 25_000 })
    expect(paramsOf(requests[3]!)).toMatchObject({ op: 'ack', cursor: 'x-1' })
  })

  it('refuses other versions and unknown operations as UNSUPPORTED_VERSION', () => {
    const base = { v: 1, o: 'ack', d: auth.depositPublic, r: auth.readPublic, t: 1, n: auth.nonce, s: auth.signature, g: new Uint8Array(16), c: 'a' }
    expect(codeOf(() => decodeMailboxRequest(encodeCbor(base)))).toBe('ok')
    expect(codeOf(() => decodeMailboxRequest(encodeCbor({ ...base, v: 2 })))).toBe('UNSUPPORTED_VERSION')
    expect(codeOf(() => decodeMailboxRequest(encodeCbor({ ...base, o: 'delete' })))).toBe('UNSUPPORTED_VERSION')
    expect(codeOf(() => decodeMailboxResponse(encodeCbor({ v: 3, k: 'ack' })))).toBe('UNSUPPORTED_VERSION')
    expect(codeOf(() => decodeMailboxResponse(encodeCbor({ v: 1, k: 'push' })))).toBe('MALFORMED')
  })

  it('refuses out-of-range fields, unknown keys and bad cursors as MALFORMED', () => {
    const fetch = { v: 1, o: 'fetch', d: auth.depositPublic, r: auth.readPublic, t: 1, n: auth.nonce, s: auth.signature, a: null, g: null, l: 10, w: 0 }
    expect(codeOf(() => decodeMailboxRequest(encodeCbor(fetch)))).toBe('ok')
    for (const bad of [
      { ...fetch, l: 0 },
      { ...fetch, l: 1001 },
      { ...fetch, w: 25_001 },
      { ...fetch, w: -1 },
      { ...fetch, a: 'no spaces' },
      { ...fetch, a: 'x'.repeat(65) },
      { ...fetch, g: new Uint8Array(15) },
      { ...fetch, g: new Uint8Array(33) },
      { ...fetch, n: new Uint8Array(15) },
      { ...fetch, s: new Uint8Array(63) },
      { ...fetch, d: new Uint8Array(31) },
      { ...fetch, t: -5 },
      { ...fetch, extra: 1 },
      { ...fetch, o: 'deposit', e: [] },
      { ...fetch, o: 'deposit', e: [{ i: new Uint8Array(15), b: new Uint8Array(1) }] },
    ]) {
      expect(codeOf(() => decodeMailboxRequest(encodeCbor(bad)))).toBe('MALFORMED')
    }
  })

  it('caps the frame, the batch and each envelope', () => {
    expect(codeOf(() => decodeMailboxRequest(new Uint8Array(MAX_REQUEST_BYTES + 1)))).toBe('TOO_LARGE')
    const big = { ...requests[0]!, envelopes: [{ id: new Uint8Array(32), bytes: new Uint8Array(MAX_MAILBOX_ENVELOPE_BYTES + 1) }] } as MailboxRequest
    expect(codeOf(() => decodeMailboxRequest(encodeMailboxRequest(big)))).toBe('TOO_LARGE')
    const many = { ...requests[0]!, envelopes: Array.from({ length: MAX_DEPOSIT_ENVELOPES + 1 }, () => ({ id: new Uint8Array(16), bytes: new Uint8Array(1) })) } as MailboxRequest
    expect(codeOf(() => decodeMailboxRequest(encodeMailboxRequest(many)))).toBe('MALFORMED')
    const huge = { ...requests[0]!, envelopes: Array.from({ length: 40 }, () => ({ id: new Uint8Array(16), bytes: new Uint8Array(60_000) })) } as MailboxRequest
    expect(codeOf(() => encodeMailboxRequest(huge))).toBe('TOO_LARGE')
  })

  it('reads a refusal reason it does not know as internal instead of failing', () => {
    expect(decodeMailboxResponse(encodeCbor({ v: 1, k: 'refused', x: 'from-the-future' }))).toEqual({ kind: 'refused', reason: 'internal' })
  })

  it('fuzz: every byte flip of every frame is decoded or refused with a HearthError', () => {
    const seen = new Set<string>()
    for (const frame of [...requests.map(encodeMailboxRequest)]) {
      for (const [mutated] of byteFlips(frame)) seen.add(codeOf(() => decodeMailboxRequest(mutated)))
    }
    for (const frame of responses.map(encodeMailboxResponse)) {
      for (const [mutated] of byteFlips(frame)) seen.add(codeOf(() => decodeMailboxResponse(mutated)))
    }
    expect(seen.has('MALFORMED')).toBe(true)
    for (const code of seen) expect(['ok', 'MALFORMED', 'UNSUPPORTED_VERSION', 'TOO_LARGE']).toContain(code)
  })

  it('fuzz: random bytes and truncations are refused with a HearthError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(['MALFORMED', 'UNSUPPORTED_VERSION', 'TOO_LARGE']).toContain(codeOf(() => decodeMailboxRequest(data)))
        expect(['MALFORMED', 'UNSUPPORTED_VERSION', 'TOO_LARGE']).toContain(codeOf(() => decodeMailboxResponse(data)))
      }),
      { numRuns: 500 },
    )
    for (const frame of requests.map(encodeMailboxRequest)) {
      for (let cut = 0; cut < frame.length; cut += 7) {
        expect(codeOf(() => decodeMailboxRequest(frame.subarray(0, cut)))).not.toBe('ok')
      }
    }
    expect(codeOf(() => decodeMailboxRequest(new Uint8Array(randomBytes(100_000))))).not.toBe('ok')
  })
})

describe('refusals', () => {
  it('carry a stable reason, a HearthError code and the relay clock', () => {
    const err = new MailboxRefusedError('mailbox-quota')
    expect(err.code).toBe('QUOTA_EXCEEDED')
    expect(err.message).toBe('relay refused: mailbox quota exceeded')
    expect(err.publicMessage).toBe(err.message)
    expect(new MailboxRefusedError('stale', { relayTime: 5 }).relayTime).toBe(5)
    expect(refusalCode('disk-full')).toBe('STORAGE_FULL')
    expect(refusalCode('replayed')).toBe('REPLAYED')
    expect(refusalForError('TIMEOUT')).toBe('timeout')
    expect(refusalForError('MALFORMED')).toBe('malformed')
  })
})
