import { describe, expect, it } from 'vitest'
import { formatSafetyNumber } from './verify.js'

describe('formatSafetyNumber', () => {
  it('shows the 60 digits as 12 groups of five, four to a row', () => {
    const digits = '300354477692869396892869876765458257569162576843440918079131'
    expect(formatSafetyNumber(digits)).toBe(['  30035 44776 92869 39689', '  28698 76765 45825 75691', '  62576 84344 09180 79131'].join('\n'))
    expect(formatSafetyNumber(digits).replace(/\s/g, '')).toBe(digits)
  })
})
