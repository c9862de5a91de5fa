import { describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { MAX_FILE_PIECE_BYTES } from '../../../node/src/api/contract.js'
import { fakeApi } from '../testing/fake-api.js'
import { bytesToBase64 } from './base64.js'
import { BlobUrlCache, readFile, safeBlobType } from './blob-url.js'

const REF = { conversationId: 'c'.repeat(32), messageId: '1'.repeat(32), index: 0 }

function fileApi(content: Uint8Array, options: { size?: number; extra?: number } = {}) {
  return fakeApi({
    'files.read': ({ offset, length }) => ({
      data: bytesToBase64(content.subarray(offset, offset + length + (options.extra ?? 0))),
      size: options.size ?? content.length,
      mime: 'image/jpeg',
    }),
  })
}

describe('readFile', () => {
  it('reads a file in pieces of at most 1 MiB into one Blob of the type it may be shown as', async () => {
    const content = new Uint8Array(MAX_FILE_PIECE_BYTES * 2 + 10).map((_, i) => i & 0xff)
    const api = fileApi(content)
    const blob = await readFile(api, REF, content.length, 'image/jpeg')
    expect(api.calls.map((c) => (c.params as { offset: number }).offset)).toEqual([0, MAX_FILE_PIECE_BYTES, 2 * MAX_FILE_PIECE_BYTES])
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(content))).toBe(true)
    expect(blob.type).toBe('image/jpeg')
  })

  it('refuses a core whose answer does not add up (another size, more bytes than asked)', async () => {
    const content = new Uint8Array(100)
    await expect(readFile(fileApi(content, { size: 99 }), REF, 100, 'image/png')).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
    await expect(readFile(fileApi(content, { extra: 5 }), REF, 50, 'image/png')).rejects.toMatchObject({ code: 'CORRUPT_DATA' })
  })

  it('never makes a blob that a browser would run as a document', () => {
    expect(safeBlobType('text/html')).toBe('application/octet-stream')
    expect(safeBlobType('image/svg+xml')).toBe('application/octet-stream')
    expect(safeBlobType('image/webp')).toBe('image/webp')
  })
})

describe('BlobUrlCache', () => {
  function cache(budgetBytes: number) {
    const made: string[] = []
    const revoked: string[] = []
    let n = 0
    const api = fileApi(new Uint8Array(100))
    const urls = new BlobUrlCache(api, {
      budgetBytes,
      createUrl: () => {
        const url = `blob:test/${++n}`
        made.push(url)
        return url
      },
      revokeUrl: (url) => revoked.push(url),
    })
    return { urls, made, revoked, api }
  }
  const ref = (index: number) => ({ ...REF, index })

  it('reads a file once however many show it, and revokes the least recently released past the budget', async () => {
    const { urls, made, revoked, api } = cache(250)
    const a1 = urls.acquire(ref(0), 100, 'image/jpeg')
    const a2 = urls.acquire(ref(0), 100, 'image/jpeg')
    expect(await a1.url).toBe(await a2.url)
    expect(api.calls).toHaveLength(1)
    const b = urls.acquire(ref(1), 100, 'image/jpeg')
    await b.url
    a1.release()
    a2.release()
    b.release()
    expect(revoked).toEqual([])
    // A third file passes the budget: the one released first goes, the one in view stays.
    const c = urls.acquire(ref(2), 100, 'image/jpeg')
    await c.url
    expect(revoked).toEqual([])
    c.release()
    expect(revoked).toEqual([made[0]])
    expect(urls.bytes).toBe(200)
    urls.clear()
    expect(revoked.sort()).toEqual([...made].sort())
  })

  it('does not keep a failed read: the next look tries again', async () => {
    const api = fakeApi({
      'files.read': () => {
        throw new HearthError('NOT_FOUND', 'not complete')
      },
    })
    const urls = new BlobUrlCache(api, { createUrl: () => 'blob:x', revokeUrl: () => {} })
    await expect(urls.acquire(REF, 10, 'image/png').url).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(urls.acquire(REF, 10, 'image/png').url).rejects.toThrow()
    expect(api.calls).toHaveLength(2)
  })

  it('a URL asked for just before the chat closed is never made (nothing would revoke it)', async () => {
    const { urls, made } = cache(1000)
    const held = urls.acquire(REF, 100, 'image/jpeg')
    urls.clear()
    await expect(held.url).rejects.toThrow()
    expect(made).toEqual([])
  })
})
