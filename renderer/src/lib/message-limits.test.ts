import { describe, expect, it } from 'vitest'
import { MAX_BODY_CHARS as CRDT_MAX_BODY_CHARS } from '../../../crdt/src/schema.js'
import { Limits } from '../../../node/common/wire/limits.js'
import { MAX_BODY_BYTES, MAX_BODY_CHARS, measureBody, utf8Length } from './message-limits.js'

describe('measureBody', () => {
  it('uses the core’s own bounds', () => {
    expect(MAX_BODY_CHARS).toBe(CRDT_MAX_BODY_CHARS)
    expect(MAX_BODY_BYTES).toBe(Limits.maxBodyBytes)
  })

  it('counts characters for Latin text, near from 90 % of the limit', () => {
    expect(measureBody('hello')).toEqual({ left: MAX_BODY_CHARS - 5, over: false, near: false, byBytes: false })
    expect(measureBody('x'.repeat(14_399)).near).toBe(false)
    expect(measureBody('x'.repeat(14_400))).toMatchObject({ left: 1_600, near: true, over: false })
    expect(measureBody('x'.repeat(16_000))).toMatchObject({ left: 0, over: false })
    expect(measureBody('x'.repeat(16_001))).toMatchObject({ left: -1, over: true, byBytes: false })
    expect(measureBody('x'.repeat(1_000_000))).toMatchObject({ left: -984_000, over: true })
    // Accents and emoji take 2 bytes a UTF-16 unit at most: the character bound still binds.
    expect(measureBody('é'.repeat(16_000))).toMatchObject({ left: 0, over: false, byBytes: false })
    expect(measureBody('👍'.repeat(8_001))).toMatchObject({ left: -2, over: true, byBytes: false })
  })

  it('counts in 3-byte characters when the byte bound binds first (Chinese)', () => {
    // 10,922 × 3 = 32,766 bytes: fits; one more is over the 32 KiB bound well before 16,000 characters.
    expect(measureBody('字'.repeat(10_922))).toEqual({ left: 0, over: false, near: true, byBytes: true })
    expect(measureBody('字'.repeat(10_923))).toMatchObject({ left: -1, over: true, byBytes: true })
    expect(measureBody('字'.repeat(9_000))).toMatchObject({ left: 1_922, near: false })
    expect(measureBody('字'.repeat(9_900))).toMatchObject({ left: 1_022, near: true })
    // Mixed text: the room is counted in characters of its average size.
    expect(measureBody('字'.repeat(9_000) + 'x'.repeat(5_000)).left).toBe(Math.floor((32_768 - 32_000) / (32_000 / 14_000)))
  })

  it('measures UTF-8 as the encoder does, lone surrogates included', () => {
    for (const text of ['', 'abc', 'é€👍字', '\ud800x', 'x\udc00', '\ud83d']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length)
    }
  })
})
