import { multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { HearthError } from '../../common/errors.js'
import { encodeCbor } from '../../common/wire/cbor.js'
import { seal } from '../../common/crypto/aead.js'
import type { ConversationId, OpHash } from '../ids.js'
import { deviceInviteSecret, openInviteDetails, sealInviteDetails, shortInviteKeys, type InviteDetails } from './short-invite-keys.js'
import {
  CODE_CHARS,
  formatShortInvite,
  groupForReading,
  looksLikeShortInvite,
  parseShortInvite,
  pickLocator,
  secretFromBytes,
  SHORT_INVITE_PREFIX,
  type ShortInvite,
} from './short-invite.js'

const PEER = '12D3KooWGzh3ub1iDNtAFtW3gm5RxWTqFu8cNSdnVLhgVQBqYvV2'
const lan = multiaddr('/ip4/192.168.178.23/tcp/41234').bytes
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

const short = (over: Partial<ShortInvite> = {}): ShortInvite => ({ secret: secretFromBytes(new Uint8Array(12).fill(0xa5)), locator: lan, ...over })
const refusal = (text: string) => {
  try {
    parseShortInvite(text)
  } catch (err) {
    return err as HearthError
  }
  throw new Error(`accepted ${text}`)
}

describe('short invite text', () => {
  it('round trips and stays within 60 characters on a LAN address', () => {
    const link = formatShortInvite(short())
    expect(link.startsWith(SHORT_INVITE_PREFIX)).toBe(true)
    expect(link.length).toBeLessThanOrEqual(60)
    expect(parseShortInvite(link)).toEqual(short())
  })

  it('reads what a person types: lower case, spaces, dashes, the grouped form, I/L/O for 1/1/0, no prefix', () => {
    const link = formatShortInvite(short())
    const body = link.slice(SHORT_INVITE_PREFIX.length)
    const grouped = groupForReading(link)
    expect(grouped).toMatch(/^([0-9A-Z]{4} ){5}@( [0-9A-Z]{1,4})+$/)
    for (const typed of [body.toLowerCase(), grouped, grouped.replaceAll(' ', '-'), ` ${link.toUpperCase()} `, body.replaceAll('1', 'l').replaceAll('0', 'O')]) {
      expect(parseShortInvite(typed)).toEqual(short())
    }
  })

  it('property: any secret and locator round trip', () => {
    const locators = fc.oneof(
      fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => multiaddr(`/ip4/${ip}/tcp/${port}`).bytes),
      fc.tuple(fc.ipV6(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => multiaddr(`/ip6/${ip}/tcp/${port}`).bytes),
      fc.integer({ min: 1, max: 65535 }).map((port) => multiaddr(`/ip4/203.0.113.7/tcp/${port}/p2p-circuit/p2p/${PEER}`).bytes),
    )
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), locators, (seed, locator) => {
        const s = { secret: secretFromBytes(seed), locator }
        expect(parseShortInvite(formatShortInvite(s))).toEqual(s)
        expect(parseShortInvite(groupForReading(formatShortInvite(s)).toLowerCase())).toEqual(s)
      }),
    )
  })

  it('property: one wrong symbol, or two different neighbours swapped, is always a typo', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.nat(), fc.integer({ min: 1, max: 31 }), (seed, at, shift) => {
        const link = formatShortInvite(short({ secret: secretFromBytes(seed) }))
        const body = link.slice(SHORT_INVITE_PREFIX.length).replace('@', '')
        const i = at % body.length
        const wrong = ALPHABET[(ALPHABET.indexOf(body[i]!) + shift) % 32]!
        const changed = body.slice(0, i) + wrong + body.slice(i + 1)
        const asLink = (b: string) => `${b.slice(0, CODE_CHARS)}@${b.slice(CODE_CHARS)}`
        expect(refusal(asLink(changed)).code).toBe('INVITE_INVALID')
        const j = at % (body.length - 1)
        if (body[j] !== body[j + 1]) {
          const swapped = body.slice(0, j) + body[j + 1] + body[j] + body.slice(j + 2)
          expect(refusal(asLink(swapped)).code).toBe('INVITE_INVALID')
        }
      }),
    )
  })

  it('says what is wrong in words for a person', () => {
    const link = formatShortInvite(short())
    const [code] = link.slice(SHORT_INVITE_PREFIX.length).split('@')
    expect(refusal(code!).message).toMatch(/missing the part after @/)
    expect(refusal(`${code!.slice(1)}@${link.split('@')[1]}`).message).toMatch(/should be 20 letters and digits; this one has 19/)
    expect(refusal(link.replace(/.$/, (c) => (c === 'U' ? 'V' : 'U'))).message).toMatch(/"U" is not used/)
    expect(refusal(link.slice(0, -3)).message).toMatch(/typo/)
    expect(refusal('x'.repeat(401)).message).toMatch(/too long/)
  })

  it('hostile text: never throws anything but INVITE_INVALID, never accepts a locator that is not a multiaddr', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (text) => {
        try {
          const s = parseShortInvite(text)
          expect(() => multiaddr(s.locator)).not.toThrow()
        } catch (err) {
          expect(err).toBeInstanceOf(HearthError)
          expect((err as HearthError).code).toBe('INVITE_INVALID')
        }
      }),
    )
    // Well-checked symbols that are not a multiaddr.
    const notAddress = formatShortInvite(short({ locator: new Uint8Array([0xff, 0xff, 0xff, 0x01]) }))
    expect(refusal(notAddress).code).toBe('INVITE_INVALID')
  })

  it('names one address: plain TCP first, without PeerIds it can learn from the handshake; else a circuit', () => {
    const RELAY = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
    const circuit = `/ip4/203.0.113.7/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${PEER}`
    const text = (b: Uint8Array | null) => (b === null ? null : multiaddr(b).toString())
    expect(text(pickLocator([circuit, `/ip4/192.168.1.5/tcp/4002/ws/p2p/${PEER}`, `/ip4/192.168.1.5/tcp/4001/p2p/${PEER}`]))).toBe('/ip4/192.168.1.5/tcp/4001')
    expect(text(pickLocator([circuit, `/ip4/192.168.1.5/tcp/4002/ws/p2p/${PEER}`]))).toBe('/ip4/192.168.1.5/tcp/4002/ws')
    expect(text(pickLocator([circuit]))).toBe(`/ip4/203.0.113.7/tcp/4001/p2p-circuit/p2p/${PEER}`)
    expect(pickLocator([])).toBeNull()
    expect(pickLocator(['not an address'])).toBeNull()
  })

  it('tells short invites from long ones', () => {
    expect(looksLikeShortInvite(formatShortInvite(short()))).toBe(true)
    expect(looksLikeShortInvite(groupForReading(formatShortInvite(short())))).toBe(true)
    expect(looksLikeShortInvite('hearth://join/o2F2AWFj')).toBe(false)
    expect(looksLikeShortInvite('o2F2AWFjeCA')).toBe(false)
  })
})

