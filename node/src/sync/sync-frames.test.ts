import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateSigningKeyPair, signWithLabel } from '../../common/crypto/ed25519.js'
import { Labels } from '../../common/crypto/labels.js'
import { HearthError } from '../../common/errors.js'
import { byteFlips, codeOf } from '../../common/wire/codec-testing.js'
import { toHex } from '../../common/util/bytes.js'
import { decodeCbor, encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import type { ConversationId, DeviceId, EpochId } from '../ids.js'
import {
  AUTH_WINDOW_MS,
  decodeJoinRequest,
  decodeJoinResponse,
  decodeSyncFrame,
  decodeSyncRequest,
  encodeJoinRequest,
  encodeJoinResponse,
  encodeSyncFrame,
  encodeSyncRequest,
  verifyJoinRequest,
  type JoinRequest,
  type SyncFrame,
  type SyncRequest,
} from './sync-frames.js'

const NOW = 1_700_000_000_000
const device = generateSigningKeyPair()
const DEVICE = toHex(device.publicKey) as DeviceId
const CONV = '9a'.repeat(16) as ConversationId
const EPOCH = '1234567890abcdef' as EpochId
const peers = {
  requester: '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2',
  responder: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN',
}
const request = (over: Partial<SyncRequest> = {}): SyncRequest => ({
  conversation: CONV,
  device: DEVICE,
  at: NOW,
  heads: ['ab'.repeat(32), 'cd'.repeat(32)],
  vector: [
    { epoch: EPOCH, device: DEVICE, seq: 17 },
    { epoch: EPOCH, device: 'ef'.repeat(32) as DeviceId, seq: 0 },
  ],
  ...over,
})


describe('sync request', () => {
  it('round trips and authenticates', () => {
    const bytes = encodeSyncRequest(request(), device.seed, peers)
    expect(decodeSyncRequest(bytes, peers, NOW)).toEqual(request())
    const paced = request({ paced: [{ epoch: 'ab'.repeat(8) as EpochId, device: DEVICE, max: 7 }] })
    expect(decodeSyncRequest(encodeSyncRequest(paced, device.seed, peers), peers, NOW)).toEqual(paced)
    expect(decodeSyncRequest(encodeSyncRequest(request({ heads: [], vector: [] }), device.seed, peers), peers, NOW)).toEqual(
      request({ heads: [], vector: [] }),
    )
  })

  it('is bound to both PeerIds of the connection: wrong requester, wrong responder or swapped → UNAUTHORIZED', () => {
    const bytes = encodeSyncRequest(request(), device.seed, peers)
    const other = '12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE'
    expect(codeOf(() => decodeSyncRequest(bytes, { ...peers, requester: other }, NOW))).toBe('UNAUTHORIZED')
    expect(codeOf(() => decodeSyncRequest(bytes, { ...peers, responder: other }, NOW))).toBe('UNAUTHORIZED')
    expect(codeOf(() => decodeSyncRequest(bytes, { requester: peers.responder, responder: peers.requester }, NOW))).toBe('UNAUTHORIZED')
  })

  it('must be signed by the device it names → otherwise UNAUTHORIZED', () => {
    const mallory = generateSigningKeyPair()
    expect(codeOf(() => decodeSyncRequest(encodeSyncRequest(request(), mallory.seed, peers), peers, NOW))).toBe('UNAUTHORIZED')
    // the right key over the right bytes but with another label
    const auth = encodeCbor({ c: CONV, d: DEVICE, t: NOW, a: peers.requester, b: peers.responder })
    const s = signWithLabel(device.seed, Labels.joinRequest, auth)
    const forged = encodeCbor({ v: 1, c: CONV, d: DEVICE, t: NOW, h: [], w: [], s })
    expect(codeOf(() => decodeSyncRequest(forged, peers, NOW))).toBe('UNAUTHORIZED')
    const honest = encodeCbor({ v: 1, c: CONV, d: DEVICE, t: NOW, h: [], w: [], s: signWithLabel(device.seed, Labels.syncAuth, auth) })
    expect(codeOf(() => decodeSyncRequest(honest, peers, NOW))).toBe('ok')
  })

  it('timestamp: accepted within ±AUTH_WINDOW_MS, UNAUTHORIZED outside', () => {
    const bytes = encodeSyncRequest(request(), device.seed, peers)
    expect(codeOf(() => decodeSyncRequest(bytes, peers, NOW + AUTH_WINDOW_MS))).toBe('ok')
    expect(codeOf(() => decodeSyncRequest(bytes, peers, NOW - AUTH_WINDOW_MS))).toBe('ok')
    expect(codeOf(() => decodeSyncRequest(bytes, peers, NOW + AUTH_WINDOW_MS + 1))).toBe('UNAUTHORIZED')
    expect(codeOf(() => decodeSyncRequest(bytes, peers, NOW - AUTH_WINDOW_MS - 1))).toBe('UNAUTHORIZED')
    expect(codeOf(() => decodeSyncRequest(bytes, peers, 0))).toBe('UNAUTHORIZED')
  })

  it('rejects fields outside the schema', () => {
    const sign = (raw: Record<string, unknown>) => encodeCbor({ v: 1, c: CONV, d: DEVICE, t: NOW, h: [], w: [], s: new Uint8Array(64), ...raw })
    expect(codeOf(() => decodeSyncRequest(sign({ v: 2 }), peers, NOW))).toBe('UNSUPPORTED_VERSION')
    for (const over of [
      { v: 'one' },
      { c: 'x' },
      { d: DEVICE.toUpperCase() },
      { t: -5 },
      { h: Array(257).fill('ab'.repeat(32)) },
      { h: ['ab'] },
      { w: [{ e: EPOCH, d: DEVICE, s: -1 }] },
      { w: [{ e: 'zz', d: DEVICE, s: 1 }] },
      { s: new Uint8Array(63) },
    ]) {
      expect([over, codeOf(() => decodeSyncRequest(sign(over), peers, NOW))]).toEqual([over, 'MALFORMED'])
    }
  })

  it('every single-byte change is refused, or changes only the unsigned hints (heads, vector)', () => {
    const bytes = encodeSyncRequest(request(), device.seed, peers)
    for (const [m] of byteFlips(bytes)) {
      let decoded: SyncRequest
      try {
        decoded = decodeSyncRequest(m, peers, NOW)
      } catch (err) {
        expect(err).toBeInstanceOf(HearthError)
        expect(['MALFORMED', 'UNAUTHORIZED', 'UNSUPPORTED_VERSION']).toContain((err as HearthError).code)
        continue
      }
      expect({ c: decoded.conversation, d: decoded.device, t: decoded.at }).toEqual({ c: CONV, d: DEVICE, t: NOW })
    }
  })

  it('every truncation and random bytes are refused with MALFORMED', () => {
    const bytes = encodeSyncRequest(request(), device.seed, peers)
    for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeSyncRequest(bytes.subarray(0, n), peers, NOW))).toBe('MALFORMED')
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        expect(codeOf(() => decodeSyncRequest(b, peers, NOW))).toBe('MALFORMED')
      }),
      { numRuns: 300, seed: 61 },
    )
  })

  it('oversized: TOO_LARGE before parsing', () => {
    expect(codeOf(() => decodeSyncRequest(new Uint8Array(Limits.maxFrameBytes + 1), peers, NOW))).toBe('TOO_LARGE')
  })
})

