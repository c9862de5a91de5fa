import { describe, expect, it } from 'vitest'
import { placeholderUrl } from './thumbhash.js'
import { fitWithin, JPEG_QUALITY, jpegName, MAX_IMAGE_EDGE, prepareImage, sniffImage, type ImageCodec } from './image-resize.js'

const JPEG_HEAD = [0xff, 0xd8, 0xff, 0xe1, 0, 0, 0x45, 0x78, 0x69, 0x66]
const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]
const GIF_HEAD = Array.from('GIF89a', (c) => c.charCodeAt(0))

const blobOf = (head: number[], extra = 100) => new Blob([new Uint8Array([...head, ...new Array<number>(extra).fill(7)])])

/** A codec that records what it was asked and "decodes" every image to the given size. */
function fakeCodec(width: number, height: number, options: { failDecode?: boolean } = {}) {
  const log: string[] = []
  let closed = 0
  const codec: ImageCodec<string> & { log: string[]; closed: () => number } = {
    log,
    closed: () => closed,
    async decode() {
      if (options.failDecode === true) throw new Error('not an image')
      return { source: 'bitmap', width, height, close: () => closed++ }
    },
    async encode(_source, w, h, quality) {
      log.push(`encode ${w}x${h} q${quality}`)
      return new Blob([new Uint8Array(1234)], { type: 'image/jpeg' })
    },
    async pixels(_source, w, h) {
      log.push(`pixels ${w}x${h}`)
      return new Uint8ClampedArray(w * h * 4).fill(128)
    },
  }
  return codec
}

describe('sniffImage', () => {
  it('knows the raster formats by their first bytes, not by name', () => {
    expect(sniffImage(new Uint8Array(JPEG_HEAD))).toBe('jpeg')
    expect(sniffImage(new Uint8Array(PNG_HEAD))).toBe('png')
    expect(sniffImage(new Uint8Array(GIF_HEAD))).toBe('gif')
    expect(sniffImage(new Uint8Array([...Array.from('RIFF', (c) => c.charCodeAt(0)), 1, 2, 3, 4, ...Array.from('WEBP', (c) => c.charCodeAt(0))]))).toBe('webp')
    expect(sniffImage(new Uint8Array([0, 0, 0, 0x1c, ...Array.from('ftypavif', (c) => c.charCodeAt(0))]))).toBe('avif')
    // An SVG (a document that can hold script) or an executable is never treated as a photo.
    expect(sniffImage(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg">'))).toBeNull()
    expect(sniffImage(new Uint8Array([0x4d, 0x5a, 0x90, 0]))).toBeNull()
    expect(sniffImage(new Uint8Array([]))).toBeNull()
  })
})

describe('fitWithin', () => {
  it('scales the long side down to 2048 px, keeps the shape, never enlarges, never makes a side 0', () => {
    expect(fitWithin(4032, 3024)).toEqual({ width: MAX_IMAGE_EDGE, height: 1536 })
    expect(fitWithin(3024, 4032)).toEqual({ width: 1536, height: MAX_IMAGE_EDGE })
    expect(fitWithin(800, 600)).toEqual({ width: 800, height: 600 })
    expect(fitWithin(100_000, 10)).toEqual({ width: MAX_IMAGE_EDGE, height: 1 })
  })
})

describe('prepareImage', () => {
  it('re-encodes a photo as a JPEG of at most 2048 px with a thumbhash from a ≤ 100 px copy', async () => {
    const codec = fakeCodec(4032, 3024)
    const out = await prepareImage(blobOf(JPEG_HEAD), 'IMG_0042.HEIC.jpeg', codec)
    expect(out).not.toBeNull()
    expect(out!.reencoded).toBe(true)
    expect(out!.name).toBe('IMG_0042.HEIC.jpg')
    expect([out!.width, out!.height]).toEqual([2048, 1536])
    expect(out!.blob.size).toBe(1234)
    expect(codec.log).toEqual(['pixels 100x75', `encode 2048x1536 q${JPEG_QUALITY}`])
    // The hash is a real one: it draws a placeholder.
    expect(placeholderUrl(out!.thumbhash)).toMatch(/^data:image\/png;base64,/)
    expect(codec.closed()).toBe(1)
  })

  it('re-encodes a small PNG too (that is what removes its metadata), at its own size', async () => {
    const codec = fakeCodec(640, 480)
    const out = await prepareImage(blobOf(PNG_HEAD), 'screenshot.png', codec)
    expect(out!.name).toBe('screenshot.jpg')
    expect(codec.log.at(-1)).toBe(`encode 640x480 q${JPEG_QUALITY}`)
  })

  it('sends a GIF as it is (keeping its animation), with its size and placeholder', async () => {
    const codec = fakeCodec(320, 240)
    const gif = blobOf(GIF_HEAD)
    const out = await prepareImage(gif, 'dance.gif', codec)
    expect(out!.blob).toBe(gif)
    expect(out!.reencoded).toBe(false)
    expect(out!.name).toBe('dance.gif')
    expect(codec.log.some((l) => l.startsWith('encode'))).toBe(false)
  })

  it('leaves anything else to be sent as a file: not an image, a broken image, a decompression bomb', async () => {
    expect(await prepareImage(new Blob(['%PDF-1.7']), 'photo.jpg', fakeCodec(10, 10))).toBeNull()
    expect(await prepareImage(blobOf(JPEG_HEAD), 'broken.jpg', fakeCodec(10, 10, { failDecode: true }))).toBeNull()
    const bomb = fakeCodec(60_000, 60_000)
    expect(await prepareImage(blobOf(PNG_HEAD), 'bomb.png', bomb)).toBeNull()
    expect(bomb.log).toEqual([])
    expect(bomb.closed()).toBe(1)
  })

  it('names the result after what it now is', () => {
    expect(jpegName('holiday.PNG')).toBe('holiday.jpg')
    expect(jpegName('noext')).toBe('noext.jpg')
    expect(jpegName('.png')).toBe('.png.jpg')
  })
})