describe('short invite keys and answers', () => {
  const details: InviteDetails = {
    conversation: '3f'.repeat(16) as ConversationId,
    root: 'a7'.repeat(32) as OpHash,
    name: 'Family',
    inviteId: '5e'.repeat(16),
    expiresAt: 1_700_604_800_000,
    addresses: [`/ip4/192.168.1.23/tcp/41234/p2p/${PEER}`],
    peerId: PEER,
    relays: [],
  }

  it('a device makes the same secret for the same invite, a different one for another invite or device', () => {
    const seed = new Uint8Array(32).fill(1)
    const a = deviceInviteSecret(seed, details.conversation, details.inviteId)
    expect(deviceInviteSecret(seed, details.conversation, details.inviteId)).toBe(a)
    expect(deviceInviteSecret(seed, details.conversation, '6f'.repeat(16))).not.toBe(a)
    expect(deviceInviteSecret(new Uint8Array(32).fill(2), details.conversation, details.inviteId)).not.toBe(a)
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{19}$/)
  })

  it('an answer opens with the secret, for the peer that gave it, into the full invite', () => {
    const keys = shortInviteKeys(short().secret)
    const box = sealInviteDetails(keys, PEER, details)
    expect(openInviteDetails(keys, PEER, box)).toEqual({ ...details, secret: keys.inviteSeed })
  })

  it('an answer under another secret, from another peer, tampered, or garbage is refused as the device’s fault', () => {
    const keys = shortInviteKeys(short().secret)
    const other = shortInviteKeys(secretFromBytes(new Uint8Array(12).fill(7)))
    const box = sealInviteDetails(keys, PEER, details)
    const tampered = box.slice()
    tampered[30] = tampered[30]! ^ 1
    const wellSealedGarbage = seal(keys.answerKey, encodeCbor({ v: 1, c: 'nope' }), new Uint8Array(0))
    for (const [k, peer, b] of [
      [other, PEER, box],
      [keys, 'someone-else', box],
      [keys, PEER, tampered],
      [keys, PEER, new Uint8Array(5000)],
      [keys, PEER, wellSealedGarbage],
    ] as const) {
      expect(() => openInviteDetails(k, peer, b)).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }))
    }
  })
})
