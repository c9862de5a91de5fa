import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HearthError } from '../../common/errors.js'
import { codeOf } from '../../common/wire/codec-testing.js'
import { toBase64Url } from '../../common/util/bytes.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { Limits } from '../../common/wire/limits.js'
import type { ConversationId, OpHash } from '../ids.js'
import { decodeInvite, encodeInvite, INVITE_PREFIX, type InviteCode } from './invite-code.js'

const PEER = '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2'
const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

const invite = (over: Partial<InviteCode> = {}): InviteCode => ({
  conversation: '3f'.repeat(16) as ConversationId,
  root: 'a7'.repeat(32) as OpHash,
  name: 'Family',
  inviteId: '5e'.repeat(16),
  secret: new Uint8Array(32).map((_, i) => i * 7),
  expiresAt: 1_700_604_800_000,
  addresses: [
    `/ip4/192.168.1.23/tcp/41234/p2p/${PEER}`,
    `/ip4/192.168.1.23/tcp/41235/ws/p2p/${PEER}`,
    `/ip6/fe80::1c2b:3aff:fe4d:5e6f/tcp/41234/p2p/${PEER}`,
    `/dns4/relay.example.org/tcp/443/wss/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`,
  ],
  peerId: PEER,
  relays: [`/dns4/relay.example.org/tcp/443/wss/p2p/${RELAY}`],
  ...over,
})


