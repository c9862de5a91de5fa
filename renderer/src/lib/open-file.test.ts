import { describe, expect, it } from 'vitest'
import { inlineType } from './open-file.js'

describe('the types a browser tab may show a received file as', () => {
  it('photos, PDF and plain text (as UTF-8 text)', () => {
    expect(inlineType('image/png')).toBe('image/png')
    expect(inlineType('application/pdf')).toBe('application/pdf')
    expect(inlineType('text/plain')).toBe('text/plain;charset=utf-8')
  })

  it('never a type that can run script in our origin, nor anything else', () => {
    for (const mime of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/javascript', 'application/octet-stream', 'video/mp4', '']) {
      expect(inlineType(mime), mime).toBeNull()
    }
  })
})
