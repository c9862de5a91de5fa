/**
 * Image placeholders: the sender reduces a photo to a thumbhash (~25 bytes, inside the message), the receiver draws a
 * blurred image of the right shape and colours from it at once, before any byte of the photo itself has arrived.
 */
import { rgbaToThumbHash, thumbHashToDataURL } from 'thumbhash'
import { base64ToBytes, bytesToBase64 } from './base64.js'

/** thumbhash takes images of at most 100×100 pixels. */
export const THUMBHASH_MAX_PIXELS = 100
/** The contract's bound on a thumbhash (bytes before base64); a real one is about 25. */
export const THUMBHASH_MAX_BYTES = 64

/** The size to draw an image at for its hash: the long side at most 100 px, the shape kept, never 0. */
export function thumbhashSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, THUMBHASH_MAX_PIXELS / Math.max(width, height))
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
}

/** The hash, base64, of an RGBA image of at most 100×100 pixels. */
export function thumbhashOf(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): string {
  return bytesToBase64(rgbaToThumbHash(width, height, rgba))
}

/**
 * A PNG data URL to show in place of the image, or null when the hash is absent or not one. The hash comes from
 * another person's message: a malformed one must cost a missing placeholder, never an exception in the bubble.
 */
export function placeholderUrl(thumbhash: string | undefined): string | null {
  if (thumbhash === undefined || thumbhash.length === 0 || thumbhash.length > Math.ceil(THUMBHASH_MAX_BYTES / 3) * 4) return null
  try {
    const bytes = base64ToBytes(thumbhash)
    // The decoder reads a 5-byte header before anything else.
    if (bytes.length < 5) return null
    return thumbHashToDataURL(bytes)
  } catch {
    return null
  }
}
