import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pairSecretBytes } from '../../common/crypto/pairing.js'
import { HearthError } from '../../common/errors.js'
import { formatShortInvite, pickLocator, secretFromBytes, symbolsToBytes } from '../conversation/short-invite.js'
import { formatLinkCode, groupLinkForReading, LINK_PREFIX, looksLikeLinkCode, newLinkSecret, parseLinkCode, type LinkCode } from './link-code.js'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const PEER = '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2'
const RELAY = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const lan = multiaddr('/ip4/192.168.178.23/tcp/41234').bytes
const link = (over: Partial<LinkCode> = {}): LinkCode => ({ secret: secretFromBytes(new Uint8Array(12).fill(0x5a)), locator: lan, ...over })

const refusal = (text: string): HearthError => {
  try {
    parseLinkCode(text)
  } catch (err) {
    return err as HearthError
  }
  throw new Error(`accepted ${text}`)
}

describe('link codes', () => {
  it('round trip with the link prefix, short enough for a small QR code on a LAN address', () => {
    const text = formatLinkCode(link())
    expect(text.startsWith(LINK_PREFIX)).toBe(true)
    expect(text).toMatch(/^hearth:\/\/link\/[0-9A-Z]{20}@[0-9A-Z]+$/)
    expect(text.length).toBeLessThanOrEqual(64)
    expect(parseLinkCode(text)).toEqual(link())
  })

  it('read what a person types: lower case, the grouped form, dashes, I/L/O, no prefix', () => {
    const text = formatLinkCode(link())
    const body = text.slice(LINK_PREFIX.length)
    const grouped = groupLinkForReading(text)
    expect(grouped).toMatch(/^([0-9A-Z]{4} ){5}@( [0-9A-Z]{1,4})+$/)
    for (const typed of [body.toLowerCase(), grouped, grouped.replaceAll(' ', '-'), ` ${text.toUpperCase()} `, body.replaceAll('1', 'l').replaceAll('0', 'O')]) {
      expect(parseLinkCode(typed)).toEqual(link())
    }
  })

  it('carry a relay circuit to the new device', () => {
    const locator = pickLocator([`/ip4/203.0.113.9/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`])!
    const c = link({ locator })
    expect(parseLinkCode(formatLinkCode(c))).toEqual(c)
    expect(multiaddr(parseLinkCode(formatLinkCode(c)).locator).toString()).toBe(`/ip4/203.0.113.9/tcp/4001/p2p-circuit/p2p/${PEER}`)
  })

  it('refuse every single-symbol typo and every swap of two different neighbours, as LINK_INVALID', () => {
    const text = formatLinkCode(link())
    const body = text.slice(LINK_PREFIX.length)
    for (let i = 0; i < body.length; i++) {
      if (body[i] === '@') continue
      for (const c of ALPHABET) {
        if (c === body[i]) continue
        const typed = body.slice(0, i) + c + body.slice(i + 1)
        expect(refusal(typed).code, typed).toBe('LINK_INVALID')
      }
      const j = i + 1
      if (j < body.length && body[j] !== '@' && body[j] !== body[i]) {
        expect(refusal(body.slice(0, i) + body[j]! + body[i]! + body.slice(j + 1)).code).toBe('LINK_INVALID')
      }
    }
  })

  it('say what is wrong in words, never in the words of invites', () => {
    const text = formatLinkCode(link())
    const body = text.slice(LINK_PREFIX.length)
    const cases: Array<[string, RegExp]> = [
      [body.split('@')[0]!, /missing the part after @/],
      [body.slice(1), /should be 20 letters and digits; this one has 19/],
      [body.replace('@', '@!'), /"!" is not used in link codes/],
      ['x'.repeat(401), /too long/],
      [formatShortInvite({ secret: link().secret, locator: lan }), /another kind of Hearth link/],
      [`${body}@${body}`, /typo/],
    ]
    for (const [typed, message] of cases) {
      const err = refusal(typed)
      expect(err.code).toBe('LINK_INVALID')
      expect(err.message).toMatch(message)
      expect(err.message).not.toMatch(/invite/i)
    }
  })

  it('tell link codes from other text', () => {
    expect(looksLikeLinkCode(` ${formatLinkCode(link()).toUpperCase()}`)).toBe(true)
    expect(looksLikeLinkCode(formatShortInvite({ secret: link().secret, locator: lan }))).toBe(false)
    expect(looksLikeLinkCode('hello')).toBe(false)
  })

  it('make fresh 19-symbol secrets from the CSPRNG', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) {
      const s = newLinkSecret()
      expect(s).toMatch(/^[0-9A-HJKMNP-TV-Z]{19}$/)
      seen.add(s)
    }
    expect(seen.size).toBe(200)
  })

  it('parse any well-formed code back, and never throw anything but LINK_INVALID on junk', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom(lan, multiaddr('/ip6/fe80::1/tcp/9').bytes), (seed, locator) => {
        const c = { secret: secretFromBytes(seed), locator }
        expect(parseLinkCode(formatLinkCode(c))).toEqual(c)
      }),
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (junk) => {
        try {
          parseLinkCode(junk)
        } catch (err) {
          expect((err as HearthError).code).toBe('LINK_INVALID')
        }
      }),
    )
  })

  it('decode to the 95 bits they were made from, as the pairing crypto reads them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), (seed) => {
        const secret = secretFromBytes(seed)
        const bits95 = Uint8Array.from(seed, (b, i) => (i === 11 ? b & 0xfe : b))
        expect(pairSecretBytes(secret)).toEqual(bits95)
        expect(symbolsToBytes(`${secret}0`)).toEqual(bits95)
      }),
    )
  })
})
