import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CHUNK_CIPHER_BYTES } from '../blob/format.js'
import type { MailboxAuth } from '../crypto/mailbox-capability.js'
import { isHearthError } from '../errors.js'
import { encodeCbor } from './cbor.js'
import {
  MAX_BLOB_REQUEST_BYTES,
  bitRange,
  decodeBlobHead,
  decodeBlobRequest,
  decodeChunkFrame,
  encodeBlobHead,
  encodeBlobRequest,
  encodeChunkFrame,
  type BlobResponseHead,
  type RelayBlobRequest,
} from './relay-blob.js'

const auth: MailboxAuth = {
  depositPublic: new Uint8Array(32).fill(1),
  readPublic: new Uint8Array(32).fill(2),
  timestamp: 1_800_000_000_000,
  nonce: new Uint8Array(16).fill(3),
  signature: new Uint8Array(64).fill(4),
}
const blob = new Uint8Array(32).fill(5)
const wire = { v: 1, d: auth.depositPublic, r: auth.readPublic, t: auth.timestamp, n: auth.nonce, s: auth.signature, b: blob }

function code(f: () => unknown): string | undefined {
  try {
    f()
    return undefined
  } catch (err) {
    return isHearthError(err) ? err.code : 'not a HearthError'
  }
}

describe('relay blob wire', () => {
  it('round-trips every request and response head', () => {
    const requests: RelayBlobRequest[] = [
      { op: 'put-list', auth, blob, padded: 70_000, hashList: new Uint8Array(64).fill(6) },
      { op: 'put-chunks', auth, blob, chunks: [{ index: 0, cipher: new Uint8Array(100) }, { index: 5, cipher: new Uint8Array(CHUNK_CIPHER_BYTES) }] },
      { op: 'get-list', auth, blob },
      { op: 'get-chunks', auth, blob, first: 16, count: 16 },
    ]
    for (const r of requests) expect(decodeBlobRequest(encodeBlobRequest(r))).toEqual(r)
    const heads: BlobResponseHead[] = [
      { kind: 'listed', status: 'present', have: Uint8Array.of(3) },
      { kind: 'put', results: ['stored', 'duplicate', 'corrupt'] },
      { kind: 'list', padded: 541, hashList: new Uint8Array(32) },
      { kind: 'chunks', have: Uint8Array.of(1, 0) },
      { kind: 'refused', reason: 'stale', relayTime: 5 },
    ]
    for (const h of heads) expect(decodeBlobHead(encodeBlobHead(h))).toEqual(h)
    expect(decodeChunkFrame(encodeChunkFrame(7, Uint8Array.of(1, 2, 3)))).toEqual({ index: 7, cipher: Uint8Array.of(1, 2, 3) })
  })

  it('refuses oversized, garbage, unknown and out-of-rule requests with clear codes', () => {
    expect(code(() => decodeBlobRequest(new Uint8Array(MAX_BLOB_REQUEST_BYTES + 1)))).toBe('TOO_LARGE')
    expect(code(() => decodeBlobRequest(Uint8Array.of(0xff, 0x00, 0x13)))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'delete-everything' })))).toBe('UNSUPPORTED_VERSION')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, v: 2, o: 'get-list' })))).toBe('UNSUPPORTED_VERSION')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'get-list', extra: 1 })))).toBe('MALFORMED')
    // Chunk indices must ascend (no chunk hashed twice), 1..16 of them, each at most one cipher chunk.
    const chunk = (i: number, len = 10) => ({ i, x: new Uint8Array(len) })
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-chunks', c: [chunk(2), chunk(1)] })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-chunks', c: [chunk(1), chunk(1)] })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-chunks', c: [] })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-chunks', c: Array.from({ length: 17 }, (_, i) => chunk(i)) })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-chunks', c: [chunk(0, CHUNK_CIPHER_BYTES + 1)] })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'get-chunks', f: 0, l: 17 })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'get-chunks', f: -1, l: 1 })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, o: 'put-list', p: 541, h: new Uint8Array(33) })))).toBe('MALFORMED')
    expect(code(() => decodeBlobRequest(encodeCbor({ ...wire, b: new Uint8Array(31), o: 'get-list' })))).toBe('MALFORMED')
    expect(code(() => decodeChunkFrame(new Uint8Array(3)))).toBe('MALFORMED')
    expect(code(() => decodeChunkFrame(new Uint8Array(CHUNK_CIPHER_BYTES + 5)))).toBe('MALFORMED')
  })

  it('never throws anything but a HearthError on random bytes (requests and heads)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        for (const decode of [decodeBlobRequest, decodeBlobHead]) {
          const c = code(() => decode(bytes))
          expect(c === undefined || c !== 'not a HearthError').toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('reads an unknown refusal reason as internal, and cuts a bitmap to its range', () => {
    expect(decodeBlobHead(encodeCbor({ v: 1, k: 'refused', x: 'from-the-future' }))).toEqual({ kind: 'refused', reason: 'internal' })
    expect([...bitRange(Uint8Array.of(0b10110000, 0b00000001), 4, 5)]).toEqual([0b00011011])
  })
})