describe('sync frames', () => {
  const frames: SyncFrame[] = [
    { kind: 'ops', ops: [new Uint8Array([1, 2, 3]), new Uint8Array(0)] },
    { kind: 'ops', ops: [] },
    { kind: 'envelopes', envelopes: [new Uint8Array(200).fill(5), new Uint8Array([9])] },
    { kind: 'done', vector: request().vector },
    { kind: 'done', vector: [] },
  ]

  it('round trip every kind', () => {
    for (const f of frames) expect(decodeSyncFrame(encodeSyncFrame(f))).toEqual(f)
  })

  it('a page must be bounded in bytes as well as in count: 256 maximal envelopes do not fit a frame', () => {
    // Count alone is not enough, so the responder also caps a page's bytes (core.ts, SYNC_PAGE_BYTES).
    const full = Array.from({ length: Limits.maxEnvelopesPerPage }, (_, i) => new Uint8Array(Limits.maxEnvelopeBytes).fill(i))
    expect(codeOf(() => decodeSyncFrame(encodeSyncFrame({ kind: 'envelopes', envelopes: full })))).toBe('TOO_LARGE')
    // what a byte-bounded page holds (frame cap minus 256 KiB of envelope bytes) decodes
    const count = Math.floor((Limits.maxFrameBytes - 256 * 1024) / Limits.maxEnvelopeBytes)
    const bounded = full.slice(0, count)
    const encoded = encodeSyncFrame({ kind: 'envelopes', envelopes: bounded })
    expect(encoded.length).toBeLessThanOrEqual(Limits.maxFrameBytes)
    const decoded = decodeSyncFrame(encoded)
    if (decoded.kind !== 'envelopes') throw new Error('wrong kind')
    expect(decoded.envelopes.length).toBe(count)
    // (compared as buffers: deep equality over megabytes is slow)
    expect(decoded.envelopes.every((e, i) => Buffer.compare(e, bounded[i]!) === 0)).toBe(true)
  })

  it('limits: too many envelopes or ops → MALFORMED; too many bytes → TOO_LARGE', () => {
    const tooMany = encodeCbor({ k: 'env', e: Array.from({ length: Limits.maxEnvelopesPerPage + 1 }, () => new Uint8Array(1)) })
    expect(codeOf(() => decodeSyncFrame(tooMany))).toBe('MALFORMED')
    expect(codeOf(() => decodeSyncFrame(encodeCbor({ k: 'ops', o: Array.from({ length: 4097 }, () => new Uint8Array(0)) })))).toBe('MALFORMED')
    const big = encodeSyncFrame({ kind: 'ops', ops: [new Uint8Array(Limits.maxFrameBytes)] })
    expect(codeOf(() => decodeSyncFrame(big))).toBe('TOO_LARGE')
    expect(codeOf(() => decodeSyncFrame(new Uint8Array(Limits.maxFrameBytes + 1)))).toBe('TOO_LARGE')
  })

  it('unknown frame kinds and shapes → MALFORMED', () => {
    for (const v of [{ k: 'envelopes', e: [] }, { k: 'nope' }, { k: 'ops', o: ['text'] }, { k: 'done', w: [{ e: EPOCH }] }, [], 'ops']) {
      expect(codeOf(() => decodeSyncFrame(encodeCbor(v)))).toBe('MALFORMED')
    }
  })

  it('every single-byte change either fails with MALFORMED or decodes to a frame that encodes back to those bytes', () => {
    for (const f of frames) {
      const bytes = encodeSyncFrame(f)
      for (const [m] of byteFlips(bytes)) {
        let decoded: SyncFrame
        try {
          decoded = decodeSyncFrame(m)
        } catch (err) {
          expect(err).toBeInstanceOf(HearthError)
          expect((err as HearthError).code).toBe('MALFORMED')
          continue
        }
        expect(decodeSyncFrame(encodeSyncFrame(decoded))).toEqual(decoded)
      }
    }
  })

  it('every truncation and random bytes → MALFORMED', () => {
    for (const f of frames) {
      const bytes = encodeSyncFrame(f)
      for (let n = 0; n < bytes.length; n++) expect(codeOf(() => decodeSyncFrame(bytes.subarray(0, n)))).toBe('MALFORMED')
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (b) => {
        expect(codeOf(() => decodeSyncFrame(b))).toBe('MALFORMED')
        expect(codeOf(() => decodeJoinResponse(b))).toBe('MALFORMED')
        expect(codeOf(() => decodeJoinRequest(b))).toBe('MALFORMED')
      }),
      { numRuns: 300, seed: 62 },
    )
  })
})

