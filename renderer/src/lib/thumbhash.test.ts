import { describe, expect, it } from 'vitest'
import { bytesToBase64 } from './base64.js'
import { placeholderUrl, thumbhashOf, thumbhashSize } from './thumbhash.js'

describe('thumbhash', () => {
  it('hashes a small image into a few bytes and draws a placeholder from them', () => {
    const rgba = new Uint8Array(40 * 30 * 4)
    for (let i = 0; i < rgba.length; i += 4) rgba.set([200, 80, 40, 255], i)
    const hash = thumbhashOf(40, 30, rgba)
    expect(atob(hash).length).toBeLessThanOrEqual(64)
    expect(placeholderUrl(hash)).toMatch(/^data:image\/png;base64,/)
  })

  it('draws nothing (and never throws) for a hash that is absent, not base64, too short or too long', () => {
    expect(placeholderUrl(undefined)).toBeNull()
    expect(placeholderUrl('')).toBeNull()
    expect(placeholderUrl('***not base64***')).toBeNull()
    expect(placeholderUrl(bytesToBase64(new Uint8Array([1, 2])))).toBeNull()
    expect(placeholderUrl(bytesToBase64(new Uint8Array(200)))).toBeNull()
  })

  it('sizes the hashed copy at most 100 px on its long side', () => {
    expect(thumbhashSize(4000, 3000)).toEqual({ width: 100, height: 75 })
    expect(thumbhashSize(50, 20)).toEqual({ width: 50, height: 20 })
    expect(thumbhashSize(10_000, 1)).toEqual({ width: 100, height: 1 })
  })
})
