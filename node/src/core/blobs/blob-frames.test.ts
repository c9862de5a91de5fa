import { describe, expect, it } from 'vitest'
import { CHUNK_CIPHER_BYTES, MAX_CHUNKS } from '../../../common/blob/format.js'
import { encodeCbor } from '../../../common/wire/cbor.js'
import { codeOf } from '../../../common/wire/codec-testing.js'
import {
  checkHashListFrame,
  decodeBlobRequest,
  decodeChunkFrame,
  decodeHaveFrame,
  encodeBlobRequest,
  encodeChunkFrame,
  encodeHaveFrame,
  MAX_BLOB_REQUEST_BYTES,
  readChunkReply,
  type BlobChunk,
} from './blob-frames.js'

const C = 'ab'.repeat(16)
const ID = 'cd'.repeat(32)
const idBytes = new Uint8Array(32).fill(0xcd)

async function* frames(...list: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const f of list) yield f
}

async function drain(chunks: AsyncIterable<BlobChunk>): Promise<number[]> {
  const out: number[] = []
  for await (const c of chunks) out.push(c.index)
  return out
}

describe('blob requests', () => {
  it('round-trip, well under the size cap', () => {
    for (const r of [
      { conversation: C, id: ID, q: 'h' as const },
      { conversation: C, id: ID, q: 'c' as const, first: MAX_CHUNKS - 1, count: 16 },
      { conversation: C, id: ID, q: 'c' as const, first: 0, count: 1 },
    ]) {
      const bytes = encodeBlobRequest(r)
      expect(bytes.length).toBeLessThan(MAX_BLOB_REQUEST_BYTES / 2)
      expect(decodeBlobRequest(bytes)).toEqual(r)
    }
  })

  it('refuses anything off the schema as MALFORMED and anything over 256 bytes as TOO_LARGE', () => {
    const base = { c: C, b: idBytes, q: 'c', f: 0, n: 1 }
    const cases: Array<[unknown, string]> = [
      [{ ...base, n: 0 }, 'MALFORMED'],
      [{ ...base, n: 17 }, 'MALFORMED'],
      [{ ...base, n: 1.5 }, 'MALFORMED'],
      [{ ...base, f: -1 }, 'MALFORMED'],
      [{ ...base, f: MAX_CHUNKS }, 'MALFORMED'],
      [{ ...base, b: new Uint8Array(31) }, 'MALFORMED'],
      [{ ...base, c: C.toUpperCase() }, 'MALFORMED'],
      [{ ...base, c: C.slice(2) }, 'MALFORMED'],
      [{ ...base, q: 'x' }, 'MALFORMED'],
      [{ ...base, extra: 1 }, 'MALFORMED'],
      [{ c: C, b: idBytes, q: 'h', f: 0 }, 'MALFORMED'],
      [{ c: C, b: idBytes }, 'MALFORMED'],
      [[C, idBytes, 'h'], 'MALFORMED'],
      [{ ...base, pad: new Uint8Array(300) }, 'TOO_LARGE'],
    ]
    for (const [value, code] of cases) expect(codeOf(() => decodeBlobRequest(encodeCbor(value)))).toBe(code)
    const good = encodeBlobRequest({ conversation: C, id: ID, q: 'h' })
    expect(codeOf(() => decodeBlobRequest(good.subarray(0, good.length - 3)))).toBe('MALFORMED')
    expect(codeOf(() => decodeBlobRequest(new Uint8Array(0)))).toBe('MALFORMED')
    expect(codeOf(() => decodeBlobRequest(Uint8Array.of(0xff, 0x00, 0x13)))).toBe('MALFORMED')
  })

  it('will not encode a request the protocol refuses', () => {
    expect(codeOf(() => encodeBlobRequest({ conversation: C, id: ID, q: 'c', first: 0, count: 17 }))).toBe('INVALID_INPUT')
    expect(codeOf(() => encodeBlobRequest({ conversation: C, id: 'CD'.repeat(32), q: 'h' }))).toBe('INVALID_INPUT')
  })
})

describe('blob response frames', () => {
  it('have bitmaps round-trip for every window size and refuse bits outside the range', () => {
    for (let n = 1; n <= 16; n++) {
      const held = Array.from({ length: n }, (_, k) => (k * 7) % 3 === 0)
      expect(decodeHaveFrame(encodeHaveFrame(held), n)).toEqual(held)
    }
    expect(codeOf(() => decodeHaveFrame(encodeCbor({ have: Uint8Array.of(0b1000) }), 3))).toBe('MALFORMED')
    expect(codeOf(() => decodeHaveFrame(encodeCbor({ have: Uint8Array.of(1, 0) }), 8))).toBe('MALFORMED')
    expect(codeOf(() => decodeHaveFrame(encodeCbor({ have: Uint8Array.of(1), x: 1 }), 8))).toBe('MALFORMED')
  })

  it('chunk frames carry the index and the ciphertext, within the chunk size', () => {
    const cipher = new Uint8Array(CHUNK_CIPHER_BYTES).fill(3)
    const decoded = decodeChunkFrame(encodeChunkFrame(MAX_CHUNKS - 1, cipher))
    expect(decoded.index).toBe(MAX_CHUNKS - 1)
    expect(decoded.cipher).toEqual(cipher)
    expect(codeOf(() => decodeChunkFrame(new Uint8Array(4 + CHUNK_CIPHER_BYTES + 1)))).toBe('MALFORMED')
    expect(codeOf(() => decodeChunkFrame(new Uint8Array(20)))).toBe('MALFORMED')
    expect(codeOf(() => checkHashListFrame(new Uint8Array(33)))).toBe('PROTOCOL_ERROR')
    expect(codeOf(() => checkHashListFrame(new Uint8Array(0)))).toBe('PROTOCOL_ERROR')
    expect(codeOf(() => checkHashListFrame(new Uint8Array(64)))).toBe('ok')
  })

  it('a window reply yields claimed chunks in order and refuses any other order, index or claim', async () => {
    const c = (i: number) => encodeChunkFrame(i, new Uint8Array(100).fill(i))
    const have = encodeHaveFrame([true, false, true, true])
    const ok = await readChunkReply(frames(have, c(10), c(12)), 10, 4)
    expect(ok.held).toEqual([true, false, true, true])
    // Fewer than claimed is allowed (a chunk damaged on the source's disk).
    expect(await drain(ok.chunks)).toEqual([10, 12])
    for (const bad of [[c(12), c(10)], [c(11)], [c(10), c(10)], [c(14)], [c(9)]]) {
      const reply = await readChunkReply(frames(have, ...bad), 10, 4)
      await expect(drain(reply.chunks)).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' })
    }
    await expect(readChunkReply(frames(), 10, 4)).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' })
    await expect(readChunkReply(frames(c(10)), 10, 4)).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' })
    const garbage = await readChunkReply(frames(have, Uint8Array.of(1, 2)), 10, 4)
    await expect(drain(garbage.chunks)).rejects.toMatchObject({ code: 'PROTOCOL_ERROR' })
  })
})
