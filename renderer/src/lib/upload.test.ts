import { describe, expect, it } from 'vitest'
import { HearthError } from '../../../node/common/errors.js'
import { MAX_API_MESSAGE_BYTES } from '../../../node/src/api/protocol.js'
import { createApi, requestBytes } from '../api/client.js'
import type { Transport } from '../api/transport.js'
import { base64ToBytes } from './base64.js'
import { UPLOAD_PIECE_BYTES, uploadFile } from './upload.js'

const CONVERSATION = 'c'.repeat(32)
const UPLOAD = 'a'.repeat(32)

/** A core that keeps what is appended, over the real client (so its request size check applies). */
function core(options: { failAt?: number; lie?: boolean } = {}) {
  const calls: Array<{ method: string; params: Record<string, unknown> }> = []
  const pieces: Uint8Array[] = []
  let received = 0
  const transport: Transport = {
    async call(method, params) {
      const p = params as Record<string, unknown>
      calls.push({ method, params: p })
      if (method === 'files.begin') return { uploadId: UPLOAD }
      if (method === 'files.abort') return null
      if (method === 'files.append') {
        if (options.failAt === pieces.length) throw new HearthError('STORAGE_FULL', 'disk full')
        const bytes = base64ToBytes(p.data as string)
        pieces.push(bytes)
        received += bytes.length
        return { received: options.lie === true ? received + 1 : received }
      }
      throw new HearthError('NOT_FOUND', method)
    },
    on: () => () => {},
    onClose: () => () => {},
    close: () => {},
  }
  return { api: createApi(transport), calls, pieces }
}

function bytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff
  return out
}

describe('uploadFile', () => {
  it('sends the file in pieces that each fit in one API request, byte for byte, reporting progress', async () => {
    const { api, calls, pieces } = core()
    const data = bytes(UPLOAD_PIECE_BYTES * 2 + 1000)
    const progress: number[] = []
    const id = await uploadFile(api, CONVERSATION, 'movie.mp4', new Blob([data]), { onProgress: (sent) => progress.push(sent) })
    expect(id).toBe(UPLOAD)
    expect(calls[0]).toEqual({ method: 'files.begin', params: { conversationId: CONVERSATION, name: 'movie.mp4', size: data.length } })
    expect(pieces.map((p) => p.length)).toEqual([UPLOAD_PIECE_BYTES, UPLOAD_PIECE_BYTES, 1000])
    expect(Buffer.concat(pieces).equals(Buffer.from(data))).toBe(true)
    expect(progress).toEqual([0, UPLOAD_PIECE_BYTES, 2 * UPLOAD_PIECE_BYTES, data.length])
    for (const c of calls) expect(requestBytes(c.method, c.params)).toBeLessThanOrEqual(MAX_API_MESSAGE_BYTES)
  })

  it('an empty file is begun and taken as it is', async () => {
    const { api, calls } = core()
    await uploadFile(api, CONVERSATION, 'empty.txt', new Blob([]))
    expect(calls.map((c) => c.method)).toEqual(['files.begin'])
  })

  it('cancelling stops between pieces and aborts the upload', async () => {
    const { api, calls } = core()
    const controller = new AbortController()
    const upload = uploadFile(api, CONVERSATION, 'big.bin', new Blob([bytes(UPLOAD_PIECE_BYTES * 3)]), {
      signal: controller.signal,
      onProgress: (sent) => sent > 0 && controller.abort(),
    })
    await expect(upload).rejects.toThrow()
    expect(calls.filter((c) => c.method === 'files.append')).toHaveLength(1)
    expect(calls.at(-1)).toEqual({ method: 'files.abort', params: { uploadId: UPLOAD } })
  })

  it('a refused piece, or a core that counts otherwise, fails the upload and aborts it', async () => {
    const refused = core({ failAt: 1 })
    await expect(uploadFile(refused.api, CONVERSATION, 'a.bin', new Blob([bytes(UPLOAD_PIECE_BYTES + 5)]))).rejects.toMatchObject({ code: 'STORAGE_FULL' })
    expect(refused.calls.at(-1)!.method).toBe('files.abort')
    const lying = core({ lie: true })
    await expect(uploadFile(lying.api, CONVERSATION, 'b.bin', new Blob([bytes(10)]))).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(lying.calls.at(-1)!.method).toBe('files.abort')
  })
})