describe('invite code', () => {
  it('round trips; the link starts with the prefix and is URL-safe', () => {
    const code = encodeInvite(invite())
    expect(code.startsWith(INVITE_PREFIX)).toBe(true)
    expect(code.slice(INVITE_PREFIX.length)).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeInvite(code)).toEqual(invite())
    expect(decodeInvite(encodeInvite(invite({ expiresAt: 0, addresses: [], name: '' })))).toEqual(
      invite({ expiresAt: 0, addresses: [], name: '' }),
    )
  })

  it('accepts the full link, the bare code, and surrounding whitespace', () => {
    const code = encodeInvite(invite())
    const bare = code.slice(INVITE_PREFIX.length)
    for (const text of [code, bare, `  ${code}\n`, `\t${bare} \r\n`, `\n\n${code}`]) expect(decodeInvite(text)).toEqual(invite())
  })

  it('fits a QR code: under 1000 characters with 4 realistic multiaddrs (one a relay circuit)', () => {
    const code = encodeInvite(invite({ relays: [] }))
    expect(code.length).toBeLessThan(1000)
  })

  it('with relays it stays within the invite limit (QR byte mode holds up to 2,331 bytes at level M)', () => {
    const relays = [1, 2, 3].map((i) => `/dns4/relay${i}.example.org/tcp/443/wss/p2p/${RELAY}`)
    const code = encodeInvite(invite({ relays }))
    expect(code.length).toBeLessThanOrEqual(Limits.maxInviteChars)
    // Relays are kept before addresses: they reach the inviter even when its own addresses do not.
    expect(decodeInvite(code).relays.length).toBeGreaterThanOrEqual(1)
  })

  it('keeps at most 6 addresses', () => {
    const many = Array.from({ length: 9 }, (_, i) => `/ip4/10.0.0.${i}/tcp/4001/p2p/${PEER}`)
    expect(decodeInvite(encodeInvite(invite({ addresses: many }))).addresses).toEqual(many.slice(0, 6))
  })

  it('every invite the encoder produces from what the core can pass can be decoded', () => {
    // The core passes the conversation name (up to 100 characters) and up to 6 of its listen addresses.
    const name = '👨‍👩‍👧‍👦 Família 🏡'.padEnd(100, '🎉')
    expect([...name].length).toBeLessThanOrEqual(100)
    const v6 = (n: number) => `/ip6/2001:db8:85a3:8d3:1319:8a2e:370:${7340 + n}/tcp/41234/ws/p2p/${PEER}`
    const big = invite({ name, addresses: [0, 1, 2, 3, 4, 5].map(v6) })
    let code: string
    try {
      code = encodeInvite(big)
    } catch (err) {
      // refusing to make it, with a clear error, would be acceptable
      expect(err).toBeInstanceOf(HearthError)
      return
    }
    // The encoder keeps the code decodable by dropping addresses from the end (the most useful come first).
    expect(code.length).toBeLessThanOrEqual(Limits.maxInviteChars)
    const decoded = decodeInvite(code)
    expect({ ...decoded, addresses: [] }).toEqual({ ...big, addresses: [] })
    expect(decoded.addresses).toEqual(big.addresses.slice(0, decoded.addresses.length))
    expect(decoded.addresses.length).toBeGreaterThan(0)
  })

  it('garbage → INVITE_INVALID', () => {
    const bad = [
      '',
      '   ',
      INVITE_PREFIX,
      'hello',
      'hearth://join/!!!',
      'https://example.org/join/abc',
      INVITE_PREFIX + toBase64Url(encodeCbor({ v: 1 })),
      INVITE_PREFIX + toBase64Url(encodeCbor({ ...JSON.parse('{}'), v: 2 })),
      INVITE_PREFIX + 'a b',
      encodeInvite(invite()).slice(0, -5),
      encodeInvite(invite()) + '%',
    ]
    for (const text of bad) expect([text, codeOf(() => decodeInvite(text))]).toEqual([text, 'INVITE_INVALID'])
  })

  it('rejects fields outside the schema', () => {
    const raw = (over: Record<string, unknown>) =>
      INVITE_PREFIX +
      toBase64Url(
        encodeCbor({
          v: 1,
          c: '3f'.repeat(16),
          r: 'a7'.repeat(32),
          n: 'x',
          i: '5e'.repeat(16),
          k: new Uint8Array(32),
          x: 0,
          a: [],
          p: PEER,
          ...over,
        }),
      )
    expect(codeOf(() => decodeInvite(raw({})))).toBe('ok')
    for (const over of [
      { c: '3F'.repeat(16) },
      { r: 'a7'.repeat(31) },
      { k: new Uint8Array(31) },
      { x: -1 },
      { a: Array(7).fill('/ip4/1.2.3.4') },
      { a: ['a'.repeat(301)] },
      { p: '' },
      { n: 'n'.repeat(201) },
      { v: 2 },
    ]) {
      expect([over, codeOf(() => decodeInvite(raw(over)))]).toEqual([over, 'INVITE_INVALID'])
    }
  })

  it('longer than maxInviteChars → INVITE_INVALID without decoding', () => {
    const long = INVITE_PREFIX + 'A'.repeat(Limits.maxInviteChars)
    expect(codeOf(() => decodeInvite(long))).toBe('INVITE_INVALID')
    expect(codeOf(() => decodeInvite('x'.repeat(1_000_000)))).toBe('INVITE_INVALID')
    // whitespace around it is not counted
    const code = encodeInvite(invite())
    expect(codeOf(() => decodeInvite(' '.repeat(5000) + code + '\n'.repeat(5000)))).toBe('ok')
  })

  it('every single-character change either fails with INVITE_INVALID or gives an invite that re-encodes stably', () => {
    const code = encodeInvite(invite())
    const alphabet = ['A', 'z', '0', '-', '_', '+', '/', '=', '.', ' ', 'é']
    for (let i = 0; i < code.length; i++) {
      for (const ch of alphabet) {
        if (code[i] === ch) continue
        const m = code.slice(0, i) + ch + code.slice(i + 1)
        let decoded: InviteCode
        try {
          decoded = decodeInvite(m)
        } catch (err) {
          expect(err).toBeInstanceOf(HearthError)
          expect((err as HearthError).code).toBe('INVITE_INVALID')
          continue
        }
        expect(decodeInvite(encodeInvite(decoded))).toEqual(decoded)
      }
    }
  })

  it('random text and random bytes as base64 → INVITE_INVALID (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (text) => {
        expect(codeOf(() => decodeInvite(text))).toBe('INVITE_INVALID')
      }),
      { numRuns: 300, seed: 41 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (bytes, prefixed) => {
        const text = (prefixed ? INVITE_PREFIX : '') + toBase64Url(bytes)
        expect(codeOf(() => decodeInvite(text))).toBe('INVITE_INVALID')
      }),
      { numRuns: 300, seed: 42 },
    )
  })

  it('the error says what went wrong in words a person understands', () => {
    try {
      decodeInvite('hearth://join/garbage')
      expect.unreachable()
    } catch (err) {
      expect((err as HearthError).message).toMatch(/not a valid Hearth invite/)
    }
  })
})
