import { describe, expect, it } from 'vitest'
import { paddedSize } from '../../../common/blob/format.js'
import { encodeCbor } from '../../../common/wire/cbor.js'
import { seal } from '../../../common/crypto/aead.js'
import { utf8 } from '../../../common/util/bytes.js'
import { decodeFiles, encodeFiles, openFiles, sealFiles, type StoredFile } from './media-box.js'

const conversation = 'c'.repeat(32)
const message = 'd'.repeat(32)
const key = new Uint8Array(32).fill(7)
const photo: StoredFile = {
  blob: 'ab'.repeat(32),
  key: new Uint8Array(32).fill(1),
  size: 3_000_000,
  padded: paddedSize(3_000_000),
  name: 'beach.jpg',
  mime: 'image/jpeg',
  kind: 'image',
  width: 2048,
  height: 1536,
  thumbhash: new Uint8Array([1, 2, 3]),
}

describe('a message’s sealed files', () => {
  it('round-trips through the sealed box', () => {
    const doc: StoredFile = { ...photo, kind: 'file', name: 'notes.pdf', mime: 'application/pdf', width: undefined, height: undefined, thumbhash: undefined }
    const box = sealFiles(key, conversation, message, [photo, doc])
    const opened = openFiles(key, conversation, message, box)
    expect(opened).toHaveLength(2)
    expect(opened[0]).toEqual(photo)
    expect(opened[1]).toEqual({ blob: doc.blob, key: doc.key, size: doc.size, padded: doc.padded, name: 'notes.pdf', mime: 'application/pdf', kind: 'file' })
  })

  it('opens to nothing under another key or another message (a box moved between messages)', () => {
    const box = sealFiles(key, conversation, message, [photo])
    expect(openFiles(new Uint8Array(32).fill(8), conversation, message, box)).toEqual([])
    expect(openFiles(key, conversation, 'e'.repeat(32), box)).toEqual([])
    expect(openFiles(undefined, conversation, message, box)).toEqual([])
  })

  it('refuses a padded size that does not follow from the size, and malformed entries', () => {
    expect(() => decodeFiles(encodeFiles([{ ...photo, padded: photo.size - 1 }]))).toThrow(/padded size/)
    expect(() => decodeFiles(encodeFiles([{ ...photo, padded: photo.size * 2 }]))).toThrow(/padded size/)
    const raw = (entry: Record<string, unknown>) => encodeCbor({ a: [entry] })
    const good = { i: new Uint8Array(32), k: new Uint8Array(32), s: 10, p: paddedSize(10), n: 'a', m: 'text/plain', f: 'file' }
    expect(decodeFiles(raw(good))).toHaveLength(1)
    expect(() => decodeFiles(raw({ ...good, k: new Uint8Array(31) }))).toThrow()
    expect(() => decodeFiles(raw({ ...good, n: '' }))).toThrow()
    expect(() => decodeFiles(raw({ ...good, f: 'program' }))).toThrow()
    expect(() => decodeFiles(encodeCbor({ a: [] }))).toThrow()
    expect(() => decodeFiles(encodeCbor({ a: Array.from({ length: 11 }, () => good) }))).toThrow()
    // A sealed box holding garbage opens to no files rather than throwing.
    const garbage = seal(key, utf8('not cbor at all'), utf8(`hearth/v1/media/${conversation}/${message}`))
    expect(openFiles(key, conversation, message, garbage)).toEqual([])
  })
})
