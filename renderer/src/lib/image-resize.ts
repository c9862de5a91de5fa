/**
 * Photos are made ready for sending in the renderer, before any byte leaves for the core: decoded with their EXIF
 * orientation applied, scaled so the long side is at most 2048 px, and encoded again as JPEG. Encoding again is also
 * what removes the metadata a camera writes (EXIF, GPS position, device): the pixels are all that is kept. A small
 * copy (≤ 100 px) gives the thumbhash placeholder that travels inside the message.
 *
 * Which files count as a photo is decided from their first bytes, not from their name or the type the browser guessed
 * from it. GIFs are sent as they are (re-encoding would lose the animation; they carry no camera metadata); other
 * image types (HEIC, SVG, TIFF…) go as files.
 */
import { thumbhashOf, thumbhashSize } from './thumbhash.js'

/** The long side of a photo as sent. */
export const MAX_IMAGE_EDGE = 2048
export const JPEG_QUALITY = 0.82
/** A decoded image this large (pixels) is not worth the memory of re-encoding; it goes as a file. */
export const MAX_DECODE_PIXELS = 100_000_000

export type SniffedImage = 'jpeg' | 'png' | 'webp' | 'bmp' | 'avif' | 'gif'

/** Recognises the raster formats a browser decodes, from the first 16 bytes. */
export function sniffImage(head: Uint8Array): SniffedImage | null {
  const at = (offset: number, ...bytes: number[]) => bytes.every((b, i) => head[offset + i] === b)
  const ascii = (offset: number, text: string) => at(offset, ...Array.from(text, (c) => c.charCodeAt(0)))
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg'
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png'
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif'
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp'
  if (ascii(0, 'BM') && head.length >= 14) return 'bmp'
  if (ascii(4, 'ftypavif') || ascii(4, 'ftypavis')) return 'avif'
  return null
}

/** The scaled size: the long side at most `maxEdge`, the shape kept, never 0, never enlarged. */
export function fitWithin(width: number, height: number, maxEdge = MAX_IMAGE_EDGE): { width: number; height: number } {
  const scale = Math.min(1, maxEdge / Math.max(width, height))
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** Decoding and drawing, which only a browser does; tests pass their own. */
export interface ImageCodec<S = unknown> {
  /** The image with its EXIF orientation applied (so width and height are as it is seen). */
  decode(blob: Blob): Promise<{ source: S; width: number; height: number; close(): void }>
  /** Drawn at this size over white (a transparent PNG must not turn black as a JPEG) and encoded. */
  encode(source: S, width: number, height: number, quality: number): Promise<Blob>
  /** Drawn at this size: its RGBA pixels. */
  pixels(source: S, width: number, height: number): Promise<Uint8ClampedArray>
}

export interface PreparedImage {
  /** What is sent: the re-encoded JPEG, or the GIF as it was. */
  blob: Blob
  name: string
  width: number
  height: number
  thumbhash?: string
  /** True when the pixels were encoded again (metadata removed). */
  reencoded: boolean
}

/**
 * The photo as it will be sent, or null when the file is not an image the browser can decode (then it goes as a
 * file). Never throws for a bad image: a broken or hostile file falls back to being sent as the bytes it is.
 */
export async function prepareImage(file: Blob, name: string, codec: ImageCodec = browserCodec()): Promise<PreparedImage | null> {
  const kind = sniffImage(new Uint8Array(await file.slice(0, 16).arrayBuffer()))
  if (kind === null) return null
  let decoded: Awaited<ReturnType<ImageCodec['decode']>>
  try {
    decoded = await codec.decode(file)
  } catch {
    return null
  }
  try {
    const { width, height, source } = decoded
    if (width < 1 || height < 1 || width * height > MAX_DECODE_PIXELS) return null
    const small = thumbhashSize(width, height)
    const thumbhash = await codec.pixels(source, small.width, small.height).then(
      (rgba) => thumbhashOf(small.width, small.height, rgba),
      () => undefined,
    )
    const withHash = thumbhash === undefined ? {} : { thumbhash }
    if (kind === 'gif') return { blob: file, name, width, height, reencoded: false, ...withHash }
    const size = fitWithin(width, height)
    const blob = await codec.encode(source, size.width, size.height, JPEG_QUALITY)
    return { blob, name: jpegName(name), width: size.width, height: size.height, reencoded: true, ...withHash }
  } catch {
    return null
  } finally {
    decoded.close()
  }
}

/** `IMG_0042.PNG` → `IMG_0042.jpg`: the name follows what the bytes now are. */
export function jpegName(name: string): string {
  const dot = name.lastIndexOf('.')
  const base = dot > 0 ? name.slice(0, dot) : name
  return `${base.length > 0 ? base : 'photo'}.jpg`
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D

/** createImageBitmap and a canvas (OffscreenCanvas where there is one). */
export function browserCodec(): ImageCodec<ImageBitmap> {
  const draw = (source: ImageBitmap, width: number, height: number, background: boolean) => {
    const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height })
    const context = canvas.getContext('2d') as Canvas2D | null
    if (context === null) throw new Error('no 2d canvas')
    if (background) {
      context.fillStyle = '#ffffff'
      context.fillRect(0, 0, width, height)
    }
    context.imageSmoothingQuality = 'high'
    context.drawImage(source, 0, 0, width, height)
    return { canvas, context }
  }
  return {
    async decode(blob) {
      const source = await createImageBitmap(blob, { imageOrientation: 'from-image' })
      return { source, width: source.width, height: source.height, close: () => source.close() }
    },
    async encode(source, width, height, quality) {
      const { canvas } = draw(source, width, height, true)
      if ('convertToBlob' in canvas) return canvas.convertToBlob({ type: 'image/jpeg', quality })
      return new Promise<Blob>((resolve, reject) =>
        canvas.toBlob((b) => (b === null ? reject(new Error('could not encode the image')) : resolve(b)), 'image/jpeg', quality),
      )
    },
    async pixels(source, width, height) {
      return draw(source, width, height, false).context.getImageData(0, 0, width, height).data
    },
  }
}
