import { describe, expect, it } from 'vitest'
import { formatTimeLeft } from './countdown.js'

describe('formatTimeLeft', () => {
  it('reads as minutes and seconds, rounding up, never below zero', () => {
    expect(formatTimeLeft(10 * 60_000)).toBe('10:00')
    expect(formatTimeLeft(545_001)).toBe('9:06')
    expect(formatTimeLeft(42_000)).toBe('0:42')
    expect(formatTimeLeft(1)).toBe('0:01')
    expect(formatTimeLeft(-5_000)).toBe('0:00')
  })
})