describe('join request', () => {
  const invite = generateSigningKeyPair()
  const join: JoinRequest = { conversation: CONV, inviteId: '5e'.repeat(16), cert: new Uint8Array(150).fill(3) }

  it('round trips and verifies with the invite key, for this responder only', () => {
    const bytes = encodeJoinRequest(join, invite.seed, peers.responder)
    const { request: r, signature } = decodeJoinRequest(bytes)
    expect(r).toEqual(join)
    expect(verifyJoinRequest(r, signature, invite.publicKey, peers.responder)).toBe(true)
    expect(verifyJoinRequest(r, signature, generateSigningKeyPair().publicKey, peers.responder)).toBe(false)
    expect(verifyJoinRequest(r, signature, invite.publicKey, peers.requester)).toBe(false)
    expect(verifyJoinRequest({ ...r, cert: new Uint8Array(150).fill(4) }, signature, invite.publicKey, peers.responder)).toBe(false)
    expect(verifyJoinRequest({ ...r, inviteId: 'ff'.repeat(16) }, signature, invite.publicKey, peers.responder)).toBe(false)
    expect(verifyJoinRequest(r, signature, new Uint8Array(31), peers.responder)).toBe(false)
  })

  it('every single-byte change fails to decode or fails to verify', () => {
    const bytes = encodeJoinRequest(join, invite.seed, peers.responder)
    for (const [m] of byteFlips(bytes, [0x01, 0xff])) {
      let decoded: ReturnType<typeof decodeJoinRequest>
      try {
        decoded = decodeJoinRequest(m)
      } catch (err) {
        expect(['MALFORMED', 'UNSUPPORTED_VERSION']).toContain((err as HearthError).code)
        continue
      }
      expect(verifyJoinRequest(decoded.request, decoded.signature, invite.publicKey, peers.responder)).toBe(false)
    }
  })

  it('limits: over 16 KiB → TOO_LARGE; schema violations → MALFORMED', () => {
    expect(codeOf(() => decodeJoinRequest(new Uint8Array(16 * 1024 + 1)))).toBe('TOO_LARGE')
    const raw = { v: 1, c: CONV, i: '5e'.repeat(16), a: new Uint8Array(1), s: new Uint8Array(64) }
    expect(codeOf(() => decodeJoinRequest(encodeCbor(raw)))).toBe('ok')
    expect(codeOf(() => decodeJoinRequest(encodeCbor({ ...raw, v: 0 })))).toBe('UNSUPPORTED_VERSION')
    for (const over of [{ v: null }, { c: 'nope' }, { i: '5E'.repeat(16) }, { a: 'cert' }, { s: new Uint8Array(65) }]) {
      expect(codeOf(() => decodeJoinRequest(encodeCbor({ ...raw, ...over })))).toBe('MALFORMED')
    }
  })

  it('join response round trips; oversized → TOO_LARGE', () => {
    const ops = [new Uint8Array([1]), new Uint8Array(300).fill(2)]
    expect(decodeJoinResponse(encodeJoinResponse(ops))).toEqual(ops)
    expect(codeOf(() => decodeJoinResponse(new Uint8Array(Limits.maxFrameBytes + 1)))).toBe('TOO_LARGE')
    expect(codeOf(() => decodeJoinResponse(encodeCbor({ o: Array(4097).fill(new Uint8Array(0)) })))).toBe('MALFORMED')
    expect(decodeCbor(encodeJoinResponse([]), 16, 'x')).toEqual({ o: [] })
  })
})
