import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { isHearthError } from '../errors.js'
import { utf8 } from '../util/bytes.js'
import { decodeJson, encodeJson } from './json-codec.js'

const Contact = z.object({ name: z.string(), lastSeen: z.number().int() })

const code = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    return isHearthError(e) ? e.code : 'not a HearthError'
  }
  return undefined
}

describe('json codec', () => {
  it('round-trips through a validator', () => {
    const v = { name: 'alice ✓', lastSeen: 42 }
    expect(decodeJson(encodeJson(v), (x) => Contact.parse(x))).toEqual(v)
  })

  it('reports corrupt bytes, bad JSON and wrong shapes as CORRUPT_DATA', () => {
    const validate = (x: unknown) => Contact.parse(x)
    expect(code(() => decodeJson(new Uint8Array([0xff, 0xfe]), validate))).toBe('CORRUPT_DATA')
    expect(code(() => decodeJson(utf8('{"name":'), validate))).toBe('CORRUPT_DATA')
    expect(code(() => decodeJson(new Uint8Array(0), validate))).toBe('CORRUPT_DATA')
    expect(code(() => decodeJson(utf8('{"name":"bob"}'), validate))).toBe('CORRUPT_DATA')
    expect(code(() => decodeJson(utf8('null'), validate))).toBe('CORRUPT_DATA')
  })

  it('refuses values JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    expect(code(() => encodeJson(cyclic))).toBe('INVALID_INPUT')
    expect(code(() => encodeJson(10n))).toBe('INVALID_INPUT')
    expect(code(() => encodeJson(undefined))).toBe('INVALID_INPUT')
    expect(code(() => encodeJson(() => 1))).toBe('INVALID_INPUT')
  })
})
