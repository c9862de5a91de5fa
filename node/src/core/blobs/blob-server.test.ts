import { describe, expect, it } from 'vitest'
import type { HearthNode } from '../../../common/net/create-node.js'
import { concatByteList, equalBytes } from '../../../common/util/bytes.js'
import { SecurityCounters } from '../security-counters.js'
import { decodeChunkFrame, decodeHaveFrame, encodeBlobRequest, type BlobRequest } from './blob-frames.js'
import { BlobServer, SERVE_READ_CHUNKS } from './blob-server.js'
import { MemoryBlobStore, randomBlob } from './blob-test-kit.js'

const CONV = 'ab'.repeat(16)
const OTHER = 'cd'.repeat(16)
const MEMBER = 'member-peer'

function setup() {
  const blob = randomBlob(40)
  const store = new MemoryBlobStore()
  const counters = new SecurityCounters()
  const served: string[] = []
  // serve() needs no node: it is the handler, not the registration.
  const server = new BlobServer({
    node: undefined as unknown as HearthNode,
    store,
    counters,
    isMemberDevice: (c, p) => c === CONV && p === MEMBER,
    onServed: (c, b, p, i, n) => served.push(`${c === CONV ? 'conv' : c}/${b === blob.id ? 'blob' : b}/${p}/${i}/${n}`),
  })
  const ask = async (r: Partial<BlobRequest> & { q: 'h' | 'c' }, peer = MEMBER): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = []
    const req = { conversation: CONV, id: blob.id, ...r } as BlobRequest
    // A frame given as parts is what the wire carries: the parts one after another.
    for await (const f of server.serve(encodeBlobRequest(req), peer, new AbortController().signal)) out.push(f instanceof Uint8Array ? f : concatByteList(f))
    return out
  }
  const refusal = (p: Promise<unknown>) => p.then(() => 'served', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`)
  return { blob, store, counters, ask, refusal, served }
}

describe('BlobServer', () => {
  it('serves the hash list and a window: the have bitmap, then the held chunks ascending', async () => {
    const { blob, store, ask } = setup()
    store.hold(CONV, blob, (i) => i !== 17)
    expect(await ask({ q: 'h' })).toEqual([blob.hashList])
    const [have, ...chunks] = await ask({ q: 'c', first: 16, count: 4 })
    expect(decodeHaveFrame(have!, 4)).toEqual([true, false, true, true])
    expect(chunks.map((f) => decodeChunkFrame(f).index)).toEqual([16, 18, 19])
    expect(decodeChunkFrame(chunks[0]!).cipher).toEqual(blob.chunks[16])
  })

  it('leaves out a chunk the store finds damaged (readChunk gives nothing)', async () => {
    const { blob, store, ask } = setup()
    store.hold(CONV, blob)
    const read = store.readChunk.bind(store)
    store.readChunk = (id, i) => (i === 2 ? Promise.resolve(undefined) : read(id, i))
    const [, ...chunks] = await ask({ q: 'c', first: 0, count: 4 })
    expect(chunks.map((f) => decodeChunkFrame(f).index)).toEqual([0, 1, 3])
  })

  it('with a store that reads several chunks at once: held chunks in small groups, a damaged one left out', async () => {
    const { blob, store, ask } = setup()
    store.hold(CONV, blob, (i) => i !== 5)
    const groups: Array<[number, number]> = []
    const withGroups = Object.assign(store, {
      readChunks: async (id: string, first: number, count: number) => {
        groups.push([first, count])
        const out: Array<Uint8Array | undefined> = []
        for (let i = first; i < first + count; i++) out.push(i === 9 ? undefined : await store.readChunk(id, i))
        return out
      },
    })
    expect(withGroups.readChunks).toBeDefined()
    const [have, ...chunks] = await ask({ q: 'c', first: 0, count: 16 })
    expect(decodeHaveFrame(have!, 16).filter(Boolean).length).toBe(15)
    expect(chunks.map((f) => decodeChunkFrame(f).index)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 10, 11, 12, 13, 14, 15])
    expect(equalBytes(decodeChunkFrame(chunks[5]!).cipher, blob.chunks[6]!)).toBe(true)
    // Never a chunk the record does not hold, never more than SERVE_READ_CHUNKS at once.
    expect(groups).toEqual([[0, 5], [6, 10]])
    expect(groups.every(([, n]) => n <= SERVE_READ_CHUNKS)).toBe(true)
  })

  it('answers strangers, other conversations, unknown blobs and windows past the end with the same NOT_FOUND', async () => {
    const { blob, store, counters, ask, refusal } = setup()
    store.hold(CONV, blob)
    const notFound = 'NOT_FOUND: blob not found'
    expect(await refusal(ask({ q: 'h' }, 'stranger'))).toBe(notFound)
    expect(await refusal(ask({ q: 'c', first: 0, count: 1 }, 'stranger'))).toBe(notFound)
    expect(counters.get('blob-unauthorized')).toBe(2)
    expect(await refusal(ask({ q: 'h', conversation: OTHER }))).toBe(notFound)
    expect(await refusal(ask({ q: 'h', id: 'ee'.repeat(32) }))).toBe(notFound)
    expect(await refusal(ask({ q: 'c', first: 38, count: 3 }))).toBe(notFound)
    expect(await refusal(ask({ q: 'c', first: 37, count: 3 }))).toBe('served')
    // A blob filed under another conversation is not served under this one, even to a member of both.
    const other = randomBlob(3)
    store.hold(OTHER, other)
    expect(await refusal(ask({ q: 'h', id: other.id }))).toBe(notFound)
  })

  it('reports each chunk it sent to a member (not the hash list, not a chunk it lacks), and nothing for a refusal', async () => {
    const { blob, store, ask, refusal, served } = setup()
    store.hold(CONV, blob, (i) => i !== 1)
    await ask({ q: 'h' })
    await ask({ q: 'c', first: 0, count: 3 })
    expect(served).toEqual([`conv/blob/${MEMBER}/0/40`, `conv/blob/${MEMBER}/2/40`])
    served.length = 0
    expect(await refusal(ask({ q: 'c', first: 0, count: 3 }, 'stranger'))).toBe('NOT_FOUND: blob not found')
    expect(await refusal(ask({ q: 'c', first: 39, count: 2 }))).toBe('NOT_FOUND: blob not found')
    expect(served).toEqual([])
  })

  it('a blob expected but without its hash list yet: NOT_FOUND for the list, an empty bitmap for chunks', async () => {
    const { blob, store, ask, refusal } = setup()
    await store.expect(CONV, blob.id, blob.padded)
    expect(await refusal(ask({ q: 'h' }))).toBe('NOT_FOUND: blob not found')
    const [have, ...rest] = await ask({ q: 'c', first: 0, count: 16 })
    expect(decodeHaveFrame(have!, 16).some(Boolean)).toBe(false)
    expect(rest).toEqual([])
  })

  it('refuses malformed requests before looking anything up', async () => {
    const { store, counters } = setup()
    const server = new BlobServer({ node: undefined as unknown as HearthNode, store, counters, isMemberDevice: () => true })
    const run = async (bytes: Uint8Array) => {
      for await (const f of server.serve(bytes, MEMBER, new AbortController().signal)) void f
    }
    await expect(run(new Uint8Array(300))).rejects.toMatchObject({ code: 'TOO_LARGE' })
    await expect(run(Uint8Array.of(0xa1, 0x61))).rejects.toMatchObject({ code: 'MALFORMED' })
    expect(store.reads).toEqual([])
  })
})
