import { describe, expect, it } from 'vitest'
import { asActorId, asMessageId, asShardIndex, isActorId } from './ids.js'
import { parseRefKey, refKey } from './ref.js'

describe('ids', () => {
  it('accept 32 lowercase hex chars only', () => {
    expect(asActorId('0f'.repeat(16))).toBe('0f'.repeat(16))
    for (const bad of ['0F'.repeat(16), '0f'.repeat(15), '0f'.repeat(17), 'zz'.repeat(16), '']) {
      expect(() => asActorId(bad)).toThrow()
      expect(() => asMessageId(bad)).toThrow()
    }
    expect(isActorId(42)).toBe(false)
    expect(() => asShardIndex(-1)).toThrow()
    expect(asShardIndex(3)).toBe(3)
  })

  it('refKey round-trips and rejects anything else', () => {
    const ref = { author: asActorId('aa'.repeat(16)), id: asMessageId('bb'.repeat(16)) }
    expect(parseRefKey(refKey(ref))).toEqual(ref)
    expect(parseRefKey('aa'.repeat(16))).toBeUndefined()
    expect(parseRefKey('AA'.repeat(32))).toBeUndefined()
  })
})
